#!/usr/bin/env bash
# tools/run.sh [ARGS…]: set up (packages, build), then run `kgpath ARGS…`.
# With no arguments: a demo that imports the bundled sample courses into the
# default database and prints its summary.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
kgpath_configure "$KGPATH_BUILD"
ninja -C "$KGPATH_BUILD" >&2
KG="$KGPATH_BUILD/src/kgpath"
# Debian's OpenBLAS 0.3.21 does not recognise some recent CPUs and falls back
# to slow generic kernels (the encoder commands warn about it). Where the user
# has not chosen, use the AVX2 kernels when the CPU has AVX2.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
  export OPENBLAS_CORETYPE=Haswell
fi
if [ $# -eq 0 ]; then
  echo "kgpath demo: importing the bundled samples into the default database" >&2
  "$KG" import "$KGPATH_ROOT"/data/samples/*.xml
  "$KG" stats
  exit 0
fi
exec "$KG" "$@"
