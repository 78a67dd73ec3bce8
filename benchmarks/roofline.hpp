// Roofline kernels measured in the same run as the benchmarks that report ratios to them
// (as the anchors in docs/benchmarks.md define them): device copy bandwidth, random 8-byte gather and random 8-byte CAS over a
// 2^28-slot table, each one probe per operation. CUDA events time each kernel; best of 5.
#pragma once

#include <warp/warp.cuh>

#include <cstdint>

namespace warp_bench {

struct roofline {
  double copy_bytes_per_s = 0;   // bytes read + written
  double gather_per_s = 0;       // random 8-byte loads
  double cas_per_s = 0;          // random 8-byte atomicCAS
};

#if WARP_CUDA_ENABLED
namespace kernels {
__global__ void copy(std::uint64_t const* __restrict__ in, std::uint64_t* __restrict__ out, std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n; i += std::size_t{gridDim.x} * blockDim.x) {
    out[i] = in[i];
  }
}
__global__ void gather(std::uint64_t const* __restrict__ table, std::size_t slots, std::size_t n, std::uint64_t* sink) {
  std::uint64_t acc = 0;
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n; i += std::size_t{gridDim.x} * blockDim.x) {
    acc ^= table[warp::hash::detail::mulhi64(warp::hash::fmix64(i), slots)];
  }
  if (acc == 0x12345) { *sink = acc; }
}
__global__ void cas(unsigned long long* table, std::size_t slots, std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n; i += std::size_t{gridDim.x} * blockDim.x) {
    atomicCAS(table + warp::hash::detail::mulhi64(warp::hash::fmix64(i), slots), 0ull, i + 1);
  }
}
}  // namespace kernels

template <class Launch>
inline float best_of_5_ms(Launch launch) {
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  launch();  // warm-up
  float best = 1e30f;
  for (int r = 0; r < 5; ++r) {
    cudaEventRecord(start);
    launch();
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    best = ms < best ? ms : best;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return best;
}

inline roofline measure_roofline() {
  constexpr std::size_t slots = std::size_t{1} << 28;
  constexpr std::size_t ops = std::size_t{1} << 27;
  roofline r{};
  std::uint64_t* a = nullptr;
  std::uint64_t* b = nullptr;
  WARP_CUDA_TRY(cudaMalloc(&a, slots * 8));
  WARP_CUDA_TRY(cudaMalloc(&b, slots * 8));
  WARP_CUDA_TRY(cudaMemset(a, 0, slots * 8));
  unsigned const grid = 132 * 16;
  float ms = best_of_5_ms([&] { kernels::copy<<<grid, 256>>>(a, b, slots); });
  r.copy_bytes_per_s = 2.0 * slots * 8 / (ms * 1e-3);
  ms = best_of_5_ms([&] { kernels::gather<<<grid, 256>>>(a, slots, ops, b); });
  r.gather_per_s = ops / (ms * 1e-3);
  ms = best_of_5_ms([&] {
    cudaMemsetAsync(a, 0, slots * 8);
    kernels::cas<<<grid, 256>>>(reinterpret_cast<unsigned long long*>(a), slots, ops);
  });
  // The memset is inside the timed region; subtract it (measured alone).
  float const memset_ms = best_of_5_ms([&] { cudaMemsetAsync(a, 0, slots * 8); });
  r.cas_per_s = ops / ((ms - memset_ms) * 1e-3);
  cudaFree(a);
  cudaFree(b);
  return r;
}

/// Measured once per process, on first use.
inline roofline const& device_roofline() {
  static roofline const r = measure_roofline();
  return r;
}
#endif

}  // namespace warp_bench
