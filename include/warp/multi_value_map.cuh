// warp/multi_value_map.cuh: an owning hash table from Key to any number of Values (duplicate keys
// allowed), on the GPU or the host; the same owning table, engine and slots as single_value_map,
// with the walks of detail/open_addressing/multi_probe.cuh.
//
//   warp::multi_value_map<std::uint32_t, std::uint32_t> m{warp::sizing{pairs, 0.8}, warp::empty_key{~0u}};
//   m.insert(keys, keys + n, values);
//   std::vector<std::uint64_t> offsets(q + 1);
//   std::uint64_t total = m.count(queries, queries + q);           // to size the output
//   std::vector<std::uint32_t> out(total);
//   m.retrieve(queries, queries + q, offsets.data(), out.data(), out.size());
//   // the values of queries[i] are out[offsets[i] .. offsets[i + 1])
//
// Counts and offsets are 64-bit throughout. Options: keep or drop identical (key, value) pairs, and a
// cap on values per key (values beyond it are dropped, reported per pair as over_cap, counted in
// dropped_values() and flagged in status()). When several causes apply to one pair, the first of
// invalid_key, already_present (identical pair, when dropped), over_cap, no_room is reported.
// A rehash keeps every pair, duplicates included.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include <cuda/stream_ref>

#include <warp/core/memory_resource.cuh>
#include <warp/core/sentinels.cuh>
#include <warp/detail/bulk/two_pass.cuh>
#include <warp/detail/multi_value_map/bulk_ops.cuh>
#include <warp/detail/open_addressing/table.cuh>
#include <warp/detail/open_addressing/table_members.cuh>
#include <warp/multi_value_map_ref.cuh>
#include <warp/probing.cuh>

