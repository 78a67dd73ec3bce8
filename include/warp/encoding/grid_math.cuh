// warp/encoding/grid_math.cuh: the per-point hash grid encoding functions (forward, gradient to the
// parameters, gradient to the inputs), __host__ __device__, for the bulk calls of grid_encoding and
// for users' fused kernels (pass grid_encoding::view()).
//
// For level l: p = c + R_l (x - c) (identity when unrotated), pos = p * s_l + 0.5, vertex
// g = floor(pos), fraction t = pos - g, weight w(t) = t (linear) or t^2 (3 - 2t) (smoothstep). Each
// of the 2^d cell corners contributes w-products times its table entry. The entry of vertex v is
// tiny-cuda-nn's: the dense index sum v_i * r^i while the level's grid fits its table, else the
// XOR of v_i * prime_i; modulo the level size. Vertex coordinates are unsigned 32-bit: a rotated
// point that leaves the unit cube gets negative coordinates, which wrap (two's complement) — hashed
// levels hash them like any vertex, dense levels alias them modulo the level size. Nothing is
// clamped and no access leaves the level's table.
#pragma once

#include <cmath>
#include <cstdint>

#include <cuda/atomic>

#include <warp/core/config.cuh>
#include <warp/encoding/grid_config.cuh>

namespace warp::encoding {

/// What the per-point functions need, trivially copyable (pointers into the backend's memory).
struct grid_view {
  int dims;
  int levels;
  int features;
  interpolation interp;
  std::uint32_t primes[4];
  grid_level const* level;  ///< levels entries
  float const* rotation;    ///< levels row-major d x d matrices, or null (no rotation)
};

namespace detail {

WARP_HD WARP_FORCEINLINE std::uint32_t entry_index(std::uint32_t const* primes, grid_level const& lv, int dims,
                                                   std::uint32_t const* v) {
  std::uint64_t stride = 1;
  std::uint32_t index = 0;
  for (int i = 0; i < dims && stride <= lv.size; ++i) {
    index += v[i] * static_cast<std::uint32_t>(stride);
    stride *= lv.resolution;
  }
  if (lv.size < stride) {
    index = 0;
    for (int i = 0; i < dims; ++i) { index ^= v[i] * primes[i]; }
  }
  return index % lv.size;
}

/// The level's position of x: rotated, scaled, split into vertex and fraction, with weights.
template <int D>
struct cell {
  std::uint32_t vertex[D];
  float w[D];   ///< interpolation weight of the upper corner along each axis
  float dw[D];  ///< its derivative with respect to the scaled position
};

template <int D>
WARP_HD WARP_FORCEINLINE cell<D> locate_cell(grid_view const& g, int l, float const* x) {
  cell<D> c;
  grid_level const& lv = g.level[l];
  float p[D];
  if (g.rotation != nullptr && lv.rotated) {  // identity levels skip it: bit-identical to plain MHE
    float const* r = g.rotation + l * D * D;
    for (int i = 0; i < D; ++i) {
      float s = 0.0f;
      for (int j = 0; j < D; ++j) { s += r[i * D + j] * (x[j] - 0.5f); }
      p[i] = 0.5f + s;
    }
  } else {
    for (int i = 0; i < D; ++i) { p[i] = x[i]; }
  }
  for (int i = 0; i < D; ++i) {
    float const pos = p[i] * lv.scale + 0.5f;
    float const f = floorf(pos);
    float const t = pos - f;
    c.vertex[i] = static_cast<std::uint32_t>(static_cast<int>(f));
    if (g.interp == interpolation::smoothstep) {
      c.w[i] = t * t * (3.0f - 2.0f * t);
      c.dw[i] = 6.0f * t * (1.0f - t);
    } else {
      c.w[i] = t;
      c.dw[i] = 1.0f;
    }
  }
  return c;
}

}  // namespace detail

/// out[l * F + f] for every level and feature of point x (D coordinates).
template <int D, class Param>
WARP_HD void encode_point(grid_view const& g, Param const* params, float const* x, float* out) {
  for (int l = 0; l < g.levels; ++l) {
    detail::cell<D> const c = detail::locate_cell<D>(g, l, x);
    grid_level const& lv = g.level[l];
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int corner = 0; corner < (1 << D); ++corner) {
      float weight = 1.0f;
      std::uint32_t v[D];
      for (int i = 0; i < D; ++i) {
        bool const up = (corner >> i) & 1;
        weight *= up ? c.w[i] : 1.0f - c.w[i];
        v[i] = c.vertex[i] + (up ? 1u : 0u);
      }
      std::uint64_t const e = (static_cast<std::uint64_t>(lv.offset) + detail::entry_index(g.primes, lv, D, v)) * g.features;
      for (int f = 0; f < g.features; ++f) { acc[f] += weight * static_cast<float>(params[e + f]); }
    }
    for (int f = 0; f < g.features; ++f) { out[l * g.features + f] = acc[f]; }
  }
}

