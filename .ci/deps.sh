#!/usr/bin/env bash
# Installs plexus's build and test dependencies from Debian packages (run as root or via sudo).
# python3-h5py: tests/data/compare_legacy_h5.py compares plexus's legacy .h5 with a Keras one.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build ccache pkg-config \
  libxtensor-dev libxtensor-blas-dev libxsimd-dev libfmt-dev libgtest-dev libopenblas-dev \
  zlib1g-dev libjpeg-dev libpng-dev libgif-dev libcurl4-openssl-dev nlohmann-json3-dev libhdf5-dev libzip-dev libcli11-dev graphviz librsvg2-bin libssl-dev libopenmpi-dev openmpi-bin clang python3 python3-h5py libonnx-dev libprotobuf-dev protobuf-compiler >/dev/null
# ONNX Runtime, the consumer tests/test_onnx.cpp checks exported models with (through Node),
# and PyTorch, which exports the ONNX files the import tests read: npm's onnxruntime-node
# with --ignore-scripts (its CPU libraries are in the package; the script only fetches GPU
# files), installed in $PLEXUS_ORT_DIR (default ~/.cache/plexus-ort), where the tests look.
$SUDO apt-get install -y -qq --no-install-recommends nodejs npm python3-torch >/dev/null
ORT_DIR="${PLEXUS_ORT_DIR:-$HOME/.cache/plexus-ort}"
mkdir -p "$ORT_DIR"
(cd "$ORT_DIR" && npm install --no-audit --no-fund --ignore-scripts onnxruntime-node@1.20.1 >/dev/null)
