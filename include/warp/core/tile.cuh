// warp/core/tile.cuh: the tile abstraction the probing engine is written against.
//
// A tile is a group of lanes that probe one key together. On the device it is a
// cooperative_groups::thread_block_tile<N>; on the host, and for scalar (one-thread) device calls,
// it is `one_lane_tile`, whose ballot is the predicate itself and whose shuffle is the identity.
// Engine code only uses: num_threads(), thread_rank(), ballot(), any(), shfl(), sync().
//   warp::one_lane_tile t;
//   auto mask = t.ballot(found);   // 1 or 0
#pragma once

#include <cstdint>

#include <warp/core/config.cuh>

#if WARP_CUDA_ENABLED
#include <cooperative_groups.h>
#endif

namespace warp {

/// A tile of exactly one lane; valid in host and device code.
struct one_lane_tile {
  WARP_HD static constexpr std::uint32_t num_threads() noexcept { return 1; }
  WARP_HD static constexpr std::uint32_t thread_rank() noexcept { return 0; }
  WARP_HD static constexpr std::uint32_t ballot(bool predicate) noexcept { return predicate ? 1u : 0u; }
  WARP_HD static constexpr bool any(bool predicate) noexcept { return predicate; }
  WARP_HD static constexpr bool all(bool predicate) noexcept { return predicate; }
  template <class T>
  WARP_HD static constexpr T shfl(T value, std::uint32_t /*source_lane*/) noexcept {
    return value;
  }
  WARP_HD static constexpr void sync() noexcept {}
};

namespace detail {
/// Index of the lowest set bit of a non-zero ballot mask (host and device).
WARP_HD inline std::uint32_t lowest_lane(std::uint32_t mask) noexcept {
#if WARP_DEVICE_COMPILATION
  return static_cast<std::uint32_t>(__ffs(static_cast<int>(mask)) - 1);
#else
  return static_cast<std::uint32_t>(__builtin_ctz(mask));
#endif
}
}  // namespace detail

/// Tile sizes the CUDA backend accepts.
template <int N>
inline constexpr bool is_valid_tile_size = N == 1 || N == 2 || N == 4 || N == 8 || N == 16 || N == 32;

}  // namespace warp
