// warp/detail/bucket_list_map/phases.cuh: the per-key value lists of bucket_list_map and the
// per-item functors of its phased insert (rank, plan, allocate, write) and of its lookups. See
// bucket_list_map.cuh for the algorithm.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include <warp/core/config.cuh>
#include <warp/core/outcome.cuh>
#include <warp/detail/atomic.cuh>
#include <warp/detail/open_addressing/bulk_ops.cuh>
#include <warp/detail/open_addressing/engine.cuh>
#include <warp/detail/open_addressing/slot.cuh>

namespace warp::detail {


struct value_bucket {
  std::uint64_t values_offset;  // first value in the pool
  std::uint64_t first_rank;     // rank of the key's value stored first in this bucket
  std::uint64_t next;           // index + 1 of the key's previous (older) bucket; 0: none
  std::uint64_t size;           // values it holds
};

/// The per-key state, in arrays parallel to the key table's slots.
template <class Value>
struct bucket_lists {
  std::uint64_t* count;      // values of the key (ranks handed out)
  std::uint64_t* allocated;  // values its buckets can hold
  std::uint64_t* head;       // index + 1 of its newest bucket; 0: none
  value_bucket* buckets;
  Value* pool;
  unsigned long long* used;  // [0]: buckets carved, [1]: pool values carved
  std::uint64_t min_bucket, max_bucket;
  double growth;

  WARP_HD std::uint64_t next_size(std::uint64_t previous) const noexcept {
    if (previous == 0) { return min_bucket; }
    double const grown = std::ceil(static_cast<double>(previous) * growth);
    std::uint64_t const s = grown >= static_cast<double>(max_bucket) ? max_bucket : static_cast<std::uint64_t>(grown);
    return s < previous ? previous : s;
  }
  WARP_HD std::uint64_t last_size(std::size_t slot) const noexcept { return head[slot] ? buckets[head[slot] - 1].size : 0; }

  /// Calls f(value) for each of the slot's values, in rank order within each bucket.
  template <class F>
  WARP_HD void for_each_value(std::size_t slot, F&& f) const {
    std::uint64_t const n = count[slot];
    for (std::uint64_t b = head[slot]; b != 0; b = buckets[b - 1].next) {
      value_bucket const& bucket = buckets[b - 1];
      std::uint64_t const stored = n - bucket.first_rank < bucket.size ? n - bucket.first_rank : bucket.size;
      for (std::uint64_t j = 0; j < stored; ++j) { f(bucket.first_rank + j, pool[bucket.values_offset + j]); }
    }
  }
};

// Phase 1: the key's slot and the pair's rank (rank ~0: the pair was not stored).
template <class Engine, class Lists, class KeyIt>
struct bucket_rank_fn : keyed_items<Engine, KeyIt> {
  Lists lists;
  std::uint64_t* slot_of;
  std::uint64_t* rank_of;
  insert_outcome* outcomes;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    auto const key = this->key(i);
    insert_outcome o = this->engine.upsert(tile, key, no_value{}, keep_existing{});
    std::size_t const slot = (o == insert_outcome::inserted || o == insert_outcome::already_present)
                                 ? this->engine.find_index(tile, key)
                                 : Engine::npos;
    if (tile.thread_rank() == 0) {
      std::uint64_t rank = ~std::uint64_t{0};
      if (slot != Engine::npos) {
        rank = atomic_add(lists.count + slot, std::uint64_t{1});
        o = insert_outcome::inserted;  // the pair was stored (a new key or not)
      }
      slot_of[i] = slot;
      rank_of[i] = rank;
      if (outcomes != nullptr) { outcomes[i] = o; }
    }
    return slot != Engine::npos ? 1u : 0u;
  }
};

// Phase 2: what each key's new buckets need (what = 0: values, 1: buckets).
template <class Lists>
struct bucket_plan_fn {
  Lists lists;
  int what;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t slot) const {
    std::uint64_t values = 0, count = 0, have = lists.allocated[slot], last = lists.last_size(slot);
    while (have < lists.count[slot]) {
      last = lists.next_size(last);
      have += last;
      values += last;
      ++count;
    }
    return static_cast<std::uint32_t>(what == 0 ? values : count);
  }
};

