// warp/detail/cuda_check.cuh: turning CUDA runtime errors into warp::cuda_error.
//
//   WARP_CUDA_TRY(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault));
// throws warp::cuda_error naming "cudaMemcpy(dst, src, bytes, cudaMemcpyDefault)" on failure.
#pragma once

#include <warp/core/config.cuh>
#include <warp/core/error.cuh>

#if WARP_CUDA_ENABLED
#include <cuda_runtime_api.h>

namespace warp::detail {
inline void cuda_try(cudaError_t status, char const* call) {
  if (status != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky-free error so later calls are not poisoned
    throw cuda_error(call, static_cast<int>(status), cudaGetErrorName(status),
                     cudaGetErrorString(status));
  }
}
}  // namespace warp::detail

#define WARP_CUDA_TRY(call) ::warp::detail::cuda_try((call), #call)
#endif
