// warp/encoding/point_spread.cuh: the collision-free point spread function (PSF) of a grid
// encoding configuration, the analysis of "Characterizing and Optimizing the Spatial Kernel of
// Multi Resolution Hash Encodings".
//
// A point constraint at x0, learned by one gradient step with a linear readout, changes the
// encoding's output at x in proportion to the kernel
//   k(x, x0) = sum over levels of sum over shared vertices v of w_v(x) w_v(x0),
// with w_v the interpolation weights and no hash collisions (every vertex its own entry). The PSF
// is that kernel averaged over x0 (random offsets from the grids), as a function of the displacement
// r u; its full width at half maximum (FWHM) along the axes and the diagonals measures the
// grid-induced anisotropy:
// anisotropy = mean axis FWHM / mean diagonal FWHM (1 is isotropic). Host-side, in double.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <warp/encoding/grid_config.cuh>
#include <warp/encoding/rotation.cuh>

namespace warp::encoding {

struct psf_report {
  double fwhm_axis;      ///< mean full width at half maximum along the coordinate axes (input units)
  double fwhm_diagonal;  ///< mean FWHM along the diagonals
  double anisotropy;     ///< fwhm_axis / fwhm_diagonal
  double tail_axis;      ///< full width at 10 % of the maximum, along the axes
  double tail_diagonal;  ///< the same along the diagonals
  double tail_anisotropy;  ///< tail_axis / tail_diagonal: the square support of axis-aligned cells shows here
};

namespace detail {

/// k(x, x0) for a configuration's levels (collision-free).
inline double psf_kernel(grid_config const& c, std::vector<grid_level> const& levels,
                         std::vector<std::vector<double>> const& rot, std::vector<double> const& x,
                         std::vector<double> const& x0) {
  int const d = c.dims;
  double k = 0.0;
  // A level's M sub-grids each carry F / M of its features: the level's kernel is their mean.
  for (int sub = 0; sub < c.levels * c.subgrids; ++sub) {
    int const l = sub / c.subgrids;
    double s = 1.0 / c.subgrids;  // the kernel factorizes over axes within a sub-grid
    for (int i = 0; i < d; ++i) {
      double p = 0.5, q = 0.5;
      for (int j = 0; j < d; ++j) {
        double const r = c.rotation == rotation_kind::none ? (i == j ? 1.0 : 0.0) : rot[static_cast<std::size_t>(sub)][static_cast<std::size_t>(i * d + j)];
        p += r * (x[static_cast<std::size_t>(j)] - 0.5);
        q += r * (x0[static_cast<std::size_t>(j)] - 0.5);
      }
      double const scale = levels[static_cast<std::size_t>(l)].scale;
      double const a = p * scale + 0.5, b = q * scale + 0.5;
      auto weight = [&](double t) {
        return c.interp == interpolation::smoothstep ? t * t * (3 - 2 * t) : c.interp == interpolation::nearest ? 0.0 : t;
      };
      // Sum over the two vertices of each point's 1-D cell that both share.
      double const ga = std::floor(a), gb = std::floor(b);
      double const wa = weight(a - ga), wb = weight(b - gb);
      double axis = 0.0;
      for (int ua = 0; ua < 2; ++ua) {
        for (int ub = 0; ub < 2; ++ub) {
          if (ga + ua == gb + ub) { axis += (ua ? wa : 1 - wa) * (ub ? wb : 1 - wb); }
        }
      }
      s *= axis;
    }
    k += s;
  }
  return k;
}

/// The PSF along unit direction u at distance r: the kernel averaged over the points x0 (the
/// expected response to a point constraint placed at a random offset from the grids).
inline double psf_profile(grid_config const& c, std::vector<grid_level> const& levels, std::vector<std::vector<double>> const& rot,
                          std::vector<std::vector<double>> const& origins, std::vector<double> const& u, double r) {
  double sum = 0.0;
  for (auto const& x0 : origins) {
    std::vector<double> x = x0;
    for (std::size_t i = 0; i < x.size(); ++i) { x[i] += r * u[i]; }
    sum += psf_kernel(c, levels, rot, x, x0);
  }
  return sum / static_cast<double>(origins.size());
}

/// Full width of the PSF along u at `fraction` of its maximum (bisection on each side; the profile
/// decreases).
inline double psf_width(grid_config const& c, std::vector<grid_level> const& levels, std::vector<std::vector<double>> const& rot,
                        std::vector<std::vector<double>> const& origins, std::vector<double> const& u, double fraction) {
  double const half = fraction * psf_profile(c, levels, rot, origins, u, 0.0);
  double width = 0.0;
  for (double side : {-1.0, 1.0}) {
    double lo = 0.0, hi = 4.0 / static_cast<double>(levels.front().scale);  // beyond the coarsest cell
    for (int it = 0; it < 50; ++it) {
      double const mid = 0.5 * (lo + hi);
      (psf_profile(c, levels, rot, origins, u, side * mid) > half ? lo : hi) = mid;
    }
    width += 0.5 * (lo + hi);
  }
  return width;
}

}  // namespace detail

/// The PSF widths of a 2-D or 3-D configuration, the PSF averaged over `samples` random points in
/// the central half of the domain.
inline psf_report point_spread(grid_config const& c, int samples = 400, std::uint64_t seed = 1) {
  auto const levels = make_levels(c);
  auto const rot = rotation_matrices(c);
  int const d = c.dims;
  std::mt19937_64 rng{seed};
  std::uniform_real_distribution<double> u(0.25, 0.75);
  std::vector<std::vector<double>> origins(static_cast<std::size_t>(samples), std::vector<double>(static_cast<std::size_t>(d)));
  for (auto& x0 : origins) {
    for (auto& v : x0) { v = u(rng); }
  }
  double axis[2] = {0, 0}, diagonal[2] = {0, 0};
  int axis_n = 0, diagonal_n = 0;
  double const fractions[2] = {0.5, 0.1};
  for (int i = 0; i < d; ++i) {
    std::vector<double> dir(static_cast<std::size_t>(d), 0.0);
    dir[static_cast<std::size_t>(i)] = 1.0;
    for (int t = 0; t < 2; ++t) { axis[t] += detail::psf_width(c, levels, rot, origins, dir, fractions[t]); }
    ++axis_n;
    for (int j = i + 1; j < d; ++j) {  // the diagonals of each coordinate plane
      for (double sign : {1.0, -1.0}) {
        std::vector<double> diag(static_cast<std::size_t>(d), 0.0);
        diag[static_cast<std::size_t>(i)] = std::sqrt(0.5);
        diag[static_cast<std::size_t>(j)] = sign * std::sqrt(0.5);
        for (int t = 0; t < 2; ++t) { diagonal[t] += detail::psf_width(c, levels, rot, origins, diag, fractions[t]); }
        ++diagonal_n;
      }
    }
  }
  psf_report r{};
  r.fwhm_axis = axis[0] / axis_n;
  r.fwhm_diagonal = diagonal[0] / diagonal_n;
  r.anisotropy = r.fwhm_axis / r.fwhm_diagonal;
  r.tail_axis = axis[1] / axis_n;
  r.tail_diagonal = diagonal[1] / diagonal_n;
  r.tail_anisotropy = r.tail_axis / r.tail_diagonal;
  return r;
}

}  // namespace warp::encoding
