#!/usr/bin/env python3
"""Plot the loss curve of `kgpath train --log FILE` as an SVG (no dependencies).

usage: tools/plot_loss.py LOG.jsonl [OUT.svg]   (default OUT: LOG with .svg)

Draws the training loss per step (and its running mean over 10 steps) and the
validation loss at the steps where it was measured.
"""
import json
import sys


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 1
    src = argv[1]
    out = argv[2] if len(argv) > 2 else (src.rsplit(".", 1)[0] + ".svg")
    steps, loss, vsteps, vloss = [], [], [], []
    with open(src, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except ValueError as e:
                sys.stderr.write("%s:%d: %s\n" % (src, n, e))
                return 2
            steps.append(r["step"])
            loss.append(r["loss"])
            if r.get("val_loss") is not None:
                vsteps.append(r["step"])
                vloss.append(r["val_loss"])
    if not steps:
        sys.stderr.write("%s: no steps\n" % src)
        return 2
    mean = [sum(loss[max(0, i - 9):i + 1]) / len(loss[max(0, i - 9):i + 1]) for i in range(len(loss))]
    W, H, L, R, T, B = 720, 400, 60, 20, 30, 45
    lo = min(loss + vloss)
    hi = max(loss + vloss)
    if hi - lo < 1e-9:
        hi = lo + 1.0
    s0, s1 = min(steps), max(steps)
    if s1 == s0:
        s1 = s0 + 1

    def x(s):
        return L + (W - L - R) * (s - s0) / (s1 - s0)

    def y(v):
        return T + (H - T - B) * (hi - v) / (hi - lo)

    def path(xs, ys):
        return " ".join(("M" if i == 0 else "L") + "%.1f,%.1f" % (x(a), y(b)) for i, (a, b) in enumerate(zip(xs, ys)))

    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (W, H),
             '<rect width="100%" height="100%" fill="white"/>']
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        parts.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (L, W - R, y(v), y(v)))
        parts.append('<text x="%d" y="%.1f" text-anchor="end">%.3f</text>' % (L - 6, y(v) + 4, v))
    parts.append('<text x="%d" y="%d" text-anchor="middle">step</text>' % ((L + W - R) // 2, H - 8))
    parts.append('<text x="%d" y="%d" text-anchor="middle">%d</text>' % (L, H - B + 16, s0))
    parts.append('<text x="%d" y="%d" text-anchor="middle">%d</text>' % (W - R, H - B + 16, s1))
    parts.append('<path d="%s" fill="none" stroke="#9ecae1" stroke-width="1"/>' % path(steps, loss))
    parts.append('<path d="%s" fill="none" stroke="#3182bd" stroke-width="2"/>' % path(steps, mean))
    if vsteps:
        parts.append('<path d="%s" fill="none" stroke="#e6550d" stroke-width="2"/>' % path(vsteps, vloss))
        for a, b in zip(vsteps, vloss):
            parts.append('<circle cx="%.1f" cy="%.1f" r="3" fill="#e6550d"/>' % (x(a), y(b)))
    parts.append('<text x="%d" y="18" fill="#3182bd">train loss (10-step mean)</text>' % L)
    if vsteps:
        parts.append('<text x="%d" y="18" fill="#e6550d">validation loss</text>' % (L + 200))
    parts.append("</svg>")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(parts) + "\n")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
