#!/usr/bin/env bash
# kgpath store benchmark beside networkx, in one run:
#   tools/bench/store_bench.sh [N] [COURSES] [BUILD_DIR]
# kgpath: write N concepts in one transaction, build a snapshot (CSR, key
# index, igraph topological ranks) from LMDB; networkx: build the same
# graph (nodes with attributes, member edges, topological order) from
# kgpath's JSON export. Prints a table with the ratio.
set -euo pipefail
n="${1:-100000}"; courses="${2:-10}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${3:-$root/build}"
ninja -C "$build" tools/store_bench >/dev/null
kg="$("$build/tools/store_bench" "$n" "$courses")"
exp="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["export"])' "$kg")"
dir="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["dir"])' "$kg")"
nx="$(/usr/bin/python3 "$root/tools/bench/store_bench_nx.py" "$exp")"
rm -rf "$dir"
python3 - "$kg" "$nx" <<'PY'
import json, sys
kg, nx = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"concepts {kg['concepts']}, courses {kg['courses']}, groups {kg['groups']}, "
      f"member edges {kg['edges']}, database {kg['db_bytes']/1048576:.1f} MiB")
print(f"| step | kgpath | networkx | ratio |")
print(f"|---|---|---|---|")
print(f"| graph ready for queries (kgpath: snapshot from LMDB; networkx: from JSON export) "
      f"| {kg['snapshot_s']:.3f} s | {nx['total_s']:.3f} s | {nx['total_s']/kg['snapshot_s']:.1f}x |")
print(f"| of which networkx JSON parse | | {nx['parse_s']:.3f} s | |")
print(f"| import: write all concepts in one transaction | {kg['write_s']:.3f} s | | |")
print(f"| re-import one course ({kg['concepts']//kg['courses']} concepts) | {kg['reimport_course_s']:.3f} s | | |")
print(f"| key lookup (binary search) | {kg['lookup_us']:.2f} us | | |")
print(f"| JSON export | {kg['export_s']:.3f} s | | |")
PY
