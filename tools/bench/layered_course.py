#!/usr/bin/env python3
"""A synthetic layered CSV course and random pairs to score, for timing the
user's path (README, "Speed of the default path"):

    tools/bench/layered_course.py DIR        # DIR/course.csv, DIR/pairs.tsv, DIR/pairs_ne.tsv, DIR/one.tsv
    kgpath --db DIR/db import DIR/course.csv && kgpath --db DIR/db train
    /usr/bin/time kgpath --db DIR/db suggest --pairs DIR/pairs.tsv > out.tsv

course.csv: 3,000 concepts in 100 layers of 30, each with up to three
prerequisites, from the layer before or (probability 0.3) an earlier one
(8,743 edges with the default seed). pairs.tsv: 10,000 random ordered
pairs (some may be edges); pairs_ne.tsv: 10,000 random pairs none of which
is an edge; one.tsv: one pair."""
import argparse
import os
import random

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("dir")
ap.add_argument("--concepts", type=int, default=3000)
ap.add_argument("--layers", type=int, default=100)
ap.add_argument("--pairs", type=int, default=10000)
ap.add_argument("--seed", type=int, default=7)
a = ap.parse_args()
os.makedirs(a.dir, exist_ok=True)
rng = random.Random(a.seed)
N, W = a.concepts, a.concepts // a.layers
words = "algebra vector matrix limit series graph tree sort hash proof set group ring field logic prob stats model code loop".split()
rows, edges = [], set()
for k in range(N):
    layer, pres = k // W, []
    if layer:
        for _ in range(3):
            l = layer - 1 if rng.random() < 0.7 else rng.randrange(layer)
            p = l * W + rng.randrange(W)
            if p not in pres:
                pres.append(p)
    edges.update((p, k) for p in pres)
    t = " ".join(rng.choice(words) for _ in range(3)) + f" {k}"
    rows.append(f"c{k},{t},About {t},10,{';'.join('c%d' % p for p in pres)},")
with open(os.path.join(a.dir, "course.csv"), "w") as f:
    f.write("id,title,summary,minutes,prerequisites,reason\n" + "\n".join(rows) + "\n")
rng = random.Random(a.seed + 4)
with open(os.path.join(a.dir, "pairs.tsv"), "w") as f:
    for _ in range(a.pairs):
        x, y = rng.sample(range(N), 2)
        f.write(f"c{x}\tc{y}\n")
rng = random.Random(a.seed + 4)
with open(os.path.join(a.dir, "pairs_ne.tsv"), "w") as f:
    n = 0
    while n < a.pairs:
        x, y = rng.sample(range(N), 2)
        if (x, y) not in edges:
            f.write(f"c{x}\tc{y}\n")
            n += 1
with open(os.path.join(a.dir, "one.tsv"), "w") as f:
    f.write("c5\tc300\n")
print(f"{N} concepts, {len(edges)} edges")
