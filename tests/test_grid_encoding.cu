// The hash grid encoding (MHE / R-MHE) on both backends: tiny-cuda-nn's parameter layout, config
// validation, rotations, forward values against an independent float64 reference on random
// configurations, and gradients (to the parameters and to the inputs) against central finite
// differences of that reference, with and without rotations, linear and smoothstep.
#include "test_common.hpp"

#include <warp/encoding/grid_encoding.cuh>
#include <warp/encoding/point_spread.cuh>

#include <cuda_fp16.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace warp_test;
namespace enc = warp::encoding;

namespace {

/// Float64 reference of the encoding: same configuration and layout, its own arithmetic.
struct reference {
  enc::grid_config config;
  std::vector<enc::grid_level> levels;
  std::vector<std::vector<double>> rotations;
  std::vector<double> params;

  explicit reference(enc::grid_config c, std::vector<float> const& p)
      : config{c}, levels{enc::make_levels(c)}, rotations{enc::rotation_matrices(c)}, params(p.begin(), p.end()) {}

  std::uint32_t index(enc::grid_level const& lv, std::vector<std::int64_t> const& v) const {
    // tiny-cuda-nn's rule, on vertex coordinates wrapped to unsigned 32 bits.
    std::uint64_t stride = 1, dense = 0;
    bool hashed = false;
    for (int i = 0; i < config.dims; ++i) {
      if (stride > lv.size) { hashed = true; break; }
      dense += static_cast<std::uint64_t>(static_cast<std::uint32_t>(v[static_cast<std::size_t>(i)])) * stride;
      stride *= lv.resolution;
    }
    hashed = hashed || stride > lv.size;
    std::uint32_t idx = static_cast<std::uint32_t>(dense);
    if (hashed) {
      idx = 0;
      for (int i = 0; i < config.dims; ++i) {
        idx ^= static_cast<std::uint32_t>(v[static_cast<std::size_t>(i)]) * config.primes[static_cast<std::size_t>(i)];
      }
    }
    return idx % lv.size;
  }

  double weight(double t) const {
    switch (config.interp) {
      case enc::interpolation::smoothstep: return t * t * (3 - 2 * t);
      case enc::interpolation::nearest: return 0.0;  // all on the lower corner
      default: return t;
    }
  }

  /// Position of x in sub-grid m of level l (rotated about the centre, scaled, shifted by half a cell).
  std::vector<double> position(int l, int m, std::vector<double> const& x) const {
    int const d = config.dims;
    auto const& r = rotations[static_cast<std::size_t>(l * config.subgrids + m)];
    std::vector<double> pos(static_cast<std::size_t>(d));
    for (int i = 0; i < d; ++i) {
      double p = x[static_cast<std::size_t>(i)];
      if (config.rotation != enc::rotation_kind::none) {
        p = 0.5;
        for (int j = 0; j < d; ++j) { p += r[static_cast<std::size_t>(i * d + j)] * (x[static_cast<std::size_t>(j)] - 0.5); }
      }
      pos[static_cast<std::size_t>(i)] = p * static_cast<double>(levels[static_cast<std::size_t>(l)].scale) + 0.5;
    }
    return pos;
  }

  std::vector<double> forward(std::vector<double> const& x) const {
    int const d = config.dims, F = config.features, M = config.subgrids, share = F / M;
    std::vector<double> out(static_cast<std::size_t>(config.levels * F), 0.0);
    for (int l = 0; l < config.levels; ++l) {
      auto const& lv = levels[static_cast<std::size_t>(l)];
      for (int m = 0; m < M; ++m) {
        auto const pos = position(l, m, x);
        for (int corner = 0; corner < (1 << d); ++corner) {
          double w = 1.0;
          std::vector<std::int64_t> v(static_cast<std::size_t>(d));
          for (int i = 0; i < d; ++i) {
            double const g = std::floor(pos[static_cast<std::size_t>(i)]);
            double const t = weight(pos[static_cast<std::size_t>(i)] - g);
            bool const up = (corner >> i) & 1;
            w *= up ? t : 1 - t;
            v[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(g) + (up ? 1 : 0);
          }
          if (w == 0.0) { continue; }
          // Sub-grid m owns features [m F/M, (m + 1) F/M) of every entry.
          std::size_t const e = (static_cast<std::size_t>(lv.offset) + index(lv, v)) * static_cast<std::size_t>(F) +
                                static_cast<std::size_t>(m * share);
          for (int f = 0; f < share; ++f) {
            out[static_cast<std::size_t>(l * F + m * share + f)] += w * params[e + static_cast<std::size_t>(f)];
          }
        }
      }
    }
    return out;
  }

  /// Smallest distance of any sub-grid's fraction to a cell boundary (finite differences need room).
  double boundary_margin(std::vector<double> const& x) const {
    double margin = 1.0;
    for (int l = 0; l < config.levels; ++l) {
      for (int m = 0; m < config.subgrids; ++m) {
        for (double p : position(l, m, x)) { margin = std::min({margin, p - std::floor(p), std::ceil(p) - p}); }
      }
    }
    return margin;
  }
};

template <class B>
class GridEncoding : public ::testing::Test {
 protected:
  void SetUp() override { WARP_SKIP_UNLESS_AVAILABLE(B::value); }
  static constexpr warp::backend where = B::value;

