#!/usr/bin/env bash
# Builds the importer fuzz targets with clang + libFuzzer + ASan/UBSan into
# build-fuzz/ (or $1). Needs clang (Debian: clang) and a configured meson
# build for the generated kgxml_schema.h ($KGPATH_BUILD, default build/).
# Run one:  build-fuzz/fuzz_scorm -max_total_time=600 tools/fuzz/seeds/scorm
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-$ROOT/build-fuzz}"
BUILD="${KGPATH_BUILD:-$ROOT/build}"
mkdir -p "$OUT"
[ -f "$BUILD/importers/kgxml_schema.h" ] || ninja -C "$BUILD" importers/kgxml_schema.h >/dev/null
CFLAGS=(-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -I"$ROOT" -I"$ROOT/src" -I"$BUILD/importers" $(pkg-config --cflags libxml-2.0 jansson libarchive libutf8proc))
LIBS=($(pkg-config --libs libxml-2.0 jansson libarchive libutf8proc) -lm)
SRC=("$ROOT"/importers/*.c "$ROOT"/base/*.c "$ROOT/graph/course_model.c")
# Compile the library sources once.
OBJ="$OUT/obj"; mkdir -p "$OBJ"
objs=()
for f in "${SRC[@]}"; do
  o="$OBJ/$(basename "${f%.c}").o"
  clang "${CFLAGS[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" -c "$f" -o "$o"
  objs+=("$o")
done
build() { # name source defines...
  local name="$1" src="$2"; shift 2
  clang "${CFLAGS[@]}" "$@" "$ROOT/tools/fuzz/$src" "${objs[@]}" "${LIBS[@]}" -o "$OUT/$name"
}
build fuzz_scorm   fuzz_bundle.c -DTOP_FILE='"imsmanifest.xml"'
build fuzz_imscc   fuzz_bundle.c -DTOP_FILE='"imsmanifest.xml"'
build fuzz_olx     fuzz_bundle.c -DTOP_FILE='"course.xml"'
build fuzz_moodle  fuzz_bundle.c -DTOP_FILE='"moodle_backup.xml"'
build fuzz_csv     fuzz_text.c -DTARGET_CSV
build fuzz_aicc    fuzz_text.c -DTARGET_AICC
build fuzz_archive fuzz_text.c -DTARGET_ARCHIVE
build fuzz_html    fuzz_text.c -DTARGET_HTML
build fuzz_kgxml   fuzz_text.c -DTARGET_KGXML
echo "fuzz targets in $OUT"
