// warp/core/memory_resource.cuh: where containers get their memory from.
//
// Every container takes an optional `warp::memory_resource*` (last constructor argument); null
// means the backend's default:
//   - CUDA: stream-ordered device memory (cudaMallocAsync / cudaFreeAsync on the call's stream),
//     on the device the container was made on;
//   - host: aligned host memory, with 2 MiB pages for arrays of 4 MiB and more.
// A resource must outlive every container (and every buffer) that uses it, as with std::pmr. It
// is called for the container's own arrays and for the temporaries of its bulk calls.
//   struct counting_resource : warp::memory_resource { ... };   // e.g. a pool, or a statistics wrapper
//   counting_resource mr;
//   warp::single_value_map<int, int> m{1000, warp::empty_key{-1}, warp::empty_value{0},
//                                      warp::backend::host, warp::default_stream(), {}, &mr};
#pragma once

#include <cstddef>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/detail/backend/cuda.cuh>
#include <warp/detail/backend/host.cuh>

namespace warp {

class memory_resource {
 public:
  memory_resource() = default;
  memory_resource(memory_resource const&) = default;
  memory_resource& operator=(memory_resource const&) = default;
  virtual ~memory_resource() = default;

  /// `bytes` bytes (aligned to at least 256 on the device, 64 on the host), usable by work
  /// enqueued on `stream` after this call. Throws warp::out_of_memory on failure.
  virtual void* allocate(std::size_t bytes, cuda::stream_ref stream) = 0;
  /// Releases `p` (from allocate(bytes, ...)) once the work enqueued on `stream` is done.
  virtual void deallocate(void* p, std::size_t bytes, cuda::stream_ref stream) noexcept = 0;
  /// The backend whose processors can use the memory.
  [[nodiscard]] virtual backend where() const noexcept = 0;
};

/// Aligned host memory with huge pages for large arrays (the host backend's default).
class host_memory_resource final : public memory_resource {
 public:
  void* allocate(std::size_t bytes, cuda::stream_ref) override { return detail::host::allocate(bytes); }
  void deallocate(void* p, std::size_t, cuda::stream_ref) noexcept override { detail::host::deallocate(p); }
  [[nodiscard]] backend where() const noexcept override { return backend::host; }
};

/// Stream-ordered device memory of the current device (the CUDA backend's default).
class cuda_async_memory_resource final : public memory_resource {
 public:
  void* allocate(std::size_t bytes, cuda::stream_ref stream) override {
    return detail::cuda_backend::allocate(bytes, stream, -1);
  }
  void deallocate(void* p, std::size_t, cuda::stream_ref stream) noexcept override {
    detail::cuda_backend::deallocate(p, stream, -1);
  }
  [[nodiscard]] backend where() const noexcept override { return backend::cuda; }
};

/// The resource a container on backend `b` uses when it is given none.
inline memory_resource& default_memory_resource(backend b) noexcept {
  static host_memory_resource host;
  static cuda_async_memory_resource device;
  if (b == backend::cuda) { return device; }
  return host;
}

}  // namespace warp
