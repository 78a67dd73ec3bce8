// warp/encoding/rotation.cuh: the rotations of R-MHE's sub-grids, as row-major d x d matrices,
// one per sub-grid: sub-grid m of level l is entry k = l M + m (M = 1: one per level).
//
// Sub-grid k is rotated about the domain centre c = (0.5, ..., 0.5): x' = c + R_k (x - c).
// - golden (2-D): R_k rotates by k * angle (k = 0 unrotated), angle = the golden angle by default,
//   so that the sub-grids' directions never repeat and spread evenly.
// - progressive (2-D): sub-grid m of level l rotates by m pi / (2M) + l pi / (2LM): a level's M
//   sub-grids split the quarter turn (a square grid's period) evenly, and the levels step through
//   the gap between them, so the L M angles are k' pi / (2LM) for distinct k'; with M = 1,
//   theta_l = l pi / (2L).
// - spread (3-D): k = 0 is unrotated; k >= 1 uses the rotation of the unit quaternion that
//   Shoemake's uniform mapping gives for the k-th point of the (2, 3, 5) Halton sequence, a
//   deterministic, well-spread set of rotations.
// - icosahedral (3-D): the 60 rotations of the icosahedron (vertices (0, +-1, +-phi) and their
//   cyclic shifts) fall into 5 classes modulo the 12 that also map the cube [-1, 1]^3 to itself,
//   and a rotation's grid depends only on its class: these are the 5 cubes of the compound
//   inscribed in a dodecahedron. Sub-grid k takes class k mod 5 (class 0 is the identity; each
//   class is represented by its rotation of smallest angle).
// - none: identity matrices (the encoding is then plain MHE, bit for bit).
#pragma once

#include <algorithm>
#include <array>
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

using mat3 = std::array<double, 9>;

inline mat3 multiply(mat3 const& a, mat3 const& b) {
  mat3 c{};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      for (int k = 0; k < 3; ++k) { c[static_cast<std::size_t>(i * 3 + j)] += a[static_cast<std::size_t>(i * 3 + k)] * b[static_cast<std::size_t>(k * 3 + j)]; }
    }
  }
  return c;
}

/// The rotation by `angle` about the unit axis (x, y, z) (Rodrigues).
inline mat3 axis_rotation(double x, double y, double z, double angle) {
  double const n = std::sqrt(x * x + y * y + z * z);
  x /= n;
  y /= n;
  z /= n;
  double const c = std::cos(angle), s = std::sin(angle), t = 1 - c;
  return {t * x * x + c,     t * x * y - s * z, t * x * z + s * y,  //
          t * x * y + s * z, t * y * y + c,     t * y * z - s * x,  //
          t * x * z - s * y, t * y * z + s * x, t * z * z + c};
}

inline bool near(mat3 const& a, mat3 const& b) {
  for (std::size_t i = 0; i < 9; ++i) {
    if (std::abs(a[i] - b[i]) > 1e-9) { return false; }
  }
  return true;
}

/// A rotation that maps the cube [-1, 1]^3 to itself: a signed permutation matrix.
inline bool is_cube_symmetry(mat3 const& m) {
  for (double v : m) {
    if (std::abs(v) > 1e-9 && std::abs(std::abs(v) - 1) > 1e-9) { return false; }
  }
  return true;
}

/// The 60 rotations of the icosahedron, closed under products of two generators (a fifth turn
/// about the vertex (0, 1, phi) and a third turn about the face centre (1, 1, 1)); identity first.
inline std::vector<mat3> icosahedral_group() {
  double const phi = (1 + std::sqrt(5.0)) / 2;
  double const pi = 3.14159265358979323846;
  mat3 const a = axis_rotation(0, 1, phi, 2 * pi / 5), b = axis_rotation(1, 1, 1, 2 * pi / 3);
  std::vector<mat3> group{{1, 0, 0, 0, 1, 0, 0, 0, 1}};
  for (std::size_t i = 0; i < group.size(); ++i) {
    for (mat3 const& g : {a, b}) {
      mat3 const next = multiply(group[i], g);
      bool const known = std::any_of(group.begin(), group.end(), [&](mat3 const& h) { return near(h, next); });
      if (!known) { group.push_back(next); }
    }
  }
  return group;
}

