// warp/detail/open_addressing/multi_probe.cuh: probing for tables that hold several values per key
// (multi_value_map), on the same engine, slots and probing schemes as the single-value tables.
//
// A key's copies all lie on its probe sequence before the first empty slot: an insert claims the
// first empty slot it meets, and slots are never emptied again (multi-value tables have no erase).
// So a count or a retrieve walks the sequence until a window with an empty slot, and an insert knows
// exactly how many copies precede the slot it claims (their number is fixed once passed), which
// makes a per-key cap exact under concurrency: the copy claiming rank r is dropped iff r >= cap.
#pragma once

#include <cstddef>
#include <cstdint>

#include <warp/detail/atomic.cuh>
#include <warp/core/config.cuh>
#include <warp/core/outcome.cuh>
#include <warp/core/tile.cuh>
#include <warp/detail/open_addressing/engine.cuh>
#include <warp/detail/open_addressing/slot.cuh>

namespace warp::detail {

/// Sum of `v` over the tile's lanes, and the sum over the lanes below this one.
template <class Tile>
WARP_HD WARP_FORCEINLINE void tile_prefix_sum(Tile const& tile, std::uint32_t v, std::uint32_t& below, std::uint32_t& total) {
  below = 0;
  total = 0;
  // Signed lane numbers: with a one-lane tile the rank is the constant 0, and unsigned compares
  // against it draw "pointless comparison" warnings.
  int const lane = static_cast<int>(tile.thread_rank());
  for (int l = 0; l < static_cast<int>(Tile::num_threads()); ++l) {
    std::uint32_t const c = tile.shfl(v, static_cast<std::uint32_t>(l));
    below += l < lane ? c : 0u;
    total += c;
  }
}

template <class Engine>
struct multi_probe {
  using engine_type = Engine;
  using Key = typename Engine::key_type;
  using Value = typename Engine::value_type;
  using slot_type = typename Engine::slot_type;
  using probing = typename Engine::probing;
  static constexpr int window_size = Engine::window_size;
  static_assert(!Engine::filtered,
                "with_miss_filter is offered by the single-key containers: a multi-value insert writes "
                "slots without the filter's bits");
  static_assert(Engine::layout::packed,
                "multi-value tables need key and value to fit one 8-byte (or, with 128-bit CAS, 16-byte) slot");

  Engine engine;

  /// Adds (key, value) as one more copy of key. With `unique_pairs`, an identical pair already
  /// stored makes this an already_present no-op. A key holding `cap` copies drops the value.
  /// When several causes apply, the first of this order is reported: invalid_key, already_present
  /// (an identical pair, with unique_pairs), over_cap, no_room.
  template <class Tile>
  WARP_HD insert_outcome insert(Tile const& tile, Key const& key, Value const& value, bool unique_pairs,
                                std::uint64_t cap) const noexcept {
    if (engine.is_sentinel(key)) {
      if (tile.thread_rank() == 0) { engine.raise(table_status::invalid_key_bit); }
      return insert_outcome::invalid_key;
    }
    constexpr std::uint32_t per_lane = window_size / Tile::num_threads();
    std::uint32_t const lane = tile.thread_rank();
    detail::probe_position pos = probing::begin(engine.hash_function(), key, engine.num_windows());
    std::uint64_t seen = 0;  // copies of key in the windows already passed
    // Each window is visited once, plus once more per lost claim in it (at most window_size).
    std::size_t budget = engine.num_windows() * (1 + window_size);
    for (std::size_t visited = 0; visited < engine.num_windows() && budget > 0; --budget) {
      std::size_t const base = pos.window * window_size + lane * per_lane;
      slot_type lane_slots[per_lane];
      load_slots(engine.slots() + base, lane_slots);
      int first_empty = -1;
      std::uint32_t copies = 0;
      bool same_pair = false;
      for (std::uint32_t j = 0; j < per_lane; ++j) {
        Key const k = lane_slots[j].key();
        bool const before_empty = first_empty < 0;
        bool const is_empty = bitwise_equal(k, engine.empty_key());
        bool const is_copy = before_empty && !is_empty && bitwise_equal(k, key);
        copies += is_copy ? 1u : 0u;
        same_pair |= is_copy && bitwise_equal(lane_slots[j].value(), value);
        first_empty = (before_empty && is_empty) ? static_cast<int>(j) : first_empty;
      }
      if (unique_pairs && tile.any(same_pair)) { return insert_outcome::already_present; }
      std::uint32_t const empty_mask = tile.ballot(first_empty >= 0);
      if (empty_mask == 0) {
        std::uint32_t below = 0, total = 0;
        tile_prefix_sum(tile, copies, below, total);
        seen += total;
        // Past the cap, no later slot can take the value; only an identical pair further on
        // (unique_pairs) would change the answer, so that case walks on.
        if (seen >= cap && !unique_pairs) { return over_cap(lane); }
        pos.advance();
        ++visited;
        continue;
      }
      // The first empty slot of the window belongs to the lowest lane that has one; copies in the
      // lanes above it lie after that slot and cannot exist (see the file comment).
      std::uint32_t const owner = lowest_lane(empty_mask);
      std::uint32_t below = 0, total = 0;
      tile_prefix_sum(tile, static_cast<int>(lane) <= static_cast<int>(owner) ? copies : 0u, below, total);
      if (seen + total >= cap) { return over_cap(lane); }
      int const j = tile.shfl(first_empty, owner);
      bool claimed = false;
      if (lane == owner) {
        slot_type expected = slot_type::make(engine.empty_key(), engine.empty_value());
        claimed = cas_slot(engine.slots() + base + static_cast<std::size_t>(j), expected, slot_type::make(key, value));
      }
      if (tile.shfl(claimed, owner)) { return insert_outcome::inserted; }
      // Lost the slot to another insert: look at the same window again.
    }
    if (seen >= cap) { return over_cap(lane); }
    if (lane == 0) { engine.raise(table_status::no_room_bit); }
    return insert_outcome::no_room;
  }

