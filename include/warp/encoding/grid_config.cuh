// warp/encoding/grid_config.cuh: the configuration of a multi-resolution hash grid encoding
// (Instant-NGP / tiny-cuda-nn's grid encoding) and of its rotated variant (R-MHE), and the
// per-level layout it implies.
//
// Level l has scale s_l = N_min * b^l - 1 (computed in single precision, as tiny-cuda-nn does) and
// resolution r_l = ceil(s_l) + 1 vertices per axis. Its table holds min(T, r_l^d rounded up to a
// multiple of 8) entries of F features: a level whose grid fits is dense (one entry per vertex),
// finer ones hash vertices into T entries. The per-level offsets match tiny-cuda-nn, so parameter
// counts agree (d = 3, L = 16, F = 2, T = 2^19, N_min = 16, N_max = 2048: 12,196,240).
//
// R-MHE as its paper defines it: each level is M rotated sub-grids (M divides F), sub-grid m
// owning features [m F/M, (m + 1) F/M) of every entry of the level's table and hashing its own
// rotated copy of the point. The table, the parameter count and the output layout are MHE's; with
// identity rotations every sub-grid hashes the same vertex and the encoding is MHE, bit for bit.
#pragma once

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <string>
#include <vector>

#include <warp/core/error.cuh>

namespace warp::encoding {

/// How a point's cell corners are weighted: d-linear, smoothstep (t^2 (3 - 2t) per axis), or
/// nearest (tiny-cuda-nn's Nearest: the whole weight on the cell's lower corner in the shifted
/// grid, i.e. the vertex nearest to x * s_l; no gradient to the inputs).
enum class interpolation { linear, smoothstep, nearest };

/// The float arithmetic of the forward values. `rounded` (default): every product and sum rounded
/// on its own, on both backends (nvcc would otherwise contract them into fused multiply-adds).
/// `fused`: the three places where tiny-cuda-nn's compiled kernel computes a * b + c with one
/// rounding — the level scale N_min * b^l - 1, the position x * s_l + 0.5 and the accumulation of
/// weight * feature — use fmaf (std::fmaf on the host), so that the host backend reproduces
/// tiny-cuda-nn's CUDA forward bit for bit where its scale is exact (b a power of two: b^l exact).
/// Both backends compute the same bits in either mode.
enum class arithmetic { rounded, fused };

/// Rotations of the levels' sub-grids, for sub-grid m of level l (k = l M + m; rotation.cuh):
/// none (plain MHE); `golden` 2-D angles k * angle (default: the golden angle); `progressive`
/// 2-D angles m pi / (2M) + l pi / (2LM) (with M = 1, theta_l = l pi / (2L)); `spread` 3-D
/// rotations from a deterministic well-spread set; `icosahedral` 3-D, the five orientations of
/// the cubes inscribed in a dodecahedron (the icosahedral rotations modulo the cube's); `user`
/// matrices (L M of them).
enum class rotation_kind { none, golden, spread, user, progressive, icosahedral };

inline constexpr double golden_angle = 2.39996322972865332;  // pi * (3 - sqrt(5))

/// The largest resolution (vertices per axis) of any level: 2^24, where float positions still
/// hold every vertex coordinate exactly. Larger grids are rejected by validate().
inline constexpr double max_resolution = 16777216.0;

struct grid_config {
  int dims = 3;                  ///< input dimensions d, 1..4
  int levels = 16;               ///< L, 1..128 (tiny-cuda-nn's limit)
  int features = 2;              ///< F per level: 1, 2, 4 or 8
  int subgrids = 1;              ///< M rotated sub-grids per level, F / M features each: 1, 2, 4 or 8, dividing F
  int log2_table_size = 19;      ///< T = 2^log2_table_size entries per level at most, 4..30
  double base_resolution = 16;   ///< N_min, in [2, 2^24]
  double per_level_scale = 2.0;  ///< b > 1 (ignored when finest_resolution > 0); every level's scale stays below 2^24
  double finest_resolution = 0;  ///< N_max in [N_min, 2^24]: when > 0, b = (N_max / N_min)^(1 / (L - 1)); 0: use b
  interpolation interp = interpolation::linear;
  arithmetic math = arithmetic::rounded;  ///< rounded, or fused like tiny-cuda-nn's kernel (see arithmetic)
  std::array<std::uint32_t, 4> primes = {1u, 2654435761u, 805459861u, 3674653429u};
  rotation_kind rotation = rotation_kind::none;
  double angle = golden_angle;             ///< step of the golden (2-D) rotations, radians
  std::vector<std::vector<double>> matrices;  ///< rotation_kind::user: L M row-major d x d matrices (sub-grid m of level l at l M + m)

