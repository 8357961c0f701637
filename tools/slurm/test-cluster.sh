#!/usr/bin/env bash
# tools/slurm/test-cluster.sh [BUILD_DIR]: end-to-end test of the nightly
# Slurm array job on a real single-node Slurm cluster started on localhost.
#
# Starts munged, slurmctld and slurmd (tools/slurm/cluster.sh; every file in
# a temporary folder; always stopped by PID on exit), builds a sample
# database and learners (tools/bench/batch_gen), runs kgpath-nightly.sh with
# 4 shards and waits for the merge job, and checks that the merged output is
# byte-for-byte the output of a single-process `kgpath batch` over the same
# input, that the shards are disjoint and that the report adds up.
# Skips (exit 0, "SKIP" line) when the Slurm packages cannot be installed.
# Prints "slurm: N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-${KGPATH_BUILD:-$root/build}}"
KG="$build/src/kgpath"
GEN="$build/tools/batch_gen"

if [ "$(id -u)" -ne 0 ]; then
  echo "slurm: SKIP: the single-host cluster runs its daemons as root (Slurm test not run)"
  exit 0
fi
pkgs=(slurmctld slurmd slurm-client munge)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq >/dev/null 2>&1;
          apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; }; then
    echo "slurm: SKIP: cannot install ${missing[*]} (Slurm test not run)"
    exit 0
  fi
fi
[ -x "$KG" ] && [ -x "$GEN" ] || { echo "slurm: build $build first (kgpath, tools/batch_gen)"; exit 1; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/kgpath-slurm.XXXXXX")"
source "$root/tools/slurm/cluster.sh"
cleanup() { kg_cluster_stop; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

pass=0; fail=0
check() {   # name, then a command
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); echo "slurm: ok: $name"
  else fail=$((fail + 1)); echo "slurm: FAIL: $name"; fi
}

"$GEN" synth "$tmp/kg.db" 1500 "$tmp/learners.jsonl" 3000 "$tmp/g" 7 >/dev/null \
  || { echo "slurm: FAIL: batch_gen"; exit 1; }
# A few bad lines: their error records must come through the shards too.
printf '%s\n' 'not json' '{"learner":"bad1","goals":["c0:nope"]}' >>"$tmp/learners.jsonl"

"$KG" --db "$tmp/kg.db" batch --read-only --threads 2 --progress none \
  --learners "$tmp/learners.jsonl" --out "$tmp/single.jsonl" --quiet \
  || { echo "slurm: FAIL: single-process batch"; exit 1; }

if ! kg_cluster_start "$tmp/cluster" 4; then
  echo "slurm: FAIL: cluster did not start"; exit 1
fi
echo "slurm: cluster up (pids ${KG_CLUSTER_PIDS[*]})"

"$root/tools/slurm/kgpath-nightly.sh" --kgpath "$KG" --db "$tmp/kg.db" \
  --learners "$tmp/learners.jsonl" --work "$tmp/nightly" --shards 4 --wait
rc=$?
check "array + merge jobs succeed" [ "$rc" -eq 0 ]
check "merged output == single-process output" cmp -s "$tmp/nightly/plans.jsonl" "$tmp/single.jsonl"
shard_lines=$(cat "$tmp/nightly/shards/"shard-*.jsonl 2>/dev/null | wc -l)
check "shards cover every learner once" [ "$shard_lines" -eq "$(wc -l <"$tmp/single.jsonl")" ]
check "every shard planned something" \
  bash -c 'for f in "$0"/shard-*.jsonl; do [ -s "$f" ] || exit 1; done' "$tmp/nightly/shards"
check "report counts the plans" \
  grep -q "\"plans\": $(grep -vc '"error":' "$tmp/single.jsonl")" "$tmp/nightly/report.json"
check "each task took its shard from SLURM_ARRAY_TASK_*" \
  bash -c 'for i in 0 1 2 3; do grep -q "\"shard\": \"$i/4\"" "$0/shard-$i.report.json" || exit 1; done' "$tmp/nightly/shards"

if [ "$fail" -ne 0 ]; then
  for f in "$tmp/nightly/logs/"*.log; do echo "--- $f"; tail -5 "$f"; done
  tail -5 "$tmp/cluster/log/slurmctld.log"
fi
echo "slurm: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
