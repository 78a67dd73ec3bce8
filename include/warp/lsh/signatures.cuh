// warp/lsh/signatures.cuh: MinHash signatures of a batch of documents, on the GPU or the host.
//
//   warp::lsh::minhash_options o;
//   o.mode = warp::lsh::permutation::mersenne61;
//   o.shingles = {warp::lsh::shingle_kind::characters, 5};
//   warp::lsh::minhasher<std::uint64_t> mh{128, o};             // k = 128, parameters from o.seed
//   std::vector<std::uint64_t> sig = mh.signatures(docs);        // docs.count x k, row-major
//
// Each document's shingles are hashed once (shingles.cuh); the k values of its signature are
// minima over its shingle hashes h of a permutation, chosen by `mode`:
// - permutation::cudf: cuDF's nvtext::minhash / minhash64 (the "permuted" form): h is
//   MurmurHash3_x86_32 (32-bit signatures) or the first half of MurmurHash3_x64_128 (64-bit) of
//   the shingle, seeded, at least 1; value = (h * a_i + b_i) wrapping in the signature's width,
//   then (64-bit only) mod 2^61 - 1. Bitwise what cuDF returns for the same seed, a, b and width.
// - permutation::mersenne61: exact universal hashing, h = xxHash64 of the shingle reduced mod
//   p = 2^61 - 1, value = (a_i * h + b_i) mod p with the 128-bit product (a_i in [1, p),
//   b_i in [0, p)); 32-bit signatures keep the low 32 bits.
// - permutation::one_permutation: one hash per shingle (xxHash64) and k bins: the high bits of h
//   pick the bin, a remix of h is the value, each bin keeps its minimum; empty bins are filled by
//   optimal densification (Shrivastava, ICML 2017): bin i takes the value of the first non-empty
//   bin among j_t = H(i, t), t = 1, 2, ..., with H shared by all documents (after 8k + 32 tries, the
//   next non-empty bin in order). Its estimator is the same as MinHash's: the fraction of equal
//   positions. Values are kept below the type's maximum, which marks an empty bin.
// An empty document's signature is all zeros (as cuDF's). Results do not depend on the batch the
// document is in, the backend, or the stream.
//
// Synchronisation: signatures() waits for its work. `out` (docs.count * k values) may be host or
// device memory on the CUDA backend, host memory on the host backend.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/config.cuh>
#include <warp/core/error.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/detail/atomic.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>
#include <warp/hash/detail/bytes.cuh>
#include <warp/hash/murmur3.cuh>
#include <warp/lsh/documents.cuh>
#include <warp/lsh/shingles.cuh>

