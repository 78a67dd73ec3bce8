// warp/detail/executor.cuh: runs a per-item function over [0, n) on a backend.
//
// `for_each_item<TileSize>(exec, n, f, counter)` calls f(tile, i) for every i, one tile per item:
// on the CUDA backend in a kernel on exec.stream with cooperative-group tiles of TileSize lanes
// (backend/cuda.cuh); on the host backend in an OpenMP loop with warp::one_lane_tile
// (backend/host.cuh), so f runs concurrently from several threads on either backend. f returns
// how much item i adds to a count (taken from lane 0 of the tile); when `counter` is not null the
// sum is added to *counter (device memory on CUDA, host memory on the host).
//   warp::detail::executor ex{warp::backend::host, stream};
//   warp::detail::for_each_item<1>(ex, n, [=] WARP_HD (auto const& tile, std::size_t i) { ...; return 1u; });
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda/atomic>
#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/config.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/core/tile.cuh>
#include <warp/detail/atomic.cuh>
#include <warp/detail/backend/cuda.cuh>
#include <warp/detail/backend/host.cuh>
#include <warp/detail/memory.cuh>

#if WARP_CUDA_ENABLED
#include <cooperative_groups.h>
#endif

namespace warp::detail {

/// Where and how a bulk call runs: the backend, the stream, and the memory resource of its temporaries.
struct executor {
  backend where;
  cuda::stream_ref stream;
  memory_resource* memory = nullptr;
};

inline constexpr int block_threads = cuda_backend::block_threads;

/// Makes a container's device current for one call (a no-op on the host backend).
using device_scope = cuda_backend::device_guard;

template <int TileSize, class F>
void for_each_item(executor const& ex, std::size_t n, F f, unsigned long long* counter = nullptr) {
  if (n == 0) { return; }
  if (ex.where == backend::cuda) { return cuda_backend::for_each_item<TileSize>(n, f, counter, ex.stream, -1); }
  unsigned long long const total = host::for_each_item(n, f);
  if (counter != nullptr) { *counter += total; }
}

/// Sets *count_out (backend memory) to 0 and enqueues for_each_item with the sum added to it:
/// the count of an `_async` call, written without a synchronisation.
template <int TileSize, class F>
void count_items_into(executor const& ex, std::size_t n, F f, unsigned long long* count_out) {
  fill_zero(ex.where, count_out, sizeof(*count_out), ex.stream);
  for_each_item<TileSize>(ex, n, f, count_out);
}

/// for_each_item followed by returning the count (synchronizes the stream on CUDA).
template <int TileSize, class F>
std::uint64_t count_items(executor const& ex, std::size_t n, F f) {
  if (ex.where == backend::host) {
    unsigned long long total = 0;
    for_each_item<TileSize>(ex, n, f, &total);
    return total;
  }
  buffer<unsigned long long> counter{ex.where, 1, ex.stream, ex.memory};
  count_items_into<TileSize>(ex, n, f, counter.data());
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
  return atomic_add(counter, 1ull);
#endif
}

}  // namespace warp::detail
