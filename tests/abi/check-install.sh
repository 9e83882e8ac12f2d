#!/bin/sh
# check-install.sh SOURCE_DIR CONSUMER_C
# Configures a separate build of SOURCE_DIR with --prefix in a temporary
# directory (tests off), installs it there, then builds CONSUMER_C with only
# the installed header and `pkg-config --cflags --libs convpool` and runs it
# against the installed library. Also checks the install layout: the one
# public header, the SONAME, the .pc file.
set -eu
src=$1
consumer=$2
for tool in meson ninja pkg-config cc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool not found"
        exit 77
    fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

# Variables meson test sets for the outer project must not leak into the
# inner build.
unset MESON_BUILD_ROOT MESON_SOURCE_ROOT MESONINTROSPECT PKG_CONFIG_PATH || true

# Unoptimised: what is checked here is the install layout and linking, and
# the kernels compile three times faster at -O0.
echo "== meson setup --prefix=$prefix"
meson setup "$tmp/build" "$src" --prefix="$prefix" --libdir=lib -Dtests=disabled -Doptimization=0 \
    >"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; exit 1; }
echo "== meson install"
meson install -C "$tmp/build" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }

headers=$(cd "$prefix/include" && ls)
if [ "$headers" != "convpool.h" ]; then
    echo "FAIL: installed headers are '$headers', expected only convpool.h"
    exit 1
fi
soname=$(readelf -d "$prefix/lib/libconvpool.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
if [ "$soname" != "libconvpool.so.1" ]; then
    echo "FAIL: SONAME is '$soname', expected libconvpool.so.1"
    exit 1
fi

# A shared-library user needs no other package's .pc file.
if grep -q '^Requires' "$prefix/lib/pkgconfig/convpool.pc"; then
    echo "FAIL: convpool.pc has Requires lines; pkg-config would need those modules' .pc files:"
    cat "$prefix/lib/pkgconfig/convpool.pc"
    exit 1
fi
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs convpool)
echo "== pkg-config --cflags --libs convpool: $flags"
echo "== cc consumer.c"
# shellcheck disable=SC2086 # the flags are a word list
cc -std=c99 -Wall -Wextra -Werror "$consumer" $flags -o "$tmp/consumer"
echo "== run against $prefix/lib"
LD_LIBRARY_PATH="$prefix/lib" "$tmp/consumer"

# The Python package, when this build installs one: in the prefix's
# lib/python3.X/dist-packages, importable from there, finding the library
# of this prefix.
pkgdir=$(ls -d "$prefix"/lib/python3*/*-packages/convpool 2>/dev/null || true)
if [ -n "$pkgdir" ] && [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    echo "== python3 -c 'import convpool' from $pkgdir"
    env -u CONVPOOL_LIBRARY PYTHONPATH="$(dirname "$pkgdir")" /usr/bin/python3 -c '
import sys
import convpool
from convpool import _lib
print("convpool", convpool.__version__, "library", _lib.path)
assert _lib.path == sys.argv[1], (_lib.path, sys.argv[1])
' "$prefix/lib/libconvpool.so.1"
fi
