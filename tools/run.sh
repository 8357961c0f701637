#!/usr/bin/env bash
# tools/run.sh [ARGS…]: set up (packages, build), then run `kgpath ARGS…`.
# With no arguments: a demo that imports the bundled sample courses into the
# default database and prints its summary.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
kgpath_configure "$KGPATH_BUILD"
ninja -C "$KGPATH_BUILD" >&2
KG="$KGPATH_BUILD/src/kgpath"
# OpenBLAS kernels: kgpath itself switches Debian's OpenBLAS 0.3.21 from its
# generic fallback to the kernels this CPU allows (see kgp_blas_select);
# an OPENBLAS_CORETYPE set by the user is kept.
if [ $# -eq 0 ]; then
  echo "kgpath demo: importing the bundled samples into the default database" >&2
  "$KG" import "$KGPATH_ROOT"/data/samples/*.xml
  "$KG" stats
  exit 0
fi
exec "$KG" "$@"
