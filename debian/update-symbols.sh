#!/bin/sh
# update-symbols.sh [--check]
# Writes debian/libconvpool1.symbols from tests/abi/symbols.txt, the
# committed list of exported symbols and version nodes that the abi suite
# checks against the built library. A symbol of version node CONVPOOL_X.Y
# first shipped in libconvpool X.Y.0, so that is its minimal version; the
# version node itself is listed too, as dpkg-gensymbols reports it.
# With --check, fails (with a diff) if the committed file is out of date.
# The package build then compares the file with the library it built
# (dpkg-gensymbols -c4 in debian/rules), so a symbol added to the library
# but not here, or listed here but gone, stops the build.
set -eu
cd "$(dirname "$0")/.."
out=debian/libconvpool1.symbols
new=$(mktemp)
trap 'rm -f "$new"' EXIT
{
    echo "libconvpool.so.1 libconvpool1 #MINVER#"
    echo "* Build-Depends-Package: libconvpool-dev"
    sed -n \
        -e 's/^\(CONVPOOL_\([0-9][0-9]*\)\.\([0-9][0-9]*\)\)$/ \1@\1 \2.\3.0/p' \
        -e 's/^\([a-z0-9_]*\)@@\(CONVPOOL_\([0-9][0-9]*\)\.\([0-9][0-9]*\)\)$/ \1@\2 \3.\4.0/p' \
        tests/abi/symbols.txt | LC_ALL=C sort
} >"$new"
if [ "${1:-}" = --check ]; then
    if ! diff -u "$out" "$new"; then
        echo "FAIL: $out is out of date with tests/abi/symbols.txt; run debian/update-symbols.sh"
        exit 1
    fi
    echo "OK: $out matches tests/abi/symbols.txt"
else
    cp "$new" "$out"
    echo "wrote $out ($(grep -c '^ ' "$out") symbols and version nodes)"
fi
