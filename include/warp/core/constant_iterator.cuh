// warp/core/constant_iterator.cuh: a random-access iterator that yields the same value at every
// position, usable on host and device. The containers built on single_value_map use it to feed a
// per-key constant (a count of 1, or nothing at all for sets) through the pair-wise bulk paths.
#pragma once

#include <cstddef>
#include <iterator>

#include <warp/core/config.cuh>

namespace warp::detail {

template <class T>
struct constant_iterator {
  using iterator_category = std::random_access_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = T const*;
  using reference = T;

  T value{};
  difference_type position = 0;

  WARP_HD constexpr T operator*() const noexcept { return value; }
  WARP_HD constexpr T operator[](difference_type) const noexcept { return value; }
  WARP_HD constexpr constant_iterator operator+(difference_type d) const noexcept { return {value, position + d}; }
  WARP_HD constexpr constant_iterator operator-(difference_type d) const noexcept { return {value, position - d}; }
  WARP_HD constexpr difference_type operator-(constant_iterator const& o) const noexcept { return position - o.position; }
  WARP_HD constexpr constant_iterator& operator++() noexcept { ++position; return *this; }
  WARP_HD constexpr constant_iterator& operator+=(difference_type d) noexcept { position += d; return *this; }
  WARP_HD constexpr bool operator==(constant_iterator const& o) const noexcept { return position == o.position; }
  WARP_HD constexpr bool operator!=(constant_iterator const& o) const noexcept { return position != o.position; }
};

}  // namespace warp::detail
