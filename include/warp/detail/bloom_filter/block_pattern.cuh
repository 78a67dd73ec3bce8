// warp/detail/bloom_filter/block_pattern.cuh: which bits of which block a key sets, and the false-positive rate
// that pattern predicts.
//
// A blocked Bloom filter keeps every key's k bits inside one block of BlockBytes (32: one memory
// sector, up to 128: one cache line), so a query reads one block. The block is chosen from the
// high bits of the key's hash (multiply-high range reduction of the hash spread over 64 bits); the k bit positions come from
// a second, independent 64-bit stream (fmix64 of the hash), log2(block bits) bits per position.
// Each position is uniform over the block and independent of the others, so the false-positive rate
// follows from the Poisson spread of keys over blocks and the occupancy distribution of a block
// (predicted_false_positive_rate below).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <warp/core/config.cuh>
#include <warp/hash/detail/bytes.cuh>
#include <warp/hash/murmur3.cuh>

namespace warp::bloom {

template <int BlockBytes>
struct block_pattern {
  static_assert(BlockBytes == 32 || BlockBytes == 64 || BlockBytes == 128, "blocks are 32, 64 or 128 bytes");
  static constexpr int block_bytes = BlockBytes;
  static constexpr int block_bits = BlockBytes * 8;
  static constexpr int words = BlockBytes / 8;  // 64-bit words per block
  static constexpr int position_bits = block_bits == 256 ? 8 : block_bits == 512 ? 9 : 10;
  static constexpr int max_hashes = 32;

  /// The block of a key with hash `h` among `num_blocks` (hashes narrower than 64 bits are spread
  /// first, so that a 32-bit hasher does not put every key in block 0).
  WARP_HD WARP_FORCEINLINE static std::size_t block_of(std::uint64_t h, std::size_t num_blocks) noexcept {
    return static_cast<std::size_t>(hash::detail::reduce_to_range(h, num_blocks));
  }

  /// The bits of words [first_word, first_word + N) that the key sets.
  template <int N>
  WARP_HD WARP_FORCEINLINE static void masks(std::uint64_t h, int hashes, int first_word, std::uint64_t (&out)[N]) noexcept {
    for (int w = 0; w < N; ++w) { out[w] = 0; }
    // Each 64-bit word of the stream yields 64 / position_bits positions; the next word is a fresh
    // mix of the first one and a round number (not of the exhausted remainder, whose few bits left
    // would repeat the same handful of positions).
    std::uint64_t const first = hash::fmix64(h ^ 0x9E3779B97F4A7C15ull);
    std::uint64_t stream = first;
    std::uint64_t round = 0;
    int left = 64;
    for (int i = 0; i < hashes; ++i) {
      if (left < position_bits) {
        stream = hash::fmix64(first + (++round) * 0x632BE59BD9B4E019ull);
        left = 64;
      }
      int const position = static_cast<int>(stream & ((1u << position_bits) - 1));
      stream >>= position_bits;
      left -= position_bits;
      int const word = (position >> 6) - first_word;
      std::uint64_t const bit = std::uint64_t{1} << (position & 63);
      for (int w = 0; w < N; ++w) { out[w] |= (w == word) ? bit : 0; }  // branch-free, N is small
    }
  }
};

/// Predicted false-positive rate of a blocked filter of `num_blocks` blocks of `block_bits` bits,
/// `hashes` bits per key, after `keys` distinct keys were added:
///   fpr = sum_j Poisson(j; keys / num_blocks) * E[(X_jk / b)^k],
/// where X_t is the number of distinct bits that t uniform draws set among the block's b bits (its
/// exact occupancy distribution is carried along j). The textbook shortcut (E[X_jk] / b)^k ignores
/// the spread of X and underestimates the rate by 1-2 %.
inline double predicted_false_positive_rate(std::size_t num_blocks, int block_bits, int hashes, std::size_t keys) {
  if (num_blocks == 0 || hashes <= 0) { return 1.0; }
  double const lambda = static_cast<double>(keys) / static_cast<double>(num_blocks);
  auto const upper = static_cast<std::size_t>(lambda + 12.0 * std::sqrt(lambda) + 64.0);
  std::vector<double> occupancy(static_cast<std::size_t>(block_bits) + 1, 0.0);  // P(X = x)
  occupancy[0] = 1.0;
  std::vector<double> hit(occupancy.size());  // (x / b)^k
  for (std::size_t x = 0; x < hit.size(); ++x) { hit[x] = std::pow(static_cast<double>(x) / block_bits, hashes); }
  double fpr = 0.0;
  double log_p = -lambda;  // log Poisson(j)
  std::size_t reach = 0;   // largest x with non-zero probability
  for (std::size_t j = 0; j <= upper; ++j) {
    if (j > 0) { log_p += std::log(lambda) - std::log(static_cast<double>(j)); }
    double f = 0.0;
    for (std::size_t x = 0; x <= reach; ++x) { f += occupancy[x] * hit[x]; }
    fpr += std::exp(log_p) * f;
    for (int d = 0; d < hashes; ++d) {  // k more draws: a draw hits a new bit with probability (b - x) / b
      reach = reach < static_cast<std::size_t>(block_bits) ? reach + 1 : reach;
      for (std::size_t x = reach; x-- > 0;) {
        double const to_new = occupancy[x] * static_cast<double>(block_bits - static_cast<int>(x)) / block_bits;
        occupancy[x + 1] += to_new;
        occupancy[x] -= to_new;
      }
    }
  }
  return fpr;
}

/// The textbook approximation (E[X] / b)^k per block load; cheap, used to shortlist sizes.
inline double approximate_false_positive_rate(std::size_t num_blocks, int block_bits, int hashes, std::size_t keys) {
  if (num_blocks == 0 || hashes <= 0) { return 1.0; }
  double const lambda = static_cast<double>(keys) / static_cast<double>(num_blocks);
  double const miss_one = std::log1p(-1.0 / block_bits);
  auto const upper = static_cast<std::size_t>(lambda + 12.0 * std::sqrt(lambda) + 64.0);
  double fpr = 0.0;
  double log_p = -lambda;
  for (std::size_t j = 0; j <= upper; ++j) {
    if (j > 0) { log_p += std::log(lambda) - std::log(static_cast<double>(j)); }
    fpr += std::exp(log_p) * std::pow(1.0 - std::exp(miss_one * static_cast<double>(j) * hashes), hashes);
  }
  return fpr;
}

}  // namespace warp::bloom
