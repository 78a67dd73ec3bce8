// warp/detail/bloom_filter/bulk_ops.cuh: the per-item functors of bloom_filter's bulk calls
// (add, add_and_test, contains, merge, popcount).
#pragma once

#include <cstddef>
#include <cstdint>

#include <warp/bloom_filter_ref.cuh>
#include <warp/core/config.cuh>
#include <warp/detail/open_addressing/bulk_ops.cuh>

namespace warp::bloom::detail {


template <class Ref, class KeyIt>
struct add_fn : warp::detail::keyed_items<Ref, KeyIt> {
  bool* was_present;  // optional (add_and_test)
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    bool const had = this->engine.add_and_test(tile, this->key(i));
    if (was_present != nullptr && tile.thread_rank() == 0) { was_present[i] = had; }
    return had ? 1u : 0u;
  }
};

template <class Ref, class KeyIt>
struct contains_fn : warp::detail::keyed_items<Ref, KeyIt> {
  bool* out;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    bool const hit = this->engine.template contains<word_reads::read_only>(tile, this->key(i));
    if (tile.thread_rank() == 0) { out[i] = hit; }
    return hit ? 1u : 0u;
  }
};

/// Word-wise merge of another filter's bits (union: or, intersection: and).
struct merge_fn {
  std::uint64_t* target;
  std::uint64_t const* source;
  bool intersect;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    target[i] = intersect ? (target[i] & source[i]) : (target[i] | source[i]);
    return 0;
  }
};

struct popcount_fn {
  std::uint64_t const* words;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
#if WARP_DEVICE_COMPILATION
    return static_cast<std::uint32_t>(__popcll(words[i]));
#else
    return static_cast<std::uint32_t>(__builtin_popcountll(words[i]));
#endif
  }
};

}  // namespace warp::bloom::detail
