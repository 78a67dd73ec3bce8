// warp/multi_value_map_ref.cuh: the non-owning, trivially copyable views of a multi_value_map for
// user kernels (CUDA backend) or host threads (host backend), in scalar and tile forms.
// multi_value_map_ref (m.ref()) counts and retrieves one key's values; multi_value_map_mutable_ref
// (m.mutable_ref()) also inserts, with the map's options (identical pairs, per-key cap). Inserts
// may run concurrently with each other and with lookups (multi-value tables have no erase).
#pragma once

#include <cstdint>

#include <warp/core/config.cuh>
#include <warp/core/outcome.cuh>
#include <warp/core/tile.cuh>
#include <warp/detail/multi_value_map/bulk_ops.cuh>
#include <warp/detail/open_addressing/multi_probe.cuh>
#include <warp/probing.cuh>

namespace warp {

template <class Key, class Value, class Probing = linear_probing<4, 2>>
class multi_value_map_ref {
 protected:
  using probe_type = detail::multi_probe<detail::probing_engine<Key, Value, Probing>>;

 public:
  using key_type = Key;
  using mapped_type = Value;
  static constexpr int tile_size = Probing::tile_size;

  multi_value_map_ref() = default;
  explicit multi_value_map_ref(detail::probing_engine<Key, Value, Probing> const& e) noexcept : probe_{e} {}

  WARP_HD std::uint64_t count(Key const& k) const noexcept { return probe_.count(one_lane_tile{}, k); }
  /// Writes k's values to out[0 .. count(k)) (in no particular order); returns how many.
  WARP_HD std::uint64_t retrieve(Key const& k, Value* out) const noexcept { return probe_.retrieve(one_lane_tile{}, k, out); }
  template <class Tile>
  WARP_HD std::uint64_t count(Tile const& tile, Key const& k) const noexcept { return probe_.count(tile, k); }
  template <class Tile>
  WARP_HD std::uint64_t retrieve(Tile const& tile, Key const& k, Value* out) const noexcept {
    return probe_.retrieve(tile, k, out);
  }

 protected:
  probe_type probe_{};
};

template <class Key, class Value, class Probing = linear_probing<4, 2>>
class multi_value_map_mutable_ref : public multi_value_map_ref<Key, Value, Probing> {
 public:
  multi_value_map_mutable_ref() = default;
  multi_value_map_mutable_ref(detail::probing_engine<Key, Value, Probing> const& e, detail::multi_insert_policy policy) noexcept
      : multi_value_map_ref<Key, Value, Probing>{e}, policy_{policy} {}

  WARP_HD insert_outcome insert(Key const& k, Value const& v) const noexcept { return insert(one_lane_tile{}, k, v); }
  template <class Tile>
  WARP_HD insert_outcome insert(Tile const& tile, Key const& k, Value const& v) const noexcept {
    return policy_.insert(this->probe_, tile, k, v);
  }

 private:
  detail::multi_insert_policy policy_{};
};

}  // namespace warp
