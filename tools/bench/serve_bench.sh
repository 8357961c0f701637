#!/usr/bin/env bash
# kgpath serve under load: wrk against /v1/plan and /v1/next on two graphs
# (the samples, and a generated 10k-concept graph), with 1 and 2 server
# threads, at low load (1 connection: latency without queueing) and under
# load (8 connections), beside `kgpath batch` planning the same requests in
# the same run (plans per CPU-second). Loopback only; every run is bounded.
#
# usage: tools/bench/serve_bench.sh [BUILD_DIR] [SECONDS]
#   BUILD_DIR  default build; SECONDS per wrk run, default 10
# Prints a Markdown table, one row per run: requests/s, p50/p99 latency,
# errors, requests per server CPU-second (the server's utime + stime over
# the run, from /proc) and, for /v1/plan, its ratio to batch's plans per
# CPU-second on the same graph; and the 1-minute load average (`uptime`)
# when the run ended. The machine may be shared: per-CPU-second figures
# stay meaningful when other jobs run, wall-clock ones do not.
# Goal (issue 15): ratio at least 0.5, p99 under 10 ms on the samples, no errors.
#
# Both the server and batch run with OPENBLAS_NUM_THREADS=1: neither calls
# BLAS, but OpenBLAS's pthread build busy-waits a helper thread at start.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
secs="${2:-10}"
kg="$build/src/kgpath"
gen="$build/tools/batch_gen"
command -v wrk >/dev/null || { echo "serve_bench: wrk is not installed (apt install wrk)"; exit 1; }
[ -x "$kg" ] && [ -x "$gen" ] || { echo "serve_bench: build $build first"; exit 1; }
export OPENBLAS_NUM_THREADS=1
work="$(mktemp -d)"
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT


# Batch learner lines -> wrk paths for /v1/plan and /v1/next.
to_paths() {   # learners.jsonl plan.paths next.paths
  python3 -c '
import json, sys, urllib.parse
q = lambda k: urllib.parse.quote(k, safe=":")
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as p, open(sys.argv[3], "w") as n:
    for line in f:
        d = json.loads(line)
        args = "&".join(["goal=" + q(g) for g in d["goals"]] + ["known=" + q(k) for k in d.get("known", [])])
        p.write("/v1/plan?%s\n" % args)
        n.write("/v1/next?%s&limit=10\n" % args)
' "$@"
}

load1() { awk '{print $1}' /proc/loadavg; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

echo "serve_bench: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; $(uptime)"
echo "serve_bench: wrk -t1, ${secs}s per run; low load = 1 connection, under load = 8 connections"
echo
echo "| graph | server threads | endpoint | connections | req/s | p50 ms | p99 ms | errors | req per server CPU-s | vs batch plans/CPU-s | load (1 min) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"

bench_graph() {   # label db learners.jsonl repeat
  local label="$1" db="$2" learners="$3" rep="$4"
  local tok
  tok="$("$kg" --db "$db" token create --scope plan --name bench 2>/dev/null)"
  to_paths "$learners" "$work/plan.paths" "$work/next.paths"
  # Batch: plans per CPU-second, one thread, the same requests rep times.
  for _ in $(seq "$rep"); do cat "$learners"; done > "$work/batch.jsonl"
  /usr/bin/time -f "%U %S %e" -o "$work/time" "$kg" --db "$db" batch --read-only --threads 1 --progress none --quiet \
    --learners "$work/batch.jsonl" --out "$work/plans.jsonl" >/dev/null
  local u s e nplans batch_rate
  read -r u s e < "$work/time"
  nplans=$(grep -c '"kgpath_plan"' "$work/plans.jsonl" || true)
  batch_rate=$(python3 -c "print('%.0f' % ($nplans / max(1e-9, $u + $s)))")
  rm -f "$work/plans.jsonl"
  echo "| $label | (kgpath batch, 1 thread) | plan | | | | | 0 of $nplans | $batch_rate plans/CPU-s | 1.00 | $(load1) |"
  for threads in 1 2; do
    rm -f "$work/port"
    "$kg" --db "$db" serve --listen 127.0.0.1:0 --port-file "$work/port" --threads "$threads" \
      --access-log none --quiet --max-connections 64 &
    pid=$!
    for _ in $(seq 400); do [ -s "$work/port" ] && break; sleep 0.05; done
    local port
    port=$(cat "$work/port")
    for ep in plan next; do
      # warm the view (the planner's per-snapshot work) before measuring
      curl -s -o /dev/null -H "Authorization: Bearer $tok" "http://127.0.0.1:$port$(head -1 "$work/$ep.paths")"
      for conns in 1 8; do
        local cpu0 cpu1 out rps p50 p99 errs total per_cpu ratio
        cpu0=$(cpu_ticks "$pid")
        out=$(timeout $((secs + 30)) wrk -t1 -c"$conns" -d"${secs}s" --timeout 2s -H "Authorization: Bearer $tok" \
          -s "$root/tools/bench/serve_paths.lua" "http://127.0.0.1:$port" -- "$work/$ep.paths" | grep '^RESULT')
        cpu1=$(cpu_ticks "$pid")
        read -r _ rps p50 p99 errs total _ <<< "$out"
        per_cpu=$(python3 -c "print('%.0f' % ($total / max(1e-9, ($cpu1 - $cpu0) / $(getconf CLK_TCK))))")
        ratio=""
        [ "$ep" = plan ] && ratio=$(python3 -c "print('%.2f' % ($per_cpu / $batch_rate))")
        echo "| $label | $threads | /v1/$ep | $conns | $rps | $p50 | $p99 | $errs of $total | $per_cpu | $ratio | $(load1) |"
      done
    done
    kill -TERM "$pid"; wait "$pid" || true; pid=
  done
}

# The samples: one goal per concept, nothing known.
"$kg" --db "$work/s.db" import "$root"/data/samples/*.xml >/dev/null
"$kg" --db "$work/s.db" export --format json | python3 -c '
import json, sys
for i, c in enumerate(json.load(sys.stdin)["concepts"]):
    print(json.dumps({"learner": "b%d" % i, "goals": [c["id"]]}))
' > "$work/s.jsonl"
bench_graph samples "$work/s.db" "$work/s.jsonl" 200

# 10,000 concepts in 200 courses (tools/bench/batch_gen synth, as
# batch_bench.sh): 2,000 learners with 2-3 goals and up to 5 known concepts.
"$gen" synth "$work/g.db" 10000 "$work/g.jsonl" 2000 "$work/g" 7 >/dev/null
bench_graph 10k "$work/g.db" "$work/g.jsonl" 5
echo
echo "serve_bench: done; $(uptime)"
