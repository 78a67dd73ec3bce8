#!/usr/bin/env bash
# Runs on the device machine, from the repository root, with gpu-bundle/ (scripts/build-gpu.sh) carried over:
# every test binary directly, compute-sanitizer passes, the examples, then the benchmarks with
# JSON output into $OUT. Every step has a time limit, so that a hang in never-run device code
# costs minutes, not the whole lease; it keeps going after a failure and reports it at the end.
# At most 8 files come back from $OUT, so logs are collected into a few files and the benchmark
# JSONs into bench-json.tar.gz.
set -uo pipefail
OUT=${OUT:-/tmp/warp-out}
mkdir -p "$OUT"
export PATH="/usr/local/cuda/bin:$PATH"
export LD_LIBRARY_PATH="$PWD/gpu-bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# libnccl (test_distributed_nccl, bench_distributed): the toolkit's, or the image's pip wheel.
for nccl_dir in /usr/local/cuda/lib64 $(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null); do
  [ -e "$nccl_dir/libnccl.so.2" ] && { export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$nccl_dir"; break; }
done
TEST_LIMIT=${TEST_LIMIT:-120}
BENCH_LIMIT=${BENCH_LIMIT:-170}
status=0
log="$OUT/tests.log"
step() {  # step <limit-seconds> <command...>: runs it, appends to $log, prints the tail
  local limit=$1; shift
  echo "== $*" | tee -a "$log"
  local start=$SECONDS
  timeout "$limit" "$@" >> "$log" 2>&1
  local rc=$?
  echo "-- rc=$rc in $((SECONDS - start)) s" | tee -a "$log"
  [ $rc -eq 0 ] || { echo "FAILED: $*" | tee -a "$log"; status=1; }
}

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee -a "$log"

for t in gpu-bundle/tests/test_*; do
  [ -x "$t" ] && [ -f "$t" ] || continue
  # The tool's test reads ../shared/data, which the device machine does not have.
  [ "$(basename "$t")" = test_lsh_tool ] && continue
  # MPI runs on the host backend under mpirun (CI); the device machine has no Open MPI.
  [ "$(basename "$t")" = test_distributed_mpi ] && continue
  step "$TEST_LIMIT" "$t" --gtest_brief=1
  grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$log" | tail -n 3
done

echo "== compute-sanitizer memcheck" | tee -a "$log"
for t in ${SANITIZE_TESTS-test_map_device_ref test_map_basic test_defects test_container_members test_lsh test_kvcache_table}; do
  filter='*'; [ "$t" != test_map_device_ref ] && filter="${SANITIZE_FILTER:-*cuda*}"
  echo "== memcheck $t" >> "$OUT/sanitizer.log"
  timeout "$TEST_LIMIT" compute-sanitizer --tool memcheck --error-exitcode 9 gpu-bundle/tests/$t \
    --gtest_brief=1 --gtest_filter="$filter" >> "$OUT/sanitizer.log" 2>&1
  rc=$?; echo "memcheck $t rc=$rc" | tee -a "$log"; [ $rc -eq 0 ] || status=1
done
tail -n 4 "$OUT/sanitizer.log"

for e in gpu-bundle/examples/example_*; do
  case "$(basename "$e")" in
    example_kmer_count) step 60 "$e" examples/data/reads.fasta 21 3 ;;
    example_bloom_keys) step 60 "$e" examples/data/keys.txt /tmp/warp-example.bloom examples/data/queries.txt ;;
    example_fit_image) step 120 "$e" gratings 300 /tmp/warp-fit ;;
    *) step 60 "$e" ;;
  esac
done

# The LSH tool on the CUDA backend: two planted near-duplicate pairs among six records.
[ -x gpu-bundle/examples/lsh_dedup ] && step 60 gpu-bundle/examples/lsh_dedup --backend cuda \
  --input examples/data/near_duplicates.csv --id-column id --columns text --shingle words --size 1 --lowercase \
  --k 64 --bands 32 --rows 2 --min-estimate 0.5 --pairs /tmp/warp-lsh-pairs.csv --clusters /tmp/warp-lsh-clusters.csv

echo "== benchmarks"
# run_bench <json name> <binary> <filter> <line prefixes>: one benchmark binary with a time limit,
# its JSON and its exit status; an empty filter (or a binary not built) skips it.
run_bench() {
  [ -n "$3" ] && [ -x "gpu-bundle/benchmarks/$2" ] || return 0
  timeout "$BENCH_LIMIT" "gpu-bundle/benchmarks/$2" --benchmark_out="$OUT/$1.json" --benchmark_out_format=json \
    --benchmark_filter="$3" 2>&1 | tee -a "$OUT/bench.log" | grep -E "^($4|ERROR)" | cut -c1-150
  rc=${PIPESTATUS[0]}; echo "bench $1 rc=$rc" | tee -a "$log"; [ $rc -eq 0 ] || status=1
}
# CUDA benchmarks by default (host figures come from the CPU machines), one JSON per key width so
# that a time limit on one keeps the other; BENCH_FILTER overrides the prefix. Each *_FILTER below
# narrows its binary; "" skips it.
for width in ${BENCH_WIDTHS-u32_u32 u64_u64}; do
  run_bench "svm_${width}" bench_single_value_map "${BENCH_FILTER:-svm/cuda}/${width}/" 'svm|roofline'
done
# Sets, counting, multi-value, bucket lists, Bloom filters.
run_bench containers bench_containers "${CONTAINERS_FILTER-/cuda/}" 'set|count|mvm|blm|bloom|roofline'
# The hash grid at the anchors' configurations (d = 3, N_max = 2048, i.e. b = 1.3819; d = 2, b = 2),
# every variant (MHE, rotated, sub-grids) and operation, fp16 and fp32.
run_bench grid bench_grid_encoding "${GRID_FILTER-grid/cuda/(d:3/nmax2048|d:2/b2)/}" 'grid'
# LSH signatures and end-to-end dedup.
run_bench lsh bench_lsh "${LSH_FILTER-lsh/[a-z]*/cuda/}" 'lsh'
# KV-cache block hashing and scheduler steps (B = 16, incl. the target 256 x 8k).
run_bench kvcache bench_kvcache "${KV_FILTER-kv/(hash/cuda/|step/cuda/B:16/)}" 'kv'
# Sharded maps: one NCCL rank and in-process shards (one per GPU present) against one map.
run_bench distributed bench_distributed "${DIST_FILTER-dist/(single|in-process|nccl)/cuda/}" 'dist'
# At most 8 files come back: the JSONs travel as one archive (tar xzf bench-json.tar.gz).
(cd "$OUT" && ls ./*.json > /dev/null 2>&1 && tar czf bench-json.tar.gz ./*.json && rm -f ./*.json)
echo "overall status=$status"
exit $status
