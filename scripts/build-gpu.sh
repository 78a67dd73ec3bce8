#!/usr/bin/env bash
# Builds the test, example and benchmark binaries for the lent H100/H200 into build-gpu/ (sm_90,
# Release), with Debian's shared libraries copied beside the benchmarks ($ORIGIN rpath), so that
# the folder can be carried to the device machine and run there by scripts/gpu-check.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DWARP_PORTABLE_BINARIES=ON
cmake --build build-gpu -j "$(nproc)"
# Shared libraries the binaries need that a bare machine with only the CUDA driver and toolkit may
# lack (OpenMP and libatomic runtimes, Google Benchmark, abseil): copied to build-gpu/lib, which
# scripts/gpu-check.sh puts on LD_LIBRARY_PATH (RUNPATH=$ORIGIN does not cover transitive deps).
mkdir -p build-gpu/lib
for binary in build-gpu/tests/test_* build-gpu/examples/example_* build-gpu/examples/lsh_dedup build-gpu/benchmarks/bench_*; do
  [ -x "$binary" ] && [ -f "$binary" ] || continue
  ldd "$binary" | awk '/=> \// {print $3}' | grep -E 'lib(gomp|atomic|benchmark|absl)' || true
done | sort -u | xargs -r -I{} cp -L {} build-gpu/lib/
# The bundle the device tool carries (64 MiB at most): the binaries, stripped of host symbols, and
# the libraries; object files stay here.
rm -rf gpu-bundle
mkdir -p gpu-bundle/tests gpu-bundle/examples gpu-bundle/benchmarks
for kind in tests examples benchmarks; do
  for binary in build-gpu/$kind/test_* build-gpu/$kind/example_* build-gpu/$kind/lsh_dedup build-gpu/$kind/bench_*; do
    [ -x "$binary" ] && [ -f "$binary" ] || continue
    # The MPI tests run under mpirun on the host backend (CI); the device machine has no Open MPI.
    [ "$(basename "$binary")" = test_distributed_mpi ] && continue
    strip --strip-unneeded -o "gpu-bundle/$kind/$(basename "$binary")" "$binary"
  done
done
cp -a build-gpu/lib gpu-bundle/lib
du -sh gpu-bundle
