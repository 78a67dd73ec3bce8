// warp/core/sentinels.cuh: strong types for the reserved values and limits a container is built
// with, all from one template (detail::strong_value), so that a constructor argument says what it
// is: `empty_key{~0u}` cannot be passed where an `empty_value` is expected.
//
// A slot holding `empty_key` is free; a slot holding `erased_key` held a key that was erased
// (a tombstone). Both are chosen by the user and may not be inserted as data: an insert of either
// is reported per key as `insert_outcome::invalid_key`. `empty_value` is what `find` writes for a
// key that is not present. `max_count` is a counting_map's saturation limit.
//   warp::single_value_map<std::uint32_t, float> m{1 << 20, warp::empty_key{~0u},
//                                                  warp::empty_value{-1.0f}, warp::erased_key{~0u - 1}};
#pragma once

#include <type_traits>

namespace warp {

namespace detail {
/// A value of type T tagged by the template Self that derives from it. Self<U> converts to Self<T>
/// between arithmetic types, so that `empty_key{~0ull}` serves a map of std::uint64_t (unsigned
/// long) and similar.
template <class T, template <class> class Self>
struct strong_value {
  using value_type = T;
  explicit constexpr strong_value(T v) : value(v) {}
  template <class U, class = std::enable_if_t<std::is_arithmetic_v<U> && std::is_arithmetic_v<T> && !std::is_same_v<U, T>>>
  constexpr strong_value(Self<U> const& other) : value(static_cast<T>(other.value)) {}
  T value;
};
}  // namespace detail

template <class T>
struct empty_key : detail::strong_value<T, empty_key> {
  using detail::strong_value<T, empty_key>::strong_value;
};
template <class T>
empty_key(T) -> empty_key<T>;

template <class T>
struct erased_key : detail::strong_value<T, erased_key> {
  using detail::strong_value<T, erased_key>::strong_value;
};
template <class T>
erased_key(T) -> erased_key<T>;

template <class T>
struct empty_value : detail::strong_value<T, empty_value> {
  using detail::strong_value<T, empty_value>::strong_value;
};
template <class T>
empty_value(T) -> empty_value<T>;

/// The largest count a counting_map stores; counts stop there instead of wrapping around.
template <class T>
struct max_count : detail::strong_value<T, max_count> {
  using detail::strong_value<T, max_count>::strong_value;
};
template <class T>
max_count(T) -> max_count<T>;

}  // namespace warp
