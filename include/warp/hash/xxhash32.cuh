// warp/hash/xxhash32.cuh: xxHash32 (XXH32), seeded, over byte ranges and fixed-size keys; the same
// bits on host and device as the reference libxxhash.
//   std::uint32_t h = warp::hash::xxhash32(data, length, seed);
//   warp::hash::xxhash_32<MyKey> hasher{seed};  hasher(key)
#pragma once

#include <cstddef>
#include <cstdint>

#include <warp/core/config.cuh>
#include <warp/hash/detail/bytes.cuh>

namespace warp::hash {

namespace detail {
inline constexpr std::uint32_t xxh_prime32_1 = 0x9E3779B1u;
inline constexpr std::uint32_t xxh_prime32_2 = 0x85EBCA77u;
inline constexpr std::uint32_t xxh_prime32_3 = 0xC2B2AE3Du;
inline constexpr std::uint32_t xxh_prime32_4 = 0x27D4EB2Fu;
inline constexpr std::uint32_t xxh_prime32_5 = 0x165667B1u;

WARP_HD WARP_FORCEINLINE std::uint32_t xxh32_round(std::uint32_t acc, std::uint32_t lane) noexcept {
  acc += lane * xxh_prime32_2;
  acc = rotl32(acc, 13);
  return acc * xxh_prime32_1;
}
}  // namespace detail

WARP_HD inline std::uint32_t xxhash32(void const* data, std::size_t length, std::uint32_t seed) noexcept {
  using namespace detail;
  auto const* p = static_cast<unsigned char const*>(data);
  unsigned char const* const end = p + length;
  std::uint32_t h;
  if (length >= 16) {
    std::uint32_t v1 = seed + xxh_prime32_1 + xxh_prime32_2;
    std::uint32_t v2 = seed + xxh_prime32_2;
    std::uint32_t v3 = seed;
    std::uint32_t v4 = seed - xxh_prime32_1;
    unsigned char const* const limit = end - 16;
    do {
      v1 = xxh32_round(v1, read32(p));
      v2 = xxh32_round(v2, read32(p + 4));
      v3 = xxh32_round(v3, read32(p + 8));
      v4 = xxh32_round(v4, read32(p + 12));
      p += 16;
    } while (p <= limit);
    h = rotl32(v1, 1) + rotl32(v2, 7) + rotl32(v3, 12) + rotl32(v4, 18);
  } else {
    h = seed + xxh_prime32_5;
  }
  h += static_cast<std::uint32_t>(length);
  while (end - p >= 4) {
    h += read32(p) * xxh_prime32_3;
    h = rotl32(h, 17) * xxh_prime32_4;
    p += 4;
  }
  while (p < end) {
    h += static_cast<std::uint32_t>(*p) * xxh_prime32_5;
    h = rotl32(h, 11) * xxh_prime32_1;
    ++p;
  }
  h ^= h >> 15;
  h *= xxh_prime32_2;
  h ^= h >> 13;
  h *= xxh_prime32_3;
  h ^= h >> 16;
  return h;
}

/// Hash functor: XXH32 of the key's bytes.
template <class Key>
struct xxhash_32 {
  std::uint32_t seed = 0;
  WARP_HD WARP_FORCEINLINE std::uint32_t operator()(Key const& key) const noexcept {
    return xxhash32(&key, sizeof(Key), seed);
  }
};

}  // namespace warp::hash
