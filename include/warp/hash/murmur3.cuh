// warp/hash/murmur3.cuh: MurmurHash3 finalizers and MurmurHash3 over bytes (x86_32 and x64_128).
//
//   std::uint64_t h = warp::hash::fmix64(key);
//   std::uint32_t g = warp::hash::murmur3_32(bytes, length, seed);
//   warp::hash::murmur3_128_result r = warp::hash::murmur3_x64_128(bytes, length, seed);  // r.low, r.high
//   warp::hash::murmur3_fmix<std::uint64_t> hasher{seed};  hasher(key) -> 64-bit hash
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <warp/core/config.cuh>
#include <warp/hash/detail/bytes.cuh>

namespace warp::hash {

WARP_HD WARP_FORCEINLINE constexpr std::uint32_t fmix32(std::uint32_t h) noexcept {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

WARP_HD WARP_FORCEINLINE constexpr std::uint64_t fmix64(std::uint64_t k) noexcept {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

/// MurmurHash3_x86_32 of `length` bytes.
WARP_HD inline std::uint32_t murmur3_32(void const* data, std::size_t length, std::uint32_t seed) noexcept {
  auto const* p = static_cast<unsigned char const*>(data);
  constexpr std::uint32_t c1 = 0xcc9e2d51u;
  constexpr std::uint32_t c2 = 0x1b873593u;
  std::uint32_t h = seed;
  std::size_t const blocks = length / 4;
  for (std::size_t i = 0; i < blocks; ++i) {
    std::uint32_t k = detail::read32(p + 4 * i);
    k *= c1;
    k = detail::rotl32(k, 15);
    k *= c2;
    h ^= k;
    h = detail::rotl32(h, 13);
    h = h * 5 + 0xe6546b64u;
  }
  unsigned char const* tail = p + 4 * blocks;
  std::uint32_t k = 0;
  switch (length & 3) {
    case 3: k ^= static_cast<std::uint32_t>(tail[2]) << 16; [[fallthrough]];
    case 2: k ^= static_cast<std::uint32_t>(tail[1]) << 8; [[fallthrough]];
    case 1:
      k ^= tail[0];
      k *= c1;
      k = detail::rotl32(k, 15);
      k *= c2;
      h ^= k;
  }
  h ^= static_cast<std::uint32_t>(length);
  return fmix32(h);
}

/// The two 64-bit halves of MurmurHash3_x64_128 (`low` is the first, h1).
struct murmur3_128_result {
  std::uint64_t low;
  std::uint64_t high;
};

/// MurmurHash3_x64_128 of `length` bytes. The seed initialises both 64-bit lanes; for seeds below
/// 2^32 this is the reference algorithm (whose seed is 32-bit), and it is what cuDF's 64-bit
/// variant does with a 64-bit seed.
WARP_HD inline murmur3_128_result murmur3_x64_128(void const* data, std::size_t length, std::uint64_t seed) noexcept {
  auto const* p = static_cast<unsigned char const*>(data);
  constexpr std::uint64_t c1 = 0x87c37b91114253d5ull;
  constexpr std::uint64_t c2 = 0x4cf5ad432745937full;
  std::uint64_t h1 = seed;
  std::uint64_t h2 = seed;
  auto mix1 = [&](std::uint64_t k) {
    k *= c1;
    k = detail::rotl64(k, 31);
    k *= c2;
    h1 ^= k;
  };
  auto mix2 = [&](std::uint64_t k) {
    k *= c2;
    k = detail::rotl64(k, 33);
    k *= c1;
    h2 ^= k;
  };
  std::size_t const blocks = length / 16;
  for (std::size_t i = 0; i < blocks; ++i) {
    mix1(detail::read64(p + 16 * i));
    h1 = detail::rotl64(h1, 27) + h2;
    h1 = h1 * 5 + 0x52dce729u;
    mix2(detail::read64(p + 16 * i + 8));
    h2 = detail::rotl64(h2, 31) + h1;
    h2 = h2 * 5 + 0x38495ab5u;
  }
  unsigned char const* tail = p + 16 * blocks;
  std::size_t const rest = length & 15;
  std::uint64_t k1 = 0;
  std::uint64_t k2 = 0;
  for (std::size_t i = rest; i > 8; --i) { k2 ^= static_cast<std::uint64_t>(tail[i - 1]) << (8 * (i - 9)); }
  if (rest > 8) { mix2(k2); }
  for (std::size_t i = rest < 8 ? rest : 8; i > 0; --i) { k1 ^= static_cast<std::uint64_t>(tail[i - 1]) << (8 * (i - 1)); }
  if (rest > 0) { mix1(k1); }
  h1 ^= static_cast<std::uint64_t>(length);
  h2 ^= static_cast<std::uint64_t>(length);
  h1 += h2;
  h2 += h1;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 += h2;
  h2 += h1;
  return {h1, h2};
}

/// Hash functor for fixed-size keys: the 64-bit MurmurHash3 finalizer over the key's 8-byte words
/// (a 4-byte key is zero-extended), seeded. Cheap, and well mixed in the high bits, which the
/// engine's multiply-shift range reduction uses.
template <class Key>
struct murmur3_fmix {
  std::uint64_t seed = 0;
  WARP_HD WARP_FORCEINLINE std::uint64_t operator()(Key const& key) const noexcept {
    static_assert(sizeof(Key) % 4 == 0, "murmur3_fmix hashes keys whose size is a multiple of 4");
    unsigned char bytes[sizeof(Key)];
    std::memcpy(bytes, &key, sizeof(Key));
    if constexpr (sizeof(Key) == 4) {
      return fmix64(detail::read32(bytes) ^ seed);
    } else {
      std::uint64_t h = seed;
      std::size_t i = 0;
      for (; i + 8 <= sizeof(Key); i += 8) { h = fmix64(h ^ detail::read64(bytes + i)); }
      if (i < sizeof(Key)) { h = fmix64(h ^ detail::read32(bytes + i)); }
      return h;
    }
  }
};

}  // namespace warp::hash
