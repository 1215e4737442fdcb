#!/usr/bin/env bash
# Installs what plexus's build needs from Debian packages (run as root or via sudo): the
# README's first command runs it. What only the test suite needs (clang for the sanitizer
# stage, ONNX Runtime and PyTorch for the ONNX tests, h5py) is in .ci/deps-test.sh, which
# .ci/test runs.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build ccache pkg-config \
  libxtensor-dev libxtensor-blas-dev libxsimd-dev libfmt-dev libgtest-dev libopenblas-dev \
  zlib1g-dev libjpeg-dev libpng-dev libgif-dev libstb-dev libcurl4-openssl-dev \
  nlohmann-json3-dev libhdf5-dev libzip-dev libcli11-dev graphviz librsvg2-bin libssl-dev \
  libopenmpi-dev openmpi-bin libonnx-dev libprotobuf-dev protobuf-compiler >/dev/null
