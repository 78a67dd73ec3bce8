// warp/kvcache/block_table_ref.cuh: what a scheduler kernel (or a host thread) may do with a
// block_table: look up block hashes in its index, one hash or a request's whole prefix. A
// trivially copyable view from block_table::ref(); lookups only (the pool's reference counts and
// free list change through the table's own calls, between steps).
//
//   __global__ void schedule(warp::kvcache::block_hasher hasher, warp::kvcache::block_table_ref cache, ...) {
//     block_hash h = hasher.root(salt_digest, lora_id);
//     for (b = 0; b < blocks; ++b) { hashes[b] = h = hasher.next(h, tokens + b * B, B); }
//     std::uint32_t const cached = cache.match_prefix(hashes, blocks, block_ids);  // stops at the first miss
//   }
//
// A ref does not verify tokens (the copies are host memory): a table built with verify_tokens
// answers verified lookups only through block_table::match_prefixes. The index maps a hash to the
// block that has held it longest; a ref sees the state of the last mutating call and is valid
// until the next one (a mutating call may rehash the index into new memory): one ref per step.
#pragma once

#include <cstdint>

#include <warp/core/config.cuh>
#include <warp/kvcache/block_hash.cuh>
#include <warp/probing.cuh>
#include <warp/single_value_map_ref.cuh>

namespace warp::kvcache {

using block_id = std::uint32_t;
inline constexpr block_id no_block = ~block_id{0};

namespace detail {
/// The index's hasher. Block hashes are outputs of a keyed hash already (uniform, and unknown to
/// whoever cannot read the deployment key), so their words fold into a table position directly;
/// hashing them again cost more than the rest of a lookup.
struct block_hash_fold {
  WARP_HD std::uint64_t operator()(block_hash const& h) const noexcept { return h.low ^ (h.high * 0x9E3779B97F4A7C15ull); }
};

// Windows of two 32-byte slots, one cache line: the index is an eighth full, so a probe nearly
// always ends in its first window, and wider windows only read more lines (4 slots: 5-40 % slower
// steps of 16 to 256 requests; 8 slots: 15-35 % slower steps of 1 to 16). Two-slot windows are
// often full when a key is erased; the tombstones this left used to force rehashes of the whole
// index that set the p99 of large steps; so an erase in a full window reads the next window and
// empties its slot when no walk crosses it (the next one has an empty slot and only its own keys).
using index_probing = linear_probing<2, 1, block_hash_fold, true>;

// The index's sentinels share no half: the engine confirms with a 16-byte atomic every slot read
// that shares a half with a sentinel (it might be torn), so sentinels that shared one made every
// empty slot, i.e. the end of every probe, cost a cmpxchg16b on the host.
WARP_HD inline block_hash empty_hash() noexcept { return {~std::uint64_t{0}, ~std::uint64_t{0}}; }
WARP_HD inline block_hash erased_hash() noexcept { return {~std::uint64_t{0} - 1, ~std::uint64_t{0} - 1}; }
// The two sentinel values are not available as keys: a hash equal to one (a chance of 2^-127) is
// stored with its low half cleared.
WARP_HD inline block_hash table_key(block_hash h) noexcept {
  if (h == empty_hash() || h == erased_hash()) { h.low = 0; }
  return h;
}
}  // namespace detail

class block_table_ref {
 public:
  using index_ref = single_value_map_ref<block_hash, block_id, detail::index_probing>;
  static constexpr int tile_size = index_ref::tile_size;

  block_table_ref() = default;
  /// Made by block_table::ref(); not for users.
  explicit block_table_ref(index_ref index) noexcept : index_{index} {}

  /// The block that has held `h` longest, or no_block.
  WARP_HD block_id find(block_hash const& h) const noexcept { return index_.find(detail::table_key(h)); }
  /// The same, probed by a tile of tile_size lanes (all calling with the same hash).
  template <class Tile>
  WARP_HD block_id find(Tile const& tile, block_hash const& h) const noexcept {
    return index_.find(tile, detail::table_key(h));
  }

  /// A request's leading cached blocks: looks up hashes[0], hashes[1], ... until the first miss,
  /// writes the blocks found to out[0 ..) (out may be null) and returns how many there were.
  WARP_HD std::uint32_t match_prefix(block_hash const* hashes, std::uint32_t n, block_id* out) const noexcept {
    std::uint32_t i = 0;
    for (; i < n; ++i) {
      block_id const b = find(hashes[i]);
      if (b == no_block) { break; }
      if (out != nullptr) { out[i] = b; }
    }
    return i;
  }
  /// The same with a tile per request; every lane returns the count, lane 0 writes `out`.
  template <class Tile>
  WARP_HD std::uint32_t match_prefix(Tile const& tile, block_hash const* hashes, std::uint32_t n, block_id* out) const noexcept {
    std::uint32_t i = 0;
    for (; i < n; ++i) {
      block_id const b = find(tile, hashes[i]);
      if (b == no_block) { break; }
      if (out != nullptr && tile.thread_rank() == 0) { out[i] = b; }
    }
    return i;
  }

 private:
  index_ref index_{};
};

}  // namespace warp::kvcache
