#!/usr/bin/python3
"""Peer of `kgpath batch` for tools/bench/batch_bench.sh: the same learners
planned one by one with networkx (Debian python3-networkx, /usr/bin/python3).

  batch_networkx.py PREFIX LEARNERS OUT

PREFIX.nodes.tsv (key, minutes) and PREFIX.edges.tsv (prerequisite, concept)
come from tools/bench/batch_gen. Per learner: the goals' prerequisite
closure stopping at known concepts (nx.ancestors on the graph without the
known concepts), a topological order of it (nx.topological_sort), minutes
and a one-line reason per step, written as JSON lines like kgpath's. The
bench graphs have plain AND prerequisites, so the concept sets equal
kgpath's (kgpath also chooses k-of-n alternatives and writes longer
explanations). Prints "plans N seconds S peak_kb K".
"""
import json
import resource
import sys
import time

import networkx as nx


def main():
    prefix, learners, out = sys.argv[1:4]
    g = nx.DiGraph()
    minutes = {}
    with open(prefix + ".nodes.tsv") as f:
        for line in f:
            k, m = line.rstrip("\n").split("\t")
            minutes[k] = float(m)
            g.add_node(k)
    with open(prefix + ".edges.tsv") as f:
        for line in f:
            a, b = line.rstrip("\n").split("\t")
            g.add_edge(a, b)

    t0 = time.time()
    n = 0
    with open(learners) as f, open(out, "w") as w:
        for lineno, line in enumerate(f, 1):
            r = json.loads(line)
            goals = r["goals"]
            known = set(r.get("known", []))
            view = nx.restricted_view(g, known, [])
            need = set()
            for goal in goals:
                if goal in known:
                    continue
                need.add(goal)
                need |= nx.ancestors(view, goal)
            order = list(nx.topological_sort(g.subgraph(need)))
            steps = []
            for c in order:
                succ = [s for s in g.successors(c) if s in need]
                why = ["prerequisite of '%s'" % succ[0]] if succ else ["goal"]
                steps.append({"concept": c, "kind": "learn",
                              "minutes": round(minutes[c]), "day": None, "why": why})
            rec = {"line": lineno, "learner": r["learner"], "kgpath_plan": 1,
                   "goals": goals, "known": sorted(known), "steps": steps,
                   "total_minutes": sum(s["minutes"] for s in steps)}
            w.write(json.dumps(rec, separators=(",", ":")) + "\n")
            n += 1
    dt = time.time() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("plans %d seconds %.3f peak_kb %d" % (n, dt, peak))


if __name__ == "__main__":
    main()
