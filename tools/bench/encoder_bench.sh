#!/usr/bin/env bash
# Encoder benchmark: kgpath's C BERT vs a plain PyTorch BERT on the same
# random all-MiniLM-L6-v2-shaped weights, 16/64/128 tokens, 1 and 2 threads,
# batches of B sentences. Prints a Markdown table. Not a test.
#   tools/bench/encoder_bench.sh [BUILD_DIR] [SECONDS_PER_RUN] [BATCH] [REPEATS]
# Each cell alternates kgpath and PyTorch REPEATS times and keeps each
# side's best run, which filters out interference on a shared machine.
# Needs Debian's python3-torch (/usr/bin/python3) for the PyTorch column.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
secs="${2:-2}"
B="${3:-32}"
R="${4:-3}"
bench="$build/tools/encoder_bench"
py="$root/tools/bench/encoder_bench.py"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bench" make "$work"
shared="${KGPATH_SHARED:-$root/../shared}"
if [ -d "$shared/fixtures/encoder" ]; then
  echo "PyTorch reference check on tiny-bert: $(OMP_NUM_THREADS=1 /usr/bin/python3 "$py" check "$shared/fixtures/encoder")"
fi
# Which OpenBLAS kernels each side runs: kgpath switches a generic
# (Prescott) choice to the CPU's best unless OPENBLAS_CORETYPE is set;
# PyTorch keeps OpenBLAS's choice.
torch_core="$(OPENBLAS_VERBOSE=2 /usr/bin/python3 -c 'import torch' 2>&1 | sed -n 's/^Core: //p' | head -1)"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}: kgpath runs $("$bench" core) kernels, PyTorch ${torch_core:-?}; batch $B, best of $R runs of ${secs}s"
echo "sgemm peak: large squares with kgpath's kernels. PyTorch GFLOP/s counts the same FLOPs per sentence as kgpath."
echo
echo "| tokens | threads | kgpath sent/s | PyTorch sent/s | kgpath/PyTorch | kgpath GFLOP/s | PyTorch GFLOP/s | sgemm peak GFLOP/s | kgpath % of peak | PyTorch % of peak | kgpath/PyTorch per CPU-s |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }
for th in 1 2; do
  export OPENBLAS_NUM_THREADS=$th OMP_NUM_THREADS=$th MKL_NUM_THREADS=$th
  peak=0
  for r in $(seq "$R"); do peak=$(max "$peak" "$("$bench" peak "$secs")"); done
  for T in 16 64 128; do
    c_sps=0; c_gf=0; c_cpu=0; p_sps=0; p_cpu=0
    for r in $(seq "$R"); do
      read -r s g u < <("$bench" run "$work" "$T" "$B" "$secs")
      if awk -v a="$s" -v b="$c_sps" 'BEGIN { exit !(a > b) }'; then c_sps=$s; c_gf=$g; fi
      c_cpu=$(max "$c_cpu" "$u")
      read -r s u < <(/usr/bin/python3 "$py" run "$work" "$T" "$B" "$secs")
      p_sps=$(max "$p_sps" "$s"); p_cpu=$(max "$p_cpu" "$u")
    done
    awk -v T="$T" -v th="$th" -v c="$c_sps" -v p="$p_sps" -v g="$c_gf" -v pk="$peak" -v cc="$c_cpu" -v pc="$p_cpu" \
      'BEGIN { pg = g / c * p;
               printf "| %d | %d | %.1f | %.1f | %.2f | %.1f | %.1f | %.1f | %.0f%% | %.0f%% | %.2f |\n", T, th, c, p, c/p, g, pg, pk, 100*g/pk, 100*pg/pk, cc/pc }'
  done
done
