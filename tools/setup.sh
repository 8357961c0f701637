#!/usr/bin/env bash
# Installs the Debian packages kgpath needs (when missing) and configures
# the build directory. Sourced by tools/run.sh and tools/test.sh.
set -euo pipefail

KGPATH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KGPATH_BUILD="${KGPATH_BUILD:-$KGPATH_ROOT/build}"

kgpath_packages=(
  build-essential meson ninja-build pkg-config
  libigraph-dev liblmdb-dev libopenblas-dev libxml2-dev check
  libutf8proc-dev libjansson-dev libarchive-dev libgraphviz-dev
  libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev
  lmdb-utils libxml2-utils
)

kgpath_install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "kgpath: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

kgpath_configure() {
  local dir="$1"; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$KGPATH_ROOT" "$@" >&2
  fi
}

# Packages only some tests use; each such test skips with a message when its
# package could not be installed (no network, no such package).
kgpath_test_packages=(chromium fonts-wqy-microhei strace)   # a CJK font: Chinese pages in the browser test; strace: tools/torture

kgpath_install_optional() {
  for p in "$@"; do
    kgpath_install_packages "$p" || echo "kgpath: could not install $p; tests that need it will skip" >&2
  done
}

kgpath_install_packages "${kgpath_packages[@]}"
