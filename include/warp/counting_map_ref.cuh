// warp/counting_map_ref.cuh: the non-owning, trivially copyable view of a counting_map for user
// kernels (CUDA backend) or host threads (host backend).
//   __global__ void k(warp::counting_map_ref<std::uint64_t> counts, std::uint64_t const* kmers, int n) {
//     int i = blockIdx.x * blockDim.x + threadIdx.x;
//     if (i < n) counts.increment(kmers[i]);
//   }
#pragma once

#include <warp/core/config.cuh>
#include <warp/core/functional.cuh>
#include <warp/core/outcome.cuh>
#include <warp/core/tile.cuh>
#include <warp/single_value_map_ref.cuh>

namespace warp {

template <class Key, class Count, class Probing>
class counting_map_ref {
  using map_ref = single_value_map_ref<Key, Count, Probing>;

 public:
  using key_type = Key;
  using count_type = Count;
  static constexpr int tile_size = Probing::tile_size;

  counting_map_ref() = default;
  counting_map_ref(map_ref r, Count limit, bool saturating) noexcept : ref_{r}, limit_{limit}, saturating_{saturating} {}

  WARP_HD insert_outcome increment(Key const& k) const noexcept { return add(one_lane_tile{}, k, Count{1}); }
  WARP_HD insert_outcome add(Key const& k, Count amount) const noexcept { return add(one_lane_tile{}, k, amount); }
  WARP_HD Count count(Key const& k) const noexcept { return ref_.find(k); }

  template <class Tile>
  WARP_HD insert_outcome increment(Tile const& tile, Key const& k) const noexcept { return add(tile, k, Count{1}); }
  template <class Tile>
  WARP_HD insert_outcome add(Tile const& tile, Key const& k, Count amount) const noexcept {
    if (saturating_) {
      return ref_.insert_or_apply(tile, k, amount < limit_ ? amount : limit_, op::saturating_plus<Count>{limit_});
    }
    return ref_.insert_or_apply(tile, k, amount, op::plus{});
  }
  template <class Tile>
  WARP_HD Count count(Tile const& tile, Key const& k) const noexcept { return ref_.find(tile, k); }

  WARP_HD std::size_t capacity() const noexcept { return ref_.capacity(); }

 private:
  map_ref ref_{};
  Count limit_{};
  bool saturating_ = false;
};

}  // namespace warp
