// warp/core/sentinels.cuh: strong types for the reserved values a container is built with.
//
// A slot holding `empty_key` is free; a slot holding `erased_key` held a key that was erased
// (a tombstone). Both are chosen by the user and may not be inserted as data: an insert of either
// is reported per key as `insert_outcome::invalid_key`. `empty_value` is what `find` writes for a
// key that is not present.
//   warp::single_value_map<std::uint32_t, float> m{1 << 20, warp::empty_key{~0u},
//                                                  warp::empty_value{-1.0f}, warp::erased_key{~0u - 1}};
#pragma once

#include <type_traits>

namespace warp {

template <class T>
struct empty_key {
  explicit constexpr empty_key(T v) : value(v) {}
  /// Lets `empty_key{~0ull}` serve a map of std::uint64_t (unsigned long) and similar.
  template <class U, class = std::enable_if_t<std::is_arithmetic_v<U> && std::is_arithmetic_v<T>>>
  constexpr empty_key(empty_key<U> const& other) : value(static_cast<T>(other.value)) {}
  T value;
};
template <class T>
empty_key(T) -> empty_key<T>;

template <class T>
struct erased_key {
  explicit constexpr erased_key(T v) : value(v) {}
  /// Lets `erased_key{~0ull}` serve a map of std::uint64_t (unsigned long) and similar.
  template <class U, class = std::enable_if_t<std::is_arithmetic_v<U> && std::is_arithmetic_v<T>>>
  constexpr erased_key(erased_key<U> const& other) : value(static_cast<T>(other.value)) {}
  T value;
};
template <class T>
erased_key(T) -> erased_key<T>;

template <class T>
struct empty_value {
  explicit constexpr empty_value(T v) : value(v) {}
  /// Lets `empty_value{~0ull}` serve a map of std::uint64_t (unsigned long) and similar.
  template <class U, class = std::enable_if_t<std::is_arithmetic_v<U> && std::is_arithmetic_v<T>>>
  constexpr empty_value(empty_value<U> const& other) : value(static_cast<T>(other.value)) {}
  T value;
};
template <class T>
empty_value(T) -> empty_value<T>;

}  // namespace warp
