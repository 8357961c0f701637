#!/usr/bin/env bash
# Encoder benchmark: kgpath's C BERT vs ONNX Runtime (npm onnxruntime-node,
# the same weights exported to ONNX) and a plain PyTorch BERT, on random
# all-MiniLM-L6-v2-shaped weights. Prints the CPU, the load and two
# Markdown tables. Not a test.
#   tools/bench/encoder_bench.sh [BUILD_DIR] [SECONDS] [BATCH] [REPEATS] [EVERY]
# 1. Fixed lengths: batches of BATCH sentences of 16, 64 and 128 tokens,
#    SECONDS per run, 1 and 2 threads ($KGPATH_BENCH_THREADS).
# 2. Realistic workload: every concept text of data/samples, Metacademy and
#    LectureBank 2.0 (../shared/datasets; every EVERY-th text when EVERY > 1)
#    with each engine's usual batching: kgpath through kgp_model_encode (the
#    `kgpath embed` path: texts packed end to end, no padding), ONNX Runtime
#    in batches of BATCH padded to the batch's longest, sorted by length (as
#    sentence-transformers' encode) and in input order (PyTorch too with
#    KGPATH_BENCH_WORKLOAD_PYTORCH=1: its plain BERT is slow here); 1 thread ($KGPATH_BENCH_WORKLOAD_THREADS: one pass over all
#    texts costs each engine about 35 CPU-seconds). The first repeat checks
#    that kgpath's and ONNX Runtime's embeddings agree within 1e-4.
# Engines run interleaved (kgpath, ONNX Runtime, PyTorch, again) REPEATS
# times; cells are medians. "per CPU-s" columns divide by the process's CPU
# time, which a busy machine disturbs less than wall time.
# Needs Debian's python3-torch (/usr/bin/python3: ONNX export, PyTorch
# column), nodejs + npm (onnxruntime-node is installed once into
# BUILD_DIR/ort-node with ONNXRUNTIME_NODE_INSTALL=skip: its post-install
# would fetch a GPU add-on; the CPU runtime ships in the package).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
secs="${2:-2}"
B="${3:-32}"
R="${4:-3}"
every="${5:-1}"
threads="${KGPATH_BENCH_THREADS:-1 2}"
wthreads="${KGPATH_BENCH_WORKLOAD_THREADS:-1}"
ort_version=1.31.1
bench="$build/tools/encoder_bench"
py="$root/tools/bench/encoder_bench.py"
ort="$root/tools/bench/encoder_ort.js"
shared="${KGPATH_SHARED:-$root/../shared}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

ortdir="$build/ort-node"
if [ ! -d "$ortdir/node_modules/onnxruntime-node" ]; then
  mkdir -p "$ortdir"
  ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix "$ortdir" --no-audit --no-fund --silent \
    "onnxruntime-node@$ort_version" >&2
fi
export NODE_PATH="$ortdir/node_modules"

"$bench" make "$work"
workload=0
if [ -d "$shared/fixtures/encoder" ] && [ -d "$shared/datasets/metacademy" ]; then
  workload=1
  # Real WordPiece pieces for the workload's tokenizer (the tiny-bert
  # fixture's 3,000, then fillers up to 30,522) and all-MiniLM-L6-v2's
  # 256-token limit.
  { head -n 3000 "$shared/fixtures/encoder/tiny-bert/vocab.txt"; seq 3000 30521 | sed 's/^/tok/'; } >"$work/vocab.txt"
  echo '{"max_seq_length": 256}' >"$work/sentence_bert_config.json"
  echo "PyTorch reference check on tiny-bert: $(OMP_NUM_THREADS=1 /usr/bin/python3 "$py" check "$shared/fixtures/encoder")"
fi
/usr/bin/python3 "$py" export "$work" 2>/dev/null

torch_core="$(OPENBLAS_VERBOSE=2 /usr/bin/python3 -c 'import torch' 2>&1 | sed -n 's/^Core: //p' | head -1)"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}: kgpath runs OpenBLAS $("$bench" core) kernels, PyTorch ${torch_core:-?}; ONNX Runtime $ort_version (its own MLAS kernels)"
echo "Batch $B, median of $R interleaved runs of ${secs}s. sgemm peak: OpenBLAS on 1024² squares, per CPU-second."
echo

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

