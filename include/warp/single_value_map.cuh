// warp/single_value_map.cuh: an owning hash map from Key to one Value, on the GPU or the host.
//
// Open addressing over windows of slots (see open_addressing/probing.cuh), keys and values of 4
// or 8 bytes (keys also 16), compared bitwise. Bulk operations take host or device arrays (or
// device-accessible iterators on the CUDA backend) and have stream-ordered `_async` twins that do
// not synchronise (their count, when asked for, is written to caller memory); `ref()` gives a
// lookup-only view for user kernels and `mutable_ref()` one that also inserts and erases.
//
//   warp::single_value_map<std::uint32_t, std::uint32_t> map{
//       warp::sizing{n, 0.5}, warp::empty_key{~0u}, warp::empty_value{0u}, warp::erased_key{~0u - 1}};
//   std::size_t added = map.insert(keys, keys + n, values);     // host or device arrays
//   map.find(keys, keys + n, found);                            // empty_value where absent
//   map.insert_or_apply(keys, keys + n, ones, warp::op::plus{});
//
// Errors: misuse throws warp::error subclasses (see core/error.cuh); keys that do not fit or are
// sentinels are reported per key (insert_outcome) and in the sticky status(). Nothing inserted is
// ever lost: a full table refuses new keys and keeps the old ones.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>
#include <warp/core/functional.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/core/outcome.cuh>
#include <warp/core/sentinels.cuh>
#include <warp/detail/open_addressing/table.cuh>
#include <warp/detail/open_addressing/table_members.cuh>
#include <warp/probing.cuh>
#include <warp/single_value_map_ref.cuh>

