// warp/single_value_map_ref.cuh: the non-owning, trivially copyable views of a single_value_map,
// for use inside user kernels (CUDA backend) or host threads (host backend).
//
// - single_value_map_ref (from map.ref(), also on a const map): lookups only, find and contains.
// - single_value_map_mutable_ref (from map.mutable_ref()): lookups plus insert, insert_or_assign,
//   insert_or_apply and erase. Calling a mutating operation through a lookup ref does not compile.
//
// Every operation has a scalar form (one thread per key) and a tile form (a cooperative group of
// Probing::tile_size lanes per key, all lanes calling together with the same key):
//   __global__ void k(warp::single_value_map_mutable_ref<int, float> map, int const* keys, int n) {
//     auto tile = cooperative_groups::tiled_partition<4>(cooperative_groups::this_thread_block());
//     ...; map.insert(tile, keys[i], 1.0f);             // tile form
//     float v = map.find(keys[i]);                       // scalar form
//   }
// Insert-type operations return an insert_outcome; find returns the map's empty_value for an
// absent key.
//
// Concurrency rule: inserts, assigns and applies may run concurrently with each other and with
// lookups. Erase must not run concurrently with inserts (an insert that passed a slot before it was
// erased could store its key twice); separate the two phases by a kernel boundary or a barrier.
// In 32-byte slots (16-byte keys with a value) a key becomes visible a moment before its value:
// a lookup racing with the insert of that same key may read the empty_value as the value.
#pragma once

#include <cstddef>

#include <warp/core/config.cuh>
#include <warp/core/outcome.cuh>
#include <warp/core/tile.cuh>
#include <warp/detail/open_addressing/engine.cuh>
#include <warp/probing.cuh>

namespace warp {

template <class Key, class Value, class Probing = linear_probing<4, 2>>
class single_value_map_ref {
 public:
  using key_type = Key;
  using mapped_type = Value;
  static constexpr int tile_size = Probing::tile_size;

  single_value_map_ref() = default;
  /// Made by the map; not for users.
  explicit single_value_map_ref(detail::probing_engine<Key, Value, Probing> const& e) noexcept : engine_{e} {}

  WARP_HD Value find(Key const& k) const noexcept { return engine_.find(one_lane_tile{}, k).value; }
  WARP_HD bool contains(Key const& k) const noexcept { return engine_.find(one_lane_tile{}, k).found; }
  template <class Tile>
  WARP_HD Value find(Tile const& tile, Key const& k) const noexcept { return engine_.find(tile, k).value; }
  template <class Tile>
  WARP_HD bool contains(Tile const& tile, Key const& k) const noexcept { return engine_.find(tile, k).found; }

  WARP_HD std::size_t capacity() const noexcept { return engine_.capacity(); }
  WARP_HD Key empty_key_sentinel() const noexcept { return engine_.empty_key(); }
  WARP_HD Value empty_value_sentinel() const noexcept { return engine_.empty_value(); }

 protected:
  detail::probing_engine<Key, Value, Probing> engine_{};
};

template <class Key, class Value, class Probing = linear_probing<4, 2>>
class single_value_map_mutable_ref : public single_value_map_ref<Key, Value, Probing> {
  using base = single_value_map_ref<Key, Value, Probing>;

 public:
  using base::base;

  WARP_HD insert_outcome insert(Key const& k, Value const& v) const noexcept { return insert(one_lane_tile{}, k, v); }
  WARP_HD insert_outcome insert_or_assign(Key const& k, Value const& v) const noexcept {
    return insert_or_assign(one_lane_tile{}, k, v);
  }
  /// Inserts (k, v), or replaces the stored value s by op(s, v). op must be callable on the backend.
  template <class Op>
  WARP_HD insert_outcome insert_or_apply(Key const& k, Value const& v, Op op) const noexcept {
    return insert_or_apply(one_lane_tile{}, k, v, op);
  }
  /// Replaces k by a tombstone; true when this call erased it. Not concurrently with inserts.
  WARP_HD bool erase(Key const& k) const noexcept { return erase(one_lane_tile{}, k); }
  /// The same, saying whether it emptied the slot or left a tombstone: a caller that erases
  /// through refs counts the tombstones and calls the map's rehash() when they reach a quarter of
  /// its capacity, as its bulk erase does (the map does not see these erases).
  WARP_HD erase_outcome erase_reporting(Key const& k) const noexcept { return erase_reporting(one_lane_tile{}, k); }

  // Tile forms: every lane of `tile` passes the same key and value.
  template <class Tile>
  WARP_HD insert_outcome insert(Tile const& tile, Key const& k, Value const& v) const noexcept {
    return this->engine_.upsert(tile, k, v, detail::keep_existing{});
  }
  template <class Tile>
  WARP_HD insert_outcome insert_or_assign(Tile const& tile, Key const& k, Value const& v) const noexcept {
    return this->engine_.upsert(tile, k, v, detail::assign_new{});
  }
  template <class Tile, class Op>
  WARP_HD insert_outcome insert_or_apply(Tile const& tile, Key const& k, Value const& v, Op op) const noexcept {
    return this->engine_.upsert(tile, k, v, detail::apply_op<Op>{op});
  }
  template <class Tile>
  WARP_HD bool erase(Tile const& tile, Key const& k) const noexcept { return this->engine_.erase(tile, k); }
  template <class Tile>
  WARP_HD erase_outcome erase_reporting(Tile const& tile, Key const& k) const noexcept {
    return this->engine_.erase_reporting(tile, k);
  }
};

}  // namespace warp
