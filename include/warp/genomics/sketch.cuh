// warp/genomics/sketch.cuh: window sketches of DNA sequences (MetaCache's scheme), on the GPU or
// the host.
//
//   warp::genomics::sketch_options o;                 // k = 16, windows of 127 bases, 16 features
//   warp::genomics::window_sketches s = warp::genomics::sketch(seqs, o, where);
//   // window w of sequence i (w in [s.window_offsets[i], s.window_offsets[i + 1])) has features
//   // s.features[w * o.sketch_size ..], s.counts[w] of them, ascending
//
// A sequence is cut into windows of `window` bases that start every window - k + 1 bases, so that
// consecutive windows share k - 1 bases and every k-mer lies in exactly one window; the last
// window may be shorter. A window's sketch is the `sketch_size` smallest distinct feature values
// of its k-mers, where a k-mer's feature is the high 32 bits of the 64-bit MurmurHash3 finalizer of
// its canonical 2-bit form (the smaller of the k-mer's and its reverse complement's encodings)
// xor the seed. Bases are A, C, G, T in either case; any other byte (N) breaks k-mers. A window
// without a k-mer has an empty sketch. Sequences are the documents of warp/lsh/documents.cuh
// (bytes and 64-bit offsets, host or device memory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/config.cuh>
#include <warp/core/error.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>
#include <warp/genomics/dna.cuh>
#include <warp/hash/murmur3.cuh>
#include <warp/lsh/documents.cuh>

