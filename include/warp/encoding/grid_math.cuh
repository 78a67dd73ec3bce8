// warp/encoding/grid_math.cuh: the per-point hash grid encoding functions (forward, gradient to the
// parameters, gradient to the inputs), __host__ __device__, for the bulk calls of grid_encoding and
// for users' fused kernels (pass grid_encoding::view()).
//
// For sub-grid m of level l: p = c + R_lm (x - c) (identity when unrotated), pos = p * s_l + 0.5,
// vertex g = floor(pos), fraction t = pos - g, weight w(t) = t (linear) or t^2 (3 - 2t)
// (smoothstep). Each of the 2^d cell corners contributes w-products times features
// [m F/M, (m + 1) F/M) of its table entry (M = 1: all F); nearest puts the whole weight on the
// lower corner g. The entry of vertex v is
// tiny-cuda-nn's: the dense index sum v_i * r^i while the level's grid fits its table, else the
// XOR of v_i * prime_i; modulo the level size. Vertex coordinates are unsigned 32-bit: a rotated
// point that leaves the unit cube gets negative coordinates, which wrap (two's complement) — hashed
// levels hash them like any vertex, dense levels alias them modulo the level size. Coordinates
// (after rotation) are clamped to [-1, 2] — a rotated point of the unit cube stays inside it —
// with NaN taken as -1, so NaN, infinite and huge inputs give defined (if meaningless) features
// and a zero input gradient; no access ever leaves the level's table.
//
// Arithmetic is explicitly rounded (no fused multiply-adds on the device), so that the host and
// CUDA backends compute the same bits; the deterministic backward relies on it. With
// arithmetic::fused the scaled position and the forward accumulation are explicit fmaf on both
// backends, as tiny-cuda-nn's compiled kernel computes them.
#pragma once

#include <cmath>
#include <cstdint>

#include <cuda/atomic>

#include <warp/core/config.cuh>
#include <warp/detail/atomic.cuh>
#include <warp/encoding/grid_config.cuh>

