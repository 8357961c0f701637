#!/usr/bin/env python3
"""The prerequisite benchmarks on the CSV path a user (and an external
benchmark) runs: `kgpath import X.csv`, `kgpath train`, `kgpath suggest
--pairs P`, with no designer's rejections. Not a test.

    tools/bench/prereq_csv.py [--kgpath build/src/kgpath] [--datasets ../shared/datasets]
                              [--seeds 1,2,3] [--folds 5] [--prior P|auto|true] [DATASET ...]

For each dataset (refd-cs, refd-math, lecturebank, metacademy) and seed,
`kgpath eval-prereq --seed S --write-folds DIR DATASET` writes each fold as
the files a user has (DIR/foldF.csv: the known graph, the test pairs'
positives not in it; DIR/foldF.tsv: the labelled test pairs), then
`kgpath eval-prereq --seed S --csv DIR/foldF.csv --pairs DIR/foldF.tsv
--json` measures kgpath (bare `train` + `suggest --pairs`) and the three
baselines on the same graph, in the same run. Prints one Markdown row per
dataset and seed (means over the folds) and the mean over the seeds; the
share of prerequisites in the labelled lists follows the dataset's name,
then the share kgpath scored at (--prior: a share, auto: kgpath's estimate
from each list's scores, true: each fold's own share; none: 0.5).
tools/bench/prereq_unseen.py runs the same on datasets that were never
used for tuning, writing the folds itself (measure() below).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

METHODS = ["kgpath", "transitivity", "precedes count", "logistic regression (structure)", "out-degree"]
KEYS = ("precision", "recall", "f1", "f1_best", "auc", "ece")


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr))
    return p.stdout


def header():
    print("| dataset (share of prerequisites) | seed | kgpath F1@0.5 (P / R) | kgpath best F1 | kgpath AUC | kgpath ECE "
          "| regression F1@0.5 / best F1 / AUC / ECE | precedes F1@0.5 / best F1 / AUC / ECE "
          "| transitivity F1@0.5 / best F1 / AUC / ECE | out-degree F1@0.5 / best F1 / AUC / ECE "
          "| goal F1, AUC (points) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")


def share(tsv):
    """The share of prerequisites (label 1) among a labelled pairs file's lines."""
    with open(tsv, encoding="utf-8") as f:
        labels = [line.rstrip("\n").split("\t")[-1] for line in f if line.strip()]
    return sum(x == "1" for x in labels) / max(1, len(labels))


def measure(kgpath, name, seeds, folds, prior, write):
    """For each seed, write(seed, DIR) writes DIR/foldF.csv and DIR/foldF.tsv
    for F < folds; each fold is measured by `kgpath --json eval-prereq --csv
    --pairs` (with --prior P when prior); prints a row per seed (means over
    the folds) and the mean over the seeds."""
    per_seed, shares, used = [], [], []
    for seed in seeds:
        with tempfile.TemporaryDirectory(prefix="kgpath-prereq-csv-") as tmp:
            write(seed, tmp)
            res = []
            for f in range(folds):
                csv, tsv = os.path.join(tmp, "fold%d.csv" % f), os.path.join(tmp, "fold%d.tsv" % f)
                shares.append(share(tsv))
                cmd = [kgpath, "--json", "eval-prereq", "--seed", str(seed), "--csv", csv, "--pairs", tsv]
                if prior:   # "true": the fold's own share, as a user who knows it gives it
                    cmd[3:3] = ["--prior", "%.6f" % shares[-1] if prior == "true" else str(prior)]
                j = json.loads(run(cmd))
                used.extend(j.get("prior", []))
                res.append({m["method"]: m["mean"] for m in j["methods"]})
        mean = {m: {k: sum(fd[m][k] or 0 for fd in res) / len(res) for k in KEYS} for m in METHODS}
        per_seed.append(mean)
        label = "%s (%.1f%%; scored at %.1f%%)" % (name, 100 * sum(shares) / len(shares),
                                                   100 * sum(used) / max(1, len(used)))
        row(label, str(seed), mean)
        sys.stdout.flush()
    avg = {m: {k: sum(s[m][k] for s in per_seed) / len(per_seed) for k in KEYS} for m in METHODS}
    row(label, "mean", avg)
    sys.stdout.flush()


def prior_arg(v):
    if v in ("auto", "true"):
        return v
    x = float(v)
    if not 0 < x < 1:
        raise argparse.ArgumentTypeError("a share in (0, 1), auto or true")
    return x


def seeds_arg(v):
    """'1,2,3' -> [1, 2, 3] (one value, so that DATASET names may follow)."""
    try:
        return [int(x) for x in v.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("seeds as integers separated by commas, e.g. 1,2,3")


def arguments(names):
    """The command line both benchmarks take; names: the default datasets."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--kgpath", default="build/src/kgpath")
    ap.add_argument("--datasets", default="../shared/datasets")
    ap.add_argument("--seeds", type=seeds_arg, default=[1, 2, 3], help="comma-separated, e.g. 1,2,3")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--prior", type=prior_arg, default=0,
                    help="a share in (0, 1), auto (estimated by kgpath), or true (each fold's own share)")
    ap.add_argument("names", nargs="*", default=names)
    return ap.parse_args()


def main():
    a = arguments(["refd-cs", "refd-math", "lecturebank", "metacademy"])
    header()
    for name in a.names:
        def write(seed, tmp, name=name):
            run([a.kgpath, "eval-prereq", "--seed", str(seed), "--folds", str(a.folds), "--datasets",
                 a.datasets, "--write-folds", tmp, name])
        measure(a.kgpath, name, a.seeds, a.folds, a.prior, write)


def row(name, seed, m):
    k, tr, pc, lr, od = (m[x] for x in METHODS)
    bf = max(lr["f1_best"], pc["f1_best"], tr["f1_best"], od["f1_best"])
    ba = max(lr["auc"], pc["auc"], tr["auc"], od["auc"])
    base = " | ".join("%.3f / %.3f / %.3f / %.3f" % (b["f1"], b["f1_best"], b["auc"], b["ece"])
                      for b in (lr, pc, tr, od))
    print("| %s | %s | %.3f (%.2f / %.2f) | %.3f | %.3f | %.3f | %s | %+.1f, %+.1f |" % (
        name, seed, k["f1"], k["precision"], k["recall"], k["f1_best"], k["auc"], k["ece"], base,
        100 * (k["f1"] - bf - 0.03), 100 * (k["auc"] - ba - 0.02)))


if __name__ == "__main__":
    main()
