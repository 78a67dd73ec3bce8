// warp/bloom/block_pattern.cuh: which bits of which block a key sets, and the false-positive rate
// that pattern predicts.
//
// A blocked Bloom filter keeps every key's k bits inside one block of BlockBytes (32: one memory
// sector, up to 128: one cache line), so a query reads one block. The block is chosen from the
// high bits of the key's 64-bit hash (multiply-high range reduction); the k bit positions come from
// a second, independent 64-bit stream (fmix64 of the hash), log2(block bits) bits per position.
// Each position is uniform over the block, which makes the textbook blocked-filter model exact:
//   fpr = sum_j Poisson(j; n / blocks) * (1 - (1 - 1/b)^(j k))^k,   b = bits per block.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

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

  /// The block of a key with 64-bit hash `h` among `num_blocks`.
  WARP_HD WARP_FORCEINLINE static std::size_t block_of(std::uint64_t h, std::size_t num_blocks) noexcept {
    return static_cast<std::size_t>(hash::detail::mulhi64(h, num_blocks));
  }

  /// The bits of words [first_word, first_word + N) that the key sets.
  template <int N>
  WARP_HD WARP_FORCEINLINE static void masks(std::uint64_t h, int hashes, int first_word, std::uint64_t (&out)[N]) noexcept {
    for (int w = 0; w < N; ++w) { out[w] = 0; }
    std::uint64_t stream = hash::fmix64(h ^ 0x9E3779B97F4A7C15ull);
    int left = 64;
    for (int i = 0; i < hashes; ++i) {
      if (left < position_bits) {
        stream = hash::fmix64(stream + 0x632BE59BD9B4E019ull);
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
/// `hashes` bits per key, after `keys` distinct keys were added.
inline double predicted_false_positive_rate(std::size_t num_blocks, int block_bits, int hashes, std::size_t keys) {
  if (num_blocks == 0 || hashes <= 0) { return 1.0; }
  double const lambda = static_cast<double>(keys) / static_cast<double>(num_blocks);
  double const miss_one = std::log1p(-1.0 / block_bits);  // log(1 - 1/b)
  // Sum the Poisson terms around the mean until they are negligible.
  auto const upper = static_cast<std::size_t>(lambda + 12.0 * std::sqrt(lambda) + 64.0);
  double fpr = 0.0;
  double log_p = -lambda;  // log Poisson(0)
  for (std::size_t j = 0; j <= upper; ++j) {
    if (j > 0) { log_p += std::log(lambda) - std::log(static_cast<double>(j)); }
    double const filled = 1.0 - std::exp(miss_one * static_cast<double>(j) * hashes);
    fpr += std::exp(log_p) * std::pow(filled, hashes);
  }
  return fpr;
}

}  // namespace warp::bloom