namespace warp::genomics {

struct sketch_options {
  std::uint32_t k = 16;            // bases per k-mer, 1 to 32
  std::uint32_t window = 127;      // bases per window, at least k
  std::uint32_t sketch_size = 16;  // features per window, 1 to 64
  std::uint64_t seed = 0;
};

inline constexpr std::uint32_t max_sketch_size = 64;
inline constexpr std::uint32_t max_window = 1u << 20;

inline void validate(sketch_options const& o) {
  if (o.k == 0 || o.k > 32) { throw invalid_argument("sketch_options.k must be 1 to 32, got " + std::to_string(o.k)); }
  if (o.window < o.k || o.window > max_window) {
    throw invalid_argument("sketch_options.window must be k (" + std::to_string(o.k) + ") to " + std::to_string(max_window) +
                           ", got " + std::to_string(o.window));
  }
  if (o.sketch_size == 0 || o.sketch_size > max_sketch_size) {
    throw invalid_argument("sketch_options.sketch_size must be 1 to " + std::to_string(max_sketch_size) + ", got " +
                           std::to_string(o.sketch_size));
  }
}

/// Windows a sequence of `length` bases has (0 when it is shorter than k).
inline std::uint64_t windows_in(std::uint64_t length, sketch_options const& o) noexcept {
  if (length < o.k) { return 0; }
  std::uint64_t const stride = o.window - o.k + 1;
  return length <= o.window ? 1 : 1 + (length - o.window + stride - 1) / stride;
}

struct window_sketches {
  std::vector<std::uint64_t> window_offsets;  // sequences + 1 entries
  std::vector<std::uint32_t> features;        // windows x sketch_size, padded with ~0
  std::vector<std::uint8_t> counts;           // features per window
  [[nodiscard]] std::uint64_t windows() const noexcept { return counts.size(); }
};

namespace detail {

WARP_HD WARP_FORCEINLINE std::uint32_t kmer_feature(std::uint64_t canonical, std::uint64_t seed) noexcept {
  return static_cast<std::uint32_t>(hash::fmix64(canonical ^ seed) >> 32);
}

/// The sketch of bases p[0, n): up to s smallest distinct features, ascending, into out; returns
/// how many.
WARP_HD inline std::uint32_t sketch_window(unsigned char const* p, std::size_t n, std::uint32_t k, std::uint32_t s,
                                           std::uint64_t seed, std::uint32_t* out) noexcept {
  std::uint32_t count = 0;
  kmer_roller roller{k};
  for (std::size_t i = 0; i < n; ++i) {
    if (!roller.push(p[i])) { continue; }
    std::uint32_t const f = kmer_feature(roller.canonical(), seed);
    if (count == s && f >= out[s - 1]) { continue; }
    // Insertion into the sorted, distinct array.
    std::uint32_t j = count;
    while (j > 0 && out[j - 1] > f) { --j; }
    if (j > 0 && out[j - 1] == f) { continue; }
    std::uint32_t const last = count == s ? s - 1 : count;
    for (std::uint32_t m = last; m > j; --m) { out[m] = out[m - 1]; }
    out[j] = f;
    if (count < s) { ++count; }
  }
  for (std::uint32_t m = count; m < s; ++m) { out[m] = ~0u; }
  return count;
}

/// One window per item: its sequence found by binary search in the window offsets.
struct sketch_fn {
  unsigned char const* bytes;
  std::int64_t const* offsets;  // relative to bytes
  std::uint64_t const* window_offsets;
  std::size_t sequences;
  sketch_options o;
  std::uint32_t* features;
  std::uint8_t* counts;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t w) const {
    std::size_t lo = 0, hi = sequences;  // the sequence i with window_offsets[i] <= w < window_offsets[i + 1]
    while (hi - lo > 1) {
      std::size_t const mid = (lo + hi) / 2;
      if (window_offsets[mid] <= w) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    std::uint64_t const local = w - window_offsets[lo];
    std::uint64_t const stride = o.window - o.k + 1;
    std::uint64_t const length = static_cast<std::uint64_t>(offsets[lo + 1] - offsets[lo]);
    std::uint64_t const begin = local * stride;
    std::uint64_t const end = begin + o.window < length ? begin + o.window : length;
    counts[w] = static_cast<std::uint8_t>(
        sketch_window(bytes + offsets[lo] + begin, end - begin, o.k, o.sketch_size, o.seed, features + w * o.sketch_size));
    return 0;
  }
};

}  // namespace detail

/// The window sketches of every sequence (host results). Waits for its work.
inline window_sketches sketch(lsh::documents const& sequences, sketch_options const& o,
                              backend where = default_backend(), cuda::stream_ref stream = default_stream(),
                              memory_resource* memory = nullptr) {
  validate(o);
  require_backend(where);
  std::vector<std::int64_t> const offsets = lsh::detail::checked_host_offsets(sequences, "genomics::sketch");
  window_sketches out;
  out.window_offsets.assign(sequences.count + 1, 0);
  for (std::size_t i = 0; i < sequences.count; ++i) {
    out.window_offsets[i + 1] =
        out.window_offsets[i] + windows_in(static_cast<std::uint64_t>(offsets[i + 1] - offsets[i]), o);
  }
  std::uint64_t const windows = out.window_offsets[sequences.count];
  out.features.assign(windows * o.sketch_size, ~0u);
  out.counts.assign(windows, 0);
  if (windows == 0) { return out; }
  std::vector<std::int64_t> relative(offsets.size());
  for (std::size_t i = 0; i < offsets.size(); ++i) { relative[i] = offsets[i] - offsets[0]; }
  auto const bytes = static_cast<std::size_t>(relative.back());
  auto const* first = reinterpret_cast<unsigned char const*>(sequences.bytes) + offsets[0];
  warp::detail::input_view<unsigned char const*> b{where, first, bytes, "genomics::sketch bytes", stream, memory};
  warp::detail::input_view<std::int64_t const*> off{where, relative.data(), relative.size(), "genomics::sketch offsets", stream, memory};
  warp::detail::input_view<std::uint64_t const*> woff{where, out.window_offsets.data(), out.window_offsets.size(),
                                                      "genomics::sketch windows", stream, memory};
  warp::detail::output_view<std::uint32_t> f{where, out.features.data(), out.features.size(), "genomics::sketch features", stream, memory};
  warp::detail::output_view<std::uint8_t> c{where, out.counts.data(), out.counts.size(), "genomics::sketch counts", stream, memory};
  warp::detail::for_each_item<1>(warp::detail::executor{where, stream, memory}, windows,
                                 detail::sketch_fn{b.get(), off.get(), woff.get(), sequences.count, o, f.get(), c.get()});
  f.finish(stream);
  c.finish(stream);
  warp::detail::synchronize(where, stream);
  return out;
}

}  // namespace warp::genomics