namespace warp {

/// Synchronisation: calls without `_async` wait for their work and return its result; `_async`
/// calls only enqueue work on `stream` (CUDA) and return at once. Every call runs on the device the
/// map was made on.
template <class Key, class Value, class Probing = linear_probing<4, 2>>
class single_value_map : public detail::table_members<single_value_map<Key, Value, Probing>>,
                         public detail::erase_members<single_value_map<Key, Value, Probing>>,
                         public detail::contains_members<single_value_map<Key, Value, Probing>>,
                         public detail::rehash_members<single_value_map<Key, Value, Probing>, detail::merge_duplicates>,
                         public detail::pair_members<single_value_map<Key, Value, Probing>, Key, Value> {
  using table_type = detail::open_addressing_table<Key, Value, Probing>;

 public:
  using key_type = Key;
  using mapped_type = Value;
  using probing_scheme = Probing;
  using ref_type = single_value_map_ref<Key, Value, Probing>;
  using mutable_ref_type = single_value_map_mutable_ref<Key, Value, Probing>;
  using hasher = typename table_type::hasher;
  static constexpr int tile_size = Probing::tile_size;

  /// A map with room for at least `capacity` keys (rounded up to whole windows). Without an
  /// erased_key it supports everything but erase. `memory`: where its arrays and the temporaries
  /// of its calls come from (null: the backend's default; see core/memory_resource.cuh).
  single_value_map(std::size_t capacity, empty_key<Key> empty, empty_value<Value> missing,
                   backend where = default_backend(), cuda::stream_ref stream = default_stream(), hasher h = {},
                   memory_resource* memory = nullptr)
      : table_{capacity, empty.value, missing.value, empty.value, false, where, stream, h, memory} {}

  single_value_map(std::size_t capacity, empty_key<Key> empty, empty_value<Value> missing, erased_key<Key> erased,
                   backend where = default_backend(), cuda::stream_ref stream = default_stream(), hasher h = {},
                   memory_resource* memory = nullptr)
      : table_{capacity, empty.value, missing.value, erased.value, true, where, stream, h, memory} {}

  single_value_map(sizing s, empty_key<Key> empty, empty_value<Value> missing, backend where = default_backend(),
                   cuda::stream_ref stream = default_stream(), hasher h = {}, memory_resource* memory = nullptr)
      : single_value_map(detail::capacity_for(s), empty, missing, where, stream, h, memory) {}

  single_value_map(sizing s, empty_key<Key> empty, empty_value<Value> missing, erased_key<Key> erased,
                   backend where = default_backend(), cuda::stream_ref stream = default_stream(), hasher h = {},
                   memory_resource* memory = nullptr)
      : single_value_map(detail::capacity_for(s), empty, missing, erased, where, stream, h, memory) {}

  // ---- insertion -------------------------------------------------------------------------------
  // Duplicates of one key within one call: exactly one occurrence is inserted and the others
  // report already_present. Which one wins is unspecified on both backends (threads race); the
  // per-key outcomes say which it was.

  /// Inserts the pairs whose key is not present yet. Returns how many were new. When `outcomes` is
  /// given (host or device array of last - first entries) it receives each key's insert_outcome.
  template <class KeyIt, class ValueIt>
  std::size_t insert(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                     cuda::stream_ref stream = default_stream()) {
    auto const scope = table_.activate();
    return table_.upsert("insert", first, last, values, outcomes, detail::keep_existing{}, detail::completion::wait, stream);
  }
  /// `inserted` (optional, host or device memory): receives the number of new keys, stream-ordered.
  template <class KeyIt, class ValueIt>
  void insert_async(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                    cuda::stream_ref stream = default_stream(), std::uint64_t* inserted = nullptr) {
    auto const scope = table_.activate();
    table_.upsert("insert", first, last, values, outcomes, detail::keep_existing{}, detail::completion::enqueue, stream,
                  detail::count_sink{inserted});
  }

  /// Inserts new keys and overwrites the value of present ones. Returns how many keys were new.
  template <class KeyIt, class ValueIt>
  std::size_t insert_or_assign(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                               cuda::stream_ref stream = default_stream()) {
    auto const scope = table_.activate();
    return table_.upsert("insert_or_assign", first, last, values, outcomes, detail::assign_new{},
                         detail::completion::wait, stream);
  }
  template <class KeyIt, class ValueIt>
  void insert_or_assign_async(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                              cuda::stream_ref stream = default_stream(), std::uint64_t* inserted = nullptr) {
    auto const scope = table_.activate();
    table_.upsert("insert_or_assign", first, last, values, outcomes, detail::assign_new{}, detail::completion::enqueue,
                  stream, detail::count_sink{inserted});
  }

  /// Reduce by key: inserts new keys, and replaces a present key's value s by op(s, v). `op` must
  /// be callable on the map's backend (a __host__ __device__ functor such as warp::op::plus).
  template <class KeyIt, class ValueIt, class Op>
  std::size_t insert_or_apply(KeyIt first, KeyIt last, ValueIt values, Op op, insert_outcome* outcomes = nullptr,
                              cuda::stream_ref stream = default_stream()) {
    auto const scope = table_.activate();
    return table_.upsert("insert_or_apply", first, last, values, outcomes, detail::apply_op<Op>{op},
                         detail::completion::wait, stream);
  }
  template <class KeyIt, class ValueIt, class Op>
  void insert_or_apply_async(KeyIt first, KeyIt last, ValueIt values, Op op, insert_outcome* outcomes = nullptr,
                             cuda::stream_ref stream = default_stream(), std::uint64_t* inserted = nullptr) {
    auto const scope = table_.activate();
    table_.upsert("insert_or_apply", first, last, values, outcomes, detail::apply_op<Op>{op},
                  detail::completion::enqueue, stream, detail::count_sink{inserted});
  }

  // ---- lookup ----------------------------------------------------------------------------------

  /// Writes each key's value, or the empty_value sentinel for absent keys. Returns how many were found.
  template <class KeyIt>
  std::size_t find(KeyIt first, KeyIt last, Value* out, cuda::stream_ref stream = default_stream()) const {
    auto const scope = table_.activate();
    return table_.find(first, last, out, detail::completion::wait, stream);
  }
  /// `found` (optional): receives how many keys were present.
  template <class KeyIt>
  void find_async(KeyIt first, KeyIt last, Value* out, cuda::stream_ref stream = default_stream(),
                  std::uint64_t* found = nullptr) const {
    auto const scope = table_.activate();
    table_.find(first, last, out, detail::completion::enqueue, stream, detail::count_sink{found});
  }

  // ---- whole-table operations ------------------------------------------------------------------

  /// Number of stored pairs for which keep(key, value) holds (a __host__ __device__ callable).
  template <class Keep>
  [[nodiscard]] std::size_t count_if(Keep keep, cuda::stream_ref stream = default_stream()) const {
    auto const scope = table_.activate();
    return table_.count_if(keep, stream);
  }

  /// Copies the pairs for which keep(key, value) holds (in no particular order) to the output
  /// arrays, which hold `capacity` entries (checked; values_out may be null). Returns the number written.
  template <class Keep>
  std::size_t retrieve_if(Keep keep, Key* keys_out, Value* values_out, std::size_t capacity,
                          cuda::stream_ref stream = default_stream()) const {
    auto const scope = table_.activate();
    return table_.retrieve_if("retrieve", keep, keys_out, values_out, capacity, stream);
  }
  /// Unchecked form: the outputs must hold count_if(keep) entries.
  template <class Keep>
  std::size_t retrieve_if(Keep keep, Key* keys_out, Value* values_out, cuda::stream_ref stream = default_stream()) const {
    return retrieve_if(keep, keys_out, values_out, unchecked, stream);
  }

  // ---- state -----------------------------------------------------------------------------------

  [[nodiscard]] Key empty_key_sentinel() const noexcept { return table_.engine().empty_key(); }
  [[nodiscard]] Value empty_value_sentinel() const noexcept { return table_.engine().empty_value(); }
  [[nodiscard]] Key erased_key_sentinel() const {
    if (!table_.has_erased()) { throw logic_error("this map was constructed without an erased_key sentinel"); }
    return table_.engine().erased_key();
  }

  /// Lookup-only view for user kernels (CUDA backend) or host threads (host backend).
  [[nodiscard]] ref_type ref() const noexcept { return ref_type{table_.engine()}; }
  /// View that also inserts, assigns, applies and erases (see single_value_map_ref.cuh for the
  /// rule on erasing while inserting).
  [[nodiscard]] mutable_ref_type mutable_ref() noexcept { return mutable_ref_type{table_.engine()}; }

 private:
  friend struct detail::table_access;
  static constexpr std::size_t unchecked = ~std::size_t{0};

  table_type table_;
};

}  // namespace warp
