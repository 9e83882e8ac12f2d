#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs what is missing,
# builds libconvpool, and runs convpool-run on the bundled D2L edge-detector
# model (the seed's 6x8 image with the kernel [1, -1]).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/build-common.sh
tools/setup-debian.sh build
configure build
build build
build/tools/convpool-run tests/data/models/edge_detector.onnx \
    --input tests/data/models/edge_detector_input.npy
