// warp/core/scan.cuh: exclusive prefix sum of 64-bit counts on a backend (CUB on the device, a
// sequential loop on the host), used by the two-pass retrieve of the multi-value tables.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/cuda_check.cuh>
#include <warp/core/memory.cuh>

#if WARP_CUDA_ENABLED
#include <cub/device/device_scan.cuh>
#endif

namespace warp::detail {

/// out[i] = in[0] + ... + in[i - 1] for i in [0, n]; in and out hold n + 1 entries (in[n] is
/// ignored), in the backend's memory. Stream-ordered.
inline void exclusive_scan(backend b, std::uint64_t const* in, std::uint64_t* out, std::size_t n, cuda::stream_ref stream) {
  if (b == backend::cuda) {
#if WARP_CUDA_ENABLED
    std::size_t temp_bytes = 0;
    WARP_CUDA_TRY(cub::DeviceScan::ExclusiveSum(nullptr, temp_bytes, in, out, static_cast<std::int64_t>(n + 1), stream.get()));
    buffer<unsigned char> temp{b, temp_bytes, stream};
    WARP_CUDA_TRY(cub::DeviceScan::ExclusiveSum(temp.data(), temp_bytes, in, out, static_cast<std::int64_t>(n + 1), stream.get()));
#else
    throw backend_unavailable("cuda scan requested without CUDA support");
#endif
    return;
  }
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i <= n; ++i) {
    std::uint64_t const c = i < n ? in[i] : 0;
    out[i] = sum;
    sum += c;
  }
}

}  // namespace warp::detail