  static enc::grid_config random_config(std::mt19937_64& rng, int dims) {
    enc::grid_config c;
    c.dims = dims;
    c.levels = 1 + static_cast<int>(rng() % 6);
    int const features[] = {1, 2, 4, 8};
    c.features = features[rng() % 4];
    c.log2_table_size = 6 + static_cast<int>(rng() % 7);  // small tables: dense and hashed levels
    c.base_resolution = 2 + static_cast<double>(rng() % 15);
    c.per_level_scale = 1.3 + 0.1 * static_cast<double>(rng() % 8);
    enc::interpolation const interps[] = {enc::interpolation::linear, enc::interpolation::smoothstep, enc::interpolation::nearest};
    c.interp = interps[rng() % 3];
    int const subgrids[] = {1, 2, 4, 8};
    do { c.subgrids = subgrids[rng() % 4]; } while (c.features % c.subgrids != 0);
    if (rng() % 2) {
      bool const second = rng() % 2;
      c.rotation = dims == 2   ? (second ? enc::rotation_kind::progressive : enc::rotation_kind::golden)
                   : dims == 3 ? (second ? enc::rotation_kind::icosahedral : enc::rotation_kind::spread)
                               : enc::rotation_kind::none;
    }
    return c;
  }
  static std::vector<float> random_params(enc::grid_encoding<>& e, std::uint64_t seed) {
    std::vector<float> p(static_cast<std::size_t>(e.num_params()));
    std::mt19937_64 rng{seed};
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (auto& v : p) { v = u(rng); }
    e.set_params(p);
    return p;
  }
};
TYPED_TEST_SUITE(GridEncoding, both_backends, backend_names);

TEST(GridConfig, LayoutMatchesTinyCudaNn) {
  enc::grid_config c;
  c.dims = 3;
  c.levels = 16;
  c.features = 2;
  c.log2_table_size = 19;
  c.base_resolution = 16;
  c.finest_resolution = 2048;
  EXPECT_EQ(enc::parameter_count(c), 12196240u);
  EXPECT_NEAR(c.scale_factor(), 1.3819, 1e-4);
  auto const levels = enc::make_levels(c);
  EXPECT_TRUE(levels.front().dense);
  EXPECT_FALSE(levels.back().dense);
  for (std::size_t l = 1; l < levels.size(); ++l) { EXPECT_EQ(levels[l].offset, levels[l - 1].offset + levels[l - 1].size); }
  EXPECT_EQ(levels.back().size, 1u << 19);
}

TEST(GridConfig, BadValuesAreClearErrors) {
  auto message = [](enc::grid_config const& c) -> std::string {
    try {
      c.validate();
    } catch (warp::error const& e) {
      return e.what();
    }
    return "no error";
  };
  enc::grid_config c;
  c.dims = 5;
  EXPECT_NE(message(c).find("dims must be in [1, 4], got 5"), std::string::npos);
  c = {};
  c.features = 3;
  EXPECT_NE(message(c).find("features per level must be 1, 2, 4 or 8, got 3"), std::string::npos);
  c = {};
  c.levels = 200;
  EXPECT_NE(message(c).find("levels must be in [1, 128], got 200"), std::string::npos);
  c = {};
  c.subgrids = 3;
  EXPECT_NE(message(c).find("subgrids per level must be 1, 2, 4 or 8 and divide the 2 features, got 3"), std::string::npos);
  c.subgrids = 4;  // F = 2
  EXPECT_NE(message(c).find("divide the 2 features, got 4"), std::string::npos);
  c = {};
  c.dims = 2;
  c.rotation = enc::rotation_kind::icosahedral;
  EXPECT_NE(message(c).find("icosahedral rotations are 3-D"), std::string::npos);
  c = {};
  c.rotation = enc::rotation_kind::progressive;  // dims = 3
  EXPECT_NE(message(c).find("progressive-angle rotations are 2-D"), std::string::npos);
  c = {};
  c.dims = 2;
  c.features = 4;
  c.subgrids = 2;
  c.rotation = enc::rotation_kind::user;
  c.matrices.assign(static_cast<std::size_t>(c.levels), {1, 0, 0, 1});  // one per level, not per sub-grid
  EXPECT_NE(message(c).find("one matrix per sub-grid of each level: 32 expected, got 16"), std::string::npos) << message(c);
  c = {};
  c.rotation = enc::rotation_kind::golden;  // dims = 3
  EXPECT_NE(message(c).find("golden-angle rotations are 2-D"), std::string::npos);
  c = {};
  c.dims = 2;
  c.rotation = enc::rotation_kind::user;
  c.matrices.assign(static_cast<std::size_t>(c.levels), {1, 0, 0, 2});
  EXPECT_NE(message(c).find("not orthonormal"), std::string::npos);
  c = {};
  c.per_level_scale = 1.0;
  EXPECT_NE(message(c).find("per_level_scale must be in (1, "), std::string::npos) << message(c);
}

TEST(GridConfig, RotationsAreOrthonormalAndLevelZeroIsIdentity) {
  for (auto kind : {enc::rotation_kind::golden, enc::rotation_kind::spread, enc::rotation_kind::progressive,
                    enc::rotation_kind::icosahedral}) {
   for (int subgrids : {1, 4}) {
    enc::grid_config c;
    c.dims = kind == enc::rotation_kind::golden || kind == enc::rotation_kind::progressive ? 2 : 3;
    c.rotation = kind;
    c.features = 4;
    c.subgrids = subgrids;
    auto const r = enc::rotation_matrices(c);
    int const d = c.dims;
    for (std::size_t l = 0; l < r.size(); ++l) {
      for (int i = 0; i < d; ++i) {
        for (int j = 0; j < d; ++j) {
          double dot = 0;
          for (int k = 0; k < d; ++k) { dot += r[l][static_cast<std::size_t>(i * d + k)] * r[l][static_cast<std::size_t>(j * d + k)]; }
          EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-12);
        }
      }
      if (d == 3) {  // a rotation, not a reflection
        auto const& m = r[l];
        double const det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
        EXPECT_NEAR(det, 1.0, 1e-12);
      }
    }
    ASSERT_EQ(r.size(), static_cast<std::size_t>(c.levels * subgrids));
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) { EXPECT_EQ(r[0][static_cast<std::size_t>(i * d + j)], i == j ? 1.0 : 0.0); }
    }
   }
  }
}