namespace warp::lsh {

enum class permutation : std::uint8_t { cudf, mersenne61, one_permutation };

inline char const* to_string(permutation p) noexcept {
  switch (p) {
    case permutation::cudf: return "cudf";
    case permutation::mersenne61: return "mersenne61";
    case permutation::one_permutation: return "one_permutation";
  }
  return "?";
}

/// The Mersenne prime 2^61 - 1 of the exact mode.
inline constexpr std::uint64_t mersenne61_prime = (std::uint64_t{1} << 61) - 1;

struct minhash_options {
  permutation mode = permutation::mersenne61;
  shingle_options shingles{};
  std::uint64_t seed = 0;             // of the shingle hash (cuDF's `seed`), and of drawn parameters
  std::size_t batch_bytes = 1u << 24;  // documents are processed in batches of about this many bytes
};

inline constexpr std::uint32_t max_signature_length = 1u << 16;

namespace detail {

WARP_HD WARP_FORCEINLINE std::uint64_t reduce61(std::uint64_t x) noexcept {
  std::uint64_t r = (x & mersenne61_prime) + (x >> 61);
  return r >= mersenne61_prime ? r - mersenne61_prime : r;
}

/// (a * h + b) mod 2^61 - 1 for a, h, b < 2^61 - 1, with the 128-bit product.
WARP_HD WARP_FORCEINLINE std::uint64_t affine61(std::uint64_t a, std::uint64_t h, std::uint64_t b) noexcept {
  hash::detail::u128 const p = hash::detail::mul64to128(a, h);
  // p = high * 2^64 + low and 2^64 = 8 (mod 2^61 - 1); high < 2^58 since a, h < 2^61.
  std::uint64_t r = (p.low & mersenne61_prime) + (p.low >> 61) + (p.high << 3);
  r = reduce61(r);
  r += b;
  return r >= mersenne61_prime ? r - mersenne61_prime : r;
}

/// One signature value of shingle hash h under parameters (a, b).
template <class T>
WARP_HD WARP_FORCEINLINE T permute(permutation mode, std::uint64_t h, std::uint64_t a, std::uint64_t b) noexcept {
  if (mode == permutation::cudf) {
    if constexpr (sizeof(T) == 4) {
      return static_cast<std::uint32_t>(static_cast<std::uint32_t>(h) * static_cast<std::uint32_t>(a) +
                                        static_cast<std::uint32_t>(b));
    } else {
      return (h * a + b) % mersenne61_prime;
    }
  }
  return static_cast<T>(affine61(a, reduce61(h), b));
}

/// Bin and value of a shingle hash under one-permutation hashing with k bins.
template <class T>
WARP_HD WARP_FORCEINLINE std::uint32_t oph_bin(std::uint64_t h, std::uint32_t k) noexcept {
  return static_cast<std::uint32_t>(hash::detail::mulhi64(h, k));
}
template <class T>
WARP_HD WARP_FORCEINLINE T oph_value(std::uint64_t h) noexcept {
  std::uint64_t const v = hash::fmix64(h ^ 0x9E3779B97F4A7C15ull);
  T const t = sizeof(T) == 4 ? static_cast<T>(v >> 32) : static_cast<T>(v);
  return t == std::numeric_limits<T>::max() ? t - 1 : t;
}
/// The bin that empty bin i looks at on try t (shared by every document).
WARP_HD WARP_FORCEINLINE std::uint32_t densify_probe(std::uint32_t i, std::uint32_t t, std::uint32_t k) noexcept {
  std::uint64_t const x = hash::fmix64((static_cast<std::uint64_t>(i) << 32 | t) ^ 0x632BE59BD9B4E019ull);
  return static_cast<std::uint32_t>(hash::detail::mulhi64(x, k));
}

template <class Tile, class T>
WARP_HD WARP_FORCEINLINE T tile_min(Tile const& tile, T v) noexcept {
#if WARP_DEVICE_COMPILATION
  if constexpr (Tile::num_threads() > 1) {
    for (unsigned o = Tile::num_threads() / 2; o > 0; o /= 2) {
      T const other = tile.shfl_xor(v, o);
      v = other < v ? other : v;
    }
  }
#else
  (void)tile;
#endif
  return v;
}

/// One batch of documents as the backend reads it: bytes[offsets[i] .. offsets[i + 1]) is
/// document `first + i` (offsets relative to the batch's first byte).
struct batch_view {
  unsigned char const* bytes;
  std::int64_t const* offsets;
};

/// Phase 1: hashes[offsets[d] + p] = hash of the shingle at byte p of document d (0: none).
struct shingle_hash_fn {
  batch_view batch;
  shingle_options shingles;
  shingle_hasher hasher;
  std::uint64_t* hashes;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t d) const {
    std::int64_t const begin = batch.offsets[d];
    auto const n = static_cast<std::size_t>(batch.offsets[d + 1] - begin);
    unsigned char const* p = batch.bytes + begin;
    for (std::size_t i = tile.thread_rank(); i < n; i += tile.num_threads()) {
      hashes[begin + static_cast<std::int64_t>(i)] = shingle_at(p, n, i, shingles, hasher);
    }
    return 0;
  }
};

/// The hash a non-empty document without shingles gets (all its bytes), else 0; the same on every lane.
template <class Tile>
WARP_HD std::uint64_t whole_document_hash(Tile const& tile, batch_view const& batch, shingle_hasher const& hasher,
                                          std::uint64_t const* hashes, std::size_t d) {
  std::int64_t const begin = batch.offsets[d];
  auto const n = static_cast<std::size_t>(batch.offsets[d + 1] - begin);
  bool found = false;
  for (std::size_t i = tile.thread_rank(); i < n && !found; i += tile.num_threads()) {
    found = hashes[begin + static_cast<std::int64_t>(i)] != 0;
  }
  if (n == 0 || tile.any(found)) { return 0; }
  return hasher(batch.bytes + begin, n);
}

/// Phase 2 (cudf, mersenne61): out[(first + d) * k + i] = min over the document's shingles of permute(h, a_i, b_i).
template <class T>
struct permuted_signature_fn {
  static constexpr std::uint32_t chunk = 8;  // parameters per pass over the document's hashes
  batch_view batch;
  shingle_hasher hasher;
  std::uint64_t const* hashes;
  std::uint64_t const* a;
  std::uint64_t const* b;
  std::uint32_t k;
  permutation mode;
  T* out;  // the batch's first row
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t d) const {
    std::int64_t const begin = batch.offsets[d];
    auto const n = static_cast<std::size_t>(batch.offsets[d + 1] - begin);
    std::uint64_t const whole = whole_document_hash(tile, batch, hasher, hashes, d);
    T* row = out + d * k;
    for (std::uint32_t c0 = 0; c0 < k; c0 += chunk) {
      T mins[chunk];
      for (std::uint32_t c = 0; c < chunk; ++c) { mins[c] = std::numeric_limits<T>::max(); }
      std::uint32_t const m = k - c0 < chunk ? k - c0 : chunk;
      for (std::size_t i = tile.thread_rank(); i < n; i += tile.num_threads()) {
        std::uint64_t const h = hashes[begin + static_cast<std::int64_t>(i)];
        if (h == 0) { continue; }
        for (std::uint32_t c = 0; c < m; ++c) {
          T const v = permute<T>(mode, h, a[c0 + c], b[c0 + c]);
          mins[c] = v < mins[c] ? v : mins[c];
        }
      }
      if (whole != 0 && tile.thread_rank() == 0) {
        for (std::uint32_t c = 0; c < m; ++c) {
          T const v = permute<T>(mode, whole, a[c0 + c], b[c0 + c]);
          mins[c] = v < mins[c] ? v : mins[c];
        }
      }
      for (std::uint32_t c = 0; c < m; ++c) {
        T const v = tile_min(tile, mins[c]);
        if (tile.thread_rank() == 0) { row[c0 + c] = n == 0 ? T{0} : v; }
      }
    }
    return 0;
  }
};

