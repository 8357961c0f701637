#!/usr/bin/env bash
# Installs the build into a temporary destdir, compiles kgpath_example.c
# against it with pkg-config only, and runs it on the golden fixtures.
#   tools/examples/test_example.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --no-rebuild --destdir "$tmp/dest" >/dev/null
prefix="$(sed -n 's/^prefix=//p' "$build/meson-private/kgpath.pc")"
pcdir="$(dirname "$(find "$tmp/dest" -name kgpath.pc | head -1)")"
[ -n "$pcdir" ] || { echo "kgpath.pc was not installed" >&2; exit 1; }
# pkg-config of the installed file, with its prefix moved into the destdir.
pc() { PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$tmp/dest$prefix" "$@" kgpath; }
test -f "$(pc --variable=includedir)/kgpath.h"
cc -std=c11 -Wall -Wextra -Werror "$here/kgpath_example.c" $(pc --cflags) $(pc --libs) \
   -Wl,-rpath,"$(pc --variable=libdir)" -o "$tmp/kgpath_example"
out="$("$tmp/kgpath_example" "$tmp/kg.db" alg:equations "$root/tests/golden/alg.xml" "$root/tests/golden/calc.xml")"
echo "$out"
grep -q "Linear equations (alg:equations), 40 min" <<<"$out"
grep -q "needs 2 of: alg:intro alg:fractions calc:limits" <<<"$out"
echo "example: OK"
