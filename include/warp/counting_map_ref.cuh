// warp/counting_map_ref.cuh: the non-owning, trivially copyable views of a counting_map for user
// kernels (CUDA backend) or host threads (host backend). counting_map_ref (counts.ref()) only
// reads counts; counting_map_mutable_ref (counts.mutable_ref()) also increments, adds and erases
// (no erase while counting: see single_value_map_ref.cuh).
//   __global__ void k(warp::counting_map_mutable_ref<std::uint64_t> counts, std::uint64_t const* kmers, int n) {
//     int i = blockIdx.x * blockDim.x + threadIdx.x;
//     if (i < n) counts.increment(kmers[i]);
//   }
#pragma once

#include <cstdint>

#include <warp/core/config.cuh>
#include <warp/core/functional.cuh>
#include <warp/core/outcome.cuh>
#include <warp/core/tile.cuh>
#include <warp/probing.cuh>
#include <warp/single_value_map_ref.cuh>

namespace warp {

template <class Key, class Count = std::uint32_t, class Probing = linear_probing<4, 2>>
class counting_map_ref {
 public:
  using key_type = Key;
  using count_type = Count;
  static constexpr int tile_size = Probing::tile_size;

  counting_map_ref() = default;
  explicit counting_map_ref(detail::probing_engine<Key, Count, Probing> const& e) noexcept : ref_{e} {}

  /// The count of k (0 when never seen).
  WARP_HD Count count(Key const& k) const noexcept { return ref_.find(k); }
  template <class Tile>
  WARP_HD Count count(Tile const& tile, Key const& k) const noexcept { return ref_.find(tile, k); }
  WARP_HD bool contains(Key const& k) const noexcept { return ref_.contains(k); }
  template <class Tile>
  WARP_HD bool contains(Tile const& tile, Key const& k) const noexcept { return ref_.contains(tile, k); }

  WARP_HD std::size_t capacity() const noexcept { return ref_.capacity(); }

 protected:
  single_value_map_mutable_ref<Key, Count, Probing> ref_{};
};

template <class Key, class Count = std::uint32_t, class Probing = linear_probing<4, 2>>
class counting_map_mutable_ref : public counting_map_ref<Key, Count, Probing> {
 public:
  counting_map_mutable_ref() = default;
  counting_map_mutable_ref(detail::probing_engine<Key, Count, Probing> const& e, Count limit, bool saturating) noexcept
      : counting_map_ref<Key, Count, Probing>{e}, limit_{limit}, saturating_{saturating} {}

  WARP_HD insert_outcome increment(Key const& k) const noexcept { return add(one_lane_tile{}, k, Count{1}); }
  WARP_HD insert_outcome add(Key const& k, Count amount) const noexcept { return add(one_lane_tile{}, k, amount); }
  WARP_HD bool erase(Key const& k) const noexcept { return this->ref_.erase(k); }

  template <class Tile>
  WARP_HD insert_outcome increment(Tile const& tile, Key const& k) const noexcept { return add(tile, k, Count{1}); }
  template <class Tile>
  WARP_HD insert_outcome add(Tile const& tile, Key const& k, Count amount) const noexcept {
    if (saturating_) {
      return this->ref_.insert_or_apply(tile, k, amount < limit_ ? amount : limit_, op::saturating_plus<Count>{limit_});
    }
    return this->ref_.insert_or_apply(tile, k, amount, op::plus{});
  }
  template <class Tile>
  WARP_HD bool erase(Tile const& tile, Key const& k) const noexcept { return this->ref_.erase(tile, k); }

 private:
  Count limit_{};
  bool saturating_ = false;
};

}  // namespace warp
