// warp/hash/xxhash64.cuh: xxHash64 (XXH64), seeded, over byte ranges and fixed-size keys; the same
// bits on host and device as the reference libxxhash.
//   std::uint64_t h = warp::hash::xxhash64(data, length, seed);
//   warp::hash::xxhash_64<MyKey> hasher{seed};  hasher(key)
#pragma once

#include <cstddef>
#include <cstdint>

#include <warp/core/config.cuh>
#include <warp/hash/detail/bytes.cuh>

namespace warp::hash {

namespace detail {
inline constexpr std::uint64_t xxh_prime64_1 = 0x9E3779B185EBCA87ull;
inline constexpr std::uint64_t xxh_prime64_2 = 0xC2B2AE3D27D4EB4Full;
inline constexpr std::uint64_t xxh_prime64_3 = 0x165667B19E3779F9ull;
inline constexpr std::uint64_t xxh_prime64_4 = 0x85EBCA77C2B2AE63ull;
inline constexpr std::uint64_t xxh_prime64_5 = 0x27D4EB2F165667C5ull;

WARP_HD WARP_FORCEINLINE std::uint64_t xxh64_round(std::uint64_t acc, std::uint64_t lane) noexcept {
  acc += lane * xxh_prime64_2;
  acc = rotl64(acc, 31);
  return acc * xxh_prime64_1;
}
WARP_HD WARP_FORCEINLINE std::uint64_t xxh64_merge_round(std::uint64_t acc, std::uint64_t v) noexcept {
  acc ^= xxh64_round(0, v);
  return acc * xxh_prime64_1 + xxh_prime64_4;
}
WARP_HD WARP_FORCEINLINE std::uint64_t xxh64_avalanche(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= xxh_prime64_2;
  h ^= h >> 29;
  h *= xxh_prime64_3;
  h ^= h >> 32;
  return h;
}
}  // namespace detail

WARP_HD inline std::uint64_t xxhash64(void const* data, std::size_t length, std::uint64_t seed) noexcept {
  using namespace detail;
  auto const* p = static_cast<unsigned char const*>(data);
  unsigned char const* const end = p + length;
  std::uint64_t h;
  if (length >= 32) {
    std::uint64_t v1 = seed + xxh_prime64_1 + xxh_prime64_2;
    std::uint64_t v2 = seed + xxh_prime64_2;
    std::uint64_t v3 = seed;
    std::uint64_t v4 = seed - xxh_prime64_1;
    unsigned char const* const limit = end - 32;
    do {
      v1 = xxh64_round(v1, read64(p));
      v2 = xxh64_round(v2, read64(p + 8));
      v3 = xxh64_round(v3, read64(p + 16));
      v4 = xxh64_round(v4, read64(p + 24));
      p += 32;
    } while (p <= limit);
    h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
    h = xxh64_merge_round(h, v1);
    h = xxh64_merge_round(h, v2);
    h = xxh64_merge_round(h, v3);
    h = xxh64_merge_round(h, v4);
  } else {
    h = seed + xxh_prime64_5;
  }
  h += static_cast<std::uint64_t>(length);
  while (end - p >= 8) {
    h ^= xxh64_round(0, read64(p));
    h = rotl64(h, 27) * xxh_prime64_1 + xxh_prime64_4;
    p += 8;
  }
  if (end - p >= 4) {
    h ^= static_cast<std::uint64_t>(read32(p)) * xxh_prime64_1;
    h = rotl64(h, 23) * xxh_prime64_2 + xxh_prime64_3;
    p += 4;
  }
  while (p < end) {
    h ^= static_cast<std::uint64_t>(*p) * xxh_prime64_5;
    h = rotl64(h, 11) * xxh_prime64_1;
    ++p;
  }
  return xxh64_avalanche(h);
}

/// Hash functor: XXH64 of the key's bytes.
template <class Key>
struct xxhash_64 {
  std::uint64_t seed = 0;
  WARP_HD WARP_FORCEINLINE std::uint64_t operator()(Key const& key) const noexcept {
    return xxhash64(&key, sizeof(Key), seed);
  }
};

}  // namespace warp::hash
