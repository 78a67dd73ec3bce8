// warp/encoding/rotation.cuh: the per-level rotations of R-MHE, as row-major d x d matrices.
//
// Level l is rotated about the domain centre c = (0.5, ..., 0.5): x' = c + R_l (x - c).
// - golden (2-D): R_l rotates by l * angle (level 0 is unrotated), angle = the golden angle by
//   default, so that the levels' grid directions never repeat and spread evenly.
// - spread (3-D): level 0 is unrotated; level l >= 1 uses the rotation of the unit quaternion that
//   Shoemake's uniform mapping gives for the l-th point of the (2, 3, 5) Halton sequence, a
//   deterministic, well-spread set of rotations.
// - none: identity matrices (the encoding is then plain MHE, bit for bit).
#pragma once

#include <cmath>
#include <vector>

#include <warp/encoding/grid_config.cuh>

namespace warp::encoding {

namespace detail {
inline double halton(unsigned index, unsigned base) {
  double f = 1.0, r = 0.0;
  for (unsigned i = index; i > 0; i /= base) {
    f /= base;
    r += f * (i % base);
  }
  return r;
}
}  // namespace detail

/// One matrix per level (row-major, dims x dims), for a validated configuration.
inline std::vector<std::vector<double>> rotation_matrices(grid_config const& c) {
  int const d = c.dims;
  std::vector<std::vector<double>> out;
  for (int l = 0; l < c.levels; ++l) {
    std::vector<double> m(static_cast<std::size_t>(d * d), 0.0);
    for (int i = 0; i < d; ++i) { m[static_cast<std::size_t>(i * d + i)] = 1.0; }
    if (c.rotation == rotation_kind::golden) {
      double const a = l * c.angle;
      m = {std::cos(a), -std::sin(a), std::sin(a), std::cos(a)};
    } else if (c.rotation == rotation_kind::spread && l > 0) {
      // Shoemake: (u1, u2, u3) uniform in [0, 1)^3 -> a uniform unit quaternion (w, x, y, z).
      double const u1 = detail::halton(static_cast<unsigned>(l), 2), u2 = detail::halton(static_cast<unsigned>(l), 3),
                   u3 = detail::halton(static_cast<unsigned>(l), 5);
      double const two_pi = 6.28318530717958647692;
      double const x = std::sqrt(1 - u1) * std::sin(two_pi * u2), y = std::sqrt(1 - u1) * std::cos(two_pi * u2);
      double const z = std::sqrt(u1) * std::sin(two_pi * u3), w = std::sqrt(u1) * std::cos(two_pi * u3);
      m = {1 - 2 * (y * y + z * z), 2 * (x * y - z * w),     2 * (x * z + y * w),
           2 * (x * y + z * w),     1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
           2 * (x * z - y * w),     2 * (y * z + x * w),     1 - 2 * (x * x + y * y)};
    } else if (c.rotation == rotation_kind::user) {
      m = c.matrices[static_cast<std::size_t>(l)];
    }
    out.push_back(m);
  }
  return out;
}

}  // namespace warp::encoding
