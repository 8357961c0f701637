#!/usr/bin/env bash
# tools/test.sh: set up (packages, build), then run every test: the check
# suites in a normal build and again in an ASan+UBSan build (set
# KGPATH_SANITIZE=0 to skip the second), and the Slurm cluster test
# (KGPATH_SLURM=0 skips it); KGPATH_TSAN=1 adds the threaded suites in a
# ThreadSanitizer build (off by default). Suites run two at a time, the slowest first
# (tests/meson.build). Ends with a table of each stage's wall and CPU
# seconds, the slowest suites, and "N passed, N failed", counting Check's
# individual tests.
set -uo pipefail

# Per-stage timing: wall seconds and the CPU seconds (user+sys) of the
# stage's finished child processes, printed as a table at the end. `times`
# is a builtin (no fork), so its children's totals include everything waited
# for so far; it writes to a file because $(...) would fork a subshell whose
# children totals start at zero.
kgpath_stage_file="$(mktemp "${TMPDIR:-/tmp}/kgpath-test-times.XXXXXX")"
kgpath_stage_rows=()
kgpath_cpu_now() {   # sets kgpath_cpu: children's user+sys seconds so far
  times >"$kgpath_stage_file"
  kgpath_cpu=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }; printf "%.1f", t }' "$kgpath_stage_file")
}
kgpath_stage_name=""; kgpath_stage_wall0=$EPOCHREALTIME; kgpath_stage_cpu0=0
kgpath_run_wall0=$EPOCHREALTIME
kgpath_stage() {     # NAME: closes the running stage, opens NAME ("" closes only)
  local now=$EPOCHREALTIME cpu; kgpath_cpu_now; cpu=$kgpath_cpu
  if [ -n "$kgpath_stage_name" ]; then
    kgpath_stage_rows+=("$(awk -v n="$kgpath_stage_name" -v w0="$kgpath_stage_wall0" -v w1="$now" \
      -v c0="$kgpath_stage_cpu0" -v c1="$cpu" 'BEGIN { printf "%-14s %7.1f %7.1f", n, w1 - w0, c1 - c0 }')")
  fi
  kgpath_stage_name="$1"; kgpath_stage_wall0=$now; kgpath_stage_cpu0=$cpu
}
kgpath_slowest=()
kgpath_stage_summary() {
  kgpath_stage ""; kgpath_cpu_now
  [ ${#kgpath_slowest[@]} -gt 0 ] && echo "slowest suites (wall s):" && printf '  %s\n' "${kgpath_slowest[@]}"
  echo "stage            wall s   cpu s"
  printf '%s\n' "${kgpath_stage_rows[@]}"
  awk -v w0="$kgpath_run_wall0" -v w1="$EPOCHREALTIME" -v c="$kgpath_cpu" \
    'BEGIN { printf "%-14s %7.1f %7.1f\n", "total", w1 - w0, c }'
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, $(nproc) cores)"
  rm -f "$kgpath_stage_file"
}

kgpath_stage setup
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
set +e
kgpath_install_optional "${kgpath_test_packages[@]}"

total_pass=0; total_fail=0; status=0

run_suites() {   # dir label [suite ...]: every suite unless named
  local dir="$1" label="$2"
  shift 2
  kgpath_stage "$label-build"
  if ! ninja -C "$dir" >&2; then
    echo "$label: build failed"; total_fail=$((total_fail + 1)); status=1; return
  fi
  local log="$dir/meson-logs/kgpath-test.log"
  kgpath_stage "$label-tests"
  meson test -C "$dir" -v --num-processes 2 --print-errorlogs "$@" >"$log" 2>&1
  local rc=$?
  kgpath_slowest+=("$label: $(python3 -c 'import json, sys
r = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda t: -t["duration"])
print(", ".join("%s %.0f" % (t["name"], t["duration"]) for t in r[:6]))' "$dir/meson-logs/testlog.json" 2>/dev/null)")
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

kgpath_stage configure
kgpath_configure "$KGPATH_BUILD"
run_suites "$KGPATH_BUILD" "tests"

# Slurm: the nightly array job on a real single-node cluster
# (tools/slurm/test-cluster.sh; it skips with a message when the Slurm
# packages cannot be installed). KGPATH_SLURM=0 leaves it out.
if [ "${KGPATH_SLURM:-1}" != "0" ]; then
  kgpath_stage slurm
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
  kgpath_stage asan-configure
  kgpath_configure "$KGPATH_BUILD-asan" -Db_sanitize=address,undefined -Db_lundef=false
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suites "$KGPATH_BUILD-asan" "asan"
fi

# ThreadSanitizer on the suites that run threads over one database (server,
# batch, learner store, error messages, encoder): opt-in, KGPATH_TSAN=1. One
# BLAS thread (OpenBLAS's pool synchronises where TSan cannot see); skipped
# with a message where the TSan runtime cannot start on this kernel.
if [ "${KGPATH_TSAN:-0}" = "1" ]; then
  kgpath_stage tsan-configure
  tsan_probe="$(mktemp -d)"
  if printf 'int main(void){return 0;}\n' >"$tsan_probe/p.c" &&
     cc -fsanitize=thread -o "$tsan_probe/p" "$tsan_probe/p.c" 2>/dev/null && "$tsan_probe/p"; then
    kgpath_configure "$KGPATH_BUILD-tsan" -Db_sanitize=thread -Db_lundef=false
    OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
      run_suites "$KGPATH_BUILD-tsan" "tsan" test_errmsg test_store test_batch test_events test_serve \
        test_cli test_bert test_train
  else
    echo "tsan: SKIP (no ThreadSanitizer runtime that starts here)"
  fi
  rm -rf "$tsan_probe"
fi

kgpath_stage_summary
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$status" -eq 0 ]
