// warp/lsh/minhash_options.cuh: the options of warp::lsh::minhasher (signatures.cuh): the
// permutation mode, the shingles, the seed and the batch size.
#pragma once

#include <cstddef>
#include <cstdint>

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

}  // namespace warp::lsh
