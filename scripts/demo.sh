#!/usr/bin/env bash
# Builds the examples and runs them on whichever backend this machine has (CUDA when a device is
# present, else the host).
set -euo pipefail
cd "$(dirname "$0")/.."
# Set-up first, as on a fresh machine: installs (and names) the Debian packages that are missing.
bash scripts/install-deps.sh
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DWARP_BUILD_TESTS=OFF -DWARP_BUILD_BENCHMARKS=OFF
cmake --build build-demo -j "$(nproc)"
for example in build-demo/examples/example_*; do
  echo "== ${example}"
  case "$(basename "${example}")" in
    example_kmer_count) "${example}" examples/data/reads.fasta 21 5 ;;
    example_bloom_keys) "${example}" examples/data/keys.txt build-demo/keys.bloom examples/data/queries.txt ;;
    example_fit_image) "${example}" gratings 200 build-demo/fit ;;
    *) "${example}" ;;
  esac
done
