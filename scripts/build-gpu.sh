#!/usr/bin/env bash
# Builds the test, example and benchmark binaries for the lent H100/H200 into build-gpu/ (sm_90,
# Release), with Debian's shared libraries copied beside the benchmarks ($ORIGIN rpath), so that
# the folder can be carried to the device machine and run there by scripts/gpu-check.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DWARP_PORTABLE_BINARIES=ON
cmake --build build-gpu -j "$(nproc)"
du -sh build-gpu
