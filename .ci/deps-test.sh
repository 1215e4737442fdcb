#!/usr/bin/env bash
# What the test suite needs beyond the build (.ci/deps.sh), run by .ci/test (as root or via
# sudo); it does nothing when everything is there already:
#   clang          CI's sanitizer and fuzzing stages (.ci/run);
#   python3-h5py   tests/data/compare_legacy_h5.py compares plexus's legacy .h5 with Keras's;
#   python3-torch  exports the ONNX files the ONNX import tests read (tests/data/onnx/);
#   nodejs, npm    run ONNX Runtime, the consumer tests/test_onnx.cpp checks exports with:
#                  npm's onnxruntime-node with --ignore-scripts (its CPU libraries are in the
#                  package; the script only fetches GPU files), in $PLEXUS_ORT_DIR (default
#                  ~/.cache/plexus-ort), where the tests look.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
packages=(clang python3 python3-h5py python3-torch)
# Node and npm from Debian unless the machine has them already (a Node from elsewhere, such
# as NodeSource's, bundles its own npm and conflicts with Debian's npm package).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then packages+=(nodejs npm); fi
ORT_DIR="${PLEXUS_ORT_DIR:-$HOME/.cache/plexus-ort}"
if ! dpkg -s "${packages[@]}" >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
if [ ! -d "$ORT_DIR/node_modules/onnxruntime-node" ]; then
  mkdir -p "$ORT_DIR"
  (cd "$ORT_DIR" && npm install --no-audit --no-fund --ignore-scripts onnxruntime-node@1.20.1 >/dev/null)
fi
