#!/bin/sh
# check-abidiff.sh LIB BASELINE_ABI HEADERS_DIR
# Compares the ABI of LIB with the committed abidw baseline using abidiff.
#
# abidiff's exit status is a bit field: 1 tool error, 2 usage error,
# 4 ABI change, 8 incompatible ABI change. An incompatible change
# (a removed or changed function, a changed type, bit 8) fails. A
# compatible change only (bit 4 alone, e.g. added functions) passes with the
# report printed: added symbols are policed by check-symbols.sh, which fails
# on any symbol not committed in symbols.txt. Exits 77 (skipped) when
# abidiff is not installed or LIB has no DWARF to read types from.
set -u
lib=$1
baseline=$2
headers=$3

if ! command -v abidiff >/dev/null 2>&1; then
    echo "SKIP: abidiff not found (Debian: apt-get install abigail-tools)"
    exit 77
fi
if ! "${READELF:-readelf}" -S "$lib" | grep -q '\.debug_info'; then
    echo "SKIP: $lib has no debug info (build with -g, e.g. buildtype=debugoptimized)"
    exit 77
fi

# abidiff reads a malformed baseline as an empty one and reports no change,
# so the baseline is validated first.
if command -v abilint >/dev/null 2>&1 && ! abilint "$baseline" >/dev/null; then
    echo "FAIL: $baseline is not a valid abixml file (abilint); regenerate it with"
    echo "tests/abi/update-baseline.sh BUILD_DIR"
    exit 1
fi

abidiff --no-show-locs --headers-dir2 "$headers" "$baseline" "$lib"
rc=$?
if [ $((rc & 3)) -ne 0 ]; then
    echo "FAIL: abidiff could not compare (exit status $rc)"
    exit 1
fi
if [ $((rc & 8)) -ne 0 ]; then
    echo "FAIL: incompatible ABI change against $baseline (see the report above)."
    echo "An intended break needs a new SONAME; otherwise restore the old ABI."
    exit 1
fi
if [ $((rc & 4)) -ne 0 ]; then
    echo "OK: compatible ABI change only (report above); regenerate the baseline with"
    echo "tests/abi/update-baseline.sh BUILD_DIR when it is intended."
    exit 0
fi
echo "OK: no ABI change against $baseline"