// Progressive angles: with one sub-grid theta_l = l pi / (2L); with M, a level's sub-grids are a
// quarter turn / M apart and the L M angles are distinct multiples of pi / (2LM).
TEST(GridConfig, ProgressiveAnglesSplitTheQuarterTurn) {
  double const pi = 3.14159265358979323846;
  enc::grid_config c;
  c.dims = 2;
  c.levels = 16;
  c.features = 8;
  c.rotation = enc::rotation_kind::progressive;
  for (int subgrids : {1, 2, 8}) {
    c.subgrids = subgrids;
    auto const r = enc::rotation_matrices(c);
    std::vector<long> steps;
    for (int l = 0; l < c.levels; ++l) {
      for (int m = 0; m < subgrids; ++m) {
        auto const& q = r[static_cast<std::size_t>(l * subgrids + m)];
        double const angle = std::atan2(q[2], q[0]);
        double const want = m * pi / (2.0 * subgrids) + l * pi / (2.0 * c.levels * subgrids);
        EXPECT_NEAR(angle, want, 1e-12) << "level " << l << " sub-grid " << m;
        double const step = angle / (pi / (2.0 * c.levels * subgrids));
        EXPECT_NEAR(step, std::round(step), 1e-9);
        steps.push_back(std::lround(step));
      }
    }
    std::sort(steps.begin(), steps.end());
    EXPECT_EQ(std::adjacent_find(steps.begin(), steps.end()), steps.end()) << "the angles are distinct";
    EXPECT_LT(steps.back(), c.levels * subgrids) << "all within a quarter turn";
  }
}

// The icosahedral set: five orientations (the cubes of the compound in a dodecahedron), each a
// symmetry of the icosahedron, no two the same grid (no cube symmetry takes one to another).
TEST(GridConfig, IcosahedralRotationsAreTheFiveCubesOfTheDodecahedron) {
  enc::grid_config c;
  c.dims = 3;
  c.levels = 4;
  c.features = 4;
  c.subgrids = 4;
  c.rotation = enc::rotation_kind::icosahedral;
  auto const r = enc::rotation_matrices(c);
  double const phi = (1 + std::sqrt(5.0)) / 2;
  std::vector<std::array<double, 3>> vertices;
  for (double a : {-1.0, 1.0}) {
    for (double b : {-phi, phi}) {
      vertices.push_back({0, a, b});
      vertices.push_back({a, b, 0});
      vertices.push_back({b, 0, a});
    }
  }
  auto apply = [](std::vector<double> const& m, std::array<double, 3> const& v) {
    std::array<double, 3> out{};
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) { out[static_cast<std::size_t>(i)] += m[static_cast<std::size_t>(i * 3 + j)] * v[static_cast<std::size_t>(j)]; }
    }
    return out;
  };
  for (std::size_t k = 0; k < r.size(); ++k) {
    for (auto const& v : vertices) {  // maps the icosahedron onto itself
      auto const w = apply(r[k], v);
      bool const found = std::any_of(vertices.begin(), vertices.end(), [&](auto const& u) {
        return std::abs(u[0] - w[0]) + std::abs(u[1] - w[1]) + std::abs(u[2] - w[2]) < 1e-9;
      });
      ASSERT_TRUE(found) << "sub-grid " << k;
    }
    EXPECT_EQ(r[k], r[k % 5]) << "sub-grid " << k << " repeats class " << k % 5;
  }
  for (std::size_t a = 0; a < 5; ++a) {
    for (std::size_t b = a + 1; b < 5; ++b) {
      // r_a^T r_b is a signed permutation only if the two grids coincide.
      bool permutation = true;
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) {
          double x = 0;
          for (int k = 0; k < 3; ++k) { x += r[a][static_cast<std::size_t>(k * 3 + i)] * r[b][static_cast<std::size_t>(k * 3 + j)]; }
          permutation = permutation && (std::abs(x) < 1e-9 || std::abs(std::abs(x) - 1) < 1e-9);
        }
      }
      EXPECT_FALSE(permutation) << "orientations " << a << " and " << b << " give the same grid";
    }
  }
}

