// warp/lsh/banding.cuh: LSH banding of MinHash signatures: b bands of r rows, one 64-bit key per
// band and document, and the choice of (b, r) for a similarity threshold.
//
//   warp::lsh::band_layout bands{20, 5};                               // b * r <= k
//   std::vector<std::uint64_t> keys = warp::lsh::band_keys(sig, docs, k, bands, where);  // docs x b
//   warp::lsh::band_choice c = warp::lsh::choose_bands(0.8, 128);     // minimises FP + FN area
//
// Band j of a document is signature values [j * r, (j + 1) * r); the k - b * r values after the last
// band are not used (every document has exactly b keys). A band key is j in its top 8 bits and
// 56 bits of xxHash64 (seeded with j) of the band's r values as little-endian bytes, so keys of
// different bands never collide, and no key is ~0 (the tables' empty sentinel): b <= 255.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/config.cuh>
#include <warp/core/error.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>
#include <warp/hash/xxhash64.cuh>

namespace warp::lsh {

struct band_layout {
  std::uint32_t bands = 0;
  std::uint32_t rows = 0;
};

inline constexpr std::uint32_t max_bands = 255;

/// Throws warp::invalid_argument unless 1 <= b <= 255, r >= 1 and b * r <= k.
inline void validate(band_layout const& l, std::uint32_t k) {
  if (l.bands == 0 || l.bands > max_bands) {
    throw invalid_argument("band_layout.bands must be 1 to " + std::to_string(max_bands) + ", got " +
                           std::to_string(l.bands));
  }
  if (l.rows == 0) { throw invalid_argument("band_layout.rows must be at least 1, got 0"); }
  if (static_cast<std::uint64_t>(l.bands) * l.rows > k) {
    throw invalid_argument("band_layout: " + std::to_string(l.bands) + " bands x " + std::to_string(l.rows) +
                           " rows need " + std::to_string(static_cast<std::uint64_t>(l.bands) * l.rows) +
                           " signature values, the signatures have k = " + std::to_string(k));
  }
}

/// The probability that two documents of Jaccard similarity s share at least one band key:
/// 1 - (1 - s^r)^b (the S-curve).
inline double collision_probability(double s, band_layout const& l) {
  return 1.0 - std::pow(1.0 - std::pow(s, static_cast<double>(l.rows)), static_cast<double>(l.bands));
}

struct band_choice {
  band_layout layout;
  double false_positive_area;  // integral over s in [0, t] of the S-curve
  double false_negative_area;  // integral over s in [t, 1] of 1 - the S-curve
};

namespace detail {
inline double integrate(double lo, double hi, band_layout const& l, bool complement) {
  constexpr int steps = 512;  // Simpson's rule, even number of intervals
  double const h = (hi - lo) / steps;
  double sum = 0;
  for (int i = 0; i <= steps; ++i) {
    double const p = collision_probability(lo + h * i, l);
    double const f = complement ? 1.0 - p : p;
    sum += f * (i == 0 || i == steps ? 1.0 : i % 2 == 1 ? 4.0 : 2.0);
  }
  return sum * h / 3.0;
}
}  // namespace detail

/// The (b, r) with b * r <= k and b <= 255 that minimises
/// fp_weight * false_positive_area + fn_weight * false_negative_area for threshold t.
inline band_choice choose_bands(double threshold, std::uint32_t k, double fp_weight = 0.5, double fn_weight = 0.5) {
  if (!(threshold > 0.0 && threshold < 1.0)) {
    throw invalid_argument("choose_bands: the threshold must lie in (0, 1), got " + std::to_string(threshold));
  }
  if (k == 0) { throw invalid_argument("choose_bands: k must be at least 1"); }
  if (!(fp_weight >= 0.0 && fn_weight >= 0.0 && fp_weight + fn_weight > 0.0)) {
    throw invalid_argument("choose_bands: the weights must be non-negative and not both zero");
  }
  band_choice best{{1, 1}, 0, 0};
  double best_cost = std::numeric_limits<double>::infinity();
  for (std::uint32_t b = 1; b <= k && b <= max_bands; ++b) {
    for (std::uint32_t r = 1; static_cast<std::uint64_t>(b) * r <= k; ++r) {
      band_layout const l{b, r};
      double const fp = detail::integrate(0.0, threshold, l, false);
      double const fn = detail::integrate(threshold, 1.0, l, true);
      double const cost = fp_weight * fp + fn_weight * fn;
      if (cost < best_cost) {
        best_cost = cost;
        best = {l, fp, fn};
      }
    }
  }
  return best;
}

namespace detail {

template <class T>
WARP_HD WARP_FORCEINLINE std::uint64_t band_key(T const* values, std::uint32_t rows, std::uint32_t band) noexcept {
  std::uint64_t const h = hash::xxhash64(values, rows * sizeof(T), band);
  return (static_cast<std::uint64_t>(band) << 56) | (h >> 8);
}

template <class T>
struct band_key_fn {
  T const* signatures;
  std::uint32_t k;
  band_layout layout;
  std::uint64_t* keys;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t d) const {
    for (std::uint32_t j = 0; j < layout.bands; ++j) {
      keys[d * layout.bands + j] = band_key(signatures + d * k + static_cast<std::size_t>(j) * layout.rows, layout.rows, j);
    }
    return 0;
  }
};

}  // namespace detail

/// keys[d * b + j] = the key of band j of document d, for `docs` signatures of k values.
/// Pointers are host or device memory on the CUDA backend, host memory on the host backend. Waits.
template <class T>
void band_keys(T const* signatures, std::size_t docs, std::uint32_t k, band_layout layout, std::uint64_t* keys,
               backend where = default_backend(), cuda::stream_ref stream = default_stream(),
               memory_resource* memory = nullptr) {
  validate(layout, k);
  require_backend(where);
  if (docs == 0) { return; }
  if (docs > std::numeric_limits<std::size_t>::max() / k) {
    throw invalid_argument("band_keys: " + std::to_string(docs) + " signatures of " + std::to_string(k) + " values overflow");
  }
  warp::detail::input_view<T const*> in{where, signatures, docs * k, "band_keys signatures", stream, memory};
  warp::detail::output_view<std::uint64_t> out{where, keys, docs * layout.bands, "band_keys output", stream, memory};
  warp::detail::for_each_item<1>(warp::detail::executor{where, stream, memory}, docs,
                                 detail::band_key_fn<T>{in.get(), k, layout, out.get()});
  out.finish(stream);
  warp::detail::synchronize(where, stream);
}
/// The band keys in host memory.
template <class T>
std::vector<std::uint64_t> band_keys(std::vector<T> const& signatures, std::size_t docs, std::uint32_t k,
                                     band_layout layout, backend where = default_backend(),
                                     cuda::stream_ref stream = default_stream(), memory_resource* memory = nullptr) {
  validate(layout, k);
  if (signatures.size() != docs * static_cast<std::size_t>(k)) {
    throw invalid_argument("band_keys: " + std::to_string(signatures.size()) + " signature values for " +
                           std::to_string(docs) + " documents of k = " + std::to_string(k));
  }
  std::vector<std::uint64_t> keys(docs * layout.bands);
  band_keys(signatures.data(), docs, k, layout, keys.data(), where, stream, memory);
  return keys;
}

}  // namespace warp::lsh
