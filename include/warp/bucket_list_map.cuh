// warp/bucket_list_map.cuh: a multi-value hash table for highly skewed multiplicities (a few keys
// with very many values), on the GPU or the host.
//
// Keys live in an open-addressing key table (the shared engine, key-only slots); a key's values
// live in a linked list of buckets that grow geometrically (min_bucket, growth, max_bucket), carved
// out of one value pool. A key with a million values costs a handful of buckets instead of a million
// probed slots, which is where multi_value_map (one slot per value) degrades quadratically.
//
// A bulk insert runs in phases, so that no thread ever waits on another:
//   1. rank:     each pair finds (or creates) its key's slot and takes the next rank of that key
//                (one atomic add on the key's value count);
//   2. plan:     each key computes the buckets its new ranks need; the host grows the pool and the
//                bucket array to fit (so nothing is dropped for lack of space);
//   3. allocate: each key carves the call's new buckets as one contiguous run (one thread per key,
//                no races) and links them newest first;
//   4. write:    each pair stores its value: O(1), since the call's ranks map to that run.
// Lookups (count() and the two-pass retrieve(), shared with multi_value_map) walk a key's buckets.
// freeze() compacts everything into a read-only CSR form (frozen_multimap: key -> row, offsets, one
// value array) for the fastest queries.
//
//   warp::bucket_list_map<std::uint32_t, std::uint32_t> m{warp::sizing{distinct_keys, 0.8}, warp::empty_key{~0u}};
//   m.insert(keys, keys + n, values);
//   auto frozen = m.freeze();
//   frozen.retrieve(queries, queries + q, offsets, out, capacity);
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include <cuda/atomic>
#include <cuda/stream_ref>

#include <warp/core/iterators.cuh>
#include <warp/open_addressing/two_pass.cuh>
#include <warp/single_value_map.cuh>

namespace warp {

/// Bucket growth of a bucket_list_map: a key's first bucket holds min_bucket values, each next one
/// `growth` times the previous (rounded up), at most max_bucket.
struct bucket_options {
  std::uint32_t min_bucket = 4;
  double growth = 2.0;
  std::uint32_t max_bucket = 1u << 16;
};

namespace detail {

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
struct bucket_rank_fn {
  Engine keys_table;
  Lists lists;
  KeyIt keys;
  std::uint64_t* slot_of;
  std::uint64_t* rank_of;
  insert_outcome* outcomes;
  WARP_HD void prefetch(std::size_t i) const { keys_table.prefetch(keys[i]); }
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    auto const key = static_cast<typename Engine::key_type>(keys[i]);
    insert_outcome o = keys_table.upsert(tile, key, no_value{}, keep_existing{});
    std::size_t const slot = (o == insert_outcome::inserted || o == insert_outcome::already_present)
                                 ? keys_table.find_index(tile, key)
                                 : Engine::npos;
    if (tile.thread_rank() == 0) {
      std::uint64_t rank = ~std::uint64_t{0};
      if (slot != Engine::npos) {
        rank = cuda::atomic_ref<unsigned long long, cuda::thread_scope_device>{
            *reinterpret_cast<unsigned long long*>(lists.count + slot)}.fetch_add(1, cuda::std::memory_order_relaxed);
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
    std::uint64_t const b0 = cuda::atomic_ref<unsigned long long, cuda::thread_scope_device>{lists.used[0]}.fetch_add(
        buckets, cuda::std::memory_order_relaxed);
    std::uint64_t const v0 = cuda::atomic_ref<unsigned long long, cuda::thread_scope_device>{lists.used[1]}.fetch_add(
        values, cuda::std::memory_order_relaxed);
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
struct bucket_count_fn {
  Engine keys_table;
  Lists lists;
  KeyIt keys;
  std::uint64_t* counts;
  WARP_HD void prefetch(std::size_t i) const { keys_table.prefetch(keys[i]); }
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    std::size_t const slot = keys_table.template find_index<slot_reads::read_only>(tile, keys[i]);
    if (tile.thread_rank() == 0) { counts[i] = slot == Engine::npos ? 0 : lists.count[slot]; }
    return 0;
  }
};

template <class Engine, class Lists, class KeyIt, class Value>
struct bucket_retrieve_fn {
  Engine keys_table;
  Lists lists;
  KeyIt keys;
  std::uint64_t const* offsets;
  Value* out;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    std::size_t const slot = keys_table.template find_index<slot_reads::read_only>(tile, keys[i]);
    if (slot == Engine::npos || tile.thread_rank() != 0) { return 0; }
    Value* const base = out + offsets[i];
    lists.for_each_value(slot, [base](std::uint64_t rank, Value const& v) { base[rank] = v; });
    return 0;
  }
};

}  // namespace detail

template <class Key, class Value, class Probing = linear_probing<4, 2>>
class frozen_multimap;

/// The non-owning, trivially copyable view of a bucket_list_map for lookups in user kernels (CUDA
/// backend) or host threads: count and retrieve of one key. Inserts are bulk calls (see above).
template <class Key, class Value, class Probing>
class bucket_list_map_ref {
  using engine_type = detail::probing_engine<Key, detail::no_value, Probing>;
  using lists_type = detail::bucket_lists<Value>;

