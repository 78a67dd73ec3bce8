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
// freeze() compacts everything into a read-only CSR form (frozen_multimap.cuh: key -> row, offsets, one
// value array) for the fastest queries.
//
//   warp::bucket_list_map<std::uint32_t, std::uint32_t> m{warp::sizing{distinct_keys, 0.8}, warp::empty_key{~0u}};
//   m.insert(keys, keys + n, values);
//   auto frozen = m.freeze();
//   frozen.retrieve(queries, queries + q, offsets, out, capacity);
//
// Synchronisation: insert and insert_async both wait once, after phase 1, to learn how much the
// pool must grow; insert also waits for the end, insert_async leaves phases 2-4 enqueued.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include <cuda/stream_ref>

#include <warp/bucket_list_map_ref.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/core/sentinels.cuh>
#include <warp/detail/bucket_list_map/phases.cuh>
#include <warp/detail/bulk/two_pass.cuh>
#include <warp/detail/open_addressing/table.cuh>
#include <warp/detail/open_addressing/table_members.cuh>
#include <warp/frozen_multimap.cuh>
#include <warp/probing.cuh>

namespace warp {

/// Bucket growth of a bucket_list_map: a key's first bucket holds min_bucket values, each next one
/// `growth` times the previous (rounded up), at most max_bucket.
struct bucket_options {
  std::uint32_t min_bucket = 4;
  double growth = 2.0;
  std::uint32_t max_bucket = 1u << 16;
};

template <class Key, class Value, class Probing = linear_probing<4, 2>>
class bucket_list_map
    : public detail::table_members<bucket_list_map<Key, Value, Probing>>,
      public detail::two_pass_lookups<bucket_list_map<Key, Value, Probing>, Key, Value, Probing::tile_size> {
  using table_type = detail::open_addressing_table<Key, detail::no_value, Probing>;
  using engine_type = typename table_type::engine_type;
  using lists_type = detail::bucket_lists<Value>;
  friend struct detail::table_access;
  friend class detail::two_pass_lookups<bucket_list_map, Key, Value, Probing::tile_size>;

 public:
  using key_type = Key;
  using mapped_type = Value;
  using probing_scheme = Probing;
  using hasher = typename table_type::hasher;
  using frozen_type = frozen_multimap<Key, Value, Probing>;
  using ref_type = bucket_list_map_ref<Key, Value, Probing>;
  static constexpr int tile_size = Probing::tile_size;

  /// Room for at least `key_capacity` distinct keys; the value pool grows as needed.
  bucket_list_map(std::size_t key_capacity, empty_key<Key> empty, bucket_options options = {},
                  backend where = default_backend(), cuda::stream_ref stream = default_stream(), hasher h = {},
                  memory_resource* memory = nullptr)
      : table_{key_capacity, empty.value, {}, empty.value, false, where, stream, h, memory}, options_{checked(options)} {
    allocate_lists(stream);
  }
  bucket_list_map(sizing s, empty_key<Key> empty, bucket_options options = {}, backend where = default_backend(),
                  cuda::stream_ref stream = default_stream(), hasher h = {}, memory_resource* memory = nullptr)
      : bucket_list_map(detail::capacity_for(s), empty, options, where, stream, h, memory) {}

  /// Adds every pair. Returns how many were stored; a pair whose key finds no room in the key
  /// table (or is a sentinel) is reported in `outcomes` and status() and not stored.
  template <class KeyIt, class ValueIt>
  std::size_t insert(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                     cuda::stream_ref stream = default_stream()) {
    auto const scope = table_.activate();
    std::size_t const stored = add(first, last, values, outcomes, stream, {});
    detail::synchronize(this->where(), stream);
    return stored;
  }
  /// Waits once (after ranking, to grow the pool), then enqueues the rest; `inserted` (optional,
  /// host or device memory) receives the number of stored pairs, stream-ordered.
  template <class KeyIt, class ValueIt>
  void insert_async(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                    cuda::stream_ref stream = default_stream(), std::uint64_t* inserted = nullptr) {
    auto const scope = table_.activate();
    (void)add(first, last, values, outcomes, stream, detail::count_sink{inserted});
  }

  /// Compacts into the read-only CSR form. This map is unchanged.
  [[nodiscard]] frozen_type freeze(cuda::stream_ref stream = default_stream()) const {
    auto const scope = table_.activate();
    std::size_t const keys = num_keys(stream);
    detail::buffer<Key> distinct{this->where(), std::max<std::size_t>(keys, 1), stream, table_.memory()};
    (void)table_.retrieve_if("freeze", detail::keep_all{}, distinct.data(), nullptr, keys, stream);
    detail::buffer<std::uint64_t> offsets{this->where(), keys + 1, stream, table_.memory()};
    detail::buffer<Value> all{this->where(), static_cast<std::size_t>(std::max<std::uint64_t>(values_, 1)), stream,
                              table_.memory()};
    (void)this->retrieve(distinct.data(), distinct.data() + keys, offsets.data(), all.data(), values_, stream);
    return frozen_type{table_.engine().empty_key(), table_.engine().hash_function(), this->where(), stream, table_.memory(),
                       distinct, keys, std::move(offsets), std::move(all), values_};
  }

  /// Number of stored values, and of distinct keys.
  [[nodiscard]] std::uint64_t size() const noexcept { return values_; }
  /// size(), written to `out` (host or device memory), stream-ordered.
  void size_async(std::uint64_t* out, cuda::stream_ref stream = default_stream()) const {
    auto const scope = table_.activate();
    detail::output_view<std::uint64_t> sink{this->where(), out, 1, "size output", stream, table_.memory()};
    // A copy from pageable host memory is staged before cudaMemcpyAsync returns, so the host
    // count may change afterwards without a synchronisation.
    detail::copy_bytes(this->where(), sink.get(), &values_, sizeof(values_), stream);
    sink.finish(stream);
  }
  [[nodiscard]] bool empty() const noexcept { return values_ == 0; }
  [[nodiscard]] std::size_t num_keys(cuda::stream_ref stream = default_stream()) const {
    auto const scope = table_.activate();
    return table_.size(stream);
  }
  /// The distinct keys (in no particular order); `out` holds `capacity` entries (checked first).
  std::size_t retrieve_keys(Key* out, std::size_t capacity, cuda::stream_ref stream = default_stream()) const {
    auto const scope = table_.activate();
    return table_.retrieve_if("retrieve_keys", detail::keep_all{}, out, nullptr, capacity, stream);
  }
  /// Unchecked form: `out` must hold num_keys() entries.
  std::size_t retrieve_keys(Key* out, cuda::stream_ref stream = default_stream()) const {
    return retrieve_keys(out, ~std::size_t{0}, stream);
  }

  /// Removes every key and value and resets the status; clear waits, clear_async only enqueues
  /// (the per-key arrays are allocated anew, stream-ordered).
  void clear(cuda::stream_ref stream = default_stream()) {
    clear_async(stream);
    detail::synchronize(this->where(), stream);
  }
  void clear_async(cuda::stream_ref stream = default_stream()) {
    auto const scope = table_.activate();
    table_.clear_async(stream);
    allocate_lists(stream, false);
  }

  /// Moves the keys into a key table of at least `new_capacity` slots; their values stay where
  /// they are. Throws, keeping the map, when the keys do not fit.
  void rehash(std::size_t new_capacity, cuda::stream_ref stream = default_stream()) {
    auto const scope = table_.activate();
    std::size_t const keys = table_.size(stream);
    if (new_capacity < keys) {
      throw invalid_argument("rehash: new capacity " + std::to_string(new_capacity) + " is below the " +
                             std::to_string(keys) + " keys stored");
    }
    std::size_t const slots = Probing::valid_num_windows((new_capacity + Probing::window_size - 1) / Probing::window_size) *
                              Probing::window_size;
    per_key next = make_per_key(slots, stream);
    table_.rehash(new_capacity, detail::merge_duplicates{}, stream,
                  detail::bucket_lists_move{count_.data(), allocated_.data(), head_.data(), next.count.data(),
                                            next.allocated.data(), next.head.data()});
    count_ = std::move(next.count);
    allocated_ = std::move(next.allocated);
    head_ = std::move(next.head);
  }
  void rehash(cuda::stream_ref stream = default_stream()) { rehash(this->capacity(), stream); }

  [[nodiscard]] std::uint64_t pool_capacity() const noexcept { return pool_capacity_; }
  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    return table_.memory_bytes() + this->capacity() * 3 * sizeof(std::uint64_t) +
           bucket_capacity_ * sizeof(detail::value_bucket) + pool_capacity_ * sizeof(Value);
  }
  [[nodiscard]] bucket_options options() const noexcept { return options_; }
  [[nodiscard]] Key empty_key_sentinel() const noexcept { return table_.engine().empty_key(); }

