#!/bin/bash
# tools/sim/cli_sim.py, tiny: learners simulated side by side (--jobs 2)
# give the same table as one after another (--jobs 1) for the same --block
# and seed, and the run reports every learner. Two blocks (2 learners, then
# 1 that starts from their database) on a budget of 0.3: 31 kgpath calls,
# fit among them, every arm teaching (0.6 made 52 calls: 9.3-10.0 s for the
# script against 7.2-7.4 s, load 4.5).
# Skips without python3.
# Prints a line in Check's format for tools/test.sh.
set -u
root=${KGPATH_SOURCE_ROOT:?} k=${KGPATH_BIN:?}
if ! command -v python3 >/dev/null; then
  echo "cli_sim_jobs: skipped (no python3)"
  exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
sim() {
  python3 "$root/tools/sim/cli_sim.py" --kgpath "$k" --courses "$root/data/samples/linalg.xml" \
    --learners 3 --block 2 --seed 3 --budget 0.3 --json "$@"
}
sim --jobs 1 >"$tmp/j1.json" 2>"$tmp/err1" || { cat "$tmp/err1"; fail=1; }
sim --jobs 2 >"$tmp/j2.json" 2>"$tmp/err2" || { cat "$tmp/err2"; fail=1; }
if ! cmp -s "$tmp/j1.json" "$tmp/j2.json"; then
  echo "cli_sim_jobs: --jobs 2 differs from --jobs 1"; diff "$tmp/j1.json" "$tmp/j2.json" | head -20; fail=1
fi
python3 - "$tmp/j1.json" <<'PY' || fail=1
import json, sys
o = json.load(open(sys.argv[1]))[0]
bad = []
if o["learners"] != 3: bad.append("learners %d" % o["learners"])
if not o["calls"] > 8: bad.append("calls %d" % o["calls"])
if not o["kgpath+learner"]["lessons"][0] > 0: bad.append("no lessons with the learner")
print("cli_sim_jobs: " + ("; ".join(bad) if bad else "ok"))
sys.exit(1 if bad else 0)
PY
echo "$((100 - 100 * fail))%: Checks: 1, Failures: $fail, Errors: 0"
exit $fail
