// warp/detail/scan.cuh: exclusive prefix sum of 64-bit counts on a backend (CUB on the device, a
// sequential loop on the host), used by the two-pass retrieve of the multi-value tables.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/detail/backend/cuda.cuh>
#include <warp/detail/backend/host.cuh>
#include <warp/detail/memory.cuh>

namespace warp::detail {

/// out[i] = in[0] + ... + in[i - 1] for i in [0, n]; in and out hold n + 1 entries (in[n] is
/// ignored), in the backend's memory. Stream-ordered.
inline void exclusive_scan(backend b, std::uint64_t const* in, std::uint64_t* out, std::size_t n, cuda::stream_ref stream,
                           memory_resource* mr = nullptr) {
  if (b == backend::cuda) {
    return cuda_backend::exclusive_scan(in, out, n, stream, -1,
                                        [&](std::size_t bytes) { return buffer<unsigned char>{b, bytes, stream, mr}; });
  }
  host::exclusive_scan(in, out, n);
}

}  // namespace warp::detail