 public:
  static constexpr int tile_size = Probing::tile_size;

  bucket_list_map_ref() = default;
  bucket_list_map_ref(engine_type e, lists_type l) noexcept : keys_{e}, lists_{l} {}

  WARP_HD std::uint64_t count(Key const& k) const noexcept { return count(one_lane_tile{}, k); }
  /// Writes k's values to out[0 .. count(k)); returns how many.
  WARP_HD std::uint64_t retrieve(Key const& k, Value* out) const noexcept { return retrieve(one_lane_tile{}, k, out); }

  template <class Tile>
  WARP_HD std::uint64_t count(Tile const& tile, Key const& k) const noexcept {
    std::size_t const slot = keys_.find_index(tile, k);
    return slot == engine_type::npos ? 0 : lists_.count[slot];
  }
  /// Tile form: every lane passes the same key; lane 0 copies the values.
  template <class Tile>
  WARP_HD std::uint64_t retrieve(Tile const& tile, Key const& k, Value* out) const noexcept {
    std::size_t const slot = keys_.find_index(tile, k);
    if (slot == engine_type::npos) { return 0; }
    if (tile.thread_rank() == 0) {
      lists_.for_each_value(slot, [out](std::uint64_t rank, Value const& v) { out[rank] = v; });
    }
    return lists_.count[slot];
  }

