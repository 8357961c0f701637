#!/usr/bin/env python3
"""An out-of-sample check of the prerequisite suggestions on the CSV path
(`kgpath import X.csv`, `kgpath train`, `kgpath suggest --pairs P`), on
public datasets never used to tune kgpath. Not a test.

    tools/bench/prereq_unseen.py [--kgpath build/src/kgpath] [--datasets ../shared/datasets]
                                 [--seeds 1,2,3] [--folds 5] [--prior P|auto|true] [DATASET ...]

Each fold becomes the files a user has, in a temporary folder (the datasets
are read where they lie, never copied): foldF.csv, a course with the header
id,title,summary,minutes,prerequisites,reason holding the fold's known graph
(no rejections; the test positives not in it), and foldF.tsv, labelled
pairs pre<TAB>concept<TAB>1|0. Each fold is then measured by `kgpath --json
eval-prereq --seed S --csv foldF.csv --pairs foldF.tsv` (bare `train` and
bare `suggest --pairs`, with the three baselines on the same graph), and
the rows printed as tools/bench/prereq_csv.py prints them (its measure()).
A training edge that would close a cycle is left out (import refuses
cycles), as `eval-prereq --write-folds` does.

DATASET:
  khan        khan-academy-kalite: 1,542 exercises (title, description),
              edges.tsv prereq_id -> exercise_id; per fold (seeded) 20% of
              the edges held out with as many random non-edges (neither
              direction an edge), as eval-prereq's Metacademy
  khan-1to5   the same with five random non-edges per held-out edge
  lb1         LectureBank 1.0: 208 topic names, prerequisite_annotation.csv
              (source is a prerequisite of target; 921 of 42,750 pairs
              positive); stratified folds of the labelled pairs, the
              training positives as the course's prerequisites
  lbcd-cv, lbcd-bio
              LectureBankCD data/{CV,BIO}.annotation.csv (a, b, label; a
              prerequisite of b as in LectureBank), topic names; as lb1
  crowdcomp   RefD's CrowdComp (Talukdar & Cohen 2012), the five domains
              pooled: per HIT pair the majority of its 3 or 5 answers;
              Source2Target: source -> target positive, Target2Source:
              target -> source positive, anything else: source -> target
              negative. Only the concepts and the answers are read
              (WorkerId and the other HIT columns never leave the reader).
  NAME:path, NAME:nopath
              the same folds and training, the test pairs cut to those
              with (without) a path pre ⇝ concept in the fold's known graph
              (whether a list counts implied prerequisites as such)
"""
import collections
import csv
import glob
import json
import os
import random
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prereq_csv import arguments, header, measure  # noqa: E402


class Data:
    """Concepts (id -> (title, summary)) and either edges (for held-out
    edges with random non-edges) or labelled directed pairs (a, b, y)."""

    def __init__(self, concepts, edges=None, labelled=None):
        self.concepts, self.edges, self.labelled = concepts, edges, labelled


def khan(root):
    d = os.path.join(root, "khan-academy-kalite")
    concepts = {}
    with open(os.path.join(d, "nodes.jsonl"), encoding="utf-8") as f:
        for line in f:
            n = json.loads(line)
            concepts[n["id"]] = (n["title"], n.get("description") or "")
    edges = []
    with open(os.path.join(d, "edges.tsv"), encoding="utf-8") as f:
        next(f)  # prereq_id<TAB>exercise_id
        for line in f:
            a, b = line.rstrip("\n").split("\t")
            if a in concepts and b in concepts and a != b and (a, b) not in edges:
                edges.append((a, b))
    return Data(concepts, edges=edges)


def lb1(root):
    d = os.path.join(root, "lecturebank", "LB-Paper")
    with open(os.path.join(d, "208topics.csv"), encoding="utf-8") as f:
        concepts = {r[0]: (r[1], "") for r in csv.reader(f) if r}
    with open(os.path.join(d, "prerequisite_annotation.csv"), encoding="utf-8") as f:
        pairs = [(r[0], r[1], int(r[2])) for r in csv.reader(f) if r and r[0] in concepts and r[1] in concepts]
    return Data(concepts, labelled=pairs)


def lbcd(root, domain):
    d = os.path.join(root, "lecturebank", "LB-Paper", "LectureBankCD", "data")
    with open(os.path.join(d, domain + ".topics.tsv"), encoding="utf-8") as f:
        concepts = {r[0]: (r[1], "") for r in (line.rstrip("\n").split("\t") for line in f) if len(r) > 1}
    with open(os.path.join(d, domain + ".annotation.csv"), encoding="utf-8") as f:
        pairs = [(r[0], r[1], int(r[2])) for r in csv.reader(f) if r and r[0] in concepts and r[1] in concepts]
    return Data(concepts, labelled=pairs)


