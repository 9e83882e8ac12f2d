#!/usr/bin/env bash
# Installs the Debian 12 packages libconvpool needs that are missing.
#   tools/setup-debian.sh build   what building and running the CLI needs
#   tools/setup-debian.sh test    that, plus everything the test suite uses
# Runs apt-get only when something is missing (via sudo when not root).
set -euo pipefail

build_packages=(gcc meson ninja-build pkg-config libprotobuf-c-dev protobuf-c-compiler
                libonnx-dev)
test_packages=(check valgrind abigail-tools clang libclang-rt-14-dev python3-numpy python3-onnx python3-pytest
               python3-torch python3-matplotlib python3-setuptools python3-pip
               python3-venv libdnnl-dev)

want=("${build_packages[@]}")
if [ "${1:-build}" = test ]; then
    want+=("${test_packages[@]}")
fi

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "setup-debian: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