  /// Lookup view for user code. Valid until the next insert or rehash.
  [[nodiscard]] ref_type ref() const noexcept { return ref_type{table_.engine(), lists()}; }

 private:
  struct per_key {
    detail::buffer<std::uint64_t> count, allocated, head;
  };

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

  template <class KeyIt, class ValueIt>
  std::size_t add(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes, cuda::stream_ref stream,
                  detail::count_sink sink) {
    std::size_t const n = detail::checked_distance(first, last);
    detail::executor const ex = table_.on(stream);
    use_on(stream);
    if (n == 0) {
      detail::write_zero_count(ex, sink);
      return 0;
    }
    auto keys = detail::make_input(ex, first, n, "insert: keys");
    auto vals = detail::make_input(ex, values, n, "insert: values");
    detail::output_view<insert_outcome> out{this->where(), outcomes, outcomes ? n : 0, "insert: outcomes", stream,
                                            table_.memory()};
    detail::buffer<std::uint64_t> slot_of{this->where(), n, stream, table_.memory()}, rank_of{this->where(), n, stream,
                                                                                              table_.memory()};
    std::uint64_t const stored = detail::count_items<tile_size>(
        ex, n, detail::bucket_rank_fn<engine_type, lists_type, decltype(keys.get())>{
                   {table_.engine(), keys.get()}, lists(), slot_of.data(), rank_of.data(), outcomes ? out.get() : nullptr});
    // Grow the pool and the bucket array to what the new ranks need, then carve and write.
    std::uint64_t const need_values =
        detail::count_items<1>(ex, this->capacity(), detail::bucket_plan_fn<lists_type>{lists(), 0});
    std::uint64_t const need_buckets =
        detail::count_items<1>(ex, this->capacity(), detail::bucket_plan_fn<lists_type>{lists(), 1});
    auto const carved = used(stream);
    reserve(carved[0] + need_buckets, carved[1] + need_values, stream);
    detail::buffer<std::uint64_t> start_rank{this->where(), this->capacity(), stream, table_.memory()},
        start_offset{this->where(), this->capacity(), stream, table_.memory()},
        old_head{this->where(), this->capacity(), stream, table_.memory()};
    detail::call_placement const place{start_rank.data(), start_offset.data(), old_head.data()};
    detail::for_each_item<1>(ex, this->capacity(), detail::bucket_allocate_fn<lists_type>{lists(), place});
    auto write = [&] {
      return detail::bucket_write_fn<lists_type, decltype(vals.get())>{lists(), place, vals.get(), slot_of.data(),
                                                                       rank_of.data()};
    };
    (void)detail::run_items<1>(ex, n, detail::completion::enqueue, write, sink);
    out.finish(stream);
    values_ += stored;
    return static_cast<std::size_t>(stored);
  }