  /// The scale factor between levels actually used.
  [[nodiscard]] double scale_factor() const {
    if (finest_resolution > 0) {
      return levels > 1 ? std::exp(std::log(finest_resolution / base_resolution) / (levels - 1)) : 1.0;
    }
    return per_level_scale;
  }

  /// Throws invalid_argument naming the first bad field and its value.
  void validate() const {
    auto bad = [](std::string const& what) { return invalid_argument("grid_config: " + what); };
    if (dims < 1 || dims > 4) { throw bad("dims must be in [1, 4], got " + std::to_string(dims)); }
    if (levels < 1 || levels > 128) { throw bad("levels must be in [1, 128], got " + std::to_string(levels)); }
    if (features != 1 && features != 2 && features != 4 && features != 8) {
      throw bad("features per level must be 1, 2, 4 or 8, got " + std::to_string(features));
    }
    if ((subgrids != 1 && subgrids != 2 && subgrids != 4 && subgrids != 8) || features % subgrids != 0) {
      throw bad("subgrids per level must be 1, 2, 4 or 8 and divide the " + std::to_string(features) +
                " features, got " + std::to_string(subgrids));
    }
    if (interp != interpolation::linear && interp != interpolation::smoothstep && interp != interpolation::nearest) {
      throw bad("unknown interpolation " + std::to_string(static_cast<int>(interp)));
    }
    if (math != arithmetic::rounded && math != arithmetic::fused) {
      throw bad("unknown arithmetic " + std::to_string(static_cast<int>(math)));
    }
    if (log2_table_size < 4 || log2_table_size > 30) {
      throw bad("log2_table_size must be in [4, 30], got " + std::to_string(log2_table_size));
    }
    auto number = [](double v) {
      char text[64];
      std::snprintf(text, sizeof(text), "%.9g", v);
      return std::string(text);
    };
    if (!(base_resolution >= 2 && base_resolution <= max_resolution)) {
      throw bad("base_resolution must be in [2, " + number(max_resolution) + "], got " + number(base_resolution));
    }
    if (std::isnan(finest_resolution) || finest_resolution < 0 || finest_resolution > max_resolution) {
      throw bad("finest_resolution must be 0 (use per_level_scale) or in [base_resolution, " + number(max_resolution) +
                "], got " + number(finest_resolution));
    }
    if (finest_resolution > 0 && finest_resolution < base_resolution) {
      throw bad("finest_resolution " + number(finest_resolution) + " is below base_resolution " + number(base_resolution));
    }
    if (finest_resolution == 0 && !(per_level_scale > 1.0 && per_level_scale <= max_resolution)) {
      throw bad("per_level_scale must be in (1, " + number(max_resolution) + "], got " + number(per_level_scale));
    }
    if (!std::isfinite(angle)) { throw bad("the rotation angle must be finite, got " + number(angle)); }
    // Every level's scale in double precision, before anything is rounded to float or uint32.
    double const b = scale_factor();
    for (int l = 0; l < levels; ++l) {
      double const scale = base_resolution * std::pow(b, l) - 1.0;
      if (!(std::ceil(scale) + 1.0 <= max_resolution)) {
        throw bad("level " + std::to_string(l) + " would have scale " + number(scale) + " (N_min * b^l - 1 with N_min " +
                  number(base_resolution) + ", b " + number(b) + "): its resolution would exceed the supported " +
                  number(max_resolution) + " vertices per axis; use fewer levels or a smaller scale");
      }
    }
    if ((rotation == rotation_kind::golden || rotation == rotation_kind::progressive) && dims != 2) {
      throw bad(std::string(rotation == rotation_kind::golden ? "golden-angle" : "progressive-angle") +
                " rotations are 2-D; use spread or icosahedral (3-D) or user matrices for dims = " + std::to_string(dims));
    }
    if ((rotation == rotation_kind::spread || rotation == rotation_kind::icosahedral) && dims != 3) {
      throw bad(std::string(rotation == rotation_kind::spread ? "the spread rotation set" : "icosahedral rotations") +
                " are 3-D; use golden or progressive (2-D) or user matrices for dims = " + std::to_string(dims));
    }
    if (rotation < rotation_kind::none || rotation > rotation_kind::icosahedral) {
      throw bad("unknown rotation kind " + std::to_string(static_cast<int>(rotation)));
    }
    if (rotation == rotation_kind::user) {
      std::size_t const wanted = static_cast<std::size_t>(levels) * static_cast<std::size_t>(subgrids);
      if (matrices.size() != wanted) {
        throw bad("user rotations need one matrix per sub-grid of each level: " + std::to_string(wanted) +
                  " expected, got " + std::to_string(matrices.size()));
      }
      for (std::size_t l = 0; l < matrices.size(); ++l) {
        auto const& m = matrices[l];
        if (m.size() != static_cast<std::size_t>(dims * dims)) {
          throw bad("rotation matrix " + std::to_string(l) + " has " + std::to_string(m.size()) + " entries, expected " +
                    std::to_string(dims * dims));
        }
        for (std::size_t e = 0; e < m.size(); ++e) {
          if (!std::isfinite(m[e])) {
            throw bad("rotation matrix " + std::to_string(l) + " entry " + std::to_string(e) + " is " + number(m[e]));
          }
        }
        for (int i = 0; i < dims; ++i) {
          for (int j = 0; j < dims; ++j) {
            double dot = 0;
            for (int k = 0; k < dims; ++k) { dot += m[i * dims + k] * m[j * dims + k]; }
            if (!(std::abs(dot - (i == j ? 1.0 : 0.0)) <= 1e-6)) {
              throw bad("rotation matrix " + std::to_string(l) + " is not orthonormal (row " + std::to_string(i) +
                        " . row " + std::to_string(j) + " = " + std::to_string(dot) + ")");
            }
          }
        }
      }
    }
  }
};

/// One level's geometry.
struct grid_level {
  float scale;             ///< s_l: input * scale + 0.5 gives the vertex coordinate
  std::uint32_t resolution;  ///< vertices per axis
  std::uint32_t offset;      ///< first table entry of the level (entries of F features)
  std::uint32_t size;        ///< table entries of the level
  bool dense;                ///< resolution^d fits: one entry per vertex, no hashing
  bool rotated = false;      ///< some sub-grid's rotation is not the identity (set by grid_encoding)
  std::uint8_t rotated_subgrids = 0;  ///< bit m: sub-grid m's rotation is not the identity
};

/// The levels of a validated configuration, tiny-cuda-nn's way.
inline std::vector<grid_level> make_levels(grid_config const& c) {
  c.validate();
  std::vector<grid_level> out;
  float const log2_scale = std::log2(static_cast<float>(c.scale_factor()));
  std::uint32_t const table = 1u << c.log2_table_size;
  std::uint64_t offset = 0;
  for (int l = 0; l < c.levels; ++l) {
    float const power = std::exp2(static_cast<float>(l) * log2_scale);
    float const scale = c.math == arithmetic::fused ? std::fma(power, static_cast<float>(c.base_resolution), -1.0f)
                                                    : power * static_cast<float>(c.base_resolution) - 1.0f;
    auto const resolution = static_cast<std::uint32_t>(std::ceil(scale)) + 1u;
    double const dense = std::pow(static_cast<double>(resolution), c.dims);
    std::uint64_t entries = dense > 2147483647.0 ? 2147483647u : static_cast<std::uint64_t>(dense);
    entries = (entries + 7) / 8 * 8;
    bool const is_dense = entries <= table && dense <= static_cast<double>(table);
    if (entries > table) { entries = table; }
    out.push_back(grid_level{scale, resolution, static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(entries), is_dense, false, 0});
    offset += entries;
    if (offset * static_cast<std::uint64_t>(c.features) > (std::uint64_t{1} << 32)) {
      throw invalid_argument("grid_config: " + std::to_string(offset * c.features) + " parameters exceed 2^32");
    }
  }
  return out;
}

/// Total parameter count (entries times features).
inline std::uint64_t parameter_count(grid_config const& c) {
  auto const levels = make_levels(c);
  return (static_cast<std::uint64_t>(levels.back().offset) + levels.back().size) * static_cast<std::uint64_t>(c.features);
}

}  // namespace warp::encoding
