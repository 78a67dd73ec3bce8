// warp/hash_set_ref.cuh: the non-owning, trivially copyable views of a hash_set for user kernels
// (CUDA backend) or host threads (host backend); scalar and tile forms as in single_value_map_ref.
// hash_set_ref (set.ref()) only looks up; hash_set_mutable_ref (set.mutable_ref()) also inserts
// and erases, with the same concurrency rule: no erase while inserting.
//   __global__ void k(warp::hash_set_mutable_ref<std::uint32_t> set, std::uint32_t const* keys, int n) {
//     int i = blockIdx.x * blockDim.x + threadIdx.x;
//     if (i < n) set.insert(keys[i]);
//   }
#pragma once

#include <warp/core/config.cuh>
#include <warp/core/outcome.cuh>
#include <warp/detail/open_addressing/slot.cuh>
#include <warp/probing.cuh>
#include <warp/single_value_map_ref.cuh>

namespace warp {

template <class Key, class Probing = linear_probing<4, 2>>
class hash_set_ref {
  using map_ref = single_value_map_ref<Key, detail::no_value, Probing>;

 public:
  using key_type = Key;
  static constexpr int tile_size = Probing::tile_size;

  hash_set_ref() = default;
  explicit hash_set_ref(detail::probing_engine<Key, detail::no_value, Probing> const& e) noexcept : ref_{e} {}

  WARP_HD bool contains(Key const& k) const noexcept { return ref_.contains(k); }
  template <class Tile>
  WARP_HD bool contains(Tile const& tile, Key const& k) const noexcept { return ref_.contains(tile, k); }

  WARP_HD std::size_t capacity() const noexcept { return ref_.capacity(); }
  WARP_HD Key empty_key_sentinel() const noexcept { return ref_.empty_key_sentinel(); }

 protected:
  single_value_map_mutable_ref<Key, detail::no_value, Probing> ref_{};
};

template <class Key, class Probing = linear_probing<4, 2>>
class hash_set_mutable_ref : public hash_set_ref<Key, Probing> {
 public:
  using hash_set_ref<Key, Probing>::hash_set_ref;

  WARP_HD insert_outcome insert(Key const& k) const noexcept { return this->ref_.insert(k, detail::no_value{}); }
  /// Not concurrently with inserts.
  WARP_HD bool erase(Key const& k) const noexcept { return this->ref_.erase(k); }
  template <class Tile>
  WARP_HD insert_outcome insert(Tile const& tile, Key const& k) const noexcept {
    return this->ref_.insert(tile, k, detail::no_value{});
  }
  template <class Tile>
  WARP_HD bool erase(Tile const& tile, Key const& k) const noexcept { return this->ref_.erase(tile, k); }
};

}  // namespace warp