/// Phase 2 (one_permutation): each document's k bins in `bins` (the batch's rows), minima of the values.
template <class T>
struct oph_bins_fn {
  batch_view batch;
  shingle_hasher hasher;
  std::uint64_t const* hashes;
  std::uint32_t k;
  T* bins;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t d) const {
    std::int64_t const begin = batch.offsets[d];
    auto const n = static_cast<std::size_t>(batch.offsets[d + 1] - begin);
    T* row = bins + d * k;
    for (std::uint32_t i = tile.thread_rank(); i < k; i += tile.num_threads()) { row[i] = std::numeric_limits<T>::max(); }
    tile.sync();
    std::uint64_t const whole = whole_document_hash(tile, batch, hasher, hashes, d);
    for (std::size_t i = tile.thread_rank(); i < n; i += tile.num_threads()) {
      std::uint64_t const h = hashes[begin + static_cast<std::int64_t>(i)];
      if (h != 0) { warp::detail::atomic_min(row + oph_bin<T>(h, k), oph_value<T>(h)); }
    }
    if (whole != 0 && tile.thread_rank() == 0) { warp::detail::atomic_min(row + oph_bin<T>(whole, k), oph_value<T>(whole)); }
    if (n == 0) {
      tile.sync();
      for (std::uint32_t i = tile.thread_rank(); i < k; i += tile.num_threads()) { row[i] = 0; }
    }
    return 0;
  }
};