TEST(PointSpread, RotationsMakeTheKernelMoreIsotropic) {
  for (int dims : {2, 3}) {
    enc::grid_config c;
    c.dims = dims;
    c.levels = 16;
    c.base_resolution = 16;
    c.per_level_scale = 1.5;
    auto const plain = enc::point_spread(c, 300);
    c.rotation = dims == 2 ? enc::rotation_kind::golden : enc::rotation_kind::spread;
    auto const rotated = enc::point_spread(c, 300);
    // Axis-aligned cells have square supports: the plain kernel's tails are narrower along the
    // axes than along the diagonals; rotated levels even that out.
    EXPECT_LT(plain.tail_anisotropy, 0.995) << "d = " << dims;
    EXPECT_LT(std::abs(rotated.tail_anisotropy - 1), std::abs(plain.tail_anisotropy - 1)) << "d = " << dims;
    EXPECT_NEAR(rotated.anisotropy, 1.0, 0.01);
    EXPECT_GT(plain.fwhm_axis, 0.0);
  }
  // A single level has no rotation to spread: identical reports.
  enc::grid_config one;
  one.dims = 2;
  one.levels = 1;
  auto const a = enc::point_spread(one, 100);
  one.rotation = enc::rotation_kind::golden;
  auto const b = enc::point_spread(one, 100);
  EXPECT_DOUBLE_EQ(a.tail_anisotropy, b.tail_anisotropy);
}

// The paper's closed-form (tent-centred) PSF, L = 16, b = 1.5, N_min = 16: the three figures an
// independent numeric check of the model gives (issue 12), to the stated tolerances.
TEST(PointSpread, TheTentCentredModelReproducesThePapersFigures) {
  auto config = [](int dims, int levels, enc::rotation_kind r) {
    enc::grid_config c;
    c.dims = dims;
    c.levels = levels;
    c.base_resolution = 16;
    c.per_level_scale = 1.5;
    c.log2_table_size = 24;
    c.rotation = r;
    return c;
  };
  auto const tent = enc::psf_protocol::tent_centred;
  // 1. Grid-induced anisotropy: axis over diagonal width 1.12-1.16 in 2-D (1.21 for one level),
  //    1.28-1.32 along the body diagonal in 3-D.
  auto const plain2 = enc::point_spread(config(2, 16, enc::rotation_kind::none), tent);
  EXPECT_GE(plain2.anisotropy, 1.12);
  EXPECT_LE(plain2.anisotropy, 1.17);
  EXPECT_NEAR(enc::point_spread(config(2, 1, enc::rotation_kind::none), tent).anisotropy, 1.21, 0.005);
  auto const plain3 = enc::point_spread(config(3, 16, enc::rotation_kind::none), tent);
  EXPECT_GE(plain3.body_anisotropy, 1.28);
  EXPECT_LE(plain3.body_anisotropy, 1.32);
  // 2. The width is set by the geometric mean of the levels' resolutions: FWHM N_avg 0.71-0.78.
  EXPECT_GE(plain2.fwhm_times_n_avg, 0.71);
  EXPECT_LE(plain2.fwhm_times_n_avg, 0.78);
  // 3. Max / min FWHM over directions: 1.152 unrotated, 1.091 with theta_l = l pi / (2L),
  //    1.049 with golden-angle rotations.
  EXPECT_NEAR(plain2.angle_ratio, 1.152, 0.003);
  EXPECT_NEAR(enc::point_spread(config(2, 16, enc::rotation_kind::progressive), tent).angle_ratio, 1.091, 0.003);
  EXPECT_NEAR(enc::point_spread(config(2, 16, enc::rotation_kind::golden), tent).angle_ratio, 1.049, 0.003);
  // The offset-averaged protocol washes the anisotropy out.
  auto const averaged = enc::point_spread(config(2, 16, enc::rotation_kind::none), enc::psf_protocol::offset_averaged, 300);
  EXPECT_NEAR(averaged.anisotropy, 1.0, 0.02);
  EXPECT_LT(averaged.angle_ratio, plain2.angle_ratio);
}

