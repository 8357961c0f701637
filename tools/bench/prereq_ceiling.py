#!/usr/bin/env python3
"""How far a labelled list can be ranked from what a CSV course carries: a
ceiling for issue #13's F1 goals. Not a test.

    tools/bench/prereq_ceiling.py [--kgpath build/src/kgpath] [--datasets ../shared/datasets]
                                  [--seeds 1,2,3] [--folds 5] [DATASET ...]   (default: refd-math refd-cs)

For each dataset and seed, the folds are written as a user's files
(`kgpath eval-prereq --write-folds`, as tools/bench/prereq_csv.py does), and
each fold goes through the user's path: `kgpath import foldF.csv`, bare
`kgpath train`, `kgpath suggest --pairs` on its labelled pairs. Then an
"oracle" logistic regression is fitted, per test fold, on the labelled
pairs of the OTHER folds of the same seed -- supervision from the test
lists' own distribution, which no user has -- over kgpath's logit and ten
features of the pair in the fold's known graph and titles: the candidate's
out-degree and descendants (log), common neighbours, successors of the
candidate that touch the concept, a reverse path, a forward path, the
difference in descendants, title containment and title-word overlap. It is
calibrated to the lists' own share of prerequisites, so its F1 at 0.5 is the
best a calibrated cut can do with these signals.

Prints, per seed and as the mean over seeds (each a mean over folds): kgpath's
F1 at 0.5, best-threshold F1 and AUC (its user path, no prior given), the
oracle's F1 at 0.5, best-threshold F1 and AUC, and the out-degree
baseline's best F1 and AUC. Pure Python (no numpy).
"""
import csv
import math
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prereq_csv import arguments, run  # noqa: E402

FEATURES = ["kgpath logit", "log(1+out-degree)", "log(1+descendants)", "common neighbours",
            "successors touching", "reverse path", "forward path", "descendants difference",
            "title contained", "title-word overlap"]


