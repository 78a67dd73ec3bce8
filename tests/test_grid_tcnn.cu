// The hash grid encoding against tiny-cuda-nn's forward arithmetic. tiny-cuda-nn is not a
// dependency; its kernel's formulas (grid.h: level scale, pos_fract, grid_index, the d-linear
// loop) are written out below in plain C++, with the float operations nvcc's default contraction
// gives them (fused multiply-adds where the source has a * b + c) and its two accumulators (float,
// and half for fp16 parameters). The tests check that arithmetic::fused reproduces it bit for bit
// where the level scale is exact, and measure (and bound) how far the default rounded arithmetic,
// the fp16 path and an inexact scale are from it. The measured figures are printed
// ("[ measured ]") and quoted in docs/encoding.md.
#include "test_common.hpp"

#include <warp/encoding/grid_encoding.cuh>

#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

using namespace warp_test;
namespace enc = warp::encoding;

namespace {

/// The accumulation after the (float, fused) position: tiny-cuda-nn's fp32 kernel, its fp16
/// kernel, or float64 weights and sums (the yardstick for the rounding of the other two).
enum class accumulator { fused_float, half, float64 };

/// tiny-cuda-nn's forward for unrotated MHE, from its formulas; `scale_ulps` nudges every level
/// scale by that many float ulps (what a different exp2f would do).
struct tcnn_forward {
  enc::grid_config c;
  int scale_ulps = 0;
  std::vector<std::uint32_t> offsets;  // levels + 1 (entries, not parameters)

  explicit tcnn_forward(enc::grid_config config, int ulps = 0) : c{std::move(config)}, scale_ulps{ulps} {
    std::uint32_t offset = 0;
    for (int l = 0; l < c.levels; ++l) {
      offsets.push_back(offset);
      auto const resolution = static_cast<std::uint32_t>(std::ceil(scale(l))) + 1u;
      double const dense = std::pow(static_cast<double>(resolution), c.dims);
      std::uint32_t entries = dense > 2147483647.0 ? 2147483647u : static_cast<std::uint32_t>(dense);
      entries = (entries + 7u) / 8u * 8u;
      offset += std::min(entries, 1u << c.log2_table_size);
    }
    offsets.push_back(offset);
  }

  // grid_scale(): exp2f(level * log2(b)) * N_min - 1.0f, contracted into one fmaf by nvcc.
  float scale(int l) const {
    float const log2_b = std::log2(static_cast<float>(c.per_level_scale));
    float s = std::fmaf(std::exp2(static_cast<float>(l) * log2_b), static_cast<float>(c.base_resolution), -1.0f);
    for (int k = 0; k < std::abs(scale_ulps); ++k) { s = std::nextafter(s, scale_ulps > 0 ? 1e30f : 0.0f); }
    return s;
  }

  std::uint32_t index(int l, std::uint32_t const* v) const {
    std::uint32_t const size = offsets[static_cast<std::size_t>(l) + 1] - offsets[static_cast<std::size_t>(l)];
    auto const resolution = static_cast<std::uint32_t>(std::ceil(scale(l))) + 1u;
    std::uint32_t stride = 1, index = 0;
    for (int i = 0; i < c.dims && stride <= size; ++i) {
      index += v[i] * stride;
      stride *= resolution;
    }
    if (size < stride) {
      index = 0;
      for (int i = 0; i < c.dims; ++i) { index ^= v[i] * c.primes[static_cast<std::size_t>(i)]; }
    }
    return index % size;
  }

