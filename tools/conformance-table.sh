#!/usr/bin/env bash
# Prints the README's conformance table: every ONNX backend node test in
# tests/data/onnx-node run through the loader by the 'onnx' suite's runner,
# with the max absolute error and the max distance in ULPs per test.
#   tools/conformance-table.sh [BUILD_DIR]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
runner=${1:-build}/tests/onnx/run_node_test
echo "| test | result | max abs error | max ULPs |"
echo "|---|---|---|---|"
for dir in tests/data/onnx-node/test_*; do
    name=$(basename "$dir")
    args=()
    case $name in
        test_averagepool_2d_ceil_last_window_starts_on_pad) args=(--atol 1e-4) ;; # data rounded to 4 decimals
    esac
    out=$("$runner" "$dir" "${args[@]}" 2>&1 || true)
    result=$(echo "$out" | tail -n 1)
    errs=$(echo "$out" | sed -n 's/.*max abs error \([^,]*\), max \([0-9]*\) ulp.*/\1 \2/p')
    abs=$(echo "$errs" | awk '{print $1}' | paste -sd / -)
    ulp=$(echo "$errs" | awk '{print $2}' | paste -sd / -)
    echo "| $name | $result | $abs | $ulp |"
done