  /// Number of values stored for key. `Reads`: read_only for bulk calls.
  template <slot_reads Reads = slot_reads::concurrent, class Tile>
  WARP_HD std::uint64_t count(Tile const& tile, Key const& key) const noexcept {
    return walk<Reads>(tile, key, static_cast<Value*>(nullptr));
  }

  /// Writes key's values to out[0 .. count) (in no particular order); returns the count.
  template <slot_reads Reads = slot_reads::concurrent, class Tile>
  WARP_HD std::uint64_t retrieve(Tile const& tile, Key const& key, Value* out) const noexcept {
    return walk<Reads>(tile, key, out);
  }

 private:
  WARP_HD insert_outcome over_cap(std::uint32_t lane) const noexcept {
    if (lane == 0) { engine.raise(table_status::over_cap_bit); }
    return insert_outcome::over_cap;
  }

  template <slot_reads Reads, class Tile>
  WARP_HD std::uint64_t walk(Tile const& tile, Key const& key, Value* out) const noexcept {
    if (engine.is_sentinel(key)) { return 0; }
    constexpr std::uint32_t per_lane = window_size / Tile::num_threads();
    std::uint32_t const lane = tile.thread_rank();
    detail::probe_position pos = probing::begin(engine.hash_function(), key, engine.num_windows());
    std::uint64_t found = 0;
    for (std::size_t step = 0; step < engine.num_windows(); ++step, pos.advance()) {
      std::size_t const base = pos.window * window_size + lane * per_lane;
      slot_type lane_slots[per_lane];
      load_slots<Reads>(engine.slots() + base, lane_slots);
      std::uint32_t copies = 0;
      bool has_empty = false;
      for (std::uint32_t j = 0; j < per_lane; ++j) {
        Key const k = lane_slots[j].key();
        bool const is_copy = bitwise_equal(k, key);
        has_empty |= bitwise_equal(k, engine.empty_key());
        copies += is_copy ? 1u : 0u;
      }
      std::uint32_t below = 0, total = 0;
      tile_prefix_sum(tile, copies, below, total);
      if (out != nullptr && copies != 0) {
        std::uint64_t at = found + below;
        for (std::uint32_t j = 0; j < per_lane; ++j) {
          if (bitwise_equal(lane_slots[j].key(), key)) { out[at++] = lane_slots[j].value(); }
        }
      }
      found += total;
      if (tile.any(has_empty)) { break; }
    }
    return found;
  }
};

}  // namespace warp::detail
