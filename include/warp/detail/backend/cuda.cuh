// warp/detail/backend/cuda.cuh: what the CUDA backend does for each backend primitive (allocate,
// free, copy, zero, wait, run a kernel over items, prefix sum), always on the device a container
// was made on (device_guard). In a translation unit compiled without nvcc every primitive throws
// backend_unavailable. The host twin is backend/host.cuh.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include <cuda/stream_ref>

#include <warp/core/config.cuh>
#include <warp/core/error.cuh>
#include <warp/core/tile.cuh>
#include <warp/detail/cuda_check.cuh>

#if WARP_CUDA_ENABLED
#include <cooperative_groups.h>
#include <cub/block/block_reduce.cuh>
#include <cub/device/device_scan.cuh>
#endif

namespace warp::detail::cuda_backend {

inline constexpr int block_threads = 256;

#if WARP_CUDA_ENABLED

/// The device the calling thread works on now.
inline int current_device() {
  int device = 0;
  WARP_CUDA_TRY(cudaGetDevice(&device));
  return device;
}

/// Makes `device` current for the guard's lifetime (and restores the previous one), so that a
/// container's work runs on the device it was made on, whatever device the caller has selected.
class device_guard {
 public:
  explicit device_guard(int device) {
    if (device < 0) { return; }
    WARP_CUDA_TRY(cudaGetDevice(&previous_));
    if (previous_ != device) {
      WARP_CUDA_TRY(cudaSetDevice(device));
      restore_ = true;
    }
  }
  device_guard(device_guard const&) = delete;
  device_guard& operator=(device_guard const&) = delete;
  ~device_guard() {
    if (restore_) { (void)cudaSetDevice(previous_); }
  }

 private:
  int previous_ = 0;
  bool restore_ = false;
};

inline void* allocate(std::size_t bytes, cuda::stream_ref stream, int device) {
  if (bytes == 0) { return nullptr; }
  device_guard const on{device};
  void* p = nullptr;
  cudaError_t const status = cudaMallocAsync(&p, bytes, stream.get());
  if (status == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    std::size_t free_bytes = 0, total_bytes = 0;
    (void)cudaMemGetInfo(&free_bytes, &total_bytes);
    throw out_of_memory("device allocation (cudaMallocAsync)", bytes, free_bytes);
  }
  WARP_CUDA_TRY(status);
  return p;
}

/// Stream-ordered: the memory is released once the work enqueued on `stream` before it is done.
inline void deallocate(void* p, cuda::stream_ref stream, int device) noexcept {
  if (p == nullptr) { return; }
  int previous = 0;
  bool const switch_device = device >= 0 && cudaGetDevice(&previous) == cudaSuccess && previous != device;
  if (switch_device) { (void)cudaSetDevice(device); }
  (void)cudaFreeAsync(p, stream.get());
  if (switch_device) { (void)cudaSetDevice(previous); }
}

inline void copy(void* dst, void const* src, std::size_t bytes, cuda::stream_ref stream, int device) {
  if (bytes == 0) { return; }
  device_guard const on{device};
  WARP_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream.get()));
}

inline void fill_zero(void* p, std::size_t bytes, cuda::stream_ref stream, int device) {
  if (bytes == 0) { return; }
  device_guard const on{device};
  WARP_CUDA_TRY(cudaMemsetAsync(p, 0, bytes, stream.get()));
}

inline void synchronize(cuda::stream_ref stream, int device) {
  device_guard const on{device};
  WARP_CUDA_TRY(cudaStreamSynchronize(stream.get()));
}

/// Blocks of block_threads threads that fit the device at once, cached per device.
inline int max_resident_blocks(int device) {
  constexpr int max_devices = 64;
  static std::atomic<int> cached[max_devices] = {};
  bool const cacheable = device >= 0 && device < max_devices;
  if (cacheable) {
    if (int const c = cached[device].load(std::memory_order_relaxed); c != 0) { return c; }
  }
  int sms = 0;
  WARP_CUDA_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  int const blocks = sms * (2048 / block_threads);
  if (cacheable) { cached[device].store(blocks, std::memory_order_relaxed); }
  return blocks;
}

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

/// Enqueues f(tile, i) for i in [0, n) on `stream`; the per-item results are added to *counter
/// (device memory) when it is not null.
template <int TileSize, class F>
void for_each_item(std::size_t n, F const& f, unsigned long long* counter, cuda::stream_ref stream, int device) {
  device_guard const on{device};
  std::size_t const wanted = (n * TileSize + block_threads - 1) / block_threads;
  // Enough blocks to fill the device several times over; the grid-stride loop does the rest.
  std::size_t const cap = static_cast<std::size_t>(max_resident_blocks(device < 0 ? current_device() : device)) * 8;
  unsigned const grid = static_cast<unsigned>(wanted < cap ? wanted : cap);
  for_each_item_kernel<TileSize><<<grid, block_threads, 0, stream.get()>>>(n, f, counter);
  WARP_CUDA_TRY(cudaGetLastError());
}

/// out[i] = in[0] + ... + in[i - 1] for i in [0, n]; `temp` allocates CUB's scratch space.
template <class Allocate>
void exclusive_scan(std::uint64_t const* in, std::uint64_t* out, std::size_t n, cuda::stream_ref stream, int device,
                    Allocate const& temp) {
  device_guard const on{device};
  std::size_t temp_bytes = 0;
  auto const items = static_cast<std::int64_t>(n + 1);
  WARP_CUDA_TRY(cub::DeviceScan::ExclusiveSum(nullptr, temp_bytes, in, out, items, stream.get()));
  auto scratch = temp(temp_bytes);
  WARP_CUDA_TRY(cub::DeviceScan::ExclusiveSum(scratch.data(), temp_bytes, in, out, items, stream.get()));
}

#else  // compiled without nvcc: the CUDA backend does not exist in this translation unit

[[noreturn]] inline void unavailable(char const* what) {
  throw backend_unavailable(std::string("cuda ") + what + " requested in a translation unit compiled without nvcc");
}
inline int current_device() { return -1; }
class device_guard {
 public:
  explicit device_guard(int) {}
  device_guard(device_guard const&) = delete;
  device_guard& operator=(device_guard const&) = delete;
  ~device_guard() {}  // user-provided, so that an unused guard draws no warning
};
inline void* allocate(std::size_t bytes, cuda::stream_ref, int) {
  if (bytes == 0) { return nullptr; }
  unavailable("allocation");
}
inline void deallocate(void*, cuda::stream_ref, int) noexcept {}
inline void copy(void*, void const*, std::size_t bytes, cuda::stream_ref, int) {
  if (bytes != 0) { unavailable("copy"); }
}
inline void fill_zero(void*, std::size_t bytes, cuda::stream_ref, int) {
  if (bytes != 0) { unavailable("memset"); }
}
inline void synchronize(cuda::stream_ref, int) {}
template <int TileSize, class F>
void for_each_item(std::size_t, F const&, unsigned long long*, cuda::stream_ref, int) {
  unavailable("kernel launch");
}
template <class Allocate>
void exclusive_scan(std::uint64_t const*, std::uint64_t*, std::size_t, cuda::stream_ref, int, Allocate const&) {
  unavailable("scan");
}

#endif

}  // namespace warp::detail::cuda_backend
