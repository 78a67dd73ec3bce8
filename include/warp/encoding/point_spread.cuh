// warp/encoding/point_spread.cuh: the collision-free point spread function (PSF) of a grid
// encoding configuration, the analysis of "Characterizing and Optimizing the Spatial Kernel of
// Multi Resolution Hash Encodings".
//
// A point constraint at x0, learned by one gradient step with a linear readout, changes the
// encoding's output at x in proportion to the kernel
//   k(x, x0) = sum over levels of sum over shared vertices v of w_v(x) w_v(x0),
// with w_v the interpolation weights and no hash collisions (every vertex its own entry). Two
// protocols give the PSF as a function of the displacement r u:
// - offset_averaged: that kernel averaged over x0 (random offsets from the grids): what a
//   constraint placed anywhere sees on average. The averaging washes most of the anisotropy out.
// - tent_centred: the paper's closed-form model, the mean over levels (and sub-grids) of the
//   normalised d-linear tent kernels centred on the constraint, prod_i max(0, 1 - s_l |(R u)_i| r)
//   (a constraint on a vertex of every level). Its widths carry the grid-induced anisotropy.
// Their full widths at half maximum (FWHM) along the axes and the diagonals measure it:
// anisotropy = mean axis FWHM / mean diagonal FWHM (1 is isotropic); in 3-D also the body
// diagonals; in 2-D also the FWHM over directions in [0, pi/2) (its max / min). The widths scale
// with N_avg, the geometric mean of the levels' scales s_l. Host-side, in double.
// trained_point_spread (below) measures the empirical PSF after fitting a single-point
// constraint; hash_speckle the collisions' speckle.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <warp/encoding/grid_config.cuh>
#include <warp/encoding/grid_encoding.cuh>
#include <warp/encoding/grid_math.cuh>
#include <warp/encoding/rotation.cuh>

