// warp/lsh/detail/signature_kernels.cuh: the per-document functors of minhasher (signatures.cuh):
// shingle hashes, permuted minima, one-permutation bins and their densification, the UTF-8 check.
// Each runs as one tile per document (32 lanes on CUDA, one on the host).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include <warp/core/config.cuh>
#include <warp/detail/atomic.cuh>
#include <warp/hash/detail/bytes.cuh>
#include <warp/hash/murmur3.cuh>
#include <warp/lsh/detail/shingling.cuh>
#include <warp/lsh/minhash_options.cuh>

namespace warp::lsh {

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

}  // namespace warp::lsh
