// warp/core/outcome.cuh: what happened to each key, and the sticky status of a table.
//
// Bulk inserts can write one `insert_outcome` per input key. Independently, every container keeps
// a sticky `table_status` bit set that records whether any operation ever ran out of room or saw
// an invalid key since the last clear_status(); it is never lost even when per-key outcomes are
// not requested.
//   std::vector<warp::insert_outcome> out(n);
//   m.insert(keys, keys + n, values, out.data());
//   if (m.status().no_room()) { m.rehash(2 * m.capacity()); }
#pragma once

#include <cstdint>

#include <warp/core/config.cuh>

namespace warp {

enum class insert_outcome : std::uint8_t {
  inserted = 0,         ///< the key was new and now holds the given value
  already_present = 1,  ///< the key was there; the stored value is unchanged (or updated by assign/apply)
  no_room = 2,          ///< every slot the key may occupy is taken; nothing was stored
  invalid_key = 3,      ///< the key equals the empty or erased sentinel; nothing was stored
  over_cap = 4,         ///< multi-value tables: the key already holds its cap of values; dropped
};

inline char const* to_string(insert_outcome o) {
  switch (o) {
    case insert_outcome::inserted: return "inserted";
    case insert_outcome::already_present: return "already_present";
    case insert_outcome::no_room: return "no_room";
    case insert_outcome::invalid_key: return "invalid_key";
    case insert_outcome::over_cap: return "over_cap";
  }
  return "unknown";
}

/// What one erase did. Most erases empty their key's slot; one whose window has no empty slot
/// (and that a probe walk may cross) leaves a tombstone, which lookups of absent keys step over
/// until a rehash. Bulk erases count the tombstones they leave and rehash in time; a caller that
/// erases through a mutable ref and wants the same counts `tombstone` results (erase_reporting).
enum class erase_outcome : std::uint32_t {
  absent = 0,     ///< the key was not there (or another erase took it first)
  emptied = 1,    ///< erased; its slot is empty again
  tombstone = 2,  ///< erased; its slot holds the erased_key sentinel
};

inline char const* to_string(erase_outcome o) {
  switch (o) {
    case erase_outcome::absent: return "absent";
    case erase_outcome::emptied: return "emptied";
    case erase_outcome::tombstone: return "tombstone";
  }
  return "unknown";
}

/// Sticky error bits of a table.
struct table_status {
  static constexpr std::uint32_t no_room_bit = 1u << 0;
  static constexpr std::uint32_t invalid_key_bit = 1u << 1;
  static constexpr std::uint32_t over_cap_bit = 1u << 2;  ///< values dropped by a per-key cap

  std::uint32_t bits = 0;

  [[nodiscard]] constexpr bool ok() const noexcept { return bits == 0; }
  [[nodiscard]] constexpr bool no_room() const noexcept { return (bits & no_room_bit) != 0; }
  [[nodiscard]] constexpr bool invalid_key() const noexcept { return (bits & invalid_key_bit) != 0; }
  [[nodiscard]] constexpr bool over_cap() const noexcept { return (bits & over_cap_bit) != 0; }
};

namespace detail {
WARP_HD constexpr std::uint32_t status_bit_of(insert_outcome o) noexcept {
  return o == insert_outcome::no_room       ? table_status::no_room_bit
         : o == insert_outcome::invalid_key ? table_status::invalid_key_bit
         : o == insert_outcome::over_cap    ? table_status::over_cap_bit
                                            : 0u;
}
}  // namespace detail

}  // namespace warp