namespace warp {

/// How a multi-value table treats an insert of a (key, value) pair it already holds.
enum class duplicate_pairs { keep, drop };

/// Options of multi_value_map.
struct multi_options {
  duplicate_pairs pairs = duplicate_pairs::keep;
  std::uint64_t max_values_per_key = std::numeric_limits<std::uint64_t>::max();
};

template <class Key, class Value, class Probing = linear_probing<4, 2>>
class multi_value_map
    : public detail::table_members<multi_value_map<Key, Value, Probing>>,
      public detail::rehash_members<multi_value_map<Key, Value, Probing>, detail::keep_duplicates>,
      public detail::pair_members<multi_value_map<Key, Value, Probing>, Key, Value>,
      public detail::two_pass_lookups<multi_value_map<Key, Value, Probing>, Key, Value, Probing::tile_size> {
  using table_type = detail::open_addressing_table<Key, Value, Probing>;
  using probe_type = detail::multi_probe<typename table_type::engine_type>;
  using members = detail::table_members<multi_value_map>;
  friend struct detail::table_access;
  friend class detail::two_pass_lookups<multi_value_map, Key, Value, Probing::tile_size>;

 public:
  using key_type = Key;
  using mapped_type = Value;
  using probing_scheme = Probing;
  using hasher = typename table_type::hasher;
  using ref_type = multi_value_map_ref<Key, Value, Probing>;
  using mutable_ref_type = multi_value_map_mutable_ref<Key, Value, Probing>;
  static constexpr int tile_size = Probing::tile_size;

  /// A table with room for at least `capacity` pairs. `memory`: see core/memory_resource.cuh.
  multi_value_map(std::size_t capacity, empty_key<Key> empty, multi_options options = {},
                  backend where = default_backend(), cuda::stream_ref stream = default_stream(), hasher h = {},
                  memory_resource* memory = nullptr)
      : table_{capacity, empty.value, Value{}, empty.value, false, where, stream, h, memory},
        options_{checked(options)},
        dropped_{where, 1, stream, memory} {
    reset_dropped(stream);
    detail::synchronize(where, stream);
  }
  multi_value_map(sizing s, empty_key<Key> empty, multi_options options = {}, backend where = default_backend(),
                  cuda::stream_ref stream = default_stream(), hasher h = {}, memory_resource* memory = nullptr)
      : multi_value_map(detail::capacity_for(s), empty, options, where, stream, h, memory) {}

  /// Adds every pair (duplicates of a key are kept; identical pairs too unless the options drop
  /// them). Returns how many pairs were stored; `outcomes` (optional) receives each pair's outcome.
  template <class KeyIt, class ValueIt>
  std::size_t insert(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                     cuda::stream_ref stream = default_stream()) {
    auto const scope = table_.activate();
    return add(first, last, values, outcomes, detail::completion::wait, stream, {});
  }
  /// `inserted` (optional, host or device memory): receives the number of stored pairs, stream-ordered.
  template <class KeyIt, class ValueIt>
  void insert_async(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                    cuda::stream_ref stream = default_stream(), std::uint64_t* inserted = nullptr) {
    auto const scope = table_.activate();
    add(first, last, values, outcomes, detail::completion::enqueue, stream, detail::count_sink{inserted});
  }

  // retrieve_all, for_each and rehash (every pair kept, duplicates included) come from the
  // member mixins.

  /// Values dropped by the per-key cap since construction or the last clear().
  [[nodiscard]] std::uint64_t dropped_values(cuda::stream_ref stream = default_stream()) const {
    auto const scope = table_.activate();
    unsigned long long d = 0;
    detail::copy_bytes(this->where(), &d, dropped_.data(), sizeof(d), stream);
    detail::synchronize(this->where(), stream);
    return d;
  }
  /// Removes every pair, resets the sticky status and the dropped-value count.
  void clear(cuda::stream_ref stream = default_stream()) {
    clear_async(stream);
    detail::synchronize(this->where(), stream);
  }
  void clear_async(cuda::stream_ref stream = default_stream()) {
    auto const scope = table_.activate();
    members::clear_async(stream);
    reset_dropped(stream);
  }
  [[nodiscard]] std::size_t memory_bytes() const noexcept { return table_.memory_bytes() + sizeof(unsigned long long); }
  [[nodiscard]] multi_options options() const noexcept { return options_; }
  [[nodiscard]] Key empty_key_sentinel() const noexcept { return table_.engine().empty_key(); }

  /// Lookup view (count, retrieve) for user code.
  [[nodiscard]] ref_type ref() const noexcept { return ref_type{table_.engine()}; }
  /// View that also inserts, with the map's options.
  [[nodiscard]] mutable_ref_type mutable_ref() noexcept { return mutable_ref_type{table_.engine(), policy()}; }

 private:
  static multi_options checked(multi_options o) {
    if (o.max_values_per_key == 0) { throw invalid_argument("multi_options: max_values_per_key must be at least 1, got 0"); }
    return o;
  }
  detail::multi_insert_policy policy() const noexcept {
    return {options_.pairs == duplicate_pairs::drop, options_.max_values_per_key, dropped_.data()};
  }
  void reset_dropped(cuda::stream_ref stream) {
    dropped_.use_on(stream);
    detail::fill_zero(this->where(), dropped_.data(), sizeof(unsigned long long), stream);
  }

  template <class KeyIt, class ValueIt>
  std::size_t add(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes, detail::completion mode,
                  cuda::stream_ref stream, detail::count_sink sink) {
    auto const engine = table_.engine();
    auto const p = policy();
    dropped_.use_on(stream);
    return static_cast<std::size_t>(detail::run_keyed_pairs<tile_size>(
        table_.on(stream), "insert", first, last, values, outcomes, mode,
        [&](auto keys, auto vals, insert_outcome* out) {
          return detail::multi_insert_fn<probe_type, decltype(keys), decltype(vals)>{{engine, keys}, vals, p, out};
        },
        sink));
  }

  // What two_pass_lookups needs.
  detail::executor lookup_executor(cuda::stream_ref stream) const { return table_.on(stream); }
  detail::device_scope lookup_scope() const { return table_.activate(); }
  auto counter() const {
    return [engine = table_.engine()](auto keys, std::uint64_t* counts) {
      return detail::multi_count_fn<probe_type, decltype(keys)>{{engine, keys}, counts};
    };
  }
  auto writer() const {
    return [engine = table_.engine()](auto keys, std::uint64_t const* offsets, Value* out) {
      return detail::multi_retrieve_fn<probe_type, decltype(keys)>{{engine, keys}, offsets, out};
    };
  }

  table_type table_;
  multi_options options_;
  mutable detail::buffer<unsigned long long> dropped_;
};

}  // namespace warp
