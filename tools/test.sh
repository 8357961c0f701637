#!/usr/bin/env bash
# tools/test.sh: set up (packages, build), then run every test: the check
# suites in a normal build and again in an ASan+UBSan build (set
# KGPATH_SANITIZE=0 to skip the second). Ends with "N passed, N failed",
# counting Check's individual tests.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
set +e
kgpath_install_optional "${kgpath_test_packages[@]}"

total_pass=0; total_fail=0; status=0

run_suites() {   # dir label
  local dir="$1" label="$2"
  if ! ninja -C "$dir" >&2; then
    echo "$label: build failed"; total_fail=$((total_fail + 1)); status=1; return
  fi
  local log="$dir/meson-logs/kgpath-test.log"
  meson test -C "$dir" -v --num-processes 2 --print-errorlogs >"$log" 2>&1
  local rc=$?
  # Check's own lines: "NN%: Checks: N, Failures: F, Errors: E" and failures.
  grep -E '^[0-9]+%: Checks:|:[EF]:' "$log" | sed "s/^/$label: /"
  grep -E '^ *[0-9]+/[0-9]+ .*(OK|FAIL|SKIP|TIMEOUT|ERROR)' "$log" | sed "s/^/$label: /"
  local p f
  p=$(awk -F'[:,]' '/^[0-9]+%: Checks:/ {c+=$3; f+=$5; e+=$7} END {print c-f-e+0}' "$log")
  f=$(awk -F'[:,]' '/^[0-9]+%: Checks:/ {f+=$5; e+=$7} END {print f+e+0}' "$log")
  # A suite that crashed or timed out before Check summarised counts as one failure.
  local crashed
  crashed=$(grep -cE '^ *[0-9]+/[0-9]+ .*(TIMEOUT|ERROR)' "$log")
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && [ "$crashed" -eq 0 ] && crashed=1
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f + crashed))
  [ "$rc" -ne 0 ] && status=1
}

kgpath_configure "$KGPATH_BUILD"
run_suites "$KGPATH_BUILD" "tests"

# Slurm: the nightly array job on a real single-node cluster
# (tools/slurm/test-cluster.sh; it skips with a message when the Slurm
# packages cannot be installed). KGPATH_SLURM=0 leaves it out.
if [ "${KGPATH_SLURM:-1}" != "0" ]; then
  slurm_log="$KGPATH_BUILD/meson-logs/kgpath-slurm.log"
  "$KGPATH_ROOT/tools/slurm/test-cluster.sh" "$KGPATH_BUILD" >"$slurm_log" 2>&1
  slurm_rc=$?
  grep '^slurm:' "$slurm_log"
  sp=$(sed -n 's/^slurm: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$slurm_log")
  sf=$(sed -n 's/^slurm: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$slurm_log")
  if [ -z "$sp" ] && ! grep -q '^slurm: SKIP' "$slurm_log"; then sf=1; fi
  total_pass=$((total_pass + ${sp:-0})); total_fail=$((total_fail + ${sf:-0}))
  [ "$slurm_rc" -ne 0 ] && status=1
fi

if [ "${KGPATH_SANITIZE:-1}" != "0" ]; then
  kgpath_configure "$KGPATH_BUILD-asan" -Db_sanitize=address,undefined -Db_lundef=false
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suites "$KGPATH_BUILD-asan" "asan"
fi

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$status" -eq 0 ]