namespace warp::encoding {

enum class psf_protocol { offset_averaged, tent_centred };

struct psf_report {
  double fwhm_axis;      ///< mean full width at half maximum along the coordinate axes (input units)
  double fwhm_diagonal;  ///< mean FWHM along the diagonals of the coordinate planes
  double anisotropy;     ///< fwhm_axis / fwhm_diagonal
  double tail_axis;      ///< full width at 10 % of the maximum, along the axes
  double tail_diagonal;  ///< the same along the diagonals
  double tail_anisotropy;  ///< tail_axis / tail_diagonal: the square support of axis-aligned cells shows here
  double fwhm_body_diagonal = 0;  ///< 3-D: mean FWHM along the body diagonals (+-1, +-1, +-1) / sqrt 3
  double body_anisotropy = 0;     ///< 3-D: fwhm_axis / fwhm_body_diagonal
  double fwhm_min = 0, fwhm_max = 0;  ///< 2-D: the FWHM's extremes over directions in [0, pi/2)
  double angle_ratio = 0;         ///< 2-D: fwhm_max / fwhm_min
  double n_avg = 0;               ///< the geometric mean of the levels' scales s_l
  double fwhm_times_n_avg = 0;    ///< fwhm_axis * n_avg
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

/// The tent-centred model at displacement r u: the mean over levels and sub-grids of the d-linear
/// tents centred on the constraint.
inline double tent_profile(grid_config const& c, std::vector<grid_level> const& levels, std::vector<std::vector<double>> const& rot,
                           std::vector<double> const& u, double r) {
  int const d = c.dims;
  double sum = 0.0;
  for (int sub = 0; sub < c.levels * c.subgrids; ++sub) {
    double const scale = levels[static_cast<std::size_t>(sub / c.subgrids)].scale;
    double tent = 1.0;
    for (int i = 0; i < d; ++i) {
      double v = 0.0;
      for (int j = 0; j < d; ++j) {
        double const m = c.rotation == rotation_kind::none ? (i == j ? 1.0 : 0.0) : rot[static_cast<std::size_t>(sub)][static_cast<std::size_t>(i * d + j)];
        v += m * u[static_cast<std::size_t>(j)];
      }
      tent *= std::max(0.0, 1.0 - scale * std::abs(v * r));
    }
    sum += tent;
  }
  return sum / (c.levels * c.subgrids);
}

/// Full width of a profile(r) (r signed along one direction) at `fraction` of its value at 0
/// (bisection on each side within r_max; the profile decreases away from 0).
template <class Profile>
double full_width(Profile const& profile, double fraction, double r_max) {
  double const level = fraction * profile(0.0);
  double width = 0.0;
  for (double side : {-1.0, 1.0}) {
    double lo = 0.0, hi = r_max;
    for (int it = 0; it < 50; ++it) {
      double const mid = 0.5 * (lo + hi);
      (profile(side * mid) > level ? lo : hi) = mid;
    }
    width += 0.5 * (lo + hi);
  }
  return width;
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

/// Full width of the PSF along u at `fraction` of its maximum, under a protocol.
inline double psf_width(grid_config const& c, psf_protocol protocol, std::vector<grid_level> const& levels,
                        std::vector<std::vector<double>> const& rot, std::vector<std::vector<double>> const& origins,
                        std::vector<double> const& u, double fraction) {
  double const r_max = 4.0 / static_cast<double>(levels.front().scale);  // beyond the coarsest cell
  if (protocol == psf_protocol::tent_centred) {
    return full_width([&](double r) { return tent_profile(c, levels, rot, u, r); }, fraction, r_max);
  }
  return full_width([&](double r) { return psf_profile(c, levels, rot, origins, u, r); }, fraction, r_max);
}

}  // namespace detail

/// The PSF widths of a 2-D or 3-D configuration under a protocol (offset_averaged: the kernel
/// averaged over `samples` random constraint points in the central half of the domain).
inline psf_report point_spread(grid_config const& c, psf_protocol protocol, int samples = 400, std::uint64_t seed = 1) {
  auto const levels = make_levels(c);
  auto const rot = rotation_matrices(c);
  int const d = c.dims;
  std::mt19937_64 rng{seed};
  std::uniform_real_distribution<double> u(0.25, 0.75);
  std::vector<std::vector<double>> origins(protocol == psf_protocol::offset_averaged ? static_cast<std::size_t>(samples) : 0,
                                           std::vector<double>(static_cast<std::size_t>(d)));
  for (auto& x0 : origins) {
    for (auto& v : x0) { v = u(rng); }
  }
  auto width = [&](std::vector<double> const& dir, double fraction) {
    return detail::psf_width(c, protocol, levels, rot, origins, dir, fraction);
  };
  double axis[2] = {0, 0}, diagonal[2] = {0, 0};
  int axis_n = 0, diagonal_n = 0;
  double const fractions[2] = {0.5, 0.1};
  for (int i = 0; i < d; ++i) {
    std::vector<double> dir(static_cast<std::size_t>(d), 0.0);
    dir[static_cast<std::size_t>(i)] = 1.0;
    for (int t = 0; t < 2; ++t) { axis[t] += width(dir, fractions[t]); }
    ++axis_n;
    for (int j = i + 1; j < d; ++j) {  // the diagonals of each coordinate plane
      for (double sign : {1.0, -1.0}) {
        std::vector<double> diag(static_cast<std::size_t>(d), 0.0);
        diag[static_cast<std::size_t>(i)] = std::sqrt(0.5);
        diag[static_cast<std::size_t>(j)] = sign * std::sqrt(0.5);
        for (int t = 0; t < 2; ++t) { diagonal[t] += width(diag, fractions[t]); }
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
  if (d == 3) {
    double body = 0;
    for (double sy : {1.0, -1.0}) {
      for (double sz : {1.0, -1.0}) { body += width({1 / std::sqrt(3.0), sy / std::sqrt(3.0), sz / std::sqrt(3.0)}, 0.5); }
    }
    r.fwhm_body_diagonal = body / 4;
    r.body_anisotropy = r.fwhm_axis / r.fwhm_body_diagonal;
  }
  if (d == 2) {
    // Directions over a quarter turn (a square grid's period): 180 for the closed form, 16 for
    // the averaged kernel (each of its widths costs `samples` kernels per bisection step).
    int const directions = protocol == psf_protocol::tent_centred ? 180 : 16;
    double const pi = 3.14159265358979323846;
    r.fwhm_min = 1e300;
    for (int k = 0; k < directions; ++k) {
      double const phi = k * (pi / 2) / directions;
      double const w = width({std::cos(phi), std::sin(phi)}, 0.5);
      r.fwhm_min = std::min(r.fwhm_min, w);
      r.fwhm_max = std::max(r.fwhm_max, w);
    }
    r.angle_ratio = r.fwhm_max / r.fwhm_min;
  }
  double log_sum = 0;
  for (auto const& lv : levels) { log_sum += std::log(static_cast<double>(lv.scale)); }
  r.n_avg = std::exp(log_sum / static_cast<double>(levels.size()));
  r.fwhm_times_n_avg = r.fwhm_axis * r.n_avg;
  return r;
}

/// The offset-averaged protocol (the default before protocols were named).
inline psf_report point_spread(grid_config const& c, int samples = 400, std::uint64_t seed = 1) {
  return point_spread(c, psf_protocol::offset_averaged, samples, seed);
}

/// The empirical PSF after training (trained_point_spread).
struct trained_psf_report {
  double fwhm_axis;        ///< mean FWHM of the response along the axes through x0
  double fwhm_diagonal;    ///< the same along the plane diagonals
  double anisotropy;       ///< fwhm_axis / fwhm_diagonal
  double peak;             ///< the fitted response at x0 (the target is 1)
};

namespace detail {
// The mean feature of the encoding at x (the linear decoder with weights 1 / (L F)).
inline double mean_feature(grid_encoding<float> const& e, std::vector<double> const& x) {
  std::vector<float> p(x.begin(), x.end()), y(static_cast<std::size_t>(e.output_width()));
  e.forward(p.data(), 1, y.data());
  double s = 0;
  for (float v : y) { s += v; }
  return s / static_cast<double>(y.size());
}
}  // namespace detail

/// The empirical PSF: a single-point constraint f(x0) = 1 fitted from zero parameters by the
/// encoding and a linear decoder (fixed: the mean of the L F features) with `steps` optimiser
/// steps, then the response's widths through x0 at half its peak (host backend). `adam` false: plain
/// gradient descent with step `lr` (one step is the offset kernel at x0, up to scale); true: Adam
/// (betas 0.9 and 0.99, as tiny-cuda-nn), whose per-parameter normalisation moves the entries x0
/// barely touches as far as the others and so broadens the response towards the whole support of
/// x0's cells. Use configurations small enough to hold their parameters twice over.
inline trained_psf_report trained_point_spread(grid_config const& c, std::vector<double> const& x0, int steps, bool adam = true,
                                               double lr = 1e-2) {
  if (static_cast<int>(x0.size()) != c.dims) {
    throw invalid_argument("trained_point_spread: the constraint point has " + std::to_string(x0.size()) +
                           " coordinates for a " + std::to_string(c.dims) + "-D encoding");
  }
  grid_encoding<float> e{c, backend::host};
  std::size_t const n = static_cast<std::size_t>(e.num_params());
  std::vector<float> params(n, 0.0f), grad(n), m(n, 0.0f), v(n, 0.0f);
  e.set_params(params);
  std::vector<float> const point(x0.begin(), x0.end());
  std::size_t const width = static_cast<std::size_t>(e.output_width());
  std::vector<float> dl_dy(width);
  for (int step = 0; step < steps; ++step) {
    double const f = detail::mean_feature(e, x0);
    for (auto& g : dl_dy) { g = static_cast<float>(2 * (f - 1) / static_cast<double>(width)); }  // d (f - 1)^2 / dy
    e.backward_params(point.data(), 1, dl_dy.data(), grad.data(), gradient_mode::deterministic);
    double const c1 = 1 - std::pow(0.9, step + 1), c2 = 1 - std::pow(0.99, step + 1);
    for (std::size_t k = 0; k < n; ++k) {
      if (!adam) {
        params[k] -= static_cast<float>(lr) * grad[k];
        continue;
      }
      m[k] = 0.9f * m[k] + 0.1f * grad[k];
      v[k] = 0.99f * v[k] + 0.01f * grad[k] * grad[k];
      params[k] -= static_cast<float>(lr * (m[k] / c1) / (std::sqrt(v[k] / c2) + 1e-15));
    }
    e.set_params(params);
  }
  double const peak = detail::mean_feature(e, x0);
  double const r_max = 4.0 / static_cast<double>(e.levels().front().scale);
  auto width_along = [&](std::vector<double> const& u) {
    return detail::full_width(
        [&](double r) {
          std::vector<double> x = x0;
          for (std::size_t i = 0; i < x.size(); ++i) { x[i] += r * u[i]; }
          return detail::mean_feature(e, x);
        },
        0.5, r_max);
  };
  int const d = c.dims;
  double axis = 0, diagonal = 0;
  int diagonals = 0;
  for (int i = 0; i < d; ++i) {
    std::vector<double> u(static_cast<std::size_t>(d), 0.0);
    u[static_cast<std::size_t>(i)] = 1;
    axis += width_along(u);
    for (int j = i + 1; j < d; ++j) {
      for (double sign : {1.0, -1.0}) {
        std::vector<double> w(static_cast<std::size_t>(d), 0.0);
        w[static_cast<std::size_t>(i)] = std::sqrt(0.5);
        w[static_cast<std::size_t>(j)] = sign * std::sqrt(0.5);
        diagonal += width_along(w);
        ++diagonals;
      }
    }
  }
  trained_psf_report r{};
  r.fwhm_axis = axis / d;
  r.fwhm_diagonal = diagonals > 0 ? diagonal / diagonals : r.fwhm_axis;
  r.anisotropy = r.fwhm_axis / r.fwhm_diagonal;
  r.peak = peak;
  return r;
}

/// Hash collisions' speckle: the kernel k(x, x0) of the configuration's own table (entries shared
/// by different vertices count, dense levels never collide) at x0, over its RMS at points x
/// farther from x0 than two cells of the coarsest level (where the collision-free kernel is 0),
/// averaged over `constraints` random x0. Infinite when no far point collides (a table that
/// holds every level densely).
inline double speckle_snr(grid_config const& c, int constraints = 16, int far_points = 2000, std::uint64_t seed = 7) {
  grid_encoding<float> const e{c, backend::host};
  grid_view const g = e.view();
  int const d = c.dims;
  std::mt19937_64 rng{seed};
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double const exclusion = 2.0 / static_cast<double>(e.levels().front().scale);
  // k(x, x0): per level and sub-grid, the products of corner weights whose entries coincide.
  auto kernel = [&](std::vector<float> const& x, std::vector<float> const& x0) {
    double k = 0.0;
    for (int l = 0; l < c.levels; ++l) {
      grid_level const& lv = e.levels()[static_cast<std::size_t>(l)];
      for (int m = 0; m < c.subgrids; ++m) {
        std::vector<std::pair<std::uint64_t, double>> a, b;
        auto corners = [&](std::vector<float> const& p, std::vector<std::pair<std::uint64_t, double>>& out) {
          auto visit = [&](auto dims) {
            constexpr int D = decltype(dims)::value;
            detail::cell<D> const cl = detail::locate_cell<D>(g, l, m, p.data());
            detail::for_each_corner<D>(g, lv, cl, [&](int, float w, std::uint64_t entry) { out.emplace_back(entry, w); });
          };
          if (d == 1) { visit(std::integral_constant<int, 1>{}); }
          if (d == 2) { visit(std::integral_constant<int, 2>{}); }
          if (d == 3) { visit(std::integral_constant<int, 3>{}); }
          if (d == 4) { visit(std::integral_constant<int, 4>{}); }
        };
        corners(x, a);
        corners(x0, b);
        for (auto const& [ea, wa] : a) {
          for (auto const& [eb, wb] : b) { k += ea == eb ? wa * wb / c.subgrids : 0.0; }
        }
      }
    }
    return k;
  };
  double snr_sum = 0;
  for (int t = 0; t < constraints; ++t) {
    std::vector<float> x0(static_cast<std::size_t>(d));
    for (auto& v : x0) { v = static_cast<float>(u(rng)); }
    double const peak = kernel(x0, x0);
    double squares = 0;
    int counted = 0;
    while (counted < far_points) {
      std::vector<float> x(static_cast<std::size_t>(d));
      double dist = 0;
      for (int i = 0; i < d; ++i) {
        x[static_cast<std::size_t>(i)] = static_cast<float>(u(rng));
        dist = std::max(dist, std::abs(static_cast<double>(x[static_cast<std::size_t>(i)]) - x0[static_cast<std::size_t>(i)]));
      }
      if (dist <= exclusion) { continue; }
      double const k = kernel(x, x0);
      squares += k * k;
      ++counted;
    }
    double const rms = std::sqrt(squares / far_points);
    if (rms == 0) { return std::numeric_limits<double>::infinity(); }
    snr_sum += peak / rms;
  }
  return snr_sum / constraints;
}

}  // namespace warp::encoding
