#!/usr/bin/env bash
# Builds the library's tests, examples and benchmarks and runs the test suite, twice:
#  1. the normal build (CUDA code when nvcc exists; CUDA cases skip without a device),
#  2. a host-only AddressSanitizer + UndefinedBehaviorSanitizer (with float-cast-overflow) build of the tests.
# Usage: scripts/test.sh [build-dir-prefix]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
# Set-up first, as on a fresh machine: installs (and names) the Debian packages that are missing.
bash scripts/install-deps.sh
prefix=${1:-build}
jobs=$(nproc)
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"

echo "== warp: normal build in ${prefix}"
cmake -S . -B "${prefix}" -DCMAKE_BUILD_TYPE=Release
cmake --build "${prefix}" -j "${jobs}"
echo "== warp: normal build done after ${SECONDS} s"
ctest --test-dir "${prefix}" --output-on-failure -j "${jobs}"
echo "== warp: normal tests done after ${SECONDS} s"

echo "== warp: host-only ASan+UBSan build in ${prefix}-sanitize"
# -O1: what ASan recommends, and a third faster to compile than RelWithDebInfo's -O2.
cmake -S . -B "${prefix}-sanitize" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g -DNDEBUG" -DWARP_SANITIZE=ON \
      -DWARP_BUILD_BENCHMARKS=OFF -DWARP_BUILD_EXAMPLES=OFF
cmake --build "${prefix}-sanitize" -j "${jobs}"
echo "== warp: sanitizer build done after ${SECONDS} s"
ctest --test-dir "${prefix}-sanitize" --output-on-failure -j "${jobs}"
echo "== warp: sanitizer tests done after ${SECONDS} s"
