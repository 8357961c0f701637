#!/usr/bin/python3
"""The networkx side of tools/bench/store_bench.sh: builds the same
in-memory graph that a kgpath snapshot holds (concept attributes, every
requirement-group member edge prerequisite -> dependent, recommendations,
topological order) from kgpath's JSON export, and times it. Prints one JSON
line. Loading is the peer of kgpath's snapshot build from LMDB."""
import json, sys, time
import networkx as nx

path = sys.argv[1]
t0 = time.perf_counter()
with open(path) as f:
    doc = json.load(f)
t_parse = time.perf_counter() - t0
t1 = time.perf_counter()
G = nx.DiGraph()
for c in doc["concepts"]:
    G.add_node(c["id"], title=c["title"], minutes=c["minutes"])
for c in doc["concepts"]:
    for g in c["requires"]:
        for m in g["of"]:
            G.add_edge(m, c["id"], k=g["k"])
rank = {v: i for i, v in enumerate(nx.topological_sort(G))}
t_build = time.perf_counter() - t1
print(json.dumps({"concepts": G.number_of_nodes(), "edges": G.number_of_edges(),
                  "parse_s": round(t_parse, 4), "build_s": round(t_build, 4),
                  "total_s": round(t_parse + t_build, 4)}))
