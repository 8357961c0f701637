#!/usr/bin/python3
"""The networkx side of tools/bench/plan_bench.sh: the same requests as
plan_bench run (QUERIES: goals TAB known), each planned as the union of
nx.ancestors of the goals, minus the known concepts, ordered by
nx.topological_sort of that subgraph. Prints one JSON line."""
import json, resource, sys, time
import networkx as nx

edges_path, queries_path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
G = nx.DiGraph()
with open(edges_path) as f:
    for line in f:
        a, b = line.rstrip("\n").split("\t")
        G.add_edge(a, b)
load = time.perf_counter() - t0
lat, steps = [], 0
with open(queries_path) as f:
    queries = [l.rstrip("\n").split("\t") for l in f]
for q in queries:
    goals = q[0].split()
    known = set(q[1].split()) if len(q) > 1 and q[1] else set()
    a = time.perf_counter()
    need = set()
    for g in goals:
        if g in G:
            need |= nx.ancestors(G, g)
        need.add(g)
    need -= known
    order = list(nx.topological_sort(G.subgraph(need)))
    lat.append(time.perf_counter() - a)
    steps += len(order)
lat.sort()
n = len(lat)
print(json.dumps({"tool": "networkx", "version": nx.__version__, "plans": n,
                  "median_us": round(lat[n // 2] * 1e6, 1),
                  "p99_us": round(lat[min(n - 1, int(n * 0.99))] * 1e6, 1),
                  "load_ms": round(load * 1e3, 1), "mean_steps": round(steps / max(n, 1), 1),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