  lists_type lists() const noexcept {
    return lists_type{count_.data(), allocated_.data(), head_.data(), buckets_.data(), pool_.data(),
                      used_.data(), options_.min_bucket, options_.max_bucket, options_.growth};
  }
  void use_on(cuda::stream_ref stream) {
    for (auto* b : {&count_, &allocated_, &head_}) { b->use_on(stream); }
    used_.use_on(stream);
    buckets_.use_on(stream);
    pool_.use_on(stream);
  }
  detail::device_scope lookup_scope() const { return table_.activate(); }
  detail::executor lookup_executor(cuda::stream_ref stream) const { return table_.on(stream); }
  auto counter() const {
    return [e = table_.engine(), l = lists()](auto keys, std::uint64_t* counts) {
      return detail::bucket_count_fn<engine_type, lists_type, decltype(keys)>{{e, keys}, l, counts};
    };
  }
  auto writer() const {
    return [e = table_.engine(), l = lists()](auto keys, std::uint64_t const* offsets, Value* out) {
      return detail::bucket_retrieve_fn<engine_type, lists_type, decltype(keys), Value>{{e, keys}, l, offsets, out};
    };
  }
  /// Buckets and pool values carved so far (one copy from the backend).
  std::array<unsigned long long, 2> used(cuda::stream_ref stream) const {
    std::array<unsigned long long, 2> u{};
    detail::copy_bytes(this->where(), u.data(), used_.data(), sizeof(u), stream);
    detail::synchronize(this->where(), stream);
    return u;
  }

