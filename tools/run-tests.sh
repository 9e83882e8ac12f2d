#!/usr/bin/env bash
# Installs what is missing, builds libconvpool with -Werror and runs every
# test suite (unit, abi, diff on every ISA path, onnx node tests, malformed
# models under valgrind, cli, python); then rebuilds with ASan+UBSan and
# runs the C suites again. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-debian.sh test

setup() { # setup DIR ARGS...
    local dir=$1
    shift
    if [ -d "$dir" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi
}

echo "== sanitizer build (ASan + UBSan): C suites =="
setup build-sanitize -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-sanitize >/dev/null
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-sanitize --print-errorlogs --suite unit --suite diff --suite kernels --suite onnx --suite cli \
    --suite malformed-asan

echo "== release build: every suite =="
setup build -Dwerror=true
meson compile -C build >/dev/null
meson test -C build --print-errorlogs