// The empirical PSF of a fitted single-point constraint: plain gradient descent keeps one shape
// (the offset kernel at x0) whatever the steps and converges to the target; Adam's normalised
// steps broaden it.
TEST(PointSpread, TrainingBroadensThePsfWithAdamNotWithPlainGradientSteps) {
  enc::grid_config c;
  c.dims = 2;
  c.levels = 6;
  c.base_resolution = 16;
  c.per_level_scale = 1.5;
  c.log2_table_size = 16;  // every level dense: no collisions
  std::vector<double> const x0{0.4123, 0.5371};
  auto const gd1 = enc::trained_point_spread(c, x0, 1, false, 1.0);
  auto const gd60 = enc::trained_point_spread(c, x0, 60, false, 1.0);
  EXPECT_NEAR(gd1.fwhm_axis, gd60.fwhm_axis, 1e-6 + 1e-3 * gd1.fwhm_axis);
  EXPECT_NEAR(gd60.peak, 1.0, 0.01);
  auto const adam = enc::trained_point_spread(c, x0, 60, true, 1e-2);
  EXPECT_GT(adam.fwhm_axis, 1.1 * gd1.fwhm_axis);
  EXPECT_GT(adam.peak, 0.3);
  auto const tent = enc::point_spread(c, enc::psf_protocol::tent_centred);
  EXPECT_GT(gd1.fwhm_axis, tent.fwhm_axis) << "an off-vertex constraint spreads wider than the vertex-centred tent";
  EXPECT_NE(error_message([&] { (void)enc::trained_point_spread(c, {0.5}, 1); }).find("has 1 coordinates for a 2-D"),
            std::string::npos);
}

// Hash collisions' speckle falls as the table grows, and vanishes when every level is dense.
TEST(PointSpread, SpeckleFallsWithTheTableSize) {
  enc::grid_config c;
  c.dims = 2;
  c.levels = 16;
  c.base_resolution = 16;
  c.per_level_scale = 1.5;
  c.log2_table_size = 10;
  double const small = enc::speckle_snr(c, 6, 600);
  c.log2_table_size = 12;
  double const larger = enc::speckle_snr(c, 6, 600);
  EXPECT_GT(small, 1.0);
  EXPECT_GT(larger, small);
  c.levels = 4;
  c.log2_table_size = 20;  // the finest level, 53 cells per axis, is dense
  EXPECT_TRUE(std::isinf(enc::speckle_snr(c, 2, 200)));
}

TYPED_TEST(GridEncoding, IdentityRotationsReproducePlainMheBitForBit) {
  enc::grid_config plain;
  plain.dims = 2;
  plain.levels = 6;
  plain.log2_table_size = 10;
  enc::grid_config identity = plain;
  identity.rotation = enc::rotation_kind::user;
  identity.matrices.assign(static_cast<std::size_t>(plain.levels), {1, 0, 0, 1});
  enc::grid_encoding<> a{plain, TestFixture::where}, b{identity, TestFixture::where};
  b.set_params(a.get_params());
  std::vector<float> points(2 * 1000);
  std::mt19937_64 rng{3};
  for (auto& p : points) { p = std::uniform_real_distribution<float>(0, 1)(rng); }
  std::vector<float> ya(1000 * static_cast<std::size_t>(a.output_width())), yb(ya.size());
  a.forward(points.data(), 1000, ya.data());
  b.forward(points.data(), 1000, yb.data());
  EXPECT_EQ(0, std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(float)));
}

// R-MHE's sub-grids with identity rotations are MHE: the same table, the same outputs and
// parameter gradients, bit for bit (each sub-grid reads its share of the features of the entries
// MHE reads), whether the rotations are left out or given as identity matrices.
TYPED_TEST(GridEncoding, IdentitySubGridsReproducePlainMheBitForBit) {
  for (int dims : {2, 3}) {
    enc::grid_config plain;
    plain.dims = dims;
    plain.levels = 6;
    plain.features = 8;
    plain.log2_table_size = 10;
    enc::grid_encoding<> a{plain, TestFixture::where};
    std::size_t const n = 1000;
    std::vector<float> points(static_cast<std::size_t>(dims) * n);
    std::mt19937_64 rng{11};
    for (auto& p : points) { p = std::uniform_real_distribution<float>(0, 1)(rng); }
    std::vector<float> ya(n * static_cast<std::size_t>(a.output_width())), dl_dy(ya.size());
    for (auto& v : dl_dy) { v = std::uniform_real_distribution<float>(-1, 1)(rng); }
    a.forward(points.data(), n, ya.data());
    std::vector<float> ga(static_cast<std::size_t>(a.num_params()));
    a.backward_params(points.data(), n, dl_dy.data(), ga.data(), enc::gradient_mode::deterministic);
    for (int subgrids : {2, 4, 8}) {
      for (bool matrices : {false, true}) {
        enc::grid_config c = plain;
        c.subgrids = subgrids;
        if (matrices) {
          c.rotation = enc::rotation_kind::user;
          std::vector<double> id(static_cast<std::size_t>(dims * dims), 0.0);
          for (int i = 0; i < dims; ++i) { id[static_cast<std::size_t>(i * dims + i)] = 1.0; }
          c.matrices.assign(static_cast<std::size_t>(c.levels * subgrids), id);
        }
        enc::grid_encoding<> b{c, TestFixture::where};
        ASSERT_EQ(b.num_params(), a.num_params());
        b.set_params(a.get_params());
        std::vector<float> yb(ya.size()), gb(ga.size());
        b.forward(points.data(), n, yb.data());
        b.backward_params(points.data(), n, dl_dy.data(), gb.data(), enc::gradient_mode::deterministic);
        EXPECT_EQ(0, std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(float))) << "d " << dims << " M " << subgrids;
        EXPECT_EQ(0, std::memcmp(ga.data(), gb.data(), ga.size() * sizeof(float))) << "d " << dims << " M " << subgrids;
      }
    }
  }
}