 private:
  engine_type keys_{};
  lists_type lists_{};
};

template <class Key, class Value, class Probing = linear_probing<4, 2>>
class bucket_list_map
    : public detail::two_pass_lookups<bucket_list_map<Key, Value, Probing>, Value, Probing::tile_size> {
  using key_table = single_value_map<Key, detail::no_value, Probing>;
  using engine_type = typename key_table::engine_type;
  using lists_type = detail::bucket_lists<Value>;
  friend class detail::two_pass_lookups<bucket_list_map, Value, Probing::tile_size>;

 public:
  using key_type = Key;
  using mapped_type = Value;
  using hasher = typename key_table::hasher;
  using frozen_type = frozen_multimap<Key, Value, Probing>;
  using ref_type = bucket_list_map_ref<Key, Value, Probing>;
  static constexpr int tile_size = Probing::tile_size;

  /// Room for at least `key_capacity` distinct keys; the value pool grows as needed.
  bucket_list_map(std::size_t key_capacity, empty_key<Key> empty, bucket_options options = {},
                  backend where = default_backend(), cuda::stream_ref stream = default_stream(), hasher h = {})
      : keys_{key_capacity, empty, empty_value<detail::no_value>{{}}, where, stream, h}, options_{checked(options)} {
    allocate_lists(stream);
  }
  bucket_list_map(sizing s, empty_key<Key> empty, bucket_options options = {}, backend where = default_backend(),
                  cuda::stream_ref stream = default_stream(), hasher h = {})
      : keys_{s, empty, empty_value<detail::no_value>{{}}, where, stream, h}, options_{checked(options)} {
    allocate_lists(stream);
  }

  /// Adds every pair. Returns how many were stored; a pair whose key finds no room in the key
  /// table (or is a sentinel) is reported in `outcomes` and status() and not stored.
  template <class KeyIt, class ValueIt>
  std::size_t insert(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                     cuda::stream_ref stream = default_stream()) {
    std::size_t const n = detail::checked_distance(first, last);
    if (n == 0) { return 0; }
    detail::executor const ex{where(), stream};
    auto keys = detail::make_input(where(), first, n, "insert: keys", stream);
    auto vals = detail::make_input(where(), values, n, "insert: values", stream);
    detail::output_view<insert_outcome> out{where(), outcomes, outcomes ? n : 0, "insert: outcomes", stream};
    detail::buffer<std::uint64_t> slot_of{where(), n, stream}, rank_of{where(), n, stream};
    std::uint64_t const stored = detail::count_items<tile_size>(
        ex, n, detail::bucket_rank_fn<engine_type, lists_type, decltype(keys.get())>{
                   engine(), lists(), keys.get(), slot_of.data(), rank_of.data(), outcomes ? out.get() : nullptr});
    // Grow the pool and the bucket array to what the new ranks need, then carve and write.
    std::uint64_t const need_values =
        detail::count_items<1>(ex, capacity(), detail::bucket_plan_fn<lists_type>{lists(), 0});
    std::uint64_t const need_buckets =
        detail::count_items<1>(ex, capacity(), detail::bucket_plan_fn<lists_type>{lists(), 1});
    auto const carved = used();
    reserve(carved[0] + need_buckets, carved[1] + need_values, stream);
    detail::buffer<std::uint64_t> start_rank{where(), capacity(), stream}, start_offset{where(), capacity(), stream},
        old_head{where(), capacity(), stream};
    detail::call_placement const place{start_rank.data(), start_offset.data(), old_head.data()};
    detail::for_each_item<1>(ex, capacity(), detail::bucket_allocate_fn<lists_type>{lists(), place});
    detail::for_each_item<1>(ex, n, detail::bucket_write_fn<lists_type, decltype(vals.get())>{
                                         lists(), place, vals.get(), slot_of.data(), rank_of.data()});
    out.finish(stream);
    detail::synchronize(where(), stream);
    values_ += stored;
    return static_cast<std::size_t>(stored);
  }

  /// Compacts into the read-only CSR form. This map is unchanged.
  [[nodiscard]] frozen_type freeze(cuda::stream_ref stream = default_stream()) const;

  /// Number of stored values, and of distinct keys.
  [[nodiscard]] std::uint64_t size() const noexcept { return values_; }
  [[nodiscard]] std::size_t num_keys(cuda::stream_ref stream = default_stream()) const { return keys_.size(stream); }
  /// The distinct keys (in no particular order); `out` must hold num_keys() entries.
  std::size_t retrieve_keys(Key* out, cuda::stream_ref stream = default_stream()) const {
    return keys_.retrieve_all(out, nullptr, stream);
  }
  void clear(cuda::stream_ref stream = default_stream()) {
    keys_.clear(stream);
    allocate_lists(stream);
  }
  [[nodiscard]] table_status status(cuda::stream_ref stream = default_stream()) const { return keys_.status(stream); }
  [[nodiscard]] std::size_t capacity() const noexcept { return keys_.capacity(); }
  [[nodiscard]] std::uint64_t pool_capacity() const noexcept { return pool_capacity_; }
  [[nodiscard]] std::size_t memory_footprint() const noexcept {
    return keys_.memory_footprint() + capacity() * 3 * sizeof(std::uint64_t) +
           bucket_capacity_ * sizeof(detail::value_bucket) + pool_capacity_ * sizeof(Value);
  }
  [[nodiscard]] backend where() const noexcept { return keys_.where(); }
  [[nodiscard]] bucket_options options() const noexcept { return options_; }

  /// Lookup view for user code. Valid until the next insert (which may move the pool).
  [[nodiscard]] ref_type ref() const noexcept { return ref_type{engine(), lists()}; }

 private:
  static bucket_options checked(bucket_options o) {
    if (o.min_bucket == 0) { throw invalid_argument("bucket_options: min_bucket must be at least 1, got 0"); }
    if (o.max_bucket < o.min_bucket) {
      throw invalid_argument("bucket_options: max_bucket " + std::to_string(o.max_bucket) + " is below min_bucket " +
                             std::to_string(o.min_bucket));
    }
    if (!(o.growth >= 1.0 && o.growth <= 64.0)) {
      throw invalid_argument("bucket_options: growth must be in [1, 64], got " + std::to_string(o.growth));
    }
    return o;
  }

  engine_type engine() const noexcept { return keys_.ref().engine(); }
  lists_type lists() const noexcept {
    return lists_type{count_.data(), allocated_.data(), head_.data(), buckets_.data(), pool_.data(),
                      used_.data(), options_.min_bucket, options_.max_bucket, options_.growth};
  }
  auto counter() const {
    return [e = engine(), l = lists()](auto keys, std::uint64_t* counts) {
      return detail::bucket_count_fn<engine_type, lists_type, decltype(keys)>{e, l, keys, counts};
    };
  }
  auto writer() const {
    return [e = engine(), l = lists()](auto keys, std::uint64_t const* offsets, Value* out) {
      return detail::bucket_retrieve_fn<engine_type, lists_type, decltype(keys), Value>{e, l, keys, offsets, out};
    };
  }
  /// Buckets and pool values carved so far (one copy from the backend).
  std::array<unsigned long long, 2> used() const {
    std::array<unsigned long long, 2> u{};
    detail::copy_bytes(where(), u.data(), used_.data(), sizeof(u), default_stream());
    detail::synchronize(where(), default_stream());
    return u;
  }

  void allocate_lists(cuda::stream_ref stream) {
    std::size_t const slots = capacity();
    count_ = detail::buffer<std::uint64_t>{where(), slots, stream};
    allocated_ = detail::buffer<std::uint64_t>{where(), slots, stream};
    head_ = detail::buffer<std::uint64_t>{where(), slots, stream};
    used_ = detail::buffer<unsigned long long>{where(), 2, stream};
    for (auto* b : {&count_, &allocated_, &head_}) { detail::fill_zero(where(), b->data(), slots * sizeof(std::uint64_t), stream); }
    detail::fill_zero(where(), used_.data(), 2 * sizeof(unsigned long long), stream);
    buckets_ = detail::buffer<detail::value_bucket>{};
    pool_ = detail::buffer<Value>{};
    bucket_capacity_ = pool_capacity_ = 0;
    values_ = 0;
    detail::synchronize(where(), stream);
  }

  /// Grows the bucket array and the pool (doubling, keeping what is there) to the given sizes.
  void reserve(std::uint64_t buckets, std::uint64_t values, cuda::stream_ref stream) {
    if (buckets > bucket_capacity_) {
      std::uint64_t const grown = std::max<std::uint64_t>(buckets, 2 * bucket_capacity_);
      detail::buffer<detail::value_bucket> next{where(), static_cast<std::size_t>(grown), stream};
      if (bucket_capacity_ != 0) {
        detail::copy_bytes(where(), next.data(), buckets_.data(), bucket_capacity_ * sizeof(detail::value_bucket), stream);
      }
      buckets_ = std::move(next);
      bucket_capacity_ = grown;
    }
    if (values > pool_capacity_) {
      std::uint64_t const grown = std::max<std::uint64_t>(values, 2 * pool_capacity_);
      detail::buffer<Value> next{where(), static_cast<std::size_t>(grown), stream};
      if (pool_capacity_ != 0) { detail::copy_bytes(where(), next.data(), pool_.data(), pool_capacity_ * sizeof(Value), stream); }
      pool_ = std::move(next);
      pool_capacity_ = grown;
    }
  }

  template <class K, class V, class P>
  friend class frozen_multimap;

  key_table keys_;
  bucket_options options_;
  detail::buffer<std::uint64_t> count_{}, allocated_{}, head_{};
  detail::buffer<unsigned long long> used_{};
  detail::buffer<detail::value_bucket> buckets_{};
  detail::buffer<Value> pool_{};
  std::uint64_t bucket_capacity_ = 0, pool_capacity_ = 0, values_ = 0;
};

namespace detail {

template <class Engine, class KeyIt>
struct frozen_count_fn {
  Engine rows;
  KeyIt keys;
  std::uint64_t const* row_offsets;
  std::uint64_t* counts;
  WARP_HD void prefetch(std::size_t i) const { rows.prefetch(keys[i]); }
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    auto const r = rows.template find<slot_reads::read_only>(tile, keys[i]);
    if (tile.thread_rank() == 0) { counts[i] = r.found ? row_offsets[r.value + 1] - row_offsets[r.value] : 0; }
    return 0;
  }
};

template <class Engine, class KeyIt, class Value>
struct frozen_retrieve_fn {
  Engine rows;
  KeyIt keys;
  std::uint64_t const* row_offsets;
  Value const* row_values;
  std::uint64_t const* offsets;
  Value* out;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    auto const r = rows.template find<slot_reads::read_only>(tile, keys[i]);
    if (!r.found) { return 0; }
    // The tile's lanes copy the row together.
    std::uint64_t const begin = row_offsets[r.value], end = row_offsets[r.value + 1];
    for (std::uint64_t j = begin + tile.thread_rank(); j < end; j += Tile::num_threads()) {
      out[offsets[i] + (j - begin)] = row_values[j];
    }
    return 0;
  }
};

}  // namespace detail

