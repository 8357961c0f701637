#!/usr/bin/env bash
# Import throughput on a synthetic OLX course (>= 200 MB of XML), side by
# side with `xmllint --stream --noout` over the same .xml files (the
# parse-only floor). Prints a table and the ratio.
#   tools/bench/import_olx.sh [BUILD_DIR] [MEGABYTES] [DATA_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
MB="${2:-200}"
DATA="${3:-${TMPDIR:-/tmp}/kgpath-olx-bench-$MB}"
ninja -C "$BUILD" tools/import_bench >/dev/null
if [ ! -f "$DATA/course.xml" ]; then
  echo "generating $MB MB of OLX in $DATA" >&2
  python3 "$ROOT/tools/bench/gen_olx.py" "$DATA" "$MB" >&2
fi
# Warm the page cache so both tools read from memory.
find "$DATA" -type f -name '*.xml' -print0 | xargs -0 cat > /dev/null
line=$("$BUILD/tools/import_bench" "$DATA" 3)
echo "$line"
secs=$(sed -E 's/.*seconds=([0-9.]+).*/\1/' <<<"$line")
xmlmb=$(sed -E 's/.*xml_mb=([0-9.]+).*/\1/' <<<"$line")
concepts=$(sed -E 's/.* concepts=([0-9]+).*/\1/' <<<"$line")
best=""
for i in 1 2 3; do
  t0=$(date +%s.%N)
  (cd "$DATA" && find . -type f -name '*.xml' -print0 | xargs -0 -n 2000 xmllint --stream --noout)
  t1=$(date +%s.%N)
  best=$(awk -v a="$t0" -v b="$t1" -v best="$best" 'BEGIN { t = b - a; if (best == "" || t < best) best = t; print best }')
done
awk -v s="$secs" -v x="$best" -v mb="$xmlmb" -v n="$concepts" 'BEGIN {
  printf "\n| tool | seconds | MB XML/s | concepts/s |\n|---|---|---|---|\n"
  printf "| kgpath importers (OLX -> course model) | %.2f | %.1f | %.0f |\n", s, mb / s, n / s
  printf "| xmllint --stream --noout (parse only) | %.2f | %.1f | - |\n", x, mb / x
  printf "\nratio kgpath / xmllint time: %.2f (%.1f MB of XML, %d concepts)\n", s / x, mb, n
}'
