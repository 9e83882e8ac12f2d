#!/bin/sh
# check-symbols.sh LIB SYMBOLS_TXT
# Fails (with a diff) unless the dynamic symbols LIB defines are exactly
# those committed in SYMBOLS_TXT, and unless every one of them is a
# convpool_ function bound to a CONVPOOL_ version node.
set -eu
lib=$1
want=$2
. "$(dirname "$0")/abi-common.sh"

got=$(mktemp)
trap 'rm -f "$got"' EXIT
exported_symbols "$lib" >"$got"

bad=$(grep -Ev '^(convpool_[a-z0-9_]+@@?CONVPOOL_[0-9]+\.[0-9]+|CONVPOOL_[0-9]+\.[0-9]+)$' "$got" || true)
if [ -n "$bad" ]; then
    echo "FAIL: $lib exports symbols without the convpool_ prefix or a CONVPOOL_ version:"
    echo "$bad"
    exit 1
fi

if ! diff -u "$want" "$got"; then
    echo "FAIL: the symbols exported by $lib differ from $want"
    echo "('-' lines are missing from the library, '+' lines are new)."
    echo "If the change is intended (new symbols go into a new version node of"
    echo "lib/libconvpool.map), run tests/abi/update-baseline.sh BUILD_DIR and commit."
    exit 1
fi
echo "OK: $(wc -l <"$got") exported symbols and version nodes match $want"