// 128 levels (tiny-cuda-nn's limit) with a scale that keeps the finest below 2^24.
TYPED_TEST(GridEncoding, OneHundredTwentyEightLevelsMatchTheReference) {
  enc::grid_config c;
  c.dims = 2;
  c.levels = 128;
  c.features = 2;
  c.log2_table_size = 8;
  c.base_resolution = 4;
  c.per_level_scale = 1.05;
  c.rotation = enc::rotation_kind::progressive;
  c.subgrids = 2;
  enc::grid_encoding<> e{c, TestFixture::where};
  auto const params = TestFixture::random_params(e, 3);
  reference const ref{c, params};
  std::vector<float> points{0.3f, 0.7f, 0.01f, 0.99f, 0.5f, 0.5f};
  std::vector<float> y(3 * static_cast<std::size_t>(e.output_width()));
  e.forward(points.data(), 3, y.data());
  for (std::size_t i = 0; i < 3; ++i) {
    auto const want = ref.forward({points[2 * i], points[2 * i + 1]});
    for (std::size_t k = 0; k < want.size(); ++k) {
      ASSERT_NEAR(y[i * want.size() + k], want[k], 2e-4 * (1 + std::abs(want[k]))) << "point " << i << " output " << k;
    }
  }
}

TYPED_TEST(GridEncoding, ForwardMatchesFloat64ReferenceOnRandomConfigurations) {
  std::mt19937_64 rng{2024};
  for (int trial = 0; trial < 24; ++trial) {
    int const dims = 1 + trial % 4;
    auto const config = TestFixture::random_config(rng, dims);
    enc::grid_encoding<> e{config, TestFixture::where};
    auto const params = TestFixture::random_params(e, rng());
    reference const ref{config, params};
    std::size_t const n = 300;
    std::vector<float> points(n * static_cast<std::size_t>(dims));
    for (auto& p : points) { p = std::uniform_real_distribution<float>(0, 1)(rng); }
    points[0] = 0.0f;  // the cube's corners and faces too (rotated, they leave the cube)
    points[static_cast<std::size_t>(dims) * (n - 1)] = 1.0f;
    std::vector<float> y(n * static_cast<std::size_t>(e.output_width()));
    e.forward(points.data(), n, y.data());
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<double> x(points.begin() + static_cast<std::ptrdiff_t>(i * dims),
                            points.begin() + static_cast<std::ptrdiff_t>((i + 1) * dims));
      auto const want = ref.forward(x);
      for (std::size_t k = 0; k < want.size(); ++k) {
        ASSERT_NEAR(y[i * want.size() + k], want[k], 2e-4 * (1 + std::abs(want[k])))
            << "trial " << trial << " (d = " << dims << ", rotation " << static_cast<int>(config.rotation) << "), point " << i
            << ", output " << k;
      }
    }
  }
}

