#!/bin/sh
# Checks that the C sources of the library (lib/, tests/kernels/,
# tests/runtime/; the public header is laid out by hand for reading at 80
# columns) are formatted as .clang-format says (clang-format 14, Debian 12), and
# lists the files that are not. With --fix, formats them in place instead.
#   tools/check-format.sh [--fix] [SOURCE_ROOT]
# Run by `meson test --suite lint` (and so by CI); exits 77 (skip) when
# clang-format is not installed.
set -eu
fix=0
if [ "${1:-}" = --fix ]; then
    fix=1
    shift
fi
root=${1:-$(dirname "$0")/..}
cd "$root"
command -v clang-format >/dev/null 2>&1 || {
    echo "check-format: clang-format not found (Debian: apt install clang-format)"
    exit 77
}
files=$(find lib tests/kernels tests/runtime -type f \( -name '*.c' -o -name '*.h' -o -name '*.inc' \) | sort)
if [ $fix = 1 ]; then
    # shellcheck disable=SC2086
    clang-format -i --style=file $files
    exit 0
fi
# one clang-format for every file: it names each file and line that differ
# shellcheck disable=SC2086
if out=$(clang-format --style=file --dry-run --Werror $files 2>&1); then
    echo "check-format: $(echo "$files" | wc -l) files formatted"
    exit 0
fi
echo "$out" | grep -o '^[^ :]*:[0-9]*' | sort -u -t: -k1,1 | while IFS=: read -r f line; do
    echo "not formatted: $f (first at line $line; tools/check-format.sh --fix formats it)"
done
exit 1