  /// out[l F + f] for x (dims floats in [0, 1]); params as floats (the fp16 values when half).
  void operator()(std::vector<float> const& params, float const* x, accumulator acc, float* out) const {
    int const d = c.dims, F = c.features;
    for (int l = 0; l < c.levels; ++l) {
      float const s = scale(l);
      float t[4];
      double td[4];
      std::uint32_t g[4];
      for (int i = 0; i < d; ++i) {  // pos_fract
        float const pos = std::fmaf(s, x[i], 0.5f);
        float const cell = std::floor(pos);
        g[i] = static_cast<std::uint32_t>(static_cast<int>(cell));
        t[i] = pos - cell;
        td[i] = t[i];  // the float64 path: the same cell and fraction, then exact weights and sums
        if (c.interp == enc::interpolation::smoothstep) {
          t[i] = (t[i] * t[i]) * std::fmaf(-2.0f, t[i], 3.0f);
          td[i] = td[i] * td[i] * (3.0 - 2.0 * td[i]);
        }
      }
      float result[8] = {};
      __half hresult[8];
      double dresult[8] = {};
      for (int f = 0; f < F; ++f) { hresult[f] = __float2half_rn(0.0f); }
      int const corners = c.interp == enc::interpolation::nearest ? 1 : 1 << d;
      for (int corner = 0; corner < corners; ++corner) {
        float weight = 1.0f;
        double dweight = 1.0;
        std::uint32_t v[4];
        for (int i = 0; i < d; ++i) {
          bool const up = (corner >> i) & 1;
          weight *= up ? t[i] : 1.0f - t[i];
          dweight *= up ? td[i] : 1.0 - td[i];
          v[i] = g[i] + (up ? 1u : 0u);
        }
        if (corners == 1) { weight = 1.0f, dweight = 1.0; }
        std::size_t const e = (static_cast<std::size_t>(offsets[static_cast<std::size_t>(l)]) + index(l, v)) * F;
        for (int f = 0; f < F; ++f) {
          float const p = params[e + static_cast<std::size_t>(f)];
          result[f] = std::fmaf(weight, p, result[f]);
          // hfma((half) weight, value, result): the exact product of two halves plus a half, rounded once to half.
          double const wh = __half2float(__float2half_rn(weight));
          hresult[f] = __double2half(wh * static_cast<double>(p) + static_cast<double>(__half2float(hresult[f])));
          dresult[f] += dweight * p;
        }
      }
      for (int f = 0; f < F; ++f) {
        out[l * F + f] = acc == accumulator::fused_float ? result[f]
                         : acc == accumulator::half  ? __half2float(hresult[f])
                                                     : static_cast<float>(dresult[f]);
      }
    }
  }
};

enc::grid_config random_config(std::mt19937_64& rng) {
  enc::grid_config c;
  c.dims = 2 + static_cast<int>(rng() % 3);
  c.levels = 1 + static_cast<int>(rng() % 8);
  int const features[] = {1, 2, 4, 8};
  c.features = features[rng() % 4];
  c.log2_table_size = 8 + static_cast<int>(rng() % 8);  // dense and hashed levels
  c.base_resolution = 2 + static_cast<double>(rng() % 30);
  c.per_level_scale = 2.0;  // b^l exact: tiny-cuda-nn's scale is exact
  enc::interpolation const interps[] = {enc::interpolation::linear, enc::interpolation::smoothstep, enc::interpolation::nearest};
  c.interp = interps[rng() % 3];
  return c;
}

std::vector<float> random_points(std::mt19937_64& rng, std::size_t n, int dims) {
  std::vector<float> x(n * static_cast<std::size_t>(dims));
  for (auto& v : x) { v = std::uniform_real_distribution<float>(0.0f, 1.0f)(rng); }
  return x;
}

/// The warp encoding's forward of points on backend `where`, with every parameter set to `params`.
template <class Param>
std::vector<float> warp_forward(enc::grid_config const& c, warp::backend where, std::vector<float> const& params,
                                std::vector<float> const& x) {
  enc::grid_encoding<Param> e{c, where};
  e.set_params(params);
  std::size_t const n = x.size() / static_cast<std::size_t>(c.dims);
  std::vector<float> y(n * static_cast<std::size_t>(e.output_width()));
  e.forward(x.data(), n, y.data());
  return y;
}

std::vector<float> reference_forward(tcnn_forward const& ref, std::vector<float> const& params, std::vector<float> const& x,
                                     accumulator acc) {
  int const d = ref.c.dims, width = ref.c.levels * ref.c.features;
  std::size_t const n = x.size() / static_cast<std::size_t>(d);
  std::vector<float> y(n * static_cast<std::size_t>(width));
  for (std::size_t i = 0; i < n; ++i) { ref(params, x.data() + i * d, acc, y.data() + i * width); }
  return y;
}

double max_abs_difference(std::vector<float> const& a, std::vector<float> const& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) { m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i])); }
  return m;
}