/// Phase 3 (one_permutation): out = the bins with every empty bin densified.
template <class T>
struct densify_fn {
  T const* bins;
  std::uint32_t k;
  T* out;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t d) const {
    T const* row = bins + d * k;
    T* dst = out + d * k;
    constexpr T empty = std::numeric_limits<T>::max();
    std::uint64_t const tries = 8 * static_cast<std::uint64_t>(k) + 32;
    for (std::uint32_t i = tile.thread_rank(); i < k; i += tile.num_threads()) {
      T v = row[i];
      for (std::uint32_t t = 1; v == empty && t <= tries; ++t) { v = row[densify_probe(i, t, k)]; }
      for (std::uint32_t j = 1; v == empty && j < k; ++j) { v = row[(i + j) % k]; }
      dst[i] = v;
    }
    return 0;
  }
};

/// Finds the lowest-numbered document of the batch whose bytes are not valid UTF-8 (atomic min).
struct utf8_check_fn {
  batch_view batch;
  unsigned long long* first_bad;  // document index within the batch, or ~0
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t d) const {
    if (tile.thread_rank() != 0) { return 0; }
    std::int64_t const begin = batch.offsets[d];
    auto const n = static_cast<std::size_t>(batch.offsets[d + 1] - begin);
    if (first_invalid_utf8(batch.bytes + begin, n) >= 0) {
      warp::detail::atomic_min(first_bad, static_cast<unsigned long long>(d));
    }
    return 0;
  }
};

inline std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace detail

/// MinHash signatures of width T (std::uint32_t or std::uint64_t) with k values per document.
template <class T>
class minhasher {
  static_assert(std::is_same_v<T, std::uint32_t> || std::is_same_v<T, std::uint64_t>,
                "minhasher makes 32- or 64-bit signatures");

 public:
  using value_type = T;
  static constexpr int tile_size = 32;

  /// k values per document, with parameters (a, b) drawn from options.seed (none for one_permutation).
  minhasher(std::uint32_t k, minhash_options options = {}, backend where = default_backend(),
            cuda::stream_ref stream = default_stream(), memory_resource* memory = nullptr)
      : minhasher(drawn(k, options), options, where, stream, memory) {}

  /// The caller's parameters (cuDF's parameter_a and parameter_b); k = a.size().
  minhasher(std::vector<std::uint64_t> a, std::vector<std::uint64_t> b, minhash_options options = {},
            backend where = default_backend(), cuda::stream_ref stream = default_stream(),
            memory_resource* memory = nullptr)
      : minhasher(parameters{std::move(a), std::move(b), 0}, options, where, stream, memory) {}

  [[nodiscard]] std::uint32_t k() const noexcept { return k_; }
  [[nodiscard]] minhash_options const& options() const noexcept { return options_; }
  [[nodiscard]] std::vector<std::uint64_t> const& parameter_a() const noexcept { return a_host_; }
  [[nodiscard]] std::vector<std::uint64_t> const& parameter_b() const noexcept { return b_host_; }
  [[nodiscard]] backend where() const noexcept { return where_; }

