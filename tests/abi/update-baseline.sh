#!/bin/sh
# update-baseline.sh BUILD_DIR
# Regenerates tests/abi/symbols.txt (nm -D --defined-only of the built
# library) and tests/abi/libconvpool.abi (abidw, public-header types only)
# from BUILD_DIR/lib/libconvpool.so. Build with debug info first (the
# default buildtype, debugoptimized, has it). Review `git diff` and commit
# both files together.
#
# The checks that compare against these files (meson suite 'abi'):
#  - check-symbols.sh fails on any difference from symbols.txt, added
#    symbols included;
#  - check-abidiff.sh fails when abidiff's exit status has bit 8
#    (incompatible change) and passes when it only has bit 4 (compatible
#    change such as added functions).
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/abi-common.sh"
lib=$1/lib/libconvpool.so
if [ ! -e "$lib" ]; then
    echo "$lib not found: build the shared library first (ninja -C $1)" >&2
    exit 1
fi
exported_symbols "$lib" >"$here/symbols.txt"
abi_dump "$lib" "$here/../../include" "$here/libconvpool.abi"
echo "wrote $here/symbols.txt ($(wc -l <"$here/symbols.txt") lines) and $here/libconvpool.abi"