std::vector<float> uniform_params(std::size_t count, std::uint64_t seed, bool half_values) {
  std::vector<float> p(count);
  std::mt19937_64 rng{seed};
  for (auto& v : p) {
    v = std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng);
    if (half_values) { v = __half2float(__float2half_rn(v)); }
  }
  return p;
}

template <class B>
using TinyCudaNnArithmetic = on_backend<B>;
TYPED_TEST_SUITE(TinyCudaNnArithmetic, both_backends, backend_names);

TYPED_TEST(TinyCudaNnArithmetic, FusedArithmeticReproducesItsForwardBitForBit) {
  std::mt19937_64 rng{2024};
  for (int trial = 0; trial < 40; ++trial) {
    enc::grid_config c = random_config(rng);
    c.math = enc::arithmetic::fused;
    tcnn_forward const ref{c};
    ASSERT_EQ(ref.offsets.back() * static_cast<std::uint64_t>(c.features), enc::parameter_count(c)) << "layout";
    auto const params = uniform_params(enc::parameter_count(c), 100 + trial, false);
    auto const x = random_points(rng, 300, c.dims);
    auto const got = warp_forward<float>(c, TestFixture::where, params, x);
    auto const want = reference_forward(ref, params, x, accumulator::fused_float);
    ASSERT_EQ(got.size(), want.size());
    ASSERT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * sizeof(float)))
        << "trial " << trial << ": d " << c.dims << ", L " << c.levels << ", F " << c.features << ", T 2^" << c.log2_table_size
        << ", N_min " << c.base_resolution << ", interpolation " << static_cast<int>(c.interp)
        << "; max difference " << max_abs_difference(got, want);
  }
}

TYPED_TEST(TinyCudaNnArithmetic, RoundedArithmeticDiffersOnlyByThePositionsRounding) {
  // x * s + 0.5 rounded twice instead of once: the position moves by at most one float ulp of
  // itself, about 2^-23 (s + 1.5) of a cell, and the output by at most that times the slope of
  // the interpolation (at most 3 per axis for parameters in [-1, 1]), plus the sums' rounding.
  std::mt19937_64 rng{77};
  double worst = 0, worst_in_cells = 0;
  std::size_t differing = 0, total = 0;
  for (int trial = 0; trial < 40; ++trial) {
    enc::grid_config c = random_config(rng);
    c.interp = trial % 2 ? enc::interpolation::linear : enc::interpolation::smoothstep;  // nearest has no accumulation
    tcnn_forward const ref{c};
    auto const params = uniform_params(enc::parameter_count(c), 300 + trial, false);
    auto const x = random_points(rng, 300, c.dims);
    auto const got = warp_forward<float>(c, TestFixture::where, params, x);  // arithmetic::rounded, the default
    auto const want = reference_forward(ref, params, x, accumulator::fused_float);
    for (std::size_t i = 0; i < got.size(); ++i) { differing += got[i] != want[i]; }
    total += got.size();
    double const finest = ref.scale(c.levels - 1) + 1.5;
    double const difference = max_abs_difference(got, want);
    EXPECT_LE(difference, 3.0 * c.dims * std::ldexp(finest, -23) + 4e-6) << "trial " << trial;
    worst = std::max(worst, difference);
    worst_in_cells = std::max(worst_in_cells, difference / std::ldexp(finest, -23));
  }
  EXPECT_GT(differing, 0u) << "the two arithmetics never differed: is arithmetic::fused live?";
  std::printf("[ measured ] rounded vs tiny-cuda-nn fp32: max |difference| %.3g (%.2f position ulps of the finest level), "
              "%zu of %zu outputs differ\n",
              worst, worst_in_cells, differing, total);
}

