#!/usr/bin/env bash
# Runs on the device machine, from the repository root, with build-gpu/ carried over:
# every test binary directly, one compute-sanitizer pass, the examples, then the benchmarks with
# JSON output into $OUT. Prints progress; keeps going after a failure and reports it at the end.
set -uo pipefail
OUT=${OUT:-/tmp/warp-out}
mkdir -p "$OUT"
export PATH="/usr/local/cuda/bin:$PATH"
export LD_LIBRARY_PATH="$PWD/build-gpu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
status=0
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"

for t in build-gpu/tests/test_*; do
  [ -x "$t" ] || continue
  echo "== $t"
  "$t" --gtest_brief=1 > "$OUT/$(basename "$t").log" 2>&1 || { echo "FAILED: $t"; status=1; }
  tail -n 3 "$OUT/$(basename "$t").log"
done

echo "== compute-sanitizer (memcheck) on test_map_device_ref"
compute-sanitizer --tool memcheck --error-exitcode 9 build-gpu/tests/test_map_device_ref --gtest_brief=1 \
  > "$OUT/sanitizer.log" 2>&1 || { echo "FAILED: compute-sanitizer"; status=1; }
tail -n 5 "$OUT/sanitizer.log"

for e in build-gpu/examples/example_*; do
  echo "== $e"; "$e" || { echo "FAILED: $e"; status=1; }
done

echo "== benchmarks"
for b in build-gpu/benchmarks/bench_*; do
  [ -x "$b" ] || continue
  # CUDA benchmarks only by default (host figures come from the CPU machines); BENCH_FILTER=. for all.
  "$b" --benchmark_out="$OUT/$(basename "$b").json" --benchmark_out_format=json --benchmark_filter="${BENCH_FILTER:-svm/cuda}" \
    || { echo "FAILED: $b"; status=1; }
done
exit $status
