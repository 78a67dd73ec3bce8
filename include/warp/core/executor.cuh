// warp/core/executor.cuh: runs a per-item function over [0, n) on a backend.
//
// `for_each_item<TileSize>(exec, n, f, counter)` calls f(tile, i) for every i, one tile per item:
// on the CUDA backend in a kernel on exec.stream with cooperative-group tiles of TileSize lanes;
// on the host backend in an OpenMP loop with warp::one_lane_tile. f returns how much item i adds
// to a count (taken from lane 0 of the tile); when `counter` is not null the sum is added to
// *counter (device memory on CUDA, host memory on the host) with one atomic per block.
//   warp::detail::executor ex{warp::backend::host, stream};
//   warp::detail::for_each_item<1>(ex, n, [=] WARP_HD (auto const& tile, std::size_t i) { ...; return 1u; });
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <cuda/atomic>
#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/config.cuh>
#include <warp/core/cuda_check.cuh>
#include <warp/core/memory.cuh>
#include <warp/core/tile.cuh>

#if WARP_CUDA_ENABLED
#include <cooperative_groups.h>
#include <cub/block/block_reduce.cuh>
#endif

namespace warp::detail {

struct executor {
  backend where;
  cuda::stream_ref stream;
};

inline constexpr int block_threads = 256;

#if WARP_CUDA_ENABLED
template <int TileSize, class F>
__global__ void __launch_bounds__(block_threads) for_each_item_kernel(std::size_t n, F f, unsigned long long* counter) {
  namespace cg = cooperative_groups;
  std::size_t const tiles_per_grid = static_cast<std::size_t>(gridDim.x) * (block_threads / TileSize);
  std::size_t i = (static_cast<std::size_t>(blockIdx.x) * block_threads + threadIdx.x) / TileSize;
  unsigned long long local = 0;
  if constexpr (TileSize == 1) {
    one_lane_tile const tile{};
    for (; i < n; i += tiles_per_grid) { local += f(tile, i); }
  } else {
    auto const tile = cg::tiled_partition<TileSize>(cg::this_thread_block());
    for (; i < n; i += tiles_per_grid) {
      auto const c = f(tile, i);
      if (tile.thread_rank() == 0) { local += c; }
    }
  }
  if (counter != nullptr) {
    using reduce = cub::BlockReduce<unsigned long long, block_threads>;
    __shared__ typename reduce::TempStorage storage;
    unsigned long long const sum = reduce(storage).Sum(local);
    if (threadIdx.x == 0 && sum != 0) { atomicAdd(counter, sum); }
  }
}

inline int max_resident_blocks() {
  static int const blocks = [] {
    int device = 0, sms = 0;
    WARP_CUDA_TRY(cudaGetDevice(&device));
    WARP_CUDA_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    return sms * (2048 / block_threads);
  }();
  return blocks;
}
#endif

template <class F, class = void>
struct has_prefetch : std::false_type {};
template <class F>
struct has_prefetch<F, std::void_t<decltype(std::declval<F const&>().prefetch(std::size_t{}))>> : std::true_type {};

template <int TileSize, class F>
void for_each_item(executor const& ex, std::size_t n, F f, unsigned long long* counter = nullptr) {
  if (n == 0) { return; }
  if (ex.where == backend::cuda) {
#if WARP_CUDA_ENABLED
    std::size_t const wanted = (n * TileSize + block_threads - 1) / block_threads;
    // Enough blocks to fill the device several times over; the grid-stride loop does the rest.
    std::size_t const cap = static_cast<std::size_t>(max_resident_blocks()) * 8;
    unsigned const grid = static_cast<unsigned>(wanted < cap ? wanted : cap);
    for_each_item_kernel<TileSize><<<grid, block_threads, 0, ex.stream.get()>>>(n, f, counter);
    WARP_CUDA_TRY(cudaGetLastError());
#else
    throw backend_unavailable("cuda backend used from a translation unit compiled without nvcc");
#endif
    return;
  }
  one_lane_tile const tile{};
  unsigned long long total = 0;
  auto const count = static_cast<std::int64_t>(n);
  if constexpr (has_prefetch<F>::value) {
    // Issue the memory access of item i + distance before working on item i: the CPU then has
    // `distance` independent cache misses in flight instead of the few its load queue allows
    // (measured on the development VM: 2-2.5x on find and insert of a 4M-key table).
    // WARP_PREFETCH_DISTANCE overrides the distance.
#ifndef WARP_PREFETCH_DISTANCE
#define WARP_PREFETCH_DISTANCE 32
#endif
    constexpr std::int64_t distance = WARP_PREFETCH_DISTANCE;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (std::int64_t i = 0; i < count; ++i) {
      if (i + distance < count) { f.prefetch(static_cast<std::size_t>(i + distance)); }
      total += f(tile, static_cast<std::size_t>(i));
    }
  } else {
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (std::int64_t i = 0; i < count; ++i) { total += f(tile, static_cast<std::size_t>(i)); }
  }
  if (counter != nullptr) { *counter += total; }
}

/// for_each_item followed by returning the count (synchronizes the stream on CUDA).
template <int TileSize, class F>
std::uint64_t count_items(executor const& ex, std::size_t n, F f) {
  if (ex.where == backend::host) {
    unsigned long long total = 0;
    for_each_item<TileSize>(ex, n, f, &total);
    return total;
  }
  buffer<unsigned long long> counter{ex.where, 1, ex.stream};
  unsigned long long const zero = 0;
  copy_bytes(ex.where, counter.data(), &zero, sizeof(zero), ex.stream);
  for_each_item<TileSize>(ex, n, f, counter.data());
  unsigned long long result = 0;
  copy_bytes(ex.where, &result, counter.data(), sizeof(result), ex.stream);
  synchronize(ex.where, ex.stream);
  return result;
}

/// Reserves one output position per calling thread from a shared counter. On the device, the
/// threads of a warp that call it together share one atomic.
WARP_HD WARP_FORCEINLINE unsigned long long claim_output_position(unsigned long long* counter) noexcept {
#if WARP_DEVICE_COMPILATION
  namespace cg = cooperative_groups;
  cg::coalesced_group const active = cg::coalesced_threads();
  unsigned long long base = 0;
  if (active.thread_rank() == 0) { base = atomicAdd(counter, static_cast<unsigned long long>(active.num_threads())); }
  base = active.shfl(base, 0);
  return base + active.thread_rank();
#else
  cuda::atomic_ref<unsigned long long, cuda::thread_scope_device> ref{*counter};
  return ref.fetch_add(1, cuda::std::memory_order_relaxed);
#endif
}

}  // namespace warp::detail
