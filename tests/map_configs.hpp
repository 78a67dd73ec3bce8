// The type matrix the map tests run over: key/value widths, probing schemes, tile sizes 1..32,
// each on both backends.
#pragma once

#include "test_common.hpp"

#include <iterator>

namespace warp_test {

template <class K, class V, class P, class B>
struct map_config {
  using key = K;
  using value = V;
  using probing = P;
  using map = warp::single_value_map<K, V, P>;
  static constexpr warp::backend backend = B::value;

  static map make(std::size_t capacity, bool with_erase = true) {
    if (with_erase) {
      return map{capacity, warp::empty_key{sentinels<K>::empty()}, warp::empty_value{missing()},
                 warp::erased_key{sentinels<K>::erased()}, backend};
    }
    return map{capacity, warp::empty_key{sentinels<K>::empty()}, warp::empty_value{missing()}, backend};
  }
  static V missing() { return static_cast<V>(123456); }
};

#define WARP_MAP_CONFIGS(B)                                                                        \
  map_config<std::uint32_t, std::uint32_t, warp::linear_probing<1, 1>, B>,                          \
      map_config<std::uint32_t, std::uint32_t, warp::linear_probing<4, 2>, B>,                      \
      map_config<std::uint32_t, std::uint32_t, warp::double_hashing<8, 1>, B>,                      \
      map_config<std::uint32_t, std::uint32_t, warp::linear_probing<32, 1>, B>,                     \
      map_config<std::uint64_t, std::uint64_t, warp::linear_probing<4, 1>, B>,                      \
      map_config<std::uint64_t, std::uint64_t, warp::double_hashing<2, 4>, B>,                      \
      map_config<std::uint64_t, std::uint32_t, warp::linear_probing<16, 1>, B>,                     \
      map_config<std::int64_t, double, warp::double_hashing<4, 1>, B>,                              \
      map_config<key128, std::uint32_t, warp::linear_probing<2, 2>, B>

using all_map_configs = ::testing::Types<WARP_MAP_CONFIGS(host_backend), WARP_MAP_CONFIGS(cuda_backend)>;

using config_names = container_names;

/// A minimal random-access iterator over computed keys, usable on host and device: exercises the
/// bulk API over iterators that are not pointers.
template <class K>
struct generated_keys {
  using iterator_category = std::random_access_iterator_tag;
  using value_type = K;
  using difference_type = std::ptrdiff_t;
  using pointer = K const*;
  using reference = K;
  std::uint64_t start;
  WARP_HD K operator[](std::size_t i) const {
    std::uint64_t const r = warp::hash::fmix64(start + i + 1);
    if constexpr (std::is_same_v<K, key128>) {
      return key128{r, r * 0x9E3779B97F4A7C15ull};
    } else {
      K k = static_cast<K>(r);
      // Keep clear of the sentinels (the two largest values) without making duplicates.
      return k >= static_cast<K>(std::numeric_limits<K>::max() - 1) ? static_cast<K>(r >> 8) : k;
    }
  }
  generated_keys operator+(difference_type d) const { return {start + static_cast<std::uint64_t>(d)}; }
  difference_type operator-(generated_keys const& o) const { return static_cast<difference_type>(start - o.start); }
};

}  // namespace warp_test