TYPED_TEST(GridEncoding, GradientsMatchFiniteDifferencesOfTheReference) {
  struct variant {
    enc::interpolation interp;
    int rotation;  // 0: none, 1: golden / spread, 2: progressive / icosahedral
    int subgrids;
  };
  std::vector<variant> const variants{
      {enc::interpolation::linear, 0, 1},    {enc::interpolation::linear, 1, 1},     {enc::interpolation::smoothstep, 0, 1},
      {enc::interpolation::smoothstep, 1, 1}, {enc::interpolation::linear, 2, 2},    {enc::interpolation::smoothstep, 2, 2},
      {enc::interpolation::linear, 1, 2},    {enc::interpolation::nearest, 2, 2},    {enc::interpolation::nearest, 0, 1}};
  for (int dims : {2, 3}) {
    for (variant const& v : variants) {
      {
        enc::interpolation const interp = v.interp;
        bool const rotated = v.rotation != 0;
        enc::grid_config c;
        c.dims = dims;
        c.levels = 5;
        c.features = 2;
        c.subgrids = v.subgrids;
        c.log2_table_size = 9;
        c.base_resolution = 4;
        c.per_level_scale = 1.7;
        c.interp = interp;
        c.rotation = v.rotation == 0   ? enc::rotation_kind::none
                     : v.rotation == 1 ? (dims == 2 ? enc::rotation_kind::golden : enc::rotation_kind::spread)
                                       : (dims == 2 ? enc::rotation_kind::progressive : enc::rotation_kind::icosahedral);
        enc::grid_encoding<> e{c, TestFixture::where};
        auto const params = TestFixture::random_params(e, 99);
        reference ref{c, params};
        std::mt19937_64 rng{static_cast<std::uint64_t>(dims * 10 + (rotated ? 1 : 0))};
        std::uniform_real_distribution<double> u(0.02, 0.98);
        // Points away from cell boundaries, so that the finite differences see one cell.
        std::vector<float> points;
        while (points.size() < static_cast<std::size_t>(40 * dims)) {
          std::vector<double> x(static_cast<std::size_t>(dims));
          for (auto& v : x) { v = static_cast<float>(u(rng)); }
          if (ref.boundary_margin(x) > 1e-3) { points.insert(points.end(), x.begin(), x.end()); }
        }
        std::size_t const n = points.size() / static_cast<std::size_t>(dims);
        std::size_t const width = static_cast<std::size_t>(e.output_width());
        std::vector<float> dl_dy(n * width);  // L = sum of dl_dy . y
        for (auto& v : dl_dy) { v = static_cast<float>(u(rng) - 0.5); }
        auto loss = [&](reference const& r, std::vector<double> const& x, std::size_t i) {
          auto const y = r.forward(x);
          double l = 0;
          for (std::size_t k = 0; k < width; ++k) { l += dl_dy[i * width + k] * y[k]; }
          return l;
        };

        // dL/dx against central differences.
        std::vector<float> dl_dx(n * static_cast<std::size_t>(dims));
        e.backward_inputs(points.data(), n, dl_dy.data(), dl_dx.data());
        for (std::size_t i = 0; i < n; ++i) {
          std::vector<double> x(points.begin() + static_cast<std::ptrdiff_t>(i * dims),
                                points.begin() + static_cast<std::ptrdiff_t>((i + 1) * dims));
          for (int j = 0; j < dims; ++j) {
            double const h = 1e-7;
            auto xp = x, xm = x;
            xp[static_cast<std::size_t>(j)] += h;
            xm[static_cast<std::size_t>(j)] -= h;
            double const fd = (loss(ref, xp, i) - loss(ref, xm, i)) / (2 * h);
            ASSERT_NEAR(dl_dx[i * dims + static_cast<std::size_t>(j)], fd, 2e-3 * (1 + std::abs(fd)))
                << "d = " << dims << (rotated ? ", rotated" : "") << ", interpolation " << static_cast<int>(interp)
                << ", sub-grids " << v.subgrids << ", point " << i << ", axis " << j;
          }
        }

        // The Jacobian prepared by the forward gives the same input gradient.
        std::vector<float> y(n * width), jac(n * width * static_cast<std::size_t>(dims)), via_jac(dl_dx.size());
        e.forward(points.data(), n, y.data(), jac.data());
        e.backward_inputs_from_jacobian(jac.data(), n, dl_dy.data(), via_jac.data());
        for (std::size_t k = 0; k < dl_dx.size(); ++k) { ASSERT_NEAR(via_jac[k], dl_dx[k], 1e-4 * (1 + std::abs(dl_dx[k]))) << k; }

        // dL/dparams against central differences (L is linear in the parameters).
        std::vector<float> grad(static_cast<std::size_t>(e.num_params()));
        e.backward_params(points.data(), n, dl_dy.data(), grad.data());
        std::size_t checked = 0;
        for (std::size_t j = 0; j < grad.size() && checked < 60; j += 7) {
          reference plus = ref, minus = ref;
          plus.params[j] += 0.5;
          minus.params[j] -= 0.5;
          double fd = 0;
          for (std::size_t i = 0; i < n; ++i) {
            std::vector<double> x(points.begin() + static_cast<std::ptrdiff_t>(i * dims),
                                  points.begin() + static_cast<std::ptrdiff_t>((i + 1) * dims));
            fd += loss(plus, x, i) - loss(minus, x, i);
          }
          ASSERT_NEAR(grad[j], fd, 1e-4 * (1 + std::abs(fd))) << "parameter " << j;
          checked += fd != 0 ? 1 : 0;
        }
        EXPECT_GT(checked, 10u) << "the points should touch many of the checked parameters";
      }
    }
  }
}

