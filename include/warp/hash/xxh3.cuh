// warp/hash/xxh3.cuh: XXH3-64 and XXH3-128, seeded, over byte ranges and fixed-size keys, and
// XXH3-128 keyed by a secret derived from key material; the same bits on host and device as the
// reference libxxhash (XXH3_64bits_withSeed, XXH3_128bits_withSeed, XXH3_generateSecret +
// XXH3_128bits_withSecret). Written from the XXH3 specification.
//   std::uint64_t h = warp::hash::xxh3_64(data, length, seed);
//   warp::hash::xxh3_128_result r = warp::hash::xxh3_128(data, length, seed);
//   warp::hash::xxh3_secret const key = warp::hash::xxh3_secret_from_key(bytes, n);
//   warp::hash::xxh3_128_result k = warp::hash::xxh3_128(data, length, key);
//   warp::hash::xxh3_64_hasher<MyKey> hasher{seed};  hasher(key)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <warp/core/config.cuh>
#include <warp/hash/detail/bytes.cuh>

#if !defined(__CUDA_ARCH__) && defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <warp/hash/xxhash32.cuh>
#include <warp/hash/xxhash64.cuh>

namespace warp::hash {

struct xxh3_128_result {
  std::uint64_t low;
  std::uint64_t high;
};

namespace detail {

inline constexpr std::size_t xxh3_secret_size = 192;
inline constexpr std::size_t xxh3_stripe_len = 64;
inline constexpr std::size_t xxh3_secret_consume_rate = 8;
inline constexpr std::uint64_t xxh_prime_mx1 = 0x165667919E3779F9ull;
inline constexpr std::uint64_t xxh_prime_mx2 = 0x9FB21C651E98DF25ull;

struct xxh3_secret {
  unsigned char bytes[xxh3_secret_size];
};

// The 192-byte default secret of the XXH3 specification.
WARP_HD WARP_FORCEINLINE constexpr xxh3_secret xxh3_default_secret() noexcept {
  return xxh3_secret{{
      0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
      0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
      0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
      0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
      0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
      0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
      0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
      0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
      0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
      0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
      0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
      0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
  }};
}

WARP_HD WARP_FORCEINLINE std::uint64_t xxh3_avalanche(std::uint64_t h) noexcept {
  h ^= h >> 37;
  h *= xxh_prime_mx1;
  return h ^ (h >> 32);
}

WARP_HD WARP_FORCEINLINE std::uint64_t xxh3_rrmxmx(std::uint64_t h, std::uint64_t length) noexcept {
  h ^= rotl64(h, 49) ^ rotl64(h, 24);
  h *= xxh_prime_mx2;
  h ^= (h >> 35) + length;
  h *= xxh_prime_mx2;
  return h ^ (h >> 28);
}

WARP_HD WARP_FORCEINLINE std::uint64_t xxh3_mix16(unsigned char const* in, unsigned char const* secret,
                                                  std::uint64_t seed) noexcept {
  return mul128_fold64(read64(in) ^ (read64(secret) + seed), read64(in + 8) ^ (read64(secret + 8) - seed));
}

// Long inputs (> 240 bytes): 8 accumulators over 64-byte stripes, scrambled after each block.
struct alignas(16) xxh3_accumulators {
  std::uint64_t acc[8];
};

// On the host, the long-input loops run on SSE2 (every x86-64 CPU), two lanes per register: the
// scalar loop's swapped lane (acc[i ^ 1]) keeps compilers from vectorizing it, and it ran at half
// libxxhash's speed on inputs of 256 bytes and more (a KV-cache block of 64+ tokens).
#if !WARP_DEVICE_COMPILATION && defined(__SSE2__)
#define WARP_XXH3_SSE2 1
#else
#define WARP_XXH3_SSE2 0
#endif

WARP_HD WARP_FORCEINLINE void xxh3_accumulate_stripe(xxh3_accumulators& a, unsigned char const* in,
                                                     unsigned char const* secret) noexcept {
#if WARP_XXH3_SSE2
  for (int i = 0; i < 4; ++i) {
    __m128i const data = _mm_loadu_si128(reinterpret_cast<__m128i const*>(in) + i);
    __m128i const keyed = _mm_xor_si128(data, _mm_loadu_si128(reinterpret_cast<__m128i const*>(secret) + i));
    // Per 64-bit lane: low 32 bits times high 32 bits of the keyed word, plus the other lane's data.
    __m128i const product = _mm_mul_epu32(keyed, _mm_shuffle_epi32(keyed, _MM_SHUFFLE(0, 3, 0, 1)));
    __m128i const swapped = _mm_shuffle_epi32(data, _MM_SHUFFLE(1, 0, 3, 2));
    __m128i* acc = reinterpret_cast<__m128i*>(a.acc) + i;
    *acc = _mm_add_epi64(*acc, _mm_add_epi64(product, swapped));
  }
#else
  for (int i = 0; i < 8; ++i) {
    std::uint64_t const data = read64(in + 8 * i);
    std::uint64_t const keyed = data ^ read64(secret + 8 * i);
    a.acc[i ^ 1] += data;
    a.acc[i] += (keyed & 0xffffffffull) * (keyed >> 32);
  }
#endif
}

WARP_HD WARP_FORCEINLINE void xxh3_scramble(xxh3_accumulators& a, unsigned char const* secret) noexcept {
#if WARP_XXH3_SSE2
  __m128i const prime = _mm_set1_epi32(static_cast<int>(xxh_prime32_1));
  for (int i = 0; i < 4; ++i) {
    __m128i* acc = reinterpret_cast<__m128i*>(a.acc) + i;
    __m128i v = _mm_xor_si128(*acc, _mm_srli_epi64(*acc, 47));
    v = _mm_xor_si128(v, _mm_loadu_si128(reinterpret_cast<__m128i const*>(secret) + i));
    // v * prime (a 32-bit constant) in 64-bit lanes: low half times prime, plus the high half's
    // product shifted up.
    __m128i const low = _mm_mul_epu32(v, prime);
    __m128i const high = _mm_mul_epu32(_mm_srli_epi64(v, 32), prime);
    *acc = _mm_add_epi64(low, _mm_slli_epi64(high, 32));
  }
#else
  for (int i = 0; i < 8; ++i) {
    std::uint64_t v = a.acc[i];
    v ^= v >> 47;
    v ^= read64(secret + 8 * i);
    a.acc[i] = v * xxh_prime32_1;
  }
#endif
}

WARP_HD inline xxh3_accumulators xxh3_hash_long(unsigned char const* in, std::size_t length,
                                                unsigned char const* secret) noexcept {
  xxh3_accumulators a{{xxh_prime32_3, xxh_prime64_1, xxh_prime64_2, xxh_prime64_3, xxh_prime64_4,
                       xxh_prime32_2, xxh_prime64_5, xxh_prime32_1}};
  constexpr std::size_t stripes_per_block = (xxh3_secret_size - xxh3_stripe_len) / xxh3_secret_consume_rate;
  constexpr std::size_t block_len = xxh3_stripe_len * stripes_per_block;
  std::size_t const blocks = (length - 1) / block_len;
  for (std::size_t b = 0; b < blocks; ++b) {
    for (std::size_t s = 0; s < stripes_per_block; ++s) {
      xxh3_accumulate_stripe(a, in + b * block_len + s * xxh3_stripe_len, secret + s * xxh3_secret_consume_rate);
    }
    xxh3_scramble(a, secret + xxh3_secret_size - xxh3_stripe_len);
  }
  std::size_t const last_stripes = ((length - 1) - block_len * blocks) / xxh3_stripe_len;
  for (std::size_t s = 0; s < last_stripes; ++s) {
    xxh3_accumulate_stripe(a, in + blocks * block_len + s * xxh3_stripe_len, secret + s * xxh3_secret_consume_rate);
  }
  // The final stripe always ends at the input's last byte, read with the secret offset by 7.
  xxh3_accumulate_stripe(a, in + length - xxh3_stripe_len, secret + xxh3_secret_size - xxh3_stripe_len - 7);
  return a;
}

WARP_HD WARP_FORCEINLINE std::uint64_t xxh3_merge(xxh3_accumulators const& a, unsigned char const* secret,
                                                  std::uint64_t start) noexcept {
  std::uint64_t r = start;
  for (int i = 0; i < 4; ++i) {
    r += mul128_fold64(a.acc[2 * i] ^ read64(secret + 16 * i), a.acc[2 * i + 1] ^ read64(secret + 16 * i + 8));
  }
  return xxh3_avalanche(r);
}

// A seeded long hash uses the default secret with the seed added to even and subtracted from odd
// 8-byte words.
WARP_HD WARP_FORCEINLINE xxh3_secret xxh3_seeded_secret(std::uint64_t seed) noexcept {
  xxh3_secret s = xxh3_default_secret();
  if (seed == 0) { return s; }
  for (std::size_t i = 0; i < xxh3_secret_size / 16; ++i) {
    std::uint64_t const lo = read64(s.bytes + 16 * i) + seed;
    std::uint64_t const hi = read64(s.bytes + 16 * i + 8) - seed;
    std::memcpy(s.bytes + 16 * i, &lo, 8);
    std::memcpy(s.bytes + 16 * i + 8, &hi, 8);
  }
  return s;
}

WARP_HD WARP_FORCEINLINE xxh3_128_result xxh3_mix32(xxh3_128_result acc, unsigned char const* in1,
                                                     unsigned char const* in2, unsigned char const* secret,
                                                     std::uint64_t seed) noexcept {
  acc.low += xxh3_mix16(in1, secret, seed);
  acc.low ^= read64(in2) + read64(in2 + 8);
  acc.high += xxh3_mix16(in2, secret + 16, seed);
  acc.high ^= read64(in1) + read64(in1 + 8);
  return acc;
}

}  // namespace detail

WARP_HD inline std::uint64_t xxh3_64(void const* data, std::size_t length, std::uint64_t seed) noexcept {
  using namespace detail;
  auto const* in = static_cast<unsigned char const*>(data);
  xxh3_secret const ks = xxh3_default_secret();
  unsigned char const* const sec = ks.bytes;
  if (length <= 16) {
    if (length > 8) {
      std::uint64_t const flip1 = (read64(sec + 24) ^ read64(sec + 32)) + seed;
      std::uint64_t const flip2 = (read64(sec + 40) ^ read64(sec + 48)) - seed;
      std::uint64_t const lo = read64(in) ^ flip1;
      std::uint64_t const hi = read64(in + length - 8) ^ flip2;
      std::uint64_t const acc = length + swap64(lo) + hi + mul128_fold64(lo, hi);
      return xxh3_avalanche(acc);
    }
    if (length >= 4) {
      std::uint64_t const s = seed ^ (static_cast<std::uint64_t>(swap32(static_cast<std::uint32_t>(seed))) << 32);
      std::uint32_t const in1 = read32(in);
      std::uint32_t const in2 = read32(in + length - 4);
      std::uint64_t const flip = (read64(sec + 8) ^ read64(sec + 16)) - s;
      std::uint64_t const in64 = in2 + (static_cast<std::uint64_t>(in1) << 32);
      return xxh3_rrmxmx(in64 ^ flip, length);
    }
    if (length > 0) {
      std::uint32_t const c1 = in[0], c2 = in[length >> 1], c3 = in[length - 1];
      std::uint32_t const combined = (c1 << 16) | (c2 << 24) | c3 | (static_cast<std::uint32_t>(length) << 8);
      std::uint64_t const flip = (read32(sec) ^ read32(sec + 4)) + seed;
      return xxh64_avalanche(static_cast<std::uint64_t>(combined) ^ flip);
    }
    return xxh64_avalanche(seed ^ (read64(sec + 56) ^ read64(sec + 64)));
  }
  if (length <= 128) {
    std::uint64_t acc = length * xxh_prime64_1;
    if (length > 32) {
      if (length > 64) {
        if (length > 96) {
          acc += xxh3_mix16(in + 48, sec + 96, seed);
          acc += xxh3_mix16(in + length - 64, sec + 112, seed);
        }
        acc += xxh3_mix16(in + 32, sec + 64, seed);
        acc += xxh3_mix16(in + length - 48, sec + 80, seed);
      }
      acc += xxh3_mix16(in + 16, sec + 32, seed);
      acc += xxh3_mix16(in + length - 32, sec + 48, seed);
    }
    acc += xxh3_mix16(in, sec, seed);
    acc += xxh3_mix16(in + length - 16, sec + 16, seed);
    return xxh3_avalanche(acc);
  }
  if (length <= 240) {
    std::uint64_t acc = length * xxh_prime64_1;
    std::size_t const rounds = length / 16;
    for (std::size_t i = 0; i < 8; ++i) { acc += xxh3_mix16(in + 16 * i, sec + 16 * i, seed); }
    acc = xxh3_avalanche(acc);
    for (std::size_t i = 8; i < rounds; ++i) { acc += xxh3_mix16(in + 16 * i, sec + 16 * (i - 8) + 3, seed); }
    acc += xxh3_mix16(in + length - 16, sec + 136 - 17, seed);
    return xxh3_avalanche(acc);
  }
  xxh3_secret const seeded = xxh3_seeded_secret(seed);
  xxh3_accumulators const a = xxh3_hash_long(in, length, seeded.bytes);
  return xxh3_merge(a, seeded.bytes + 11, length * xxh_prime64_1);
}

namespace detail {
// XXH3-128 over `sec` (192 bytes): with the default secret and a seed (XXH3_128bits_withSeed), or
// with a custom secret and seed 0 (XXH3_128bits_withSecret). Inputs over 240 bytes use
// `long_sec`, the seeded form of the secret (the secret itself when the seed is 0).
WARP_HD inline xxh3_128_result xxh3_128_core(unsigned char const* in, std::size_t length, unsigned char const* sec,
                                             std::uint64_t seed, unsigned char const* long_sec) noexcept {
  if (length <= 16) {
    if (length > 8) {
      std::uint64_t const flip_lo = (read64(sec + 32) ^ read64(sec + 40)) - seed;
      std::uint64_t const flip_hi = (read64(sec + 48) ^ read64(sec + 56)) + seed;
      std::uint64_t const in_lo = read64(in);
      std::uint64_t in_hi = read64(in + length - 8);
      u128 m = mul64to128(in_lo ^ in_hi ^ flip_lo, xxh_prime64_1);
      m.low += static_cast<std::uint64_t>(length - 1) << 54;
      in_hi ^= flip_hi;
      m.high += in_hi + (in_hi & 0xffffffffull) * (xxh_prime32_2 - 1);
      m.low ^= swap64(m.high);
      u128 h = mul64to128(m.low, xxh_prime64_2);
      h.high += m.high * xxh_prime64_2;
      return {xxh3_avalanche(h.low), xxh3_avalanche(h.high)};
    }
    if (length >= 4) {
      std::uint64_t const s = seed ^ (static_cast<std::uint64_t>(swap32(static_cast<std::uint32_t>(seed))) << 32);
      std::uint32_t const in_lo = read32(in);
      std::uint32_t const in_hi = read32(in + length - 4);
      std::uint64_t const in64 = in_lo + (static_cast<std::uint64_t>(in_hi) << 32);
      std::uint64_t const flip = (read64(sec + 16) ^ read64(sec + 24)) + s;
      u128 m = mul64to128(in64 ^ flip, xxh_prime64_1 + (static_cast<std::uint64_t>(length) << 2));
      m.high += m.low << 1;
      m.low ^= m.high >> 3;
      m.low ^= m.low >> 35;
      m.low *= xxh_prime_mx2;
      m.low ^= m.low >> 28;
      return {m.low, xxh3_avalanche(m.high)};
    }
    if (length > 0) {
      std::uint32_t const c1 = in[0], c2 = in[length >> 1], c3 = in[length - 1];
      std::uint32_t const lo = (c1 << 16) | (c2 << 24) | c3 | (static_cast<std::uint32_t>(length) << 8);
      std::uint32_t const hi = rotl32(swap32(lo), 13);
      std::uint64_t const flip_lo = (read32(sec) ^ read32(sec + 4)) + seed;
      std::uint64_t const flip_hi = (read32(sec + 8) ^ read32(sec + 12)) - seed;
      return {xxh64_avalanche(lo ^ flip_lo), xxh64_avalanche(hi ^ flip_hi)};
    }
    return {xxh64_avalanche(seed ^ read64(sec + 64) ^ read64(sec + 72)),
            xxh64_avalanche(seed ^ read64(sec + 80) ^ read64(sec + 88))};
  }
  auto finish = [&](xxh3_128_result acc) -> xxh3_128_result {
    std::uint64_t const lo = acc.low + acc.high;
    std::uint64_t const hi = acc.low * xxh_prime64_1 + acc.high * xxh_prime64_4 + (length - seed) * xxh_prime64_2;
    return {xxh3_avalanche(lo), 0 - xxh3_avalanche(hi)};
  };
  if (length <= 128) {
    xxh3_128_result acc{length * xxh_prime64_1, 0};
    if (length > 32) {
      if (length > 64) {
        if (length > 96) { acc = xxh3_mix32(acc, in + 48, in + length - 64, sec + 96, seed); }
        acc = xxh3_mix32(acc, in + 32, in + length - 48, sec + 64, seed);
      }
      acc = xxh3_mix32(acc, in + 16, in + length - 32, sec + 32, seed);
    }
    acc = xxh3_mix32(acc, in, in + length - 16, sec, seed);
    return finish(acc);
  }
  if (length <= 240) {
    xxh3_128_result acc{length * xxh_prime64_1, 0};
    std::size_t const rounds = length / 32;
    for (std::size_t i = 0; i < 4; ++i) { acc = xxh3_mix32(acc, in + 32 * i, in + 32 * i + 16, sec + 32 * i, seed); }
    acc.low = xxh3_avalanche(acc.low);
    acc.high = xxh3_avalanche(acc.high);
    for (std::size_t i = 4; i < rounds; ++i) {
      acc = xxh3_mix32(acc, in + 32 * i, in + 32 * i + 16, sec + 3 + 32 * (i - 4), seed);
    }
    acc = xxh3_mix32(acc, in + length - 16, in + length - 32, sec + 136 - 17 - 16, 0 - seed);
    return finish(acc);
  }
  xxh3_accumulators const a = xxh3_hash_long(in, length, long_sec);
  return {xxh3_merge(a, long_sec + 11, length * xxh_prime64_1),
          xxh3_merge(a, long_sec + xxh3_secret_size - xxh3_stripe_len - 11, ~(length * xxh_prime64_2))};
}
}  // namespace detail

WARP_HD inline xxh3_128_result xxh3_128(void const* data, std::size_t length, std::uint64_t seed) noexcept {
  using namespace detail;
  auto const* in = static_cast<unsigned char const*>(data);
  xxh3_secret const ks = xxh3_default_secret();
  if (length <= 240) { return xxh3_128_core(in, length, ks.bytes, seed, ks.bytes); }
  xxh3_secret const seeded = xxh3_seeded_secret(seed);
  return xxh3_128_core(in, length, ks.bytes, seed, seeded.bytes);
}

/// A 192-byte XXH3 secret: the key of the keyed hashes below.
using xxh3_secret = detail::xxh3_secret;

/// The secret that libxxhash's XXH3_generateSecret derives from `key_bytes` bytes of key material
/// (a per-deployment random key, say); no key gives the default secret's derivation. Host and
/// device.
WARP_HD inline xxh3_secret xxh3_secret_from_key(void const* key, std::size_t key_bytes) noexcept {
  using namespace detail;
  xxh3_secret const fallback = xxh3_default_secret();
  auto const* material = key_bytes == 0 ? fallback.bytes : static_cast<unsigned char const*>(key);
  std::size_t const size = key_bytes == 0 ? xxh3_secret_size : key_bytes;
  xxh3_secret s{};
  for (std::size_t pos = 0; pos < xxh3_secret_size; pos += size) {  // the material, repeated
    std::size_t const n = xxh3_secret_size - pos < size ? xxh3_secret_size - pos : size;
    for (std::size_t i = 0; i < n; ++i) { s.bytes[pos + i] = material[i]; }
  }
  // The scrambler is the material's XXH3-128 in canonical (big-endian, high half first) form.
  xxh3_128_result const h = xxh3_128(material, size, 0);
  unsigned char scrambler[16];
  for (int i = 0; i < 8; ++i) {
    scrambler[i] = static_cast<unsigned char>(h.high >> (56 - 8 * i));
    scrambler[8 + i] = static_cast<unsigned char>(h.low >> (56 - 8 * i));
  }
  auto combine = [&](std::size_t at, xxh3_128_result v) {
    std::uint64_t const lo = read64(s.bytes + at) ^ v.low;
    std::uint64_t const hi = read64(s.bytes + at + 8) ^ v.high;
    std::memcpy(s.bytes + at, &lo, 8);
    std::memcpy(s.bytes + at + 8, &hi, 8);
  };
  for (std::size_t n = 0; n < xxh3_secret_size / 16; ++n) { combine(16 * n, xxh3_128(scrambler, 16, n)); }
  combine(xxh3_secret_size - 16, h);
  return s;
}

/// XXH3-128 keyed by a secret (libxxhash's XXH3_128bits_withSecret with a 192-byte secret).
WARP_HD inline xxh3_128_result xxh3_128(void const* data, std::size_t length, xxh3_secret const& secret) noexcept {
  return detail::xxh3_128_core(static_cast<unsigned char const*>(data), length, secret.bytes, 0, secret.bytes);
}

/// Hash functor: XXH3-64 of the key's bytes.
template <class Key>
struct xxh3_64_hasher {
  std::uint64_t seed = 0;
  WARP_HD WARP_FORCEINLINE std::uint64_t operator()(Key const& key) const noexcept {
    return xxh3_64(&key, sizeof(Key), seed);
  }
};

}  // namespace warp::hash
