// warp/core/functional.cuh: reduction functors for insert_or_apply, valid on host and device.
//   map.insert_or_apply(keys, keys + n, ones, warp::op::plus{});   // count occurrences
#pragma once

#include <warp/core/config.cuh>

namespace warp::op {
struct plus {
  template <class T>
  WARP_HD WARP_FORCEINLINE T operator()(T const& a, T const& b) const noexcept { return a + b; }
};
struct minimum {
  template <class T>
  WARP_HD WARP_FORCEINLINE T operator()(T const& a, T const& b) const noexcept { return b < a ? b : a; }
};
struct maximum {
  template <class T>
  WARP_HD WARP_FORCEINLINE T operator()(T const& a, T const& b) const noexcept { return a < b ? b : a; }
};
/// a + b, clamped to `limit` (no wrap-around for unsigned counts); for counts, a, b >= 0.
template <class T>
struct saturating_plus {
  T limit;
  WARP_HD WARP_FORCEINLINE T operator()(T const& a, T const& b) const noexcept {
    return (b >= limit || a >= limit - b) ? limit : a + b;
  }
};
}  // namespace warp::op
