// warp/detail/iterators.cuh: random-access iterators computed on the fly, usable on host and device:
// constant_iterator (the same value everywhere: a count of 1, or nothing at all for sets, fed
// through the pair-wise bulk paths) and counting_iterator (first, first + 1, ...: row numbers).
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

template <class T>
struct counting_iterator {
  using iterator_category = std::random_access_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = T const*;
  using reference = T;

  T first{};

  WARP_HD constexpr T operator*() const noexcept { return first; }
  WARP_HD constexpr T operator[](difference_type i) const noexcept { return first + static_cast<T>(i); }
  WARP_HD constexpr counting_iterator operator+(difference_type d) const noexcept { return {first + static_cast<T>(d)}; }
  WARP_HD constexpr difference_type operator-(counting_iterator const& o) const noexcept {
    return static_cast<difference_type>(first) - static_cast<difference_type>(o.first);
  }
};

}  // namespace warp::detail
