#!/usr/bin/env bash
# Runs every importer fuzz target for SECONDS (default 600), JOBS at a time
# (default 2), each on a scratch corpus seeded from tools/fuzz/seeds/<format>
# (kgxml: tests/kgxml). Prints one line per target and exits non-zero when
# any target found a crash, leak or sanitizer report (its log is kept).
#   tools/fuzz/build.sh && tools/fuzz/run-all.sh 600 2
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SECS="${1:-600}"; JOBS="${2:-2}"
BIN="${FUZZ_BIN:-$ROOT/build-fuzz}"
WORK="$(mktemp -d /tmp/kgpath-fuzz-XXXXXX)"
targets=(scorm imscc olx moodle csv aicc archive html kgxml)
run_one() {
  local t="$1" seeds="$ROOT/tools/fuzz/seeds/$1"
  [ "$t" = kgxml ] && seeds="$ROOT/tests/kgxml"
  mkdir -p "$WORK/$t"
  (cd "$WORK/$t" && "$BIN/fuzz_$t" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2048 \
      -print_final_stats=1 "$WORK/$t" "$seeds" >"$WORK/$t.log" 2>&1)
  local rc=$?
  local execs; execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$WORK/$t.log" | grep -o '[0-9]*$')
  if [ $rc -eq 0 ]; then echo "fuzz_$t: ok, ${SECS}s, ${execs:-?} runs, corpus $(ls "$WORK/$t" | wc -l)"
  else echo "fuzz_$t: FAILED (rc $rc), log $WORK/$t.log"; fi
  return $rc
}
export -f run_one; export ROOT SECS BIN WORK
printf '%s\n' "${targets[@]}" | xargs -P "$JOBS" -I{} bash -c 'run_one {}' > "$WORK/summary.txt"
rc=$?
sort "$WORK/summary.txt"
exit $rc