TYPED_TEST(TinyCudaNnArithmetic, HalfParametersAreComputedInFloatNotInHalf) {
  std::mt19937_64 rng{5};
  double warp_error = 0, tcnn_error = 0, warp_vs_tcnn = 0;
  for (int trial = 0; trial < 30; ++trial) {
    enc::grid_config c = random_config(rng);
    c.interp = enc::interpolation::linear;
    c.math = enc::arithmetic::fused;  // the same positions as the reference: only the accumulation differs
    tcnn_forward const ref{c};
    auto const params = uniform_params(enc::parameter_count(c), 500 + trial, true);  // fp16 values
    auto const x = random_points(rng, 300, c.dims);
    auto const got = warp_forward<__half>(c, TestFixture::where, params, x);
    auto const half = reference_forward(ref, params, x, accumulator::half);
    auto const exact = reference_forward(ref, params, x, accumulator::float64);
    warp_error = std::max(warp_error, max_abs_difference(got, exact));
    tcnn_error = std::max(tcnn_error, max_abs_difference(half, exact));
    warp_vs_tcnn = std::max(warp_vs_tcnn, max_abs_difference(got, half));
  }
  EXPECT_LE(warp_error, 4e-6) << "fp32 arithmetic on fp16 parameters";
  EXPECT_LE(tcnn_error, 8e-3) << "half weights and sums: up to 17 roundings of 2^-12";
  EXPECT_GT(tcnn_error, 10 * warp_error) << "half accumulation should be visibly coarser";
  std::printf("[ measured ] fp16 parameters: max |error| against float64, warp (fp32 arithmetic) %.3g, tiny-cuda-nn's "
              "half accumulation %.3g; warp vs tiny-cuda-nn %.3g\n",
              warp_error, tcnn_error, warp_vs_tcnn);
}

TEST(TinyCudaNnArithmetic, AnInexactScaleMovesTheOutputByLittle) {
  // For b not a power of two, tiny-cuda-nn's scale comes from CUDA's exp2f (up to 2 ulps off the
  // correctly rounded value): the bits may differ from the host's. By how much, at most?
  std::mt19937_64 rng{11};
  double worst_fused = 0, worst_nudged = 0;
  for (int trial = 0; trial < 30; ++trial) {
    enc::grid_config c = random_config(rng);
    c.dims = 3;
    c.per_level_scale = 1.3819;
    c.interp = enc::interpolation::linear;
    c.math = enc::arithmetic::fused;
    auto const params = uniform_params(enc::parameter_count(c), 700 + trial, false);
    auto const x = random_points(rng, 300, c.dims);
    auto const got = warp_forward<float>(c, warp::backend::host, params, x);
    worst_fused = std::max(worst_fused, max_abs_difference(got, reference_forward(tcnn_forward{c}, params, x,
                                                                                   accumulator::fused_float)));
    for (int ulps : {-2, 2}) {
      tcnn_forward const nudged{c, ulps};
      if (nudged.offsets != tcnn_forward{c}.offsets) { continue; }  // a level's resolution changed: another layout
      worst_nudged = std::max(worst_nudged, max_abs_difference(got, reference_forward(nudged, params, x, accumulator::fused_float)));
    }
  }
  EXPECT_EQ(worst_fused, 0.0) << "the same exp2f on the host: the same bits";
  EXPECT_LE(worst_nudged, 1e-4);
  std::printf("[ measured ] b = 1.3819, d = 3: max |difference| with the level scales 2 ulps off: %.3g\n", worst_nudged);
}

TEST(TinyCudaNnArithmetic, BadArithmeticIsAClearError) {
  enc::grid_config c;
  c.math = static_cast<enc::arithmetic>(7);
  EXPECT_NE(error_message([&] { c.validate(); }).find("unknown arithmetic 7"), std::string::npos);
}

}  // namespace