echo "| tokens | threads | kgpath sent/s | ONNX Runtime sent/s | PyTorch sent/s | kgpath/ORT | kgpath/PyTorch | kgpath/ORT per CPU-s | kgpath/PyTorch per CPU-s | sgemm peak GFLOP/s | kgpath % of peak | ORT % of peak | PyTorch % of peak |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for th in $threads; do
  export OPENBLAS_NUM_THREADS=$th OMP_NUM_THREADS=$th MKL_NUM_THREADS=$th
  pk=()
  for r in $(seq "$R"); do pk+=("$("$bench" peak "$secs" | cut -d' ' -f2)"); done
  peak=$(median "${pk[@]}")
  for T in 16 64 128; do
    kw=(); kc=(); ow=(); oc=(); pw=(); pc=()
    for r in $(seq "$R"); do
      read -r w _ c < <("$bench" run "$work" "$T" "$B" "$secs"); kw+=("$w"); kc+=("$c")
      read -r w c < <(node "$ort" run "$work/model.onnx" "$T" "$B" "$secs" "$th"); ow+=("$w"); oc+=("$c")
      read -r w c < <(/usr/bin/python3 "$py" run "$work" "$T" "$B" "$secs"); pw+=("$w"); pc+=("$c")
    done
    awk -v T="$T" -v th="$th" -v k="$(median "${kw[@]}")" -v o="$(median "${ow[@]}")" -v p="$(median "${pw[@]}")" \
        -v kc="$(median "${kc[@]}")" -v oc="$(median "${oc[@]}")" -v pc="$(median "${pc[@]}")" -v pk="$peak" \
      'BEGIN { C = 384; I = 1536; L = 6; f = L * (2 * T * (4 * C * C + 2 * C * I) + 4 * T * T * C) / 1e9;
               printf "| %d | %d | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f%% | %.0f%% | %.0f%% |\n",
                 T, th, k, o, p, k / o, k / p, kc / oc, kc / pc, pk, 100 * kc * f / pk, 100 * oc * f / pk, 100 * pc * f / pk }'
  done
done

if [ "$workload" = 1 ]; then
  /usr/bin/python3 "$root/tools/bench/encoder_texts.py" "$root/data/samples" "$shared" 2>/dev/null |
    awk -v k="$every" '(NR - 1) % k == 0' >"$work/texts.txt"
  "$bench" tokenize "$work" "$work/texts.txt" "$work/ids.txt"
  echo
  echo "Realistic workload: $(wc -l <"$work/texts.txt") concept texts (samples, Metacademy, LectureBank 2.0$([ "$every" -gt 1 ] && echo ", every ${every}th")), $(awk '{n += NF} END {print n}' "$work/ids.txt") tokens, at most 256 each."
  echo
  echo "| engine | threads | batching | tokens computed | of which padding | texts/s | texts/CPU-s | kgpath/engine | kgpath/engine per CPU-s |"
  echo "|---|---:|---|---:|---:|---:|---:|---:|---:|"
  for th in $wthreads; do
    export OPENBLAS_NUM_THREADS=$th OMP_NUM_THREADS=$th MKL_NUM_THREADS=$th
    kw=(); kc=(); sw=(); sc=(); iw=(); ic=(); pw=(); pc=()
    for r in $(seq "$R"); do
      out1=(); out2=()
      [ "$r" = 1 ] && [ "$th" = "${wthreads%% *}" ] && out1=("$work/kg.f32") && out2=("$work/ort.f32")
      read -r w tok c < <("$bench" encode "$work" "$work/texts.txt" 0 "${out1[@]}"); kw+=("$w"); kc+=("$c")
      read -r w _ spad c < <(node "$ort" workload "$work/model.onnx" "$work/ids.txt" "$B" 0 "$th" sorted "${out2[@]}"); sw+=("$w"); sc+=("$c")
      read -r w _ ipad c < <(node "$ort" workload "$work/model.onnx" "$work/ids.txt" "$B" 0 "$th" input); iw+=("$w"); ic+=("$c")
      if [ "${KGPATH_BENCH_WORKLOAD_PYTORCH:-0}" = 1 ]; then
        read -r w _ ppad c < <(/usr/bin/python3 "$py" workload "$work" "$work/ids.txt" "$B" 0 sorted); pw+=("$w"); pc+=("$c")
      fi
      if [ ${#out1[@]} -gt 0 ]; then
        read -r diff rows < <(/usr/bin/python3 "$py" compare "$work/kg.f32" "$work/ort.f32" 384)
        agree=$(awk -v d="$diff" 'BEGIN { print (d <= 1e-4 ? "agree" : "DISAGREE") }')
        echo "kgpath vs ONNX Runtime embeddings of the $rows texts: max |diff| $diff ($agree within 1e-4)" >&2
      fi
    done
    k=$(median "${kw[@]}"); kcm=$(median "${kc[@]}")
    row() {   # engine batching computed padding wall cpu
      awk -v e="$1" -v th="$th" -v b="$2" -v n="$3" -v pad="$4" -v w="$5" -v c="$6" -v k="$k" -v kc="$kcm" \
        'BEGIN { printf "| %s | %d | %s | %d | %d | %.2f | %.2f | %s | %s |\n", e, th, b, n, pad, w, c,
                   (e == "kgpath" ? "" : sprintf("%.2f", k / w)), (e == "kgpath" ? "" : sprintf("%.2f", kc / c)) }'
    }
    row kgpath "packed, no padding" "$tok" 0 "$k" "$kcm"
    row "ONNX Runtime" "$B, sorted by length" "$spad" $((spad - tok)) "$(median "${sw[@]}")" "$(median "${sc[@]}")"
    row "ONNX Runtime" "$B, input order" "$ipad" $((ipad - tok)) "$(median "${iw[@]}")" "$(median "${ic[@]}")"
    [ ${#pw[@]} -gt 0 ] && row PyTorch "$B, sorted by length" "$ppad" $((ppad - tok)) "$(median "${pw[@]}")" "$(median "${pc[@]}")"
  done
fi
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
