// warp/lsh/detail/candidate_kernels.cuh: the per-key and per-bucket functors of find_candidates
// (candidates.cuh): the document of each band key, the pairs each bucket makes (purging hot ones),
// and the insertion of every pair's key into the deduplicating hash set.
#pragma once

#include <cstddef>
#include <cstdint>

#include <warp/core/config.cuh>
#include <warp/core/outcome.cuh>
#include <warp/detail/atomic.cuh>

namespace warp::lsh {

namespace detail {

inline constexpr std::uint64_t pair_key(std::uint32_t a, std::uint32_t b) noexcept {
  return static_cast<std::uint64_t>(a) << 32 | b;
}

/// Pairs a bucket of m documents (b_count of them from table B) makes.
WARP_HD WARP_FORCEINLINE std::uint64_t bucket_pairs(std::uint64_t m, std::uint64_t b_count, bool clean) noexcept {
  return clean ? (m - b_count) * b_count : m * (m - 1) / 2;
}

/// ids[i] = first_id + i / b: the document of band key i.
struct key_owner_fn {
  std::uint32_t first_id;
  std::uint32_t bands;
  std::uint32_t* ids;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    ids[i] = first_id + static_cast<std::uint32_t>(i / bands);
    return 0;
  }
};

/// Documents with id >= split are table B's (clean-clean); split = ~0 in dirty mode.
struct bucket_count_fn {
  std::uint64_t const* offsets;
  std::uint32_t const* ids;
  std::uint32_t split;
  std::uint64_t cap;
  std::uint64_t* pairs;  // per bucket: the pairs it makes, 0 when purged
  unsigned long long* purged;  // [0]: buckets, [1]: pairs
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    std::uint64_t const begin = offsets[i];
    std::uint64_t const m = offsets[i + 1] - begin;
    bool const clean = split != ~0u;
    std::uint64_t b_count = 0;
    if (clean) {
      for (std::uint64_t j = 0; j < m; ++j) { b_count += ids[begin + j] >= split ? 1 : 0; }
    }
    std::uint64_t const p = bucket_pairs(m, b_count, clean);
    if (cap != 0 && m > cap) {
      warp::detail::atomic_add(purged, 1ull);
      warp::detail::atomic_add(purged + 1, static_cast<unsigned long long>(p));
      pairs[i] = 0;
    } else {
      pairs[i] = p;
    }
    return 0;
  }
};

/// Inserts the pair keys of every kept bucket into the set (lanes of a tile share a bucket).
template <class SetRef>
struct bucket_pairs_fn {
  std::uint64_t const* offsets;
  std::uint32_t const* ids;
  std::uint64_t const* pairs;
  std::uint32_t split;
  SetRef set;
  unsigned long long* failed;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    if (pairs[i] == 0) { return 0; }
    std::uint64_t const begin = offsets[i];
    std::uint64_t const m = offsets[i + 1] - begin;
    bool const clean = split != ~0u;
    unsigned long long lost = 0;
    for (std::uint64_t x = tile.thread_rank(); x < m; x += tile.num_threads()) {
      std::uint32_t const u = ids[begin + x];
      for (std::uint64_t y = clean ? 0 : x + 1; y < m; ++y) {
        std::uint32_t const v = ids[begin + y];
        std::uint64_t key;
        if (clean) {
          if (u >= split || v < split) { continue; }  // u from A, v from B
          key = pair_key(u, v - split);
        } else {
          key = u < v ? pair_key(u, v) : pair_key(v, u);
        }
        insert_outcome const r = set.insert(key);
        lost += r == insert_outcome::no_room ? 1 : 0;
      }
    }
    if (lost != 0) { warp::detail::atomic_add(failed, lost); }
    return 0;
  }
};

}  // namespace detail
}  // namespace warp::lsh