TYPED_TEST(GridEncoding, DeterministicGradientIsBitwiseRepeatableAndMatchesAtomic) {
  for (int dims : {2, 3}) {
    enc::grid_config c;
    c.dims = dims;
    c.levels = 4;
    c.features = 2;
    c.log2_table_size = 8;  // small: many points share entries, so the summation order matters
    c.base_resolution = 4;
    c.rotation = dims == 2 ? enc::rotation_kind::golden : enc::rotation_kind::spread;
    enc::grid_encoding<> e{c, TestFixture::where};
    std::size_t const n = 5000;
    std::vector<float> points(n * static_cast<std::size_t>(dims)), dl_dy(n * static_cast<std::size_t>(e.output_width()));
    std::mt19937_64 rng{17};
    for (auto& p : points) { p = std::uniform_real_distribution<float>(0, 1)(rng); }
    for (auto& v : dl_dy) { v = std::uniform_real_distribution<float>(-1, 1)(rng); }
    std::vector<float> first(static_cast<std::size_t>(e.num_params())), second(first.size()), atomic(first.size());
    e.backward_params(points.data(), n, dl_dy.data(), first.data(), enc::gradient_mode::deterministic);
    e.backward_params(points.data(), n, dl_dy.data(), second.data(), enc::gradient_mode::deterministic);
    EXPECT_EQ(0, std::memcmp(first.data(), second.data(), first.size() * sizeof(float))) << "run to run";
    e.backward_params(points.data(), n, dl_dy.data(), atomic.data(), enc::gradient_mode::atomic);
    for (std::size_t j = 0; j < first.size(); ++j) { ASSERT_NEAR(first[j], atomic[j], 1e-4 * (1 + std::abs(atomic[j]))) << j; }
    if (TestFixture::where == warp::backend::cuda) {
      // The host backend computes the same bits.
      enc::grid_encoding<> h{c, warp::backend::host};
      std::vector<float> on_host(first.size());
      h.backward_params(points.data(), n, dl_dy.data(), on_host.data(), enc::gradient_mode::deterministic);
      EXPECT_EQ(0, std::memcmp(first.data(), on_host.data(), first.size() * sizeof(float))) << "host and CUDA";
    }
  }
}

TYPED_TEST(GridEncoding, HostAndCudaForwardAgree) {
  if (TestFixture::where != warp::backend::cuda) { GTEST_SKIP() << "compares the CUDA backend with the host"; }
  enc::grid_config c;
  c.dims = 3;
  c.levels = 8;
  c.log2_table_size = 12;
  c.rotation = enc::rotation_kind::spread;
  c.interp = enc::interpolation::smoothstep;
  enc::grid_encoding<> d{c, warp::backend::cuda}, h{c, warp::backend::host};
  h.set_params(d.get_params());
  std::size_t const n = 4000;
  std::vector<float> points(3 * n);
  std::mt19937_64 rng{8};
  for (auto& p : points) { p = std::uniform_real_distribution<float>(0, 1)(rng); }
  std::vector<float> yd(n * static_cast<std::size_t>(d.output_width())), yh(yd.size());
  d.forward(points.data(), n, yd.data());
  h.forward(points.data(), n, yh.data());
  EXPECT_EQ(0, std::memcmp(yd.data(), yh.data(), yd.size() * sizeof(float))) << "explicitly rounded arithmetic";
}

TYPED_TEST(GridEncoding, HalfParametersEncodeLikeTheirFloatValues) {
  enc::grid_config c;
  c.dims = 2;
  c.levels = 8;
  c.features = 4;
  c.log2_table_size = 12;
  c.rotation = enc::rotation_kind::golden;
  enc::grid_encoding<__half> half{c, TestFixture::where};
  enc::grid_encoding<float> full{c, TestFixture::where};
  half.initialize_uniform(0.5f, 4);
  full.set_params(half.get_params());  // the fp16 values, exactly
  EXPECT_EQ(half.num_params(), full.num_params());
  std::size_t const n = 2000;
  std::vector<float> points(2 * n);
  std::mt19937_64 rng{5};
  for (auto& p : points) { p = std::uniform_real_distribution<float>(0, 1)(rng); }
  std::vector<float> yh(n * static_cast<std::size_t>(half.output_width())), yf(yh.size());
  half.forward(points.data(), n, yh.data());
  full.forward(points.data(), n, yf.data());
  EXPECT_EQ(0, std::memcmp(yh.data(), yf.data(), yh.size() * sizeof(float))) << "fp32 arithmetic on fp16 parameters";
  std::vector<float> dl_dy(yh.size(), 0.25f), gh(static_cast<std::size_t>(half.num_params())), gf(gh.size());
  half.backward_params(points.data(), n, dl_dy.data(), gh.data(), enc::gradient_mode::deterministic);
  full.backward_params(points.data(), n, dl_dy.data(), gf.data(), enc::gradient_mode::deterministic);
  EXPECT_EQ(0, std::memcmp(gh.data(), gf.data(), gh.size() * sizeof(float))) << "fp32 gradients";
}

}  // namespace
