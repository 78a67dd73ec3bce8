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
echo "== build-demo/examples/lsh_dedup (near-duplicate pairs and clusters of examples/data/near_duplicates.csv)"
build-demo/examples/lsh_dedup --input examples/data/near_duplicates.csv --id-column id --columns text --shingle words \
  --size 1 --lowercase --k 64 --bands 32 --rows 2 --min-estimate 0.5 --pairs build-demo/near_duplicates_pairs.csv \
  --clusters build-demo/near_duplicates_clusters.csv
cat build-demo/near_duplicates_pairs.csv
viruses=../shared/data/metagenomics/kraken2_viruses
if [ -x build-demo/examples/warp_classifier ] && [ -d "$viruses" ]; then
  echo "== build-demo/examples/warp_classifier (ten viral genomes; one HIV-1 read)"
  build-demo/examples/warp_classifier build --db build-demo/viruses.db --taxonomy "$viruses" "$viruses"/*.fa
  build-demo/examples/warp_classifier classify --db build-demo/viruses.db --report build-demo/hiv.report \
    examples/data/hiv1_read.fa
  cat build-demo/hiv.report
fi
