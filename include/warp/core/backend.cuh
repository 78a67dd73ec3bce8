// warp/core/backend.cuh: which processor runs a container's work.
//
// Two backends run the same algorithm code: `backend::cuda` (device memory, kernels,
// cooperative-group tiles) and `backend::host` (host memory, OpenMP threads, one-lane tiles).
//   warp::backend b = warp::default_backend();   // cuda if a device is usable, else host
//   warp::backend h = warp::backend::host;       // or choose explicitly
// The environment variable WARP_BACKEND=host|cuda overrides the default; asking for cuda where no
// device (or no driver, or no nvcc-compiled code) exists throws warp::backend_unavailable.
#pragma once

#include <cstdlib>
#include <string>

#include <cuda/stream_ref>

#include <warp/core/config.cuh>
#include <warp/core/error.cuh>

#if WARP_CUDA_ENABLED
#include <cuda_runtime_api.h>
#endif

namespace warp {

enum class backend { host, cuda };

inline char const* to_string(backend b) { return b == backend::cuda ? "cuda" : "host"; }

/// The stream bulk calls use when none is given (the legacy default stream on CUDA; ignored on the host).
inline cuda::stream_ref default_stream() noexcept { return cuda::stream_ref{cudaStream_t{}}; }

/// Why the CUDA backend is (un)available, in words; empty when it is available.
inline std::string cuda_unavailable_reason() {
#if WARP_CUDA_ENABLED
  int count = 0;
  cudaError_t const status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    if (status == cudaErrorInsufficientDriver) {
      return "the CUDA driver is missing or older than this CUDA runtime (" +
             std::string(cudaGetErrorString(status)) + ")";
    }
    if (status == cudaErrorNoDevice) { return "no CUDA device is visible"; }
    return std::string("cudaGetDeviceCount failed: ") + cudaGetErrorName(status) + ": " +
           cudaGetErrorString(status);
  }
  if (count == 0) { return "no CUDA device is visible"; }
  return {};
#else
  return "this translation unit was compiled without nvcc, so it has no CUDA kernels";
#endif
}

/// True when the CUDA backend can run here. Cached after the first call.
inline bool cuda_available() {
  static bool const available = cuda_unavailable_reason().empty();
  return available;
}

/// Throws backend_unavailable when `b` cannot run on this machine.
inline void require_backend(backend b) {
  if (b == backend::cuda && !cuda_available()) {
    throw backend_unavailable("the cuda backend was requested but " + cuda_unavailable_reason());
  }
}

/// The backend used when a caller does not choose one: WARP_BACKEND if set, else cuda when a
/// device is usable, else host.
inline backend default_backend() {
  if (char const* env = std::getenv("WARP_BACKEND"); env != nullptr && *env != '\0') {
    std::string const value{env};
    if (value == "host") { return backend::host; }
    if (value == "cuda") {
      require_backend(backend::cuda);
      return backend::cuda;
    }
    throw invalid_argument("WARP_BACKEND must be 'host' or 'cuda', got '" + value + "'");
  }
  return cuda_available() ? backend::cuda : backend::host;
}

}  // namespace warp
