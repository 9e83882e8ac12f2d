#!/usr/bin/env bash
# Installs the Debian 12 packages libconvpool needs that are missing.
#   tools/setup-debian.sh build   what building and running the CLI needs
#   tools/setup-debian.sh test    that, plus everything the test suite uses
#   tools/setup-debian.sh package that, plus what building the Debian packages
#                                 and tools/test-debs.sh use
# Runs apt-get only when something is missing (via sudo when not root).
set -euo pipefail

build_packages=(gcc meson ninja-build pkg-config libprotobuf-c-dev protobuf-c-compiler
                libonnx-dev libpng-dev libjpeg62-turbo-dev)
test_packages=(check valgrind abigail-tools clang clang-format libclang-rt-14-dev python3-numpy python3-onnx python3-pytest
               python3-torch python3-matplotlib python3-setuptools python3-pip
               python3-venv libdnnl-dev python3-pil)
# debian/control's Build-Depends (build_packages and the test tools it
# lists), debhelper and the checks of tools/test-debs.sh.
package_packages=(debhelper dh-python dpkg-dev check python3-numpy python3-onnx
                  python3-pytest lintian debootstrap binutils)
# The Python binding's test of models shipped to Dask workers.
test_packages+=(python3-dask python3-distributed)

want=("${build_packages[@]}")
case ${1:-build} in
build) ;;
test) want+=("${test_packages[@]}") ;;
package) want+=("${package_packages[@]}") ;;
*)
    echo "usage: $0 [build|test|package]" >&2
    exit 2
    ;;
esac

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
# Node.js and npm for the Node.js binding's tests (suite node). Only when the
# commands are missing: a machine with its own Node.js (e.g. another vendor's
# nodejs package, which bundles npm) must keep it, not get Debian's beside it.
if [ "${1:-build}" = test ]; then
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
fi

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