/// The read-only CSR form of a bucket_list_map: key -> row (a single_value_map), row offsets, and
/// all values in one array (row r's values are values[offsets[r] .. offsets[r + 1])).
template <class Key, class Value, class Probing>
class frozen_multimap
    : public detail::two_pass_lookups<frozen_multimap<Key, Value, Probing>, Value, Probing::tile_size> {
  using row_table = single_value_map<Key, std::uint64_t, Probing>;
  using engine_type = typename row_table::engine_type;
  friend class detail::two_pass_lookups<frozen_multimap, Value, Probing::tile_size>;

 public:
  static constexpr int tile_size = Probing::tile_size;

  [[nodiscard]] std::size_t num_keys() const noexcept { return num_rows_; }
  [[nodiscard]] std::uint64_t size() const noexcept { return num_values_; }
  [[nodiscard]] backend where() const noexcept { return rows_.where(); }
  /// The CSR arrays, in the backend's memory: num_keys() + 1 offsets and size() values.
  [[nodiscard]] std::uint64_t const* row_offsets() const noexcept { return row_offsets_.data(); }
  [[nodiscard]] Value const* values() const noexcept { return values_.data(); }
  [[nodiscard]] std::size_t memory_footprint() const noexcept {
    return rows_.memory_footprint() + (num_rows_ + 1) * sizeof(std::uint64_t) + num_values_ * sizeof(Value);
  }

 private:
  friend class bucket_list_map<Key, Value, Probing>;

  frozen_multimap(bucket_list_map<Key, Value, Probing> const& source, cuda::stream_ref stream)
      : rows_{source.num_keys(stream) * 10 / 7 + 8, empty_key<Key>{source.keys_.empty_key_sentinel()},
              empty_value<std::uint64_t>{~std::uint64_t{0}}, source.where(), stream, source.keys_.ref().engine().hash_function()},
        row_offsets_{source.where(), source.num_keys(stream) + 1, stream},
        values_{source.where(), static_cast<std::size_t>(std::max<std::uint64_t>(source.size(), 1)), stream},
        num_rows_{source.num_keys(stream)},
        num_values_{source.size()} {
    backend const b = source.where();
    detail::buffer<Key> keys{b, std::max<std::size_t>(num_rows_, 1), stream};
    source.retrieve_keys(keys.data(), stream);
    rows_.insert(keys.data(), keys.data() + num_rows_, detail::counting_iterator<std::uint64_t>{0}, nullptr, stream);
    (void)source.retrieve(keys.data(), keys.data() + num_rows_, row_offsets_.data(), values_.data(), num_values_, stream);
  }

  engine_type engine() const noexcept { return rows_.ref().engine(); }
  auto counter() const {
    return [e = engine(), ro = row_offsets_.data()](auto keys, std::uint64_t* counts) {
      return detail::frozen_count_fn<engine_type, decltype(keys)>{e, keys, ro, counts};
    };
  }
  auto writer() const {
    return [e = engine(), ro = row_offsets_.data(), rv = values_.data()](auto keys, std::uint64_t const* offsets, Value* out) {
      return detail::frozen_retrieve_fn<engine_type, decltype(keys), Value>{e, keys, ro, rv, offsets, out};
    };
  }

  row_table rows_;
  detail::buffer<std::uint64_t> row_offsets_;
  detail::buffer<Value> values_;
  std::size_t num_rows_;
  std::uint64_t num_values_;
};

template <class Key, class Value, class Probing>
frozen_multimap<Key, Value, Probing> bucket_list_map<Key, Value, Probing>::freeze(cuda::stream_ref stream) const {
  return frozen_type{*this, stream};
}

}  // namespace warp
