#!/usr/bin/env bash
# Installs what is missing, builds libconvpool with -Werror and runs every
# test suite (unit, abi, diff on every ISA path, onnx node tests, malformed
# models under valgrind, cli, python); then rebuilds with ASan+UBSan and
# runs the C suites again. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/build-common.sh
tools/setup-debian.sh test

echo "== sanitizer build (ASan + UBSan): C suites =="
configure build-sanitize -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
build build-sanitize
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-sanitize --print-errorlogs --suite unit --suite diff --suite kernels --suite onnx --suite cli \
    --suite malformed-asan

echo "== release build: every suite =="
configure build -Dwerror=true
build build
meson test -C build --print-errorlogs
