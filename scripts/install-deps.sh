#!/usr/bin/env bash
# Installs the Debian packages the build needs when they are missing (CUDA comes from the toolkit
# at /usr/local/cuda). Needs root for apt-get.
set -euo pipefail
packages=(cmake g++ make googletest libgtest-dev libbenchmark-dev libxxhash-dev libabsl-dev libpng-dev zlib1g-dev liblzma-dev
          # warp::distributed over MPI (mpi_communicator, the mpirun tests)
          libopenmpi-dev openmpi-bin
          python3
          # The classifier's evaluation against Kraken 2 (a CTest at small size): Kraken 2, wgsim (in
          # samtools), and the Debian packages that ship the 21 reference genomes.
          kraken2 samtools ragout-examples kleborate-examples bowtie-examples)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "warp: installing the missing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "warp: installing packages needs root; run as root or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
else
  echo "warp: all required Debian packages are installed (${packages[*]})"
fi
