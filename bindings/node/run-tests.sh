#!/bin/sh
# run-tests.sh [DEPS_DIR]: installs the package's locked npm dependencies
# (npm ci from package-lock.json) into DEPS_DIR/node_modules when they are
# missing or older than the lock file, then runs the tests with Node's
# built-in runner. DEPS_DIR defaults to this folder; meson passes a folder
# in the build tree so that a test run leaves the source tree as it was.
# The library is whatever the package's lookup finds (meson sets
# CONVPOOL_LIBRARY to the library it built).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
deps=${1:-$here}
mkdir -p "$deps"
if [ ! -f "$deps/node_modules/koffi/package.json" ] ||
   [ "$here/package-lock.json" -nt "$deps/node_modules/.package-lock.json" ]; then
    if [ "$deps" != "$here" ]; then
        cp "$here/package.json" "$here/package-lock.json" "$deps/"
    fi
    echo "run-tests.sh: npm ci in $deps"
    (cd "$deps" && npm ci --no-audit --no-fund --loglevel=error)
fi
cd "$here"
# NODE_PATH makes require('koffi') find DEPS_DIR/node_modules from the
# package's own files.
NODE_PATH="$deps/node_modules" exec node --test test/
