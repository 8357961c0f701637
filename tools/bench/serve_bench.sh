#!/usr/bin/env bash
# kgpath serve under load: wrk against /v1/plan and /v1/next, with 1 and 2
# server threads, beside `kgpath batch` planning the same requests in the
# same run (plans per CPU-second). Loopback only; every run is bounded.
#
# usage: tools/bench/serve_bench.sh [BUILD_DIR] [SECONDS]
#   BUILD_DIR  default build; SECONDS per wrk run, default 10
# Prints one line per run: requests/s, p50/p99 latency, errors, and requests
# per server CPU-second (the server's utime + stime over the run) with its
# ratio to batch plans per CPU-second. The goal (issue 15): at least 0.5, p99 under
# 10 ms on the samples, zero errors.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
secs="${2:-10}"
kg="$build/src/kgpath"
command -v wrk >/dev/null || { echo "serve_bench: wrk is not installed (apt install wrk)"; exit 1; }
work="$(mktemp -d)"
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
pid=
db="$work/kg.db"
"$kg" --db "$db" import "$root"/data/samples/*.xml >/dev/null
tok="$("$kg" --db "$db" token create --scope plan --name bench 2>/dev/null)"

# The requests: one goal per concept of the samples (known: nothing), as
# wrk paths and as batch learner lines.
"$kg" --db "$db" export --format json | python3 -c '
import json, sys, urllib.parse
d = json.load(sys.stdin)
keys = [c["id"] for c in d["concepts"]]
with open(sys.argv[1], "w") as p, open(sys.argv[2], "w") as n, open(sys.argv[3], "w") as b:
    for i, k in enumerate(keys):
        q = urllib.parse.quote(k, safe=":")
        p.write("/v1/plan?goal=%s\n" % q)
        n.write("/v1/next?goal=%s&limit=10\n" % q)
        b.write(json.dumps({"learner": "b%d" % i, "goals": [k]}) + "\n")
' "$work/plan.paths" "$work/next.paths" "$work/learners.jsonl"
nreq=$(wc -l < "$work/learners.jsonl")

cat > "$work/paths.lua" <<'LUA'
local paths = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
LUA

echo "serve_bench: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; load: $(uptime | sed 's/.*load average: //')"
echo "serve_bench: $nreq distinct requests (one goal per sample concept), wrk ${secs}s, 4 connections"

# Batch: plans per CPU-second, one thread, all requests 200 times.
for _ in $(seq 200); do cat "$work/learners.jsonl"; done > "$work/learners20.jsonl"
/usr/bin/time -f "%U %S %e" -o "$work/time" "$kg" --db "$db" batch --read-only --threads 1 --progress none \
  --learners "$work/learners20.jsonl" --out "$work/plans.jsonl" >/dev/null
read -r u s e < "$work/time"
nplans=$(grep -c '"kgpath_plan"' "$work/plans.jsonl" || true)
batch_rate=$(python3 -c "print('%.1f' % ($nplans / max(1e-9, $u + $s)))")
echo "batch  1 thread   plans=$nplans cpu=$(python3 -c "print('%.2f' % ($u + $s))")s  -> $batch_rate plans/CPU-s"

for threads in 1 2; do
  rm -f "$work/port"
  "$kg" --db "$db" serve --listen 127.0.0.1:0 --port-file "$work/port" --threads "$threads" \
    --access-log none --quiet --max-connections 64 &
  pid=$!
  for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
  port=$(cat "$work/port")
  for ep in plan next; do
    # The server's own CPU time over the run (utime + stime, clock ticks), so
    # that its rate is per CPU-second like batch's, whatever else runs.
    cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    out=$(timeout $((secs + 20)) wrk -t1 -c4 -d"${secs}s" --timeout 2s -H "Authorization: Bearer $tok" \
      -s "$work/paths.lua" "http://127.0.0.1:$port" -- "$work/$ep.paths" | grep '^RESULT')
    cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    read -r _ rps p50 p99 errs total <<< "$out"
    per_cpu=$(python3 -c "print('%.1f' % ($total / max(1e-9, ($cpu1 - $cpu0) / $(getconf CLK_TCK))))")
    line="serve  $threads thread(s) /v1/$ep: $rps req/s, p50 ${p50} ms, p99 ${p99} ms, errors $errs of $total, $per_cpu req/server-CPU-s"
    if [ "$ep" = plan ]; then
      line="$line; ratio to batch per CPU-s = $(python3 -c "print('%.2f' % ($per_cpu / $batch_rate))")"
    fi
    echo "$line"
  done
  kill -TERM "$pid"; wait "$pid" || true; pid=
done
