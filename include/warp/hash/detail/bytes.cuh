// warp/hash/detail/bytes.cuh: little-endian reads, rotations and 64x64->128 multiplication shared
// by the hash functions, identical on host and device.
#pragma once

#include <cstdint>
#include <cstring>

#include <warp/core/config.cuh>

namespace warp::hash::detail {

WARP_HD WARP_FORCEINLINE std::uint32_t read32(unsigned char const* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // every supported target (x86-64, NVIDIA GPUs) is little-endian
}
WARP_HD WARP_FORCEINLINE std::uint64_t read64(unsigned char const* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
WARP_HD WARP_FORCEINLINE constexpr std::uint32_t rotl32(std::uint32_t x, int r) noexcept {
  return (x << r) | (x >> (32 - r));
}
WARP_HD WARP_FORCEINLINE constexpr std::uint64_t rotl64(std::uint64_t x, int r) noexcept {
  return (x << r) | (x >> (64 - r));
}
WARP_HD WARP_FORCEINLINE constexpr std::uint32_t swap32(std::uint32_t x) noexcept {
  return ((x << 24) & 0xff000000u) | ((x << 8) & 0x00ff0000u) | ((x >> 8) & 0x0000ff00u) |
         ((x >> 24) & 0x000000ffu);
}
WARP_HD WARP_FORCEINLINE constexpr std::uint64_t swap64(std::uint64_t x) noexcept {
  return (static_cast<std::uint64_t>(swap32(static_cast<std::uint32_t>(x))) << 32) |
         swap32(static_cast<std::uint32_t>(x >> 32));
}

struct u128 {
  std::uint64_t low;
  std::uint64_t high;
};

WARP_HD WARP_FORCEINLINE u128 mul64to128(std::uint64_t a, std::uint64_t b) noexcept {
#if WARP_DEVICE_COMPILATION
  return {a * b, __umul64hi(a, b)};
#else
  unsigned __int128 const p = static_cast<unsigned __int128>(a) * b;
  return {static_cast<std::uint64_t>(p), static_cast<std::uint64_t>(p >> 64)};
#endif
}

/// High 64 bits of a 64x64 product: maps a hash uniformly onto [0, n) without a division.
WARP_HD WARP_FORCEINLINE std::uint64_t mulhi64(std::uint64_t a, std::uint64_t b) noexcept {
  return mul64to128(a, b).high;
}

/// A hash below 2^32 (a 32-bit hasher's, or a weak 64-bit one's on small keys) spread over 64
/// bits, so that a multiply-high range reduction (mulhi64) sees high bits. Tables and the Bloom
/// filter both reduce through it.
WARP_HD WARP_FORCEINLINE std::uint64_t spread64(std::uint64_t v) noexcept {
  return v <= 0xffffffffull ? v * 0x9E3779B97F4A7C15ull : v;
}

/// [0, n) from a hash of any width (spread64, then mulhi64).
WARP_HD WARP_FORCEINLINE std::uint64_t reduce_to_range(std::uint64_t h, std::uint64_t n) noexcept {
  return mulhi64(spread64(h), n);
}

WARP_HD WARP_FORCEINLINE std::uint64_t mul128_fold64(std::uint64_t a, std::uint64_t b) noexcept {
  u128 const p = mul64to128(a, b);
  return p.low ^ p.high;
}

}  // namespace warp::hash::detail
