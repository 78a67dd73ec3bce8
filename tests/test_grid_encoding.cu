// The hash grid encoding (MHE / R-MHE) on both backends: tiny-cuda-nn's parameter layout, config
// validation, rotations, forward values against an independent float64 reference on random
// configurations, and gradients (to the parameters and to the inputs) against central finite
// differences of that reference, with and without rotations, linear and smoothstep.
#include "test_common.hpp"

#include <warp/encoding/grid_encoding.cuh>
#include <warp/encoding/point_spread.cuh>

#include <cuda_fp16.h>

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

  double weight(double t) const { return config.interp == enc::interpolation::smoothstep ? t * t * (3 - 2 * t) : t; }

  /// Position of x on level l (rotated about the centre, scaled, shifted by half a cell).
  std::vector<double> position(int l, std::vector<double> const& x) const {
    int const d = config.dims;
    std::vector<double> pos(static_cast<std::size_t>(d));
    for (int i = 0; i < d; ++i) {
      double p = x[static_cast<std::size_t>(i)];
      if (config.rotation != enc::rotation_kind::none) {
        p = 0.5;
        for (int j = 0; j < d; ++j) { p += rotations[static_cast<std::size_t>(l)][static_cast<std::size_t>(i * d + j)] * (x[static_cast<std::size_t>(j)] - 0.5); }
      }
      pos[static_cast<std::size_t>(i)] = p * static_cast<double>(levels[static_cast<std::size_t>(l)].scale) + 0.5;
    }
    return pos;
  }

  std::vector<double> forward(std::vector<double> const& x) const {
    int const d = config.dims, F = config.features;
    std::vector<double> out(static_cast<std::size_t>(config.levels * F), 0.0);
    for (int l = 0; l < config.levels; ++l) {
      auto const& lv = levels[static_cast<std::size_t>(l)];
      auto const pos = position(l, x);
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
        std::size_t const e = (static_cast<std::size_t>(lv.offset) + index(lv, v)) * static_cast<std::size_t>(F);
        for (int f = 0; f < F; ++f) { out[static_cast<std::size_t>(l * F + f)] += w * params[e + static_cast<std::size_t>(f)]; }
      }
    }
    return out;
  }

  /// Smallest distance of any level's fraction to a cell boundary (finite differences need room).
  double boundary_margin(std::vector<double> const& x) const {
    double m = 1.0;
    for (int l = 0; l < config.levels; ++l) {
      for (double p : position(l, x)) { m = std::min({m, p - std::floor(p), std::ceil(p) - p}); }
    }
    return m;
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
    c.interp = rng() % 2 ? enc::interpolation::smoothstep : enc::interpolation::linear;
    if (rng() % 2) {
      c.rotation = dims == 2 ? enc::rotation_kind::golden : dims == 3 ? enc::rotation_kind::spread : enc::rotation_kind::none;
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
  c.levels = 40;
  EXPECT_NE(message(c).find("levels must be in [1, 32], got 40"), std::string::npos);
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
  for (auto kind : {enc::rotation_kind::golden, enc::rotation_kind::spread}) {
    enc::grid_config c;
    c.dims = kind == enc::rotation_kind::golden ? 2 : 3;
    c.rotation = kind;
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
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) { EXPECT_EQ(r[0][static_cast<std::size_t>(i * d + j)], i == j ? 1.0 : 0.0); }
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
  for (int dims : {2, 3}) {
    for (auto interp : {enc::interpolation::linear, enc::interpolation::smoothstep}) {
      for (bool rotated : {false, true}) {
        enc::grid_config c;
        c.dims = dims;
        c.levels = 5;
        c.features = 2;
        c.log2_table_size = 9;
        c.base_resolution = 4;
        c.per_level_scale = 1.7;
        c.interp = interp;
        c.rotation = !rotated ? enc::rotation_kind::none : dims == 2 ? enc::rotation_kind::golden : enc::rotation_kind::spread;
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
                << "d = " << dims << (rotated ? ", rotated" : "") << ", smoothstep " << (interp == enc::interpolation::smoothstep)
                << ", point " << i << ", axis " << j;
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
