// warp/core/config.cuh: compiler and backend detection macros used by every header.
//
// The library is written once for two backends. When a translation unit is compiled by nvcc
// (__CUDACC__), both the CUDA and the host backend are available; when it is compiled by a plain
// C++ compiler, only the host backend exists and no CUDA runtime symbol is referenced.
#pragma once

#if defined(__CUDACC__)
#define WARP_CUDA_ENABLED 1
#define WARP_HD __host__ __device__
#define WARP_FORCEINLINE __forceinline__
#else
#define WARP_CUDA_ENABLED 0
#define WARP_HD
#define WARP_FORCEINLINE inline __attribute__((always_inline))
#endif

// True while compiling the device side of a CUDA translation unit.
#if defined(__CUDA_ARCH__)
#define WARP_DEVICE_COMPILATION 1
#else
#define WARP_DEVICE_COMPILATION 0
#endif

#define WARP_VERSION_MAJOR 0
#define WARP_VERSION_MINOR 1
#define WARP_VERSION_PATCH 0