namespace warp::encoding {

/// What the per-point functions need, trivially copyable (pointers into the backend's memory).
struct grid_view {
  int dims;
  int levels;
  int features;
  int subgrids;             ///< M per level, each with features / M of each entry
  interpolation interp;
  std::uint32_t primes[4];
  grid_level const* level;  ///< levels entries
  float const* rotation;    ///< levels * subgrids row-major d x d matrices (l M + m), or null (no rotation)
  bool fused;               ///< arithmetic::fused: fmaf for the position and the forward accumulation
};

namespace detail {

// Rounded float operations that the device compiler may not fuse (host compilers do not fuse
// separate operations without FMA flags).
WARP_HD WARP_FORCEINLINE float mul(float a, float b) {
#if WARP_DEVICE_COMPILATION
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
WARP_HD WARP_FORCEINLINE float add(float a, float b) {
#if WARP_DEVICE_COMPILATION
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
WARP_HD WARP_FORCEINLINE float sub(float a, float b) {
#if WARP_DEVICE_COMPILATION
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
WARP_HD WARP_FORCEINLINE float fma(float a, float b, float c) {
#if WARP_DEVICE_COMPILATION
  return __fmaf_rn(a, b, c);
#else
  return std::fmaf(a, b, c);  // correctly rounded, as __fmaf_rn
#endif
}
/// acc + weight * v: rounded twice, or once (arithmetic::fused).
WARP_HD WARP_FORCEINLINE float accumulate(bool fused, float acc, float weight, float v) {
  return fused ? fma(weight, v, acc) : add(acc, mul(weight, v));
}

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

/// The level's cell of x in sub-grid m: vertex, interpolation weights and their derivatives.
template <int D>
struct cell {
  std::uint32_t vertex[D];
  float w[D];   ///< interpolation weight of the upper corner along each axis
  float dw[D];  ///< its derivative with respect to the scaled position
};

template <int D>
WARP_HD WARP_FORCEINLINE cell<D> locate_cell(grid_view const& g, int l, int m, float const* x) {
  cell<D> c;
  grid_level const& lv = g.level[l];
  float p[D];
  if (g.rotation != nullptr && ((lv.rotated_subgrids >> m) & 1u)) {  // identity sub-grids skip it: bit-identical to plain MHE
    float const* r = g.rotation + (l * g.subgrids + m) * D * D;
    for (int i = 0; i < D; ++i) {
      float s = 0.0f;
      for (int j = 0; j < D; ++j) { s = add(s, mul(r[i * D + j], sub(x[j], 0.5f))); }
      p[i] = add(0.5f, s);
    }
  } else {
    for (int i = 0; i < D; ++i) { p[i] = x[i]; }
  }
  for (int i = 0; i < D; ++i) {
    // Coordinates outside [-1, 2] (NaN, infinities, huge values) are clamped into it, so that the
    // vertex conversion below is always defined; the gradient of a clamped coordinate is 0.
    bool const inside = p[i] >= -1.0f && p[i] <= 2.0f;
    p[i] = inside ? p[i] : (p[i] > 2.0f ? 2.0f : -1.0f);  // NaN goes to -1
    float const pos = g.fused ? fma(p[i], lv.scale, 0.5f) : add(mul(p[i], lv.scale), 0.5f);
    float const f = floorf(pos);
    float const t = sub(pos, f);
    c.vertex[i] = static_cast<std::uint32_t>(static_cast<int>(f));
    if (g.interp == interpolation::smoothstep) {
      c.w[i] = mul(mul(t, t), sub(3.0f, mul(2.0f, t)));
      c.dw[i] = inside ? mul(mul(6.0f, t), sub(1.0f, t)) : 0.0f;
    } else if (g.interp == interpolation::nearest) {
      c.w[i] = 0.0f;  // the lower corner takes the whole weight
      c.dw[i] = 0.0f;
    } else {
      c.w[i] = t;
      c.dw[i] = inside ? 1.0f : 0.0f;
    }
  }
  return c;
}

/// Calls f(corner, weight, the corner's entry) for the 2^D corners of the cell (nearest: the
/// lower corner only, the others having weight 0).
template <int D, class F>
WARP_HD WARP_FORCEINLINE void for_each_corner(grid_view const& g, grid_level const& lv, cell<D> const& c, F&& f) {
  int const corners = g.interp == interpolation::nearest ? 1 : (1 << D);
  for (int corner = 0; corner < corners; ++corner) {
    float weight = 1.0f;
    std::uint32_t v[D];
    for (int i = 0; i < D; ++i) {
      bool const up = (corner >> i) & 1;
      weight = mul(weight, up ? c.w[i] : sub(1.0f, c.w[i]));
      v[i] = c.vertex[i] + (up ? 1u : 0u);
    }
    std::uint64_t const entry = static_cast<std::uint64_t>(lv.offset) + entry_index(g.primes, lv, D, v);
    f(corner, weight, entry);
  }
}

}  // namespace detail

/// out[l * F + f] for every level and feature of point x (D coordinates).
template <int D, class Param>
WARP_HD void encode_point(grid_view const& g, Param const* params, float const* x, float* out) {
  int const share = g.features / g.subgrids;  // features of one sub-grid
  for (int l = 0; l < g.levels; ++l) {
    for (int m = 0; m < g.subgrids; ++m) {
      detail::cell<D> const c = detail::locate_cell<D>(g, l, m, x);
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      detail::for_each_corner<D>(g, g.level[l], c, [&](int, float weight, std::uint64_t entry) {
        Param const* p = params + entry * static_cast<std::uint64_t>(g.features) + m * share;
        for (int f = 0; f < share; ++f) { acc[f] = detail::accumulate(g.fused, acc[f], weight, static_cast<float>(p[f])); }
      });
      for (int f = 0; f < share; ++f) { out[l * g.features + m * share + f] = acc[f]; }
    }
  }
}

/// grad[entry] += weight * dL/dy for every entry point x touches (atomic adds: the order, hence
/// the last bits, vary from run to run; see grid_encoding's deterministic mode).
template <int D>
WARP_HD void scatter_param_gradient(grid_view const& g, float const* x, float const* dl_dy, float* grad) {
  int const share = g.features / g.subgrids;
  for (int l = 0; l < g.levels; ++l) {
    for (int m = 0; m < g.subgrids; ++m) {
      detail::cell<D> const c = detail::locate_cell<D>(g, l, m, x);
      float const* dy = dl_dy + l * g.features + m * share;
      detail::for_each_corner<D>(g, g.level[l], c, [&](int, float weight, std::uint64_t entry) {
        float* out = grad + entry * static_cast<std::uint64_t>(g.features) + m * share;
        for (int f = 0; f < share; ++f) { (void)warp::detail::atomic_add(out + f, detail::mul(weight, dy[f])); }
      });
    }
  }
}

/// dL/dx (D values) from dL/dy: per level the gradient to the rotated position, turned back by R_l^T.
template <int D, class Param>
WARP_HD void input_gradient(grid_view const& g, Param const* params, float const* x, float const* dl_dy, float* dl_dx) {
  for (int i = 0; i < D; ++i) { dl_dx[i] = 0.0f; }
  if (g.interp == interpolation::nearest) { return; }  // piecewise constant
  int const share = g.features / g.subgrids;
  for (int l = 0; l < g.levels; ++l) {
    grid_level const& lv = g.level[l];
    for (int m = 0; m < g.subgrids; ++m) {
      detail::cell<D> const c = detail::locate_cell<D>(g, l, m, x);
      float const* dy = dl_dy + l * g.features + m * share;
      float dp[D];
      for (int i = 0; i < D; ++i) { dp[i] = 0.0f; }
      detail::for_each_corner<D>(g, lv, c, [&](int corner, float, std::uint64_t entry) {
        Param const* p = params + entry * static_cast<std::uint64_t>(g.features) + m * share;
        float value = 0.0f;  // dL/d(this corner's weight)
        for (int f = 0; f < share; ++f) { value = detail::add(value, detail::mul(dy[f], static_cast<float>(p[f]))); }
        for (int i = 0; i < D; ++i) {
          float dweight = ((corner >> i) & 1) ? c.dw[i] : -c.dw[i];
          for (int k = 0; k < D; ++k) {
            if (k != i) { dweight = detail::mul(dweight, ((corner >> k) & 1) ? c.w[k] : detail::sub(1.0f, c.w[k])); }
          }
          dp[i] = detail::add(dp[i], detail::mul(detail::mul(dweight, lv.scale), value));
        }
      });
      if (g.rotation != nullptr && ((lv.rotated_subgrids >> m) & 1u)) {
        float const* r = g.rotation + (l * g.subgrids + m) * D * D;
        for (int j = 0; j < D; ++j) {
          for (int i = 0; i < D; ++i) { dl_dx[j] = detail::add(dl_dx[j], detail::mul(r[i * D + j], dp[i])); }
        }
      } else {
        for (int i = 0; i < D; ++i) { dl_dx[i] = detail::add(dl_dx[i], dp[i]); }
      }
    }
  }
}

/// The forward of encode_point plus the Jacobian: jac[(l * F + f) * D + j] = d out[l * F + f] / d x_j
/// (what tiny-cuda-nn calls preparing dL/dx during the forward pass).
template <int D, class Param>
WARP_HD void encode_point_with_jacobian(grid_view const& g, Param const* params, float const* x, float* out, float* jac) {
  int const share = g.features / g.subgrids;
  for (int l = 0; l < g.levels; ++l) {
    for (int m = 0; m < g.subgrids; ++m) {
      detail::cell<D> const c = detail::locate_cell<D>(g, l, m, x);
      grid_level const& lv = g.level[l];
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      float dp[8][D];  // d out_f / d p_i (rotated position)
      for (int f = 0; f < 8; ++f) {
        for (int i = 0; i < D; ++i) { dp[f][i] = 0.0f; }
      }
      detail::for_each_corner<D>(g, lv, c, [&](int corner, float weight, std::uint64_t entry) {
        Param const* p = params + entry * static_cast<std::uint64_t>(g.features) + m * share;
        float dweight[D];
        for (int i = 0; i < D; ++i) {
          dweight[i] = ((corner >> i) & 1) ? c.dw[i] : -c.dw[i];
          for (int k = 0; k < D; ++k) {
            if (k != i) { dweight[i] = detail::mul(dweight[i], ((corner >> k) & 1) ? c.w[k] : detail::sub(1.0f, c.w[k])); }
          }
          dweight[i] = detail::mul(dweight[i], lv.scale);
        }
        for (int f = 0; f < share; ++f) {
          float const v = static_cast<float>(p[f]);
          acc[f] = detail::accumulate(g.fused, acc[f], weight, v);
          for (int i = 0; i < D; ++i) { dp[f][i] = detail::add(dp[f][i], detail::mul(dweight[i], v)); }
        }
      });
      for (int f = 0; f < share; ++f) {
        int const k = l * g.features + m * share + f;
        out[k] = acc[f];
        float* row = jac + k * D;
        for (int j = 0; j < D; ++j) {
          if (g.rotation != nullptr && ((lv.rotated_subgrids >> m) & 1u)) {
            float const* r = g.rotation + (l * g.subgrids + m) * D * D;
            float s = 0.0f;
            for (int i = 0; i < D; ++i) { s = detail::add(s, detail::mul(r[i * D + j], dp[f][i])); }
            row[j] = s;
          } else {
            row[j] = dp[f][j];
          }
        }
      }
    }
  }
}

/// Deterministic variant of scatter_param_gradient: each contribution is rounded to a 64-bit
/// fixed-point integer (contribution * scale, scale a power of two) and added with an integer
/// atomic. Integer addition is associative, so the sums, and the gradient converted back from
/// them, are the same bits whatever the order of the additions: on every run, and on the host and
/// CUDA backends alike.
template <int D>
WARP_HD void scatter_param_gradient_fixed(grid_view const& g, float const* x, float const* dl_dy, double scale,
                                          long long* accum) {
  int const share = g.features / g.subgrids;
  for (int l = 0; l < g.levels; ++l) {
    for (int m = 0; m < g.subgrids; ++m) {
      detail::cell<D> const c = detail::locate_cell<D>(g, l, m, x);
      float const* dy = dl_dy + l * g.features + m * share;
      detail::for_each_corner<D>(g, g.level[l], c, [&](int, float weight, std::uint64_t entry) {
        long long* out = accum + entry * static_cast<std::uint64_t>(g.features) + m * share;
        for (int f = 0; f < share; ++f) {
          double const scaled = static_cast<double>(detail::mul(weight, dy[f])) * scale;  // exact
#if WARP_DEVICE_COMPILATION
          long long const q = __double2ll_rn(scaled);
#else
          long long const q = std::llrint(scaled);
#endif
          if (q != 0) { (void)warp::detail::atomic_add(out + f, q); }
        }
      });
    }
  }
}

}  // namespace warp::encoding
