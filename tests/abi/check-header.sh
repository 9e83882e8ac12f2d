#!/bin/sh
# check-header.sh COMPILER STD SOURCE INCLUDE_DIR LIB_DIR [EXTRA_FLAGS]
# Compiles SOURCE (which includes <convpool.h> and calls the library) with
# COMPILER -std=STD -Wall -Wextra -pedantic -Werror, links it against the
# built library in LIB_DIR and runs it. EXTRA_FLAGS (one word, may be
# empty) is added to the command line, e.g. the sanitizer flags the library
# was built with. Exits 77 (skipped) if COMPILER is not installed.
set -eu
compiler=$1
std=$2
source=$3
include=$4
libdir=$5
extra=${6:-}
if ! command -v "$compiler" >/dev/null 2>&1; then
    echo "SKIP: $compiler not found"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set -x
# shellcheck disable=SC2086 # $extra is empty or one flag
"$compiler" -std="$std" -Wall -Wextra -pedantic -Werror $extra -I"$include" "$source" \
    -L"$libdir" -lconvpool -o "$tmp/header_test"
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$tmp/header_test"
