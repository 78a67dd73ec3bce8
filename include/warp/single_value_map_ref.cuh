// warp/single_value_map_ref.cuh: the non-owning, trivially copyable view of a single_value_map,
// for use inside user kernels (CUDA backend) or host threads (host backend).
//
// Every operation has a scalar form (one thread per key) and a tile form (a cooperative group of
// Probing::tile_size lanes per key, all lanes calling together with the same key):
//   __global__ void k(warp::single_value_map_ref<int, float> map, int const* keys, int n) {
//     auto tile = cooperative_groups::tiled_partition<4>(cooperative_groups::this_thread_block());
//     ...; map.insert(tile, keys[i], 1.0f);             // tile form
//     float v = map.find(keys[i]);                       // scalar form
//   }
// Insert-type operations return an insert_outcome; find returns the map's empty_value for an
// absent key. Inserts/assigns/applies may run concurrently with each other and with finds; erase
// must not run concurrently with inserts.
#pragma once

#include <cstddef>

#include <warp/core/config.cuh>
#include <warp/core/outcome.cuh>
#include <warp/core/tile.cuh>
#include <warp/open_addressing/engine.cuh>

namespace warp {

template <class Key, class Value, class Probing>
class single_value_map_ref {
 public:
  using key_type = Key;
  using mapped_type = Value;
  using engine_type = detail::probing_engine<Key, Value, Probing>;
  static constexpr int tile_size = Probing::tile_size;

  single_value_map_ref() = default;
  explicit single_value_map_ref(engine_type const& e) noexcept : engine_{e} {}

  // Scalar forms.
  WARP_HD insert_outcome insert(Key const& k, Value const& v) const noexcept {
    return engine_.upsert(one_lane_tile{}, k, v, detail::keep_existing{});
  }
  WARP_HD insert_outcome insert_or_assign(Key const& k, Value const& v) const noexcept {
    return engine_.upsert(one_lane_tile{}, k, v, detail::assign_new{});
  }
  /// Inserts (k, v), or replaces the stored value s by op(s, v). op must be callable on the backend.
  template <class Op>
  WARP_HD insert_outcome insert_or_apply(Key const& k, Value const& v, Op op) const noexcept {
    return engine_.upsert(one_lane_tile{}, k, v, detail::apply_op<Op>{op});
  }
  WARP_HD Value find(Key const& k) const noexcept { return engine_.find(one_lane_tile{}, k).value; }
  WARP_HD bool contains(Key const& k) const noexcept { return engine_.find(one_lane_tile{}, k).found; }
  WARP_HD bool erase(Key const& k) const noexcept { return engine_.erase(one_lane_tile{}, k); }

  // Tile forms: every lane of `tile` passes the same key and value.
  template <class Tile>
  WARP_HD insert_outcome insert(Tile const& tile, Key const& k, Value const& v) const noexcept {
    return engine_.upsert(tile, k, v, detail::keep_existing{});
  }
  template <class Tile>
  WARP_HD insert_outcome insert_or_assign(Tile const& tile, Key const& k, Value const& v) const noexcept {
    return engine_.upsert(tile, k, v, detail::assign_new{});
  }
  template <class Tile, class Op>
  WARP_HD insert_outcome insert_or_apply(Tile const& tile, Key const& k, Value const& v, Op op) const noexcept {
    return engine_.upsert(tile, k, v, detail::apply_op<Op>{op});
  }
  template <class Tile>
  WARP_HD Value find(Tile const& tile, Key const& k) const noexcept { return engine_.find(tile, k).value; }
  template <class Tile>
  WARP_HD bool contains(Tile const& tile, Key const& k) const noexcept { return engine_.find(tile, k).found; }
  template <class Tile>
  WARP_HD bool erase(Tile const& tile, Key const& k) const noexcept { return engine_.erase(tile, k); }

  WARP_HD std::size_t capacity() const noexcept { return engine_.capacity(); }
  WARP_HD Key empty_key_sentinel() const noexcept { return engine_.empty_key(); }
  WARP_HD Value empty_value_sentinel() const noexcept { return engine_.empty_value(); }
  WARP_HD engine_type const& engine() const noexcept { return engine_; }

 private:
  engine_type engine_{};
};

}  // namespace warp