/// grad[entry] += weight * dL/dy for every entry point x touches (atomic adds).
template <int D>
WARP_HD void scatter_param_gradient(grid_view const& g, float const* x, float const* dl_dy, float* grad) {
  for (int l = 0; l < g.levels; ++l) {
    detail::cell<D> const c = detail::locate_cell<D>(g, l, x);
    grid_level const& lv = g.level[l];
    for (int corner = 0; corner < (1 << D); ++corner) {
      float weight = 1.0f;
      std::uint32_t v[D];
      for (int i = 0; i < D; ++i) {
        bool const up = (corner >> i) & 1;
        weight *= up ? c.w[i] : 1.0f - c.w[i];
        v[i] = c.vertex[i] + (up ? 1u : 0u);
      }
      std::uint64_t const e = (static_cast<std::uint64_t>(lv.offset) + detail::entry_index(g.primes, lv, D, v)) * g.features;
      for (int f = 0; f < g.features; ++f) {
        cuda::atomic_ref<float, cuda::thread_scope_device>{grad[e + f]}.fetch_add(weight * dl_dy[l * g.features + f],
                                                                                   cuda::std::memory_order_relaxed);
      }
    }
  }
}

/// dL/dx (D values) from dL/dy: per level the gradient to the rotated position, turned back by R_l^T.
template <int D, class Param>
WARP_HD void input_gradient(grid_view const& g, Param const* params, float const* x, float const* dl_dy, float* dl_dx) {
  for (int i = 0; i < D; ++i) { dl_dx[i] = 0.0f; }
  for (int l = 0; l < g.levels; ++l) {
    detail::cell<D> const c = detail::locate_cell<D>(g, l, x);
    grid_level const& lv = g.level[l];
    float dp[D];
    for (int i = 0; i < D; ++i) { dp[i] = 0.0f; }
    for (int corner = 0; corner < (1 << D); ++corner) {
      std::uint32_t v[D];
      for (int i = 0; i < D; ++i) { v[i] = c.vertex[i] + (((corner >> i) & 1) ? 1u : 0u); }
      std::uint64_t const e = (static_cast<std::uint64_t>(lv.offset) + detail::entry_index(g.primes, lv, D, v)) * g.features;
      float value = 0.0f;  // dL/d(this corner's weight)
      for (int f = 0; f < g.features; ++f) { value += dl_dy[l * g.features + f] * static_cast<float>(params[e + f]); }
      for (int i = 0; i < D; ++i) {
        float dweight = ((corner >> i) & 1) ? c.dw[i] : -c.dw[i];
        for (int k = 0; k < D; ++k) {
          if (k != i) { dweight *= ((corner >> k) & 1) ? c.w[k] : 1.0f - c.w[k]; }
        }
        dp[i] += dweight * lv.scale * value;
      }
    }
    if (g.rotation != nullptr && lv.rotated) {
      float const* r = g.rotation + l * D * D;
      for (int j = 0; j < D; ++j) {
        for (int i = 0; i < D; ++i) { dl_dx[j] += r[i * D + j] * dp[i]; }
      }
    } else {
      for (int i = 0; i < D; ++i) { dl_dx[i] += dp[i]; }
    }
  }
}

}  // namespace warp::encoding