  per_key make_per_key(std::size_t slots, cuda::stream_ref stream) const {
    per_key k{detail::buffer<std::uint64_t>{this->where(), slots, stream, table_.memory()},
              detail::buffer<std::uint64_t>{this->where(), slots, stream, table_.memory()},
              detail::buffer<std::uint64_t>{this->where(), slots, stream, table_.memory()}};
    for (auto* b : {&k.count, &k.allocated, &k.head}) {
      detail::fill_zero(this->where(), b->data(), slots * sizeof(std::uint64_t), stream);
    }
    return k;
  }

  void allocate_lists(cuda::stream_ref stream, bool wait = true) {
    per_key k = make_per_key(this->capacity(), stream);
    count_ = std::move(k.count);
    allocated_ = std::move(k.allocated);
    head_ = std::move(k.head);
    used_ = detail::buffer<unsigned long long>{this->where(), 2, stream, table_.memory()};
    detail::fill_zero(this->where(), used_.data(), 2 * sizeof(unsigned long long), stream);
    buckets_ = detail::buffer<detail::value_bucket>{};
    pool_ = detail::buffer<Value>{};
    bucket_capacity_ = pool_capacity_ = 0;
    values_ = 0;
    if (wait) { detail::synchronize(this->where(), stream); }
  }

  /// Grows the bucket array and the pool (doubling, keeping what is there) to the given sizes.
  void reserve(std::uint64_t buckets, std::uint64_t values, cuda::stream_ref stream) {
    if (buckets > bucket_capacity_) {
      std::uint64_t const grown = std::max<std::uint64_t>(buckets, 2 * bucket_capacity_);
      detail::buffer<detail::value_bucket> next{this->where(), static_cast<std::size_t>(grown), stream, table_.memory()};
      detail::copy_bytes(this->where(), next.data(), buckets_.data(), bucket_capacity_ * sizeof(detail::value_bucket),
                         stream);
      buckets_ = std::move(next);
      bucket_capacity_ = grown;
    }
    if (values > pool_capacity_) {
      std::uint64_t const grown = std::max<std::uint64_t>(values, 2 * pool_capacity_);
      detail::buffer<Value> next{this->where(), static_cast<std::size_t>(grown), stream, table_.memory()};
      detail::copy_bytes(this->where(), next.data(), pool_.data(), pool_capacity_ * sizeof(Value), stream);
      pool_ = std::move(next);
      pool_capacity_ = grown;
    }
  }

  table_type table_;
  bucket_options options_;
  detail::buffer<std::uint64_t> count_{}, allocated_{}, head_{};
  detail::buffer<unsigned long long> used_{};
  detail::buffer<detail::value_bucket> buckets_{};
  detail::buffer<Value> pool_{};
  std::uint64_t bucket_capacity_ = 0, pool_capacity_ = 0, values_ = 0;
};

}  // namespace warp