  /// Writes docs.count * k values to out (document i's at out[i * k ..)). Throws before writing
  /// anything when the offsets are inconsistent or (strict UTF-8) a document is not valid UTF-8,
  /// naming the document and the byte offset.
  void signatures(documents docs, T* out, cuda::stream_ref stream = default_stream()) const {
    std::vector<std::int64_t> const offsets = detail::checked_host_offsets(docs, "minhasher::signatures");
    if (docs.count == 0) { return; }
    if (docs.count > std::numeric_limits<std::size_t>::max() / k_) {
      throw invalid_argument("minhasher::signatures: " + std::to_string(docs.count) + " documents times k = " +
                             std::to_string(k_) + " overflows");
    }
    warp::detail::output_view<T> o{where_, out, docs.count * k_, "minhasher::signatures output", stream, memory_};
    auto const batches = plan(offsets);
    bool const check_utf8 =
        options_.shingles.utf8 == utf8_policy::strict && options_.shingles.kind != shingle_kind::dna;
    if (check_utf8) {
      for (auto const& r : batches) { check_batch(docs, offsets, r, stream); }
    }
    for (auto const& r : batches) { run_batch(docs, offsets, r, o.get(), stream); }
    o.finish(stream);
    warp::detail::synchronize(where_, stream);
  }
  /// The signatures in host memory.
  [[nodiscard]] std::vector<T> signatures(documents docs, cuda::stream_ref stream = default_stream()) const {
    std::vector<T> out(docs.count * static_cast<std::size_t>(k_));
    signatures(docs, out.data(), stream);
    return out;
  }

 private:
  struct parameters {
    std::vector<std::uint64_t> a, b;
    std::uint32_t k;  // one_permutation: the number of bins (a and b are empty)
  };
  struct batch_range {
    std::size_t first, last;  // documents [first, last)
  };

  minhasher(parameters p, minhash_options options, backend where, cuda::stream_ref stream, memory_resource* memory)
      : options_{options}, where_{where}, memory_{memory} {
    validate(options_.shingles);
    require_backend(where);
    if (options_.batch_bytes == 0) { throw invalid_argument("minhash_options.batch_bytes must be at least 1"); }
    if (options_.mode == permutation::one_permutation) {
      k_ = p.k != 0 ? p.k : static_cast<std::uint32_t>(p.a.size());
      if (!p.a.empty() || !p.b.empty()) {
        throw invalid_argument("minhasher: one_permutation hashing takes no parameters a and b");
      }
    } else {
      if (p.a.size() != p.b.size()) {
        throw invalid_argument("minhasher: parameters a and b differ in length (" + std::to_string(p.a.size()) +
                               " and " + std::to_string(p.b.size()) + ")");
      }
      k_ = static_cast<std::uint32_t>(p.a.size() > max_signature_length ? max_signature_length + 1 : p.a.size());
      check_parameters(p.a, p.b);
    }
    if (k_ == 0 || k_ > max_signature_length) {
      throw invalid_argument("minhasher: k must be 1 to " + std::to_string(max_signature_length) + ", got " +
                             std::to_string(p.a.empty() ? p.k : p.a.size()));
    }
    if (options_.mode == permutation::cudf && sizeof(T) == 4 && options_.seed > 0xffffffffull) {
      throw invalid_argument("minhasher: cuDF's 32-bit minhash takes a 32-bit seed, got " + std::to_string(options_.seed));
    }
    a_host_ = std::move(p.a);
    b_host_ = std::move(p.b);
    if (!a_host_.empty()) {
      a_ = warp::detail::buffer<std::uint64_t>{where, k_, stream, memory};
      b_ = warp::detail::buffer<std::uint64_t>{where, k_, stream, memory};
      warp::detail::copy_bytes(where, a_.data(), a_host_.data(), k_ * sizeof(std::uint64_t), stream);
      warp::detail::copy_bytes(where, b_.data(), b_host_.data(), k_ * sizeof(std::uint64_t), stream);
      warp::detail::synchronize(where, stream);
    }
    hasher_.seed = options_.seed;
    hasher_.function = options_.mode != permutation::cudf ? detail::byte_hash::xxhash64
                       : sizeof(T) == 4                    ? detail::byte_hash::murmur3_32
                                                           : detail::byte_hash::murmur3_x64_128;
  }

