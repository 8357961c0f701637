#!/usr/bin/env python3
"""Graded review events from learners whose memory follows FSRS-6 with known
weights, for `kgpath observe` + `kgpath fit [--per-learner]` (the FSRS fit's
demonstration in README; kgpath's own checks of the fit are in tests/).

    tools/sim/fsrs_events.py [--learners N] [--concepts M] [--days D] [--seed S] > ev.jsonl

Hidden truth: FSRS-6 (the equations of planner/learner_fsrs.h) with the
published defaults except first stabilities 0.8 / 2 / 6 / 15 days, w8 1.2
and decay w20 0.3, and each learner's first stabilities times a factor of
their own (log-normal, sd 0.5: --learner-sd), so that a per-learner fit has something to
find. Each learner reviews each concept first on a random day of the first
30 (again 10 %, hard 15 %, good 60 %, easy 15 %), then whenever the recall
falls to a target drawn in [0.6, 0.95] (at least a day later), until day D;
a review is recalled with probability R (then hard 15 %, good 70 %, easy
15 %) else graded again. Concepts are "demo:c<i>" (events for concepts not
imported are kept; the fit does not need the graph).
"""
import argparse, json, math, random, time

W = [0.8, 2.0, 6.0, 15.0, 6.4133, 0.8334, 3.0194, 0.001, 1.2, 0.1666, 0.796,
     1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.3]
START = 20424  # 2025-12-01, days since 1970-01-01


def clamp(x, lo, hi):
    return lo if x < lo else hi if x > hi else x


class Card:
    def __init__(self, w):
        self.w, self.s, self.d, self.last = w, None, None, None

    def factor(self):
        return 0.9 ** (-1.0 / self.w[20]) - 1.0

    def r(self, t):
        return (1.0 + self.factor() * max(t - self.last, 0.0) / self.s) ** -self.w[20]

    def interval(self, r):
        return self.s / self.factor() * (r ** (-1.0 / self.w[20]) - 1.0)

    def review(self, g, t):
        w = self.w
        d0 = lambda g: w[4] - math.exp(w[5] * (g - 1)) + 1.0
        if self.s is None:
            self.s, self.d, self.last = w[g - 1], clamp(d0(g), 1, 10), t
            return
        if t - self.last < 1.0:
            inc = math.exp(w[17] * (g - 3 + w[18])) * self.s ** -w[19]
            self.s *= max(inc, 1.0) if g >= 2 else inc
        else:
            r = self.r(t)
            if g == 1:
                self.s = min(w[11] * self.d ** -w[12] * ((self.s + 1) ** w[13] - 1) *
                             math.exp(w[14] * (1 - r)), self.s / math.exp(w[17] * w[18]))
            else:
                hb = w[15] if g == 2 else w[16] if g == 4 else 1.0
                self.s *= 1 + math.exp(w[8]) * (11 - self.d) * self.s ** -w[9] * \
                    (math.exp(w[10] * (1 - r)) - 1) * hb
        self.s = clamp(self.s, 0.001, 36500.0)
        d1 = self.d - w[6] * (g - 3) * (10 - self.d) / 9
        self.d = clamp(w[7] * d0(4) + (1 - w[7]) * d1, 1, 10)
        self.last = t


def iso(day):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int((START + day) * 86400)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--learners", type=int, default=300)
    ap.add_argument("--concepts", type=int, default=30)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--learner-sd", type=float, default=0.5,
                    help="sd of the log of each learner's first-stability factor")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    for u in range(a.learners):
        f = math.exp(rng.gauss(0.0, a.learner_sd))
        w = [x * f for x in W[:4]] + W[4:]
        for c in range(a.concepts):
            card, t = Card(w), rng.uniform(0, 30) + rng.uniform(8, 20) / 24
            x = rng.random()
            g = 1 if x < 0.10 else 2 if x < 0.25 else 3 if x < 0.85 else 4
            while t < a.days:
                card.review(g, t)
                print(json.dumps({"learner": "u%d" % u, "concept": "demo:c%d" % c,
                                  "kind": "review", "at": iso(t), "grade": g,
                                  "dwell_seconds": rng.randint(30, 300)}))
                t += max(1.0, card.interval(rng.uniform(0.6, 0.95))) + rng.uniform(-0.2, 0.2)
                x = rng.random()
                g = (2 if x < 0.15 else 3 if x < 0.85 else 4) if rng.random() < card.r(t) else 1


if __name__ == "__main__":
    main()
