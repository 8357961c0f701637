#!/usr/bin/env bash
# tools/bench/batch_bench.sh [BUILD_DIR]: kgpath batch throughput and memory,
# side by side with networkx planning the same learners one by one.
#
# Graphs: synthetic 10k concepts (tools/bench/batch_gen synth: courses of 50,
# AND prerequisites, plans of ~45 steps) and Metacademy (../shared/datasets,
# skipped when absent). Learner counts are scaled to this shared 2-core
# machine (KG_BENCH_LEARNERS, default 20000; networkx gets KG_BENCH_NX,
# default 1000) and projected to 10M learners. Memory independence: the
# same run with 5x the learners must peak at the same RSS.
# Rates are plans per second of wall time and per CPU-second (user + sys),
# which stays meaningful when other jobs share the machine.
#
# KG_BENCH_BASE=OTHER_BUILD_DIR also runs that build's kgpath (e.g. one of
# the code before a change) on the same learners with 1 thread, checks that
# it writes byte-identical output and prints the speed-up per CPU-second.
#
# kgpath runs get OPENBLAS_NUM_THREADS=1, as the networkx peer does: libkgpath
# links OpenBLAS (the encoder), whose pthread build starts a helper thread at
# load time that busy-waits (sched_yield) for ~0.1 s of CPU; batch never calls
# BLAS, and that fixed cost is not per plan.
set -euo pipefail
export OPENBLAS_NUM_THREADS=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build}"
KG="$build/src/kgpath"; GEN="$build/tools/batch_gen"
PY=/usr/bin/python3
L="${KG_BENCH_LEARNERS:-20000}"; NXL="${KG_BENCH_NX:-1000}"
BASE="${KG_BENCH_BASE:-}"; KGB="${BASE:+$BASE/src/kgpath}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/kgpath-batch-bench.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
[ -x "$KG" ] && [ -x "$GEN" ] || { echo "build $build first" >&2; exit 1; }
[ -z "$KGB" ] || [ -x "$KGB" ] || { echo "KG_BENCH_BASE: no $KGB" >&2; exit 1; }
$PY -c 'import networkx' 2>/dev/null || { echo "needs python3-networkx (apt-get install python3-networkx)" >&2; exit 1; }

# run NAME CMD… → "wall user sys maxrss_kb" into $tmp/NAME.time. Each run
# starts with no dirty page cache (sync): otherwise the kernel makes a run
# write back the GBs of output of the runs before it, charged as its sys time.
run() {
  local name="$1"; shift
  sync
  /usr/bin/time -f "%e %U %S %M" -o "$tmp/$name.time" "$@" >/dev/null 2>"$tmp/$name.err" \
    || { cat "$tmp/$name.err" >&2; exit 1; }
}
rate() {   # plans, time file → "plans/s wall | plans per cpu-s | peak MiB"
  awk -v n="$1" '{ w=$1; c=$2+$3; printf "%8.0f | %8.0f | %6.1f", n/w, (c>0?n/c:0), $4/1024 }' "$2"
}

