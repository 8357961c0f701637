#!/usr/bin/env bash
# Planner benchmark: kgpath's planner beside python3-networkx (ancestors +
# topological_sort) on the same graphs and the same requests, in one run.
#   tools/bench/plan_bench.sh [BUILD_DIR] [SIZES...]
# Defaults: build/ and sizes 1000 10000 100000 (add 1000000 for the 1M row;
# it needs ~2 GB for networkx and a few minutes). Real graphs come from
# ../shared/datasets (Metacademy, Khan Academy) when present.
# Prints a Markdown table; raw JSON lines go to $OUT/results.jsonl.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$ROOT/build}"; shift || true
SIZES=("${@:-1000 10000 100000}")
# shellcheck disable=SC2206
SIZES=(${SIZES[*]})
BENCH="$BUILD/tools/plan_bench"
PY=/usr/bin/python3
SHARED="${KGPATH_SHARED:-$ROOT/../shared}"
NQ="${NQ:-2000}"
OUT="$(mktemp -d /tmp/kgpath-plan-bench.XXXXXX)"
[ -x "$BENCH" ] || { echo "build $BENCH first (ninja -C $BUILD tools/plan_bench)" >&2; exit 1; }
$PY -c 'import networkx' 2>/dev/null || { echo "needs python3-networkx (apt-get install python3-networkx)" >&2; exit 1; }

run_one() {   # name db edges
    local name="$1" db="$2" edges="$3"
    local c nx
    c=$("$BENCH" run "$db" "$OUT/$name.q" "$NQ" 1)
    nx=$($PY "$ROOT/tools/bench/plan_bench_nx.py" "$edges" "$OUT/$name.q")
    echo "$c" >> "$OUT/results.jsonl"; echo "$nx" >> "$OUT/results.jsonl"
    $PY - "$name" "$c" "$nx" <<'PYEOF'
import json, sys
name, c, n = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(f"| {name} | {c['concepts']:,} | {c['median_us']:.1f} / {c['p99_us']:.1f} | "
      f"{n['median_us']:.1f} / {n['p99_us']:.1f} | **{n['median_us']/c['median_us']:.0f}x** / {n['p99_us']/c['p99_us']:.0f}x | "
      f"{c['mean_steps']:.0f} / {n['mean_steps']:.0f} | {c['cold_start_ms']:.0f} | {n['load_ms']:.0f} | "
      f"{c['peak_rss_mib']:.0f} / {n['peak_rss_mib']:.0f} | {c['rss_growth_during_plans_kib']} |")
PYEOF
}

echo "| graph | concepts | kgpath median / p99 (µs) | networkx median / p99 (µs) | ratio median / p99 | steps kgpath / nx | kgpath cold start (ms) | nx load (ms) | peak RSS kgpath / nx (MiB) | kgpath RSS growth over the plans (KiB) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for ds in metacademy khan-academy-kalite; do
    [ -d "$SHARED/datasets/$ds" ] || continue
    name=${ds%%-*}
    "$BENCH" dataset "$name" "$SHARED/datasets/$ds" "$OUT/$name.db" "$OUT/$name.tsv" 2>/dev/null
    run_one "$name" "$OUT/$name.db" "$OUT/$name.tsv"
done
for n in "${SIZES[@]}"; do
    "$BENCH" gen "$n" "$OUT/s$n.db" "$OUT/s$n.tsv" 2>/dev/null
    run_one "synthetic" "$OUT/s$n.db" "$OUT/s$n.tsv"
    rm -f "$OUT/s$n.db" "$OUT/s$n.db-lock"
done
echo "raw results: $OUT/results.jsonl" >&2