  static parameters drawn(std::uint32_t k, minhash_options const& o) {
    parameters p{{}, {}, k};
    if (o.mode == permutation::one_permutation || k == 0 || k > max_signature_length) { return p; }
    std::uint64_t state = o.seed ^ 0x5851F42D4C957F2Dull;
    p.a.resize(k);
    p.b.resize(k);
    // cuDF 32-bit parameters are 32-bit; the others lie in [1, p) and [0, p).
    std::uint64_t const range = o.mode == permutation::cudf && sizeof(T) == 4 ? 0xffffffffull : mersenne61_prime - 1;
    for (std::uint32_t i = 0; i < k; ++i) {
      p.a[i] = 1 + detail::splitmix64(state) % range;
      p.b[i] = detail::splitmix64(state) % (range + 1);
    }
    return p;
  }

  void check_parameters(std::vector<std::uint64_t> const& a, std::vector<std::uint64_t> const& b) const {
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (options_.mode == permutation::cudf && sizeof(T) == 4 && (a[i] > 0xffffffffull || b[i] > 0xffffffffull)) {
        throw invalid_argument("minhasher: cuDF 32-bit parameters are 32-bit; a[" + std::to_string(i) + "] = " +
                               std::to_string(a[i]) + ", b[" + std::to_string(i) + "] = " + std::to_string(b[i]));
      }
      if (options_.mode == permutation::mersenne61 &&
          (a[i] == 0 || a[i] >= mersenne61_prime || b[i] >= mersenne61_prime)) {
        throw invalid_argument("minhasher: mersenne61 parameters need a in [1, 2^61 - 1) and b in [0, 2^61 - 1); a[" +
                               std::to_string(i) + "] = " + std::to_string(a[i]) + ", b[" + std::to_string(i) +
                               "] = " + std::to_string(b[i]));
      }
    }
  }

  /// Batches of whole documents of about batch_bytes bytes (a longer document is a batch of its own),
  /// and at most batch_bytes / (k * sizeof(T)) documents when one_permutation needs a bin array.
  std::vector<batch_range> plan(std::vector<std::int64_t> const& offsets) const {
    std::vector<batch_range> out;
    std::size_t const n = offsets.size() - 1;
    std::size_t const max_docs =
        options_.mode == permutation::one_permutation
            ? std::max<std::size_t>(1, options_.batch_bytes / (static_cast<std::size_t>(k_) * sizeof(T)))
            : std::numeric_limits<std::size_t>::max();
    std::size_t first = 0;
    while (first < n) {
      std::size_t last = first + 1;
      while (last < n && last - first < max_docs &&
             static_cast<std::uint64_t>(offsets[last + 1] - offsets[first]) <= options_.batch_bytes) {
        ++last;
      }
      out.push_back({first, last});
      first = last;
    }
    return out;
  }

  /// The batch's bytes and relative offsets as the backend reads them.
  struct staged_batch {
    warp::detail::buffer<unsigned char> bytes;
    warp::detail::buffer<std::int64_t> offsets;
    unsigned char const* bytes_ptr;
    std::size_t size_bytes;
  };
  staged_batch stage(documents const& docs, std::vector<std::int64_t> const& offsets, batch_range r,
                     cuda::stream_ref stream) const {
    std::size_t const count = r.last - r.first;
    std::vector<std::int64_t> relative(count + 1);
    for (std::size_t i = 0; i <= count; ++i) { relative[i] = offsets[r.first + i] - offsets[r.first]; }
    auto const size = static_cast<std::size_t>(relative[count]);
    staged_batch s{warp::detail::buffer<unsigned char>{},
                   warp::detail::buffer<std::int64_t>{where_, count + 1, stream, memory_}, nullptr, size};
    warp::detail::copy_bytes(where_, s.offsets.data(), relative.data(), relative.size() * sizeof(std::int64_t), stream);
    auto const* source = reinterpret_cast<unsigned char const*>(docs.bytes) + offsets[r.first];
    if (size == 0) {
      s.bytes_ptr = source;
    } else if (where_ == backend::cuda && !warp::detail::is_device_accessible(docs.bytes)) {
      s.bytes = warp::detail::buffer<unsigned char>{where_, size, stream, memory_};
      warp::detail::copy_bytes(where_, s.bytes.data(), source, size, stream);
      s.bytes_ptr = s.bytes.data();
    } else if (where_ == backend::host && warp::detail::is_device_only(docs.bytes)) {
      throw invalid_argument("minhasher::signatures: the bytes are in device memory but the minhasher uses the host backend");
    } else {
      s.bytes_ptr = source;
    }
    // The relative offsets vector dies here: wait for its copy.
    warp::detail::synchronize(where_, stream);
    return s;
  }

  void check_batch(documents const& docs, std::vector<std::int64_t> const& offsets, batch_range r,
                   cuda::stream_ref stream) const {
    staged_batch const s = stage(docs, offsets, r, stream);
    warp::detail::buffer<unsigned long long> bad{where_, 1, stream, memory_};
    unsigned long long none = ~0ull;
    warp::detail::copy_bytes(where_, bad.data(), &none, sizeof(none), stream);
    warp::detail::executor const ex{where_, stream, memory_};
    warp::detail::for_each_item<1>(ex, r.last - r.first, detail::utf8_check_fn{{s.bytes_ptr, s.offsets.data()}, bad.data()});
    unsigned long long first_bad = none;
    warp::detail::copy_bytes(where_, &first_bad, bad.data(), sizeof(first_bad), stream);
    warp::detail::synchronize(where_, stream);
    if (first_bad == none) { return; }
    std::size_t const d = r.first + static_cast<std::size_t>(first_bad);
    auto const n = static_cast<std::size_t>(offsets[d + 1] - offsets[d]);
    std::vector<unsigned char> text(n);
    warp::detail::copy_bytes(where_ == backend::cuda ? backend::cuda : backend::host, text.data(),
                             reinterpret_cast<unsigned char const*>(docs.bytes) + offsets[d], n, stream);
    warp::detail::synchronize(where_, stream);
    std::int64_t const at = detail::first_invalid_utf8(text.data(), n);
    throw invalid_argument("minhasher::signatures: document " + std::to_string(d) + " is not valid UTF-8 at byte " +
                           std::to_string(at) + " (of " + std::to_string(n) +
                           "); use utf8_policy::bytes to take its bytes as they are");
  }

  void run_batch(documents const& docs, std::vector<std::int64_t> const& offsets, batch_range r, T* out,
                 cuda::stream_ref stream) const {
    staged_batch const s = stage(docs, offsets, r, stream);
    std::size_t const count = r.last - r.first;
    warp::detail::executor const ex{where_, stream, memory_};
    detail::batch_view const view{s.bytes_ptr, s.offsets.data()};
    warp::detail::buffer<std::uint64_t> hashes{where_, s.size_bytes == 0 ? 1 : s.size_bytes, stream, memory_};
    warp::detail::for_each_item<tile_size>(ex, count, detail::shingle_hash_fn{view, options_.shingles, hasher_, hashes.data()});
    T* rows = out + r.first * k_;
    if (options_.mode == permutation::one_permutation) {
      warp::detail::buffer<T> bins{where_, count * k_, stream, memory_};
      warp::detail::for_each_item<tile_size>(ex, count, detail::oph_bins_fn<T>{view, hasher_, hashes.data(), k_, bins.data()});
      warp::detail::for_each_item<tile_size>(ex, count, detail::densify_fn<T>{bins.data(), k_, rows});
      bins.use_on(stream);
    } else {
      warp::detail::for_each_item<tile_size>(
          ex, count,
          detail::permuted_signature_fn<T>{view, hasher_, hashes.data(), a_.data(), b_.data(), k_, options_.mode, rows});
    }
    hashes.use_on(stream);
  }

  minhash_options options_;
  backend where_;
  memory_resource* memory_;
  std::uint32_t k_ = 0;
  std::vector<std::uint64_t> a_host_, b_host_;
  warp::detail::buffer<std::uint64_t> a_{}, b_{};
  detail::shingle_hasher hasher_{};
};

}  // namespace warp::lsh
