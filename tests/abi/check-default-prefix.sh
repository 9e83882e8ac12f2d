#!/bin/sh
# check-default-prefix.sh SOURCE_DIR CONSUMER_C MODEL_DIR [BUILD_DIR]
# `meson install` with the default prefix (/usr/local), as the README tells
# a user to do, then the C library, the CLI and the Python package used the
# way a user would: no variable set. So that this machine's /usr/local and
# loader cache stay untouched, everything runs in a private mount namespace
# where /usr/local is an empty tmpfs and /etc a copy (ldconfig rewrites
# /etc/ld.so.cache there). Checks, inside it:
#   - the install runs ldconfig, and the loader's cache then has the library;
#   - pkg-config --cflags --libs convpool works with no other .pc file on
#     the system (no libprotobuf-c-dev needed), and CONSUMER_C built with it
#     runs without LD_LIBRARY_PATH;
#   - /usr/local/bin/convpool-run runs the edge-detector model in MODEL_DIR;
#   - /usr/bin/python3 imports convpool from /usr/local and runs a conv.
# BUILD_DIR, a meson build of SOURCE_DIR that is built in full, is the one
# installed when it has the default prefix and a shared library; otherwise
# (or without it) a build of its own.
# Needs root and unshare (util-linux); skips otherwise.
set -eu
src=$1
consumer=$2
models=$3
outer_build=${4:-}

if [ "${CONVPOOL_IN_NAMESPACE:-}" != 1 ]; then
    for tool in meson ninja pkg-config cc unshare; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "SKIP: $tool not found"
            exit 77
        fi
    done
    if [ "$(id -u)" -ne 0 ] || ! unshare --mount true 2>/dev/null; then
        echo "SKIP: needs root and mount namespaces (unshare --mount)"
        exit 77
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    option() { # BUILD_DIR NAME: the value of a meson option of BUILD_DIR
        meson introspect --buildoptions "$1" | /usr/bin/python3 -c '
import json, sys
print([o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]][0])' "$2"
    }
    build=$outer_build
    if [ -z "$build" ] || [ "$(option "$build" prefix)" != /usr/local ] ||
        [ "$(option "$build" default_library)" = static ]; then
        # Variables meson test sets for the outer project must not leak
        # into the inner build.
        unset MESON_BUILD_ROOT MESON_SOURCE_ROOT MESONINTROSPECT PKG_CONFIG_PATH || true
        build=$tmp/build
        echo "== meson setup (default prefix), compile"
        meson setup "$build" "$src" -Dtests=disabled >"$tmp/setup.log" 2>&1 ||
            { cat "$tmp/setup.log"; exit 1; }
        meson compile -C "$build" >"$tmp/compile.log" 2>&1 || { cat "$tmp/compile.log"; exit 1; }
    fi
    prefix=$(option "$build" prefix)
    if [ "$prefix" != /usr/local ]; then
        echo "FAIL: the default prefix is '$prefix', expected /usr/local"
        exit 1
    fi
    cp -a /etc "$tmp/etc"
    rc=0
    env CONVPOOL_IN_NAMESPACE=1 TMP_DIR="$tmp" BUILD_DIR="$build" unshare --mount --fork -- sh -c '
        mount --make-rprivate /
        mount -t tmpfs tmpfs /usr/local
        mount --bind "$TMP_DIR/etc" /etc
        # No .pc file but ours: pkg-config must not need libprotobuf-c.pc.
        mkdir "$TMP_DIR/no-pc"
        for d in /usr/lib/pkgconfig /usr/share/pkgconfig /usr/lib/*/pkgconfig; do
            [ -d "$d" ] && mount --bind "$TMP_DIR/no-pc" "$d"
        done
        exec sh "$0" "$@"' "$0" "$@" || rc=$?
    exit $rc
fi

# In the namespace: /usr/local is empty and private.
tmp=$TMP_DIR
echo "== meson install -C $BUILD_DIR (prefix /usr/local)"
meson install --no-rebuild -C "$BUILD_DIR" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; exit 1; }
if ! ldconfig -p | grep -q 'libconvpool\.so\.1 .*=> /usr/local/'; then
    echo "FAIL: after meson install the loader's cache has no libconvpool.so.1 in /usr/local:"
    ldconfig -p | grep convpool || true
    exit 1
fi
echo "ldconfig: $(ldconfig -p | grep 'libconvpool\.so\.1 ')"

clean_env() {
    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$tmp" LANG=C.UTF-8 "$@"
}

flags=$(clean_env pkg-config --cflags --libs convpool) ||
    { echo "FAIL: pkg-config --cflags --libs convpool failed"; exit 1; }
echo "== pkg-config --cflags --libs convpool: $flags"
# shellcheck disable=SC2086 # the flags are a word list
clean_env cc -std=c99 -Wall -Wextra -Werror "$consumer" $flags -o "$tmp/consumer"
clean_env "$tmp/consumer"

echo "== convpool-run (found on PATH: $(clean_env sh -c 'command -v convpool-run'))"
out=$(clean_env convpool-run "$models/edge_detector.onnx" --input "$models/edge_detector_input.npy")
rows=$(echo "$out" | grep -cF "[ 0.,  1.,  0.,  0.,  0., -1.,  0.]" || true)
if [ "$rows" -ne 6 ]; then
    echo "$out"
    echo "FAIL: convpool-run did not print the edge map (6 rows of [0, 1, 0, 0, 0, -1, 0])"
    exit 1
fi
echo "edge map: 6 rows of [0, 1, 0, 0, 0, -1, 0]"

echo "== /usr/bin/python3 -c 'import convpool'"
clean_env /usr/bin/python3 -c '
import numpy as np
import convpool
from convpool import _lib, functional as F
print("convpool", convpool.__version__, "from", convpool.__file__, "library", _lib.path)
assert convpool.__file__.startswith("/usr/local/lib/python3"), convpool.__file__
x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
k = np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2)
y = F.conv2d(x, k)
assert y[0, 0].tolist() == [[19, 25], [37, 43]], y
print("conv2d:", y[0, 0].tolist())
'
echo "OK: the default-prefix install works with no variable set"
