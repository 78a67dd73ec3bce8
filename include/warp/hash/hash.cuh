// warp/hash/hash.cuh: all hash functions, and the default hasher the containers use.
//
// `default_hash<Key>` is the 64-bit MurmurHash3 finalizer for keys of 4 and 8 bytes (one multiply
// chain, good high bits) and XXH3-64 for anything larger.
//   warp::hash::default_hash<std::uint64_t> h{};  std::uint64_t v = h(42);
#pragma once

#include <cstdint>

#include <warp/hash/murmur3.cuh>
#include <warp/hash/xxh3.cuh>
#include <warp/hash/xxhash32.cuh>
#include <warp/hash/xxhash64.cuh>

namespace warp::hash {

template <class Key>
struct default_hash {
  std::uint64_t seed = 0;
  WARP_HD WARP_FORCEINLINE std::uint64_t operator()(Key const& key) const noexcept {
    if constexpr (sizeof(Key) == 4 || sizeof(Key) == 8) {
      return murmur3_fmix<Key>{seed}(key);
    } else {
      return xxh3_64(&key, sizeof(Key), seed);
    }
  }
};

}  // namespace warp::hash
