#!/usr/bin/env bash
# kgpath serve soak: MINUTES of mixed reads and writes against one server,
# sampling its resident memory, open file descriptors and threads, and
# counting errors. Loopback only.
#
# usage: tools/bench/serve_soak.sh [BUILD_DIR] [MINUTES]
#   BUILD_DIR default build; MINUTES default 10
# Load: wrk (1 thread, 4 connections, each pausing 5 ms between requests)
# cycling through plan, next, concepts, a concept, courses, check, the
# linalg map and the studio's course list; beside it, every 2 s an import
# that changes the graph (a CSV course alternating between two versions,
# so views are rebuilt and cached maps made again), and every second an
# xAPI statement with a new id plus an observe line.
# Prints a sample every 30 s and a summary: RSS, fds and threads at the
# start (after one request of each kind) and at the end, their maxima, the
# requests and errors, and the server's exit status at SIGTERM.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
minutes="${2:-10}"
kg="$build/src/kgpath"
command -v wrk >/dev/null || { echo "serve_soak: wrk is not installed (apt install wrk)"; exit 1; }
[ -x "$kg" ] || { echo "serve_soak: build $build first"; exit 1; }
export OPENBLAS_NUM_THREADS=1
work="$(mktemp -d)"
pid=; wpid=
trap 'for p in $wpid $pid; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
db="$work/soak.db"
"$kg" --db "$db" import "$root"/data/samples/*.xml >/dev/null
tok="$("$kg" --db "$db" token create --scope read,plan,learner,write --name soak 2>/dev/null)"
printf 'id,title,minutes,prerequisites\na,Alpha,10,\nb,Beta,20,a\nc,Gamma,30,b\n' > "$work/v1.csv"
printf 'id,title,minutes,prerequisites\na,Alpha,10,\nb,Beta,25,a\nc,Gamma,30,a;b\nd,Delta,15,c\n' > "$work/v2.csv"

cat > "$work/paths" <<'EOF'
/v1/plan?goal=ml-intro:neural-networks
/v1/next?goal=ml-intro:neural-networks&known=linalg:vectors&limit=10
/v1/concepts?course=linalg&limit=20
/v1/concepts/linalg:vectors
/v1/courses
/v1/check
/v1/map.svg?course=linalg
/v1/studio/courses
/v1/plan?goal=python-zh:functions&format=html
/v1/plan?goal=soak:c
EOF

"$kg" --db "$db" serve --listen 127.0.0.1:0 --port-file "$work/port" --threads 2 --access-log none --quiet &
pid=$!
for _ in $(seq 400); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
base="http://127.0.0.1:$port"
auth="Authorization: Bearer $tok"
imp() {   # version -> HTTP status
  curl -s -o /dev/null -w '%{http_code}' -H "$auth" -H 'Content-Type: text/csv' \
    --data-binary "@$work/v$1.csv" "$base/v1/import?filename=soak.csv&replace=1"
}
[ "$(imp 1)" = 200 ] || { echo "serve_soak: first import failed"; exit 1; }
while read -r p; do curl -s -o /dev/null -H "$auth" "$base$p"; done < "$work/paths"

sample() {   # -> "rss_kb fds threads anon_kb file_kb db_kb"
  local rss thr fds anon file
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status")
  file=$(awk '/^RssFile:/ {print $2}' "/proc/$pid/status")
  thr=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status")
  fds=$(ls "/proc/$pid/fd" | wc -l)
  echo "$rss $fds $thr $anon $file $(( $(stat -c %s "$db") / 1024 ))"
}
read -r rss0 fds0 thr0 anon0 file0 dbk0 <<< "$(sample)"
echo "serve_soak: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; ${minutes} min; $(uptime)"
echo "serve_soak: start: RSS ${rss0} kB (heap and stacks ${anon0} kB, mapped files ${file0} kB; database ${dbk0} kB), ${fds0} fds, ${thr0} threads"

secs=$((minutes * 60))
timeout $((secs + 60)) wrk -t1 -c4 -d"${secs}s" --timeout 5s -H "$auth" -s "$root/tools/bench/serve_paths.lua" "$base" -- "$work/paths" 5 \
  > "$work/wrk.out" &
wpid=$!
t0=$(date +%s)
writes=0; werr=0; v=1; rssmax=$rss0; fdsmax=$fds0; thrmax=$thr0; last=$t0
while [ $(( $(date +%s) - t0 )) -lt "$secs" ]; do
  now=$(date +%s)
  if [ $((now % 2)) -eq 0 ]; then
    v=$((3 - v))
    s=$(imp "$v"); writes=$((writes + 1)); [ "$s" = 200 ] || { werr=$((werr + 1)); echo "import: $s"; }
  fi
  id=$(cat /proc/sys/kernel/random/uuid)
  s=$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" -H 'Content-Type: application/json' \
    -H 'X-Experience-API-Version: 1.0.3' --data-binary \
    "{\"id\":\"$id\",\"actor\":{\"account\":{\"homePage\":\"https://lms.example.com\",\"name\":\"s$((now % 50))\"}},\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/completed\"},\"object\":{\"id\":\"urn:kgpath:linalg:vectors\"}}" \
    "$base/xapi/statements")
  writes=$((writes + 1)); [ "$s" = 200 ] || { werr=$((werr + 1)); echo "xapi: $s"; }
  s=$(printf '{"learner":"o%d","concept":"linalg:matrices","kind":"quiz","score":0.8,"at":"2026-11-%02dT10:%02d:%02dZ"}\n' \
        $((now % 50)) $((now % 28 + 1)) $((now / 60 % 60)) $((now % 60)) | curl -s -o /dev/null -w '%{http_code}' -H "$auth" \
        -H 'Content-Type: application/x-ndjson' --data-binary @- "$base/v1/observe")
  writes=$((writes + 1)); [ "$s" = 200 ] || { werr=$((werr + 1)); echo "observe: $s"; }
  read -r rss fds thr anon file dbk <<< "$(sample)"
  [ "$rss" -gt "$rssmax" ] && rssmax=$rss
  [ "$fds" -gt "$fdsmax" ] && fdsmax=$fds
  [ "$thr" -gt "$thrmax" ] && thrmax=$thr
  if [ $((now - last)) -ge 30 ]; then
    last=$now
    echo "serve_soak: $((now - t0)) s: RSS $rss kB (anon $anon, file $file; database $dbk kB), $fds fds, $thr threads, writes $writes ($werr failed), load $(cut -d' ' -f1 /proc/loadavg)"
  fi
  sleep 1
done
wait "$wpid" || true; wpid=
read -r rss1 fds1 thr1 anon1 file1 dbk1 <<< "$(sample)"
read -r _ _ p50 p99 errs nreq rstatus < <(grep '^RESULT' "$work/wrk.out")
rsock=$((errs - rstatus))
kill -TERM "$pid"; st=0; wait "$pid" || st=$?; pid=
echo "serve_soak: end: RSS ${rss1} kB (heap and stacks ${anon1} kB, mapped files ${file1} kB; database ${dbk1} kB), ${fds1} fds, ${thr1} threads (max ${rssmax} kB, ${fdsmax} fds, ${thrmax} threads)"
echo "serve_soak: reads $nreq (p50 ${p50} ms, p99 ${p99} ms), HTTP errors $rstatus, socket errors/timeouts $rsock;" \
     "writes $writes, failed $werr; exit status at SIGTERM $st; $(uptime)"
echo "| minutes | RSS start / end (max) | of it heap+stacks start / end | mapped files start / end | database file start / end | fds start / end | threads start / end | reads | read errors | writes | write errors | exit |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
echo "| $minutes | $((rss0 / 1024)) / $((rss1 / 1024)) ($((rssmax / 1024))) MiB | $((anon0 / 1024)) / $((anon1 / 1024)) MiB | $((file0 / 1024)) / $((file1 / 1024)) MiB | $((dbk0 / 1024)) / $((dbk1 / 1024)) MiB | $fds0 / $fds1 | $thr0 / $thr1 | $nreq | $((rstatus + rsock)) | $writes | $werr | $st |"