/// Where a key's values from the current insert call go: ranks below `start_rank` fill the
/// key's newest bucket from before the call (`old_head`); ranks from `start_rank` on go to one
/// contiguous pool range starting at `start_offset` (the call's new buckets are carved together).
struct call_placement {
  std::uint64_t* start_rank;
  std::uint64_t* start_offset;
  std::uint64_t* old_head;
};

// Phase 3: carve the key's new buckets as one contiguous run of the bucket array and of the pool
// (one thread per key, one atomic add on each counter), and link them newest first.
template <class Lists>
struct bucket_allocate_fn {
  Lists lists;
  call_placement place;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t slot) const {
    std::uint64_t const before = lists.allocated[slot];
    place.start_rank[slot] = before;
    place.old_head[slot] = lists.head[slot];
    if (before >= lists.count[slot]) { return 0; }
    std::uint64_t buckets = 0, values = 0, have = before, last = lists.last_size(slot);
    while (have < lists.count[slot]) {
      last = lists.next_size(last);
      have += last;
      values += last;
      ++buckets;
    }
    std::uint64_t const b0 = atomic_add(lists.used + 0, static_cast<unsigned long long>(buckets));
    std::uint64_t const v0 = atomic_add(lists.used + 1, static_cast<unsigned long long>(values));
    place.start_offset[slot] = v0;
    last = lists.last_size(slot);
    std::uint64_t offset = v0, rank = before, next = lists.head[slot];
    for (std::uint64_t j = 0; j < buckets; ++j) {
      last = lists.next_size(last);
      lists.buckets[b0 + j] = value_bucket{offset, rank, next, last};
      next = b0 + j + 1;
      offset += last;
      rank += last;
    }
    lists.head[slot] = next;
    lists.allocated[slot] = have;
    return 0;
  }
};

// Phase 4: store each pair's value (O(1): see call_placement).
template <class Lists, class ValueIt>
struct bucket_write_fn {
  Lists lists;
  call_placement place;
  ValueIt values;
  std::uint64_t const* slot_of;
  std::uint64_t const* rank_of;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    std::uint64_t const rank = rank_of[i];
    if (rank == ~std::uint64_t{0}) { return 0; }
    std::uint64_t const slot = slot_of[i];
    std::uint64_t const start = place.start_rank[slot];
    std::uint64_t position;
    if (rank >= start) {
      position = place.start_offset[slot] + (rank - start);
    } else {
      value_bucket const& old = lists.buckets[place.old_head[slot] - 1];
      position = old.values_offset + (rank - old.first_rank);
    }
    lists.pool[position] = values[i];
    return 1;
  }
};

template <class Engine, class Lists, class KeyIt>
struct bucket_count_fn : keyed_items<Engine, KeyIt> {
  Lists lists;
  std::uint64_t* counts;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    std::size_t const slot = this->engine.template find_index<slot_reads::read_only>(tile, this->key(i));
    if (tile.thread_rank() == 0) { counts[i] = slot == Engine::npos ? 0 : lists.count[slot]; }
    return 0;
  }
};

template <class Engine, class Lists, class KeyIt, class Value>
struct bucket_retrieve_fn : keyed_items<Engine, KeyIt> {
  Lists lists;
  std::uint64_t const* offsets;
  Value* out;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    std::size_t const slot = this->engine.template find_index<slot_reads::read_only>(tile, this->key(i));
    if (slot == Engine::npos || tile.thread_rank() != 0) { return 0; }
    Value* const base = out + offsets[i];
    lists.for_each_value(slot, [base](std::uint64_t rank, Value const& v) { base[rank] = v; });
    return 0;
  }
};


/// Rehash of the key table: key slot `from` moved to slot `to`; its list state follows.
struct bucket_lists_move {
  static constexpr bool tracks = true;
  std::uint64_t const *count, *allocated, *head;
  std::uint64_t *new_count, *new_allocated, *new_head;
  WARP_HD void operator()(std::size_t from, std::size_t to) const noexcept {
    new_count[to] = count[from];
    new_allocated[to] = allocated[from];
    new_head[to] = head[from];
  }
};

}  // namespace warp::detail
