#!/usr/bin/env bash
# Installs what is missing, builds libconvpool with -Werror and runs every
# test suite (unit, abi, diff on every ISA path, onnx node tests, malformed
# models under valgrind, cli, python); then rebuilds with ASan+UBSan and
# runs the C suites again; builds with clang and runs the fuzz targets
# briefly. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/build-common.sh
tools/setup-debian.sh test

echo "== sanitizer build (ASan + UBSan): C suites =="
configure build-sanitize -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
build build-sanitize
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-sanitize --print-errorlogs --suite unit --suite runtime --suite diff --suite kernels \
    --suite onnx --suite cli --suite malformed-asan

# ---- clang and fuzzing -------------------------------------------------
# clang is a supported compiler: everything builds -Werror clean with it and
# the C suites pass. Then the libFuzzer targets (tests/fuzz; the library
# and the CLI's codecs instrumented with ASan + UBSan, the SIMD kernels with
# ASan; see tests/fuzz/meson.build) run
# briefly on the committed corpora; new inputs go to a scratch folder, so
# the committed corpora stay as they are. Any finding fails the script.
echo "== clang build (-Werror): C suites =="
CC=clang configure build-clang -Dwerror=true
build build-clang
meson test -C build-clang --print-errorlogs --suite unit --suite runtime --suite onnx --suite cli
echo "== fuzz build (clang, libFuzzer + ASan + UBSan): short runs =="
CC=clang configure build-fuzz -Dfuzz=enabled
_convpool_logged meson compile -C build-fuzz tests/fuzz/fuzz_load tests/fuzz/fuzz_npy tests/fuzz/fuzz_pb
fuzz_scratch=$(mktemp -d)
for target in load:120:corpus:65536 npy:30:corpus_npy:4096 pb:30:corpus_pb:4096; do
    IFS=: read -r name seconds corpus max_len <<<"$target"
    mkdir -p "$fuzz_scratch/$name"
    echo "fuzz_$name: ${seconds}s on tests/fuzz/$corpus"
    status=0
    build-fuzz/tests/fuzz/fuzz_"$name" -max_total_time="$seconds" -max_len="$max_len" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$fuzz_scratch/$name-" "$fuzz_scratch/$name" "tests/fuzz/$corpus" \
        >"$fuzz_scratch/$name.log" 2>&1 || status=$?
    grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units" "$fuzz_scratch/$name.log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$fuzz_scratch/$name.log"
        echo "fuzz_$name: finding (exit $status); the input is in $fuzz_scratch" >&2
        exit 1
    fi
done
rm -rf "$fuzz_scratch"

echo "== release build: every suite =="
configure build -Dwerror=true
build build
meson test -C build --print-errorlogs
