// warp/bucket_list_map_ref.cuh: the non-owning, trivially copyable lookup view of a
// bucket_list_map for user kernels (CUDA backend) or host threads: count and retrieve of one key.
// Inserts are phased bulk calls (see bucket_list_map.cuh), so there is no mutable ref. The view
// is valid until the next insert or rehash (which may move the value pool and the key slots).
#pragma once

#include <cstddef>
#include <cstdint>

#include <warp/core/config.cuh>
#include <warp/core/tile.cuh>
#include <warp/detail/bucket_list_map/phases.cuh>
#include <warp/detail/open_addressing/engine.cuh>
#include <warp/probing.cuh>

namespace warp {

template <class Key, class Value, class Probing = linear_probing<4, 2>>
class bucket_list_map_ref {
  using engine_type = detail::probing_engine<Key, detail::no_value, Probing>;
  using lists_type = detail::bucket_lists<Value>;

 public:
  using key_type = Key;
  using mapped_type = Value;
  static constexpr int tile_size = Probing::tile_size;

  bucket_list_map_ref() = default;
  bucket_list_map_ref(engine_type const& e, lists_type const& l) noexcept : keys_{e}, lists_{l} {}

  WARP_HD std::uint64_t count(Key const& k) const noexcept { return count(one_lane_tile{}, k); }
  /// Writes k's values to out[0 .. count(k)); returns how many.
  WARP_HD std::uint64_t retrieve(Key const& k, Value* out) const noexcept { return retrieve(one_lane_tile{}, k, out); }

  template <class Tile>
  WARP_HD std::uint64_t count(Tile const& tile, Key const& k) const noexcept {
    std::size_t const slot = keys_.find_index(tile, k);
    return slot == engine_type::npos ? 0 : lists_.count[slot];
  }
  /// Tile form: every lane passes the same key; lane 0 copies the values.
  template <class Tile>
  WARP_HD std::uint64_t retrieve(Tile const& tile, Key const& k, Value* out) const noexcept {
    std::size_t const slot = keys_.find_index(tile, k);
    if (slot == engine_type::npos) { return 0; }
    if (tile.thread_rank() == 0) {
      lists_.for_each_value(slot, [out](std::uint64_t rank, Value const& v) { out[rank] = v; });
    }
    return lists_.count[slot];
  }

 private:
  engine_type keys_{};
  lists_type lists_{};
};

}  // namespace warp