def crowdcomp(root):
    votes = collections.defaultdict(list)
    for path in sorted(glob.glob(os.path.join(root, "refd", "CrowdComp", "*.csv"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            for r in csv.DictReader(f):
                s, t = r["Input.SourceConceptBase"], r["Input.TargetConceptBase"]
                votes[(s, t)].append(next((k for k in ("Source2Target", "Target2Source")
                                           if r.get("Answer." + k, "").strip() == k), "other"))
    concepts, pairs = {}, []
    for (s, t), v in sorted(votes.items()):
        for c in (s, t):
            concepts[c] = (urllib.parse.unquote(c).replace("_", " "), "")
        top = next((k for k in ("Source2Target", "Target2Source") if 2 * v.count(k) > len(v)), None)
        pairs.append((t, s, 1) if top == "Target2Source" else (s, t, int(top == "Source2Target")))
    return Data(concepts, labelled=pairs)


LOADERS = {"khan": khan, "khan-1to5": khan, "lb1": lb1, "crowdcomp": crowdcomp,
           "lbcd-cv": lambda r: lbcd(r, "CV"), "lbcd-bio": lambda r: lbcd(r, "BIO")}


def heldout_edges(data, folds, seed, neg_per_pos):
    """Per fold: 20% of the edges (shuffled with seed*1000+F) and
    neg_per_pos random non-edges (neither direction an edge) per held-out edge."""
    ids = sorted(data.concepts)
    eset = set(data.edges)
    for f in range(folds):
        g = random.Random(seed * 1000 + f)
        ed = sorted(data.edges)
        g.shuffle(ed)
        nt = len(ed) // 5
        test = [(a, b, 1) for a, b in ed[:nt]]
        seen = set()
        while len(seen) < neg_per_pos * nt:
            a, b = g.choice(ids), g.choice(ids)
            if a != b and (a, b) not in eset and (b, a) not in eset and (a, b) not in seen:
                seen.add((a, b))
                test.append((a, b, 0))
        yield ed[nt:], test


def stratified(data, folds, seed):
    """Per fold: one of `folds` stratified parts of the labelled pairs as
    the test pairs, the other parts' positives as the known graph."""
    g = random.Random(seed)
    parts = [[] for _ in range(folds)]
    for y in (1, 0):
        p = sorted(x for x in data.labelled if x[2] == y)
        g.shuffle(p)
        for i, x in enumerate(p):
            parts[i % folds].append(x)
    for f in range(folds):
        train = [(a, b) for k in range(folds) if k != f for a, b, y in parts[k] if y]
        yield train, parts[f]


def reaches(adj, a, b):
    stack, seen = [a], {a}
    while stack:
        x = stack.pop()
        if x == b:
            return True
        for y in adj[x]:
            if y not in seen:
                seen.add(y)
                stack.append(y)
    return False


def write_fold(dir_, f, data, train, test, part=None):
    """foldF.csv (the known graph as a course, concepts as c0, c1, … in
    sorted order) and foldF.tsv (the labelled test pairs; part "path" or
    "nopath": only those with, without, a path a ⇝ b in the known graph);
    returns how many training edges were left out for closing a cycle."""
    key = {c: "c%d" % i for i, c in enumerate(sorted(data.concepts))}
    adj, pre, cut = collections.defaultdict(list), collections.defaultdict(list), 0
    for a, b in train:
        if reaches(adj, b, a):
            cut += 1
            continue
        adj[a].append(b)
        pre[b].append(key[a])
    with open(os.path.join(dir_, "fold%d.csv" % f), "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["id", "title", "summary", "minutes", "prerequisites", "reason"])
        for c in sorted(data.concepts):
            title, summary = data.concepts[c]
            w.writerow([key[c], title, summary, "", ";".join(pre[c]), ""])
    with open(os.path.join(dir_, "fold%d.tsv" % f), "w", encoding="utf-8") as out:
        for a, b, y in test:
            if part and reaches(adj, a, b) != (part == "path"):
                continue
            out.write("%s\t%s\t%d\n" % (key[a], key[b], y))
    return cut


def main():
    a = arguments(["khan", "khan-1to5", "lb1", "lbcd-cv", "lbcd-bio", "crowdcomp"])
    for name in a.names:
        if name.split(":")[0] not in LOADERS or name.split(":")[1:] not in ([], ["path"], ["nopath"]):
            sys.exit("unknown dataset %r (one of %s)" % (name, ", ".join(LOADERS)))
    header()
    for name in a.names:
        base, part = (name.split(":") + [None])[:2]
        data = LOADERS[base](a.datasets)
        n = len(data.edges if data.edges is not None else data.labelled)
        pos = len(data.edges) if data.edges is not None else sum(y for _, _, y in data.labelled)
        print("<!-- %s: %d concepts, %d %s, %d positive -->" % (
            name, len(data.concepts), n, "edges" if data.edges is not None else "labelled pairs", pos))

        def write(seed, tmp, data=data, base=base, part=part):
            split = (heldout_edges(data, a.folds, seed, 5 if base == "khan-1to5" else 1)
                     if data.edges is not None else stratified(data, a.folds, seed))
            cuts = [write_fold(tmp, f, data, train, test, part) for f, (train, test) in enumerate(split)]
            if any(cuts):
                print("<!-- %s seed %d: training edges left out for closing a cycle, per fold: %s -->"
                      % (name, seed, cuts))
        measure(a.kgpath, name, a.seeds, a.folds, a.prior, write)


if __name__ == "__main__":
    main()
