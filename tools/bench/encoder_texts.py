#!/usr/bin/env python3
"""Concept texts for the encoder benchmark's realistic workload, one a line.

  encoder_texts.py SAMPLES_DIR SHARED_DIR > texts.txt

Each concept's text as `kgpath embed` composes it (title, summary and
goals; here joined by spaces instead of newlines, which the tokenizer
treats alike), in file order:
- every concept of the sample courses (SAMPLES_DIR/*.xml, kgxml);
- every Metacademy concept (datasets/metacademy/concepts.jsonl);
- every LectureBank 2.0 topic with its generated definition
  (datasets/lecturebank/..., as `kgpath eval-prereq --definitions`).
"""
import glob, json, os, sys
import xml.etree.ElementTree as ET

NS = "{https://kgpath.org/ns/course/1}"


def one_line(parts):
    return " ".join(" ".join(p.split()) for p in parts if p and p.strip())


def samples(d):
    for path in sorted(glob.glob(os.path.join(d, "*.xml"))):
        for c in ET.parse(path).getroot().iter(NS + "concept"):
            parts = [c.findtext(NS + "title"), c.findtext(NS + "summary")]
            parts += [g.text for g in c.findall(NS + "goal")]
            yield one_line(parts)


def metacademy(d):
    with open(os.path.join(d, "datasets/metacademy/concepts.jsonl"), encoding="utf-8") as f:
        for line in f:
            j = json.loads(line)
            yield one_line([j.get("title"), j.get("summary")] + list(j.get("goals") or []))


def lecturebank(d):
    lb = os.path.join(d, "datasets/lecturebank")
    topics = {}
    with open(os.path.join(lb, "LB-Paper/LectureBank2/data/322topics_final.tsv"), encoding="utf-8") as f:
        for line in f:
            i, _, name = line.rstrip("\n").partition("|")
            topics[int(i)] = name
    defs = {}
    with open(os.path.join(lb, "derived/lb2_322topics_llama2_70b_definitions.jsonl"), encoding="utf-8") as f:
        for line in f:
            j = json.loads(line)
            defs[j["topic_id"]] = j["generated_definition"]
    for i in sorted(topics):
        yield one_line([topics[i] + ".", defs.get(i, "")])


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    n = 0
    for gen in (samples(sys.argv[1]), metacademy(sys.argv[2]), lecturebank(sys.argv[2])):
        for t in gen:
            print(t)
            n += 1
    print("%d texts" % n, file=sys.stderr)


if __name__ == "__main__":
    main()
