// warp/probing.cuh: probing schemes of the open-addressing engine.
//
// The table is an array of windows; a window is `tile_size` runs of `slots_per_lane` slots, so a
// tile of `tile_size` lanes examines one whole window per probe step (each lane its run), and a
// single thread (host backend, scalar device calls) examines the same window slot by slot. The
// probe sequence visits windows; it is the same for every tile size, so scalar and tile operations
// on one table always agree.
//
// - linear_probing: windows h, h+1, h+2, ... (best cache behaviour at low and moderate load).
// - double_hashing: windows h1, h1+s, h1+2s, ... with s = 1 + h2 mod (n-1) over a prime number of
//   windows n (fewer long clusters at high load).
// Both visit every window exactly once in `num_windows` steps, which bounds every operation.
//   using probing = warp::linear_probing<4, 2>;   // tile of 4 lanes, 2 slots per lane
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <warp/core/config.cuh>
#include <warp/core/tile.cuh>
#include <warp/hash/detail/bytes.cuh>
#include <warp/hash/hash.cuh>

namespace warp {

namespace detail {
/// Position in a probe sequence; `step` counts windows visited.
struct probe_position {
  std::size_t window;
  std::size_t stride;
  std::size_t num_windows;
  WARP_HD WARP_FORCEINLINE void advance() noexcept {
    window += stride;
    if (window >= num_windows) { window -= num_windows; }
  }
};

inline bool is_prime(std::size_t n) {
  if (n < 2) { return false; }
  if (n % 2 == 0) { return n == 2; }
  for (std::size_t d = 3; d * d <= n; d += 2) {
    if (n % d == 0) { return false; }
  }
  return true;
}
}  // namespace detail

namespace detail {
/// What every probing scheme shares: the window geometry and the choice of hasher.
template <int TileSize, int SlotsPerLane, class Hash>
struct window_geometry {
  static_assert(is_valid_tile_size<TileSize>, "tile size must be 1, 2, 4, 8, 16 or 32");
  static_assert(SlotsPerLane >= 1 && SlotsPerLane <= 16, "slots per lane must be in [1, 16]");
  static constexpr int tile_size = TileSize;
  static constexpr int slots_per_lane = SlotsPerLane;
  static constexpr int window_size = TileSize * SlotsPerLane;

  template <class Key>
  using hasher = std::conditional_t<std::is_void_v<Hash>, hash::default_hash<Key>, Hash>;

};
}  // namespace detail

/// Linear probing over windows of TileSize x SlotsPerLane slots. EraseReadsNextWindow: an erase in
/// a full window also reads the next window, and empties its slot instead of leaving a tombstone
/// when that window holds an empty slot and only its own keys (no walk crosses the full window).
/// It suits tables with heavy erase and insert churn that stay cache-sized (the KV-cache index):
/// few tombstones, so no rehashes. In tables larger than the caches the extra line read made bulk
/// erases 10-45 % slower (host, 2^22 keys), so it is off by default.
template <int TileSize, int SlotsPerLane = 1, class Hash = void, bool EraseReadsNextWindow = false>
struct linear_probing : detail::window_geometry<TileSize, SlotsPerLane, Hash> {
  using base = detail::window_geometry<TileSize, SlotsPerLane, Hash>;
  static constexpr char const* name = "linear";
  static constexpr bool erase_reads_next_window = EraseReadsNextWindow;

  /// Smallest usable number of windows not below `n`.
  static std::size_t valid_num_windows(std::size_t n) { return n == 0 ? 1 : n; }

  template <class Key, class H>
  WARP_HD WARP_FORCEINLINE static detail::probe_position begin(H const& h, Key const& key,
                                                               std::size_t num_windows) noexcept {
    std::uint64_t const v = static_cast<std::uint64_t>(h(key));
    return {static_cast<std::size_t>(hash::detail::reduce_to_range(v, num_windows)), 1, num_windows};
  }
};

namespace detail {
/// Whether a probing scheme asks erases to read the next window (false for schemes that do not say).
template <class P, class = void>
struct erase_reads_next_window_of : std::false_type {};
template <class P>
struct erase_reads_next_window_of<P, std::void_t<decltype(P::erase_reads_next_window)>>
    : std::bool_constant<P::erase_reads_next_window> {};
}  // namespace detail

template <int TileSize, int SlotsPerLane = 1, class Hash = void>
struct double_hashing : detail::window_geometry<TileSize, SlotsPerLane, Hash> {
  using base = detail::window_geometry<TileSize, SlotsPerLane, Hash>;
  static constexpr char const* name = "double";

  /// A prime number of windows makes every stride coprime to it, so the sequence covers the table.
  static std::size_t valid_num_windows(std::size_t n) {
    n = n < 2 ? 2 : n;
    while (!detail::is_prime(n)) { ++n; }
    return n;
  }

  template <class Key, class H>
  WARP_HD WARP_FORCEINLINE static detail::probe_position begin(H const& h, Key const& key,
                                                               std::size_t num_windows) noexcept {
    std::uint64_t const v = hash::detail::spread64(static_cast<std::uint64_t>(h(key)));
    std::size_t const start = static_cast<std::size_t>(hash::detail::mulhi64(v, num_windows));
    // The stride comes from the low bits the start did not use, remixed.
    std::uint64_t const second = hash::fmix64(v ^ 0x2545F4914F6CDD1Dull);
    std::size_t const stride = 1 + static_cast<std::size_t>(hash::detail::mulhi64(second, num_windows - 1));
    return {start, stride, num_windows};
  }
};

/// `Probing` with a miss filter on host-backend tables: one byte per slot, outside the slots, in
/// which every inserted key sets two bits of one byte (chosen by a remix of its hash; see
/// probing_engine::filter_spot). A bulk find/contains that finds a bit of its key clear knows the
/// key is absent without reading a slot, so misses read a metadata array 1/sizeof(slot) the size
/// of the table (in cache where the slots are not) instead of walking the slots to an empty one,
/// as SwissTable's control bytes let it do. The price: every insert also writes its bits (1.0-2.1x
/// the time of a cache-cold host insert, measured) and the filter's bytes. Hits are not slowed:
/// the host's bulk lookups consult the filter only in blocks of keys whose predecessors were
/// mostly misses (see host::run_staged). Erases leave their bits (a stale bit costs a slot read,
/// never a wrong answer) until the next rehash rebuilds the filter. CUDA tables ignore it (no
/// filter, no cost). Offered by the single-key containers built on upsert (single_value_map,
/// hash_set, counting_map); multi_value_map rejects it.
///   warp::single_value_map<std::uint64_t, std::uint64_t, warp::with_miss_filter<warp::linear_probing<1>>> m{...};
template <class Probing>
struct with_miss_filter : Probing {
  static constexpr bool miss_filter = true;
};

namespace detail {
/// Whether a probing scheme asks for the host miss filter (with_miss_filter).
template <class P, class = void>
struct has_miss_filter : std::false_type {};
template <class P>
struct has_miss_filter<P, std::void_t<decltype(P::miss_filter)>> : std::bool_constant<P::miss_filter> {};
}  // namespace detail

}  // namespace warp