def auc(s, y):
    """ROC-AUC with ties counted half."""
    order = sorted(range(len(s)), key=lambda i: s[i])
    ranks, i = [0.0] * len(s), 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and s[order[j + 1]] == s[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    pos = sum(y)
    neg = len(y) - pos
    if not pos or not neg:
        return float("nan")
    return (sum(r for r, t in zip(ranks, y) if t) - pos * (pos + 1) / 2) / (pos * neg)


def f1_at(s, y, t):
    tp = sum(1 for a, b in zip(s, y) if a >= t and b)
    called = sum(1 for a in s if a >= t)
    return 0.0 if tp == 0 else 2 * tp / (called + sum(y))


def best_f1(s, y):
    return max([f1_at(s, y, t) for t in set(s)] or [0.0])


def solve(a, b):
    """a x = b by Gaussian elimination with partial pivoting (a small, dense)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            for k in range(c, n + 1):
                m[r][k] -= f * m[c][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def logistic(xs, ys, l2=1.0, steps=30):
    """Newton's method, L2 on every weight but the intercept (xs[i][0] == 1)."""
    d = len(xs[0])
    w = [0.0] * d
    for _ in range(steps):
        g = [l2 * w[j] if j else 0.0 for j in range(d)]
        h = [[(l2 if i == j and i else 0.0) for j in range(d)] for i in range(d)]
        for x, y in zip(xs, ys):
            z = sum(a * b for a, b in zip(w, x))
            p = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
            for i in range(d):
                g[i] += (p - y) * x[i]
                for j in range(i, d):
                    h[i][j] += p * (1 - p) * x[i] * x[j]
        for i in range(d):
            for j in range(i):
                h[i][j] = h[j][i]
        step = solve(h, g)
        w = [a - b for a, b in zip(w, step)]
        if max(abs(v) for v in step) < 1e-8:
            break
    return w


def words(t):
    return set(re.findall(r"[a-z0-9]+", t.lower()))


def fold_rows(kgpath, tmp, f):
    """[(features, label)] for fold f's labelled pairs: kgpath's score on the
    user's path and the pair's features in the fold's known graph."""
    course, pairs = os.path.join(tmp, "fold%d.csv" % f), os.path.join(tmp, "fold%d.tsv" % f)
    db = os.path.join(tmp, "db%d" % f)
    run([kgpath, "--db", db, "import", course])
    run([kgpath, "--db", db, "train"])
    labelled = [line.rstrip("\n").split("\t") for line in open(pairs, encoding="utf-8") if line.strip()]
    p = subprocess.run([kgpath, "--db", db, "suggest", "--pairs", "-"], text=True, check=True,
                       input="".join("%s\t%s\n" % (a, b) for a, b, _ in labelled),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    score = {}
    for line in p.stdout.splitlines():
        a, b, s = line.split("\t")
        score[(a, b)] = min(max(float(s), 1e-6), 1 - 1e-6)

    title, pre, suc = {}, defaultdict(set), defaultdict(set)
    with open(course, encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            title[r["id"]] = r["title"]
            for q in filter(None, r["prerequisites"].split(";")):
                pre[r["id"]].add(q)
                suc[q].add(r["id"])

    def reach(n, nb):
        seen, todo = set(), [n]
        while todo:
            for m in nb[todo.pop()]:
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen

    desc = {n: reach(n, suc) for n in title}
    near = {n: pre[n] | suc[n] for n in title}
    rows = []
    for a, b, y in labelled:
        s = score[(a, b)]
        wa, wb = words(title[a]), words(title[b])
        rows.append(([1.0, math.log(s / (1 - s)), math.log1p(len(suc[a])), math.log1p(len(desc[a])),
                      float(len(near[a] & near[b])), float(sum(1 for c in suc[a] if near[c] & near[b])),
                      float(a in desc[b]), float(b in desc[a]), float(len(desc[a]) - len(desc[b])),
                      float(wa < wb), float(len(wa & wb))], int(y)))
    return rows


def main():
    a = arguments(["refd-math", "refd-cs"])
    print("| dataset | seed | kgpath F1@0.5 / best F1 / AUC | oracle regression F1@0.5 / best F1 / AUC "
          "| out-degree best F1 / AUC |")
    print("|---|---|---|---|---|")
    for name in a.names:
        seeds = []
        for seed in a.seeds:
            with tempfile.TemporaryDirectory(prefix="kgpath-prereq-ceiling-") as tmp:
                run([a.kgpath, "eval-prereq", "--seed", str(seed), "--folds", str(a.folds), "--datasets",
                     a.datasets, "--write-folds", tmp, name])
                folds = [fold_rows(a.kgpath, tmp, f) for f in range(a.folds)]
            m = defaultdict(float)
            for f, test in enumerate(folds):
                train = [r for g, rows in enumerate(folds) if g != f for r in rows]
                w = logistic([x for x, _ in train], [y for _, y in train])
                y = [t for _, t in test]
                k = [1 / (1 + math.exp(-x[1])) for x, _ in test]
                o = [1 / (1 + math.exp(-sum(p * q for p, q in zip(w, x)))) for x, _ in test]
                pc = [x[2] for x, _ in test]
                for key, v in (("k f1", f1_at(k, y, 0.5)), ("k best", best_f1(k, y)), ("k auc", auc(k, y)),
                               ("o f1", f1_at(o, y, 0.5)), ("o best", best_f1(o, y)), ("o auc", auc(o, y)),
                               ("p best", best_f1(pc, y)), ("p auc", auc(pc, y))):
                    m[key] += v / a.folds
            seeds.append(m)
            table_row(name, str(seed), m)
        table_row(name, "mean", {k: sum(s[k] for s in seeds) / len(seeds) for k in seeds[0]})
        sys.stdout.flush()


def table_row(name, seed, m):
    print("| %s | %s | %.3f / %.3f / %.3f | %.3f / %.3f / %.3f | %.3f / %.3f |" % (
        name, seed, m["k f1"], m["k best"], m["k auc"], m["o f1"], m["o best"], m["o auc"],
        m["p best"], m["p auc"]))


if __name__ == "__main__":
    main()
