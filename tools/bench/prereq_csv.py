#!/usr/bin/env python3
"""The prerequisite benchmarks on the CSV path a user (and an external
benchmark) runs: `kgpath import X.csv`, `kgpath train`, `kgpath suggest
--pairs P`, with no designer's rejections. Not a test.

    tools/bench/prereq_csv.py [--kgpath build/src/kgpath] [--datasets ../shared/datasets]
                              [--seeds 1 2 3] [--folds 5] [--prior P] [DATASET ...]

For each dataset (refd-cs, refd-math, lecturebank, metacademy) and seed,
`kgpath eval-prereq --seed S --write-folds DIR DATASET` writes each fold as
the files a user has (DIR/foldF.csv: the known graph, the test pairs'
positives not in it; DIR/foldF.tsv: the labelled test pairs), then
`kgpath eval-prereq --seed S --csv DIR/foldF.csv --pairs DIR/foldF.tsv
--json` measures kgpath (bare `train` + `suggest --pairs`) and the three
baselines on the same graph, in the same run. Prints one Markdown row per
dataset and seed (means over the folds) and the mean over the seeds.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

METHODS = ["kgpath", "transitivity", "precedes count", "logistic regression (structure)"]


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr))
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kgpath", default="build/src/kgpath")
    ap.add_argument("--datasets", default="../shared/datasets")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--prior", type=float, default=0)
    ap.add_argument("names", nargs="*", default=["refd-cs", "refd-math", "lecturebank", "metacademy"])
    a = ap.parse_args()
    print("| dataset | seed | kgpath F1@0.5 (P / R) | kgpath best F1 | kgpath AUC | kgpath ECE "
          "| regression best F1 / AUC | precedes best F1 / AUC | transitivity best F1 / AUC "
          "| goal F1, AUC (points) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in a.names:
        per_seed = []
        for seed in a.seeds:
            with tempfile.TemporaryDirectory(prefix="kgpath-prereq-csv-") as tmp:
                run([a.kgpath, "eval-prereq", "--seed", str(seed), "--folds", str(a.folds), "--datasets",
                     a.datasets, "--write-folds", tmp, name])
                folds = []
                for f in range(a.folds):
                    cmd = [a.kgpath, "--json", "eval-prereq", "--seed", str(seed), "--csv",
                           os.path.join(tmp, "fold%d.csv" % f), "--pairs", os.path.join(tmp, "fold%d.tsv" % f)]
                    if a.prior:
                        cmd[3:3] = ["--prior", str(a.prior)]
                    j = json.loads(run(cmd))
                    folds.append({m["method"]: m["mean"] for m in j["methods"]})
            mean = {m: {k: sum(fd[m][k] or 0 for fd in folds) / len(folds)
                        for k in ("precision", "recall", "f1", "f1_best", "auc", "ece")} for m in METHODS}
            per_seed.append(mean)
            row(name, str(seed), mean)
        avg = {m: {k: sum(s[m][k] for s in per_seed) / len(per_seed) for k in per_seed[0][m]} for m in METHODS}
        row(name, "mean", avg)
        sys.stdout.flush()


def row(name, seed, m):
    k, tr, pc, lr = (m[x] for x in METHODS)
    bf = max(lr["f1_best"], pc["f1_best"], tr["f1_best"])
    ba = max(lr["auc"], pc["auc"], tr["auc"])
    print("| %s | %s | %.3f (%.2f / %.2f) | %.3f | %.3f | %.3f | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f | %+.1f, %+.1f |" % (
        name, seed, k["f1"], k["precision"], k["recall"], k["f1_best"], k["auc"], k["ece"], lr["f1_best"], lr["auc"],
        pc["f1_best"], pc["auc"], tr["f1_best"], tr["auc"], 100 * (k["f1"] - bf - 0.03), 100 * (k["auc"] - ba - 0.02)))


if __name__ == "__main__":
    main()