/// The 5 classes of the icosahedral rotations modulo the cube's symmetries, each as its rotation
/// of smallest angle (largest trace; ties: the first in the group's order); the identity first.
inline std::vector<mat3> icosahedral_cube_orientations() {
  std::vector<mat3> const group = icosahedral_group();
  std::vector<mat3> classes;
  for (mat3 const& g : group) {
    // g is in the class of c when c^T g is a cube symmetry.
    auto same_class = [&](mat3 const& c) {
      mat3 ct{};
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) { ct[static_cast<std::size_t>(i * 3 + j)] = c[static_cast<std::size_t>(j * 3 + i)]; }
      }
      return is_cube_symmetry(multiply(ct, g));
    };
    auto const it = std::find_if(classes.begin(), classes.end(), same_class);
    double const trace = g[0] + g[4] + g[8];
    if (it == classes.end()) {
      classes.push_back(g);
    } else if (trace > (*it)[0] + (*it)[4] + (*it)[8] + 1e-9) {
      *it = g;
    }
  }
  return classes;
}
}  // namespace detail

/// One matrix per sub-grid (row-major, dims x dims; sub-grid m of level l at l M + m), for a
/// validated configuration.
inline std::vector<std::vector<double>> rotation_matrices(grid_config const& c) {
  int const d = c.dims;
  int const subgrids = c.subgrids;
  double const pi = 3.14159265358979323846;
  std::vector<detail::mat3> const cubes =
      c.rotation == rotation_kind::icosahedral ? detail::icosahedral_cube_orientations() : std::vector<detail::mat3>{};
  std::vector<std::vector<double>> out;
  for (int l = 0; l < c.levels; ++l) {
    for (int m = 0; m < subgrids; ++m) {
      int const k = l * subgrids + m;
      std::vector<double> r(static_cast<std::size_t>(d * d), 0.0);
      for (int i = 0; i < d; ++i) { r[static_cast<std::size_t>(i * d + i)] = 1.0; }
      if (c.rotation == rotation_kind::golden || (c.rotation == rotation_kind::progressive && k > 0)) {
        double const a = c.rotation == rotation_kind::golden
                             ? k * c.angle
                             : m * pi / (2.0 * subgrids) + l * pi / (2.0 * c.levels * subgrids);
        r = {std::cos(a), -std::sin(a), std::sin(a), std::cos(a)};
      } else if (c.rotation == rotation_kind::spread && k > 0) {
        // Shoemake: (u1, u2, u3) uniform in [0, 1)^3 -> a uniform unit quaternion (w, x, y, z).
        double const u1 = detail::halton(static_cast<unsigned>(k), 2), u2 = detail::halton(static_cast<unsigned>(k), 3),
                     u3 = detail::halton(static_cast<unsigned>(k), 5);
        double const two_pi = 2 * pi;
        double const x = std::sqrt(1 - u1) * std::sin(two_pi * u2), y = std::sqrt(1 - u1) * std::cos(two_pi * u2);
        double const z = std::sqrt(u1) * std::sin(two_pi * u3), w = std::sqrt(u1) * std::cos(two_pi * u3);
        r = {1 - 2 * (y * y + z * z), 2 * (x * y - z * w),     2 * (x * z + y * w),
             2 * (x * y + z * w),     1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
             2 * (x * z - y * w),     2 * (y * z + x * w),     1 - 2 * (x * x + y * y)};
      } else if (c.rotation == rotation_kind::icosahedral && k % 5 != 0) {
        detail::mat3 const& q = cubes[static_cast<std::size_t>(k % 5)];
        r.assign(q.begin(), q.end());
      } else if (c.rotation == rotation_kind::user) {
        r = c.matrices[static_cast<std::size_t>(k)];
      }
      out.push_back(r);
    }
  }
  return out;
}

}  // namespace warp::encoding