echo "| graph | learners | run | plans/s (wall) | plans/CPU-s | peak MiB |"
echo "|---|---|---|---|---|---|"
bench_graph() {   # label, gen args…
  local label="$1"; shift
  "$GEN" "$@" >/dev/null
  local db="$tmp/g.db" prefix="$tmp/g"
  head -n "$NXL" "$tmp/l.jsonl" >"$tmp/lnx.jsonl"
  for t in 1 2; do
    run "kg$t" "$KG" --db "$db" batch --read-only --threads "$t" --progress none --quiet \
      --learners "$tmp/l.jsonl" --out "$tmp/kg$t.jsonl"
    echo "| $label | $L | kgpath batch, $t thread(s) | $(rate "$L" "$tmp/kg$t.time") |"
  done
  cmp -s "$tmp/kg1.jsonl" "$tmp/kg2.jsonl" || echo "WARNING: 1 and 2 threads differ" >&2
  rm -f "$tmp/kg2.jsonl"*
  if [ -n "$KGB" ]; then
    run kgb "$KGB" --db "$db" batch --read-only --threads 1 --progress none --quiet \
      --learners "$tmp/l.jsonl" --out "$tmp/kgb.jsonl"
    echo "| $label | $L | kgpath batch (KG_BENCH_BASE), 1 thread | $(rate "$L" "$tmp/kgb.time") |"
    cmp -s "$tmp/kg1.jsonl" "$tmp/kgb.jsonl" && echo "  check ($label): output byte-identical to KG_BENCH_BASE" >&2 \
      || echo "WARNING: output differs from KG_BENCH_BASE" >&2
    rm -f "$tmp/kgb.jsonl"*
    awk 'FNR==NR { b=$2+$3; next } { printf "  speed-up (%s): %.2fx per CPU-second over KG_BENCH_BASE (1 thread)\n", "'"$label"'", b/($2+$3) }' \
      "$tmp/kgb.time" "$tmp/kg1.time" >&2
  fi
  # Memory independent of the number of learners: 5x the learners.
  for _ in 1 2 3 4 5; do cat "$tmp/l.jsonl"; done >"$tmp/l5.jsonl"
  run "kg5" "$KG" --db "$db" batch --read-only --threads 2 --progress none --quiet \
    --learners "$tmp/l5.jsonl" --out "$tmp/kg5.jsonl"
  echo "| $label | $((5 * L)) | kgpath batch, 2 threads | $(rate $((5 * L)) "$tmp/kg5.time") |"
  rm -f "$tmp/kg5.jsonl"*
  run nx env OPENBLAS_NUM_THREADS=1 "$PY" "$root/tools/bench/batch_networkx.py" "$prefix" \
    "$tmp/lnx.jsonl" "$tmp/nx.jsonl"
  echo "| $label | $NXL | networkx per learner (Python) | $(rate "$NXL" "$tmp/nx.time") |"
  # Same concepts in every plan?
  "$PY" - "$tmp/kg1.jsonl" "$tmp/nx.jsonl" <<'PYEOF' >&2
import json, sys
a = {}
for l in open(sys.argv[1]):
    j = json.loads(l); a[j["line"]] = {s["concept"] for s in j.get("steps", [])}
same = n = steps = 0
for l in open(sys.argv[2]):
    j = json.loads(l); n += 1; steps += len(j["steps"])
    same += a.get(j["line"]) == {s["concept"] for s in j["steps"]}
print("  check: %d of %d networkx plans have kgpath's concepts; mean %.1f steps" % (same, n, steps / max(n, 1)))
PYEOF
  awk -v n="$L" '{ printf "  projection (%s): 10M learners, 2 threads: %.1f min on one machine; %.1f min on a 20-node array\n", "'"$label"'", 1e7/(n/$1)/60, 1e7/(20*n/$1)/60 }' "$tmp/kg2.time" >&2
  awk -v n="$L" -v m="$NXL" 'FNR==NR { kg=$2+$3; next } { printf "  ratio (%s): kgpath %.0fx networkx per CPU-second\n", "'"$label"'", (n/kg)/(m/($2+$3)) }' "$tmp/kg1.time" "$tmp/nx.time" >&2
}

bench_graph "synthetic 10k" synth "$tmp/g.db" 10000 "$tmp/l.jsonl" "$L" "$tmp/g" 1
shared="${KGPATH_SHARED:-$root/../shared}"
if [ -d "$shared/datasets/metacademy" ]; then
  bench_graph "Metacademy 487" metacademy "$tmp/g.db" "$shared/datasets/metacademy" "$tmp/l.jsonl" "$L" "$tmp/g" 1
else
  echo "(Metacademy skipped: $shared/datasets/metacademy not found)" >&2
fi
