// warp/multi_value_map.cuh: an owning hash table from Key to any number of Values (duplicate keys
// allowed), on the GPU or the host; open addressing on the same engine and slots as
// single_value_map, with the walks of open_addressing/multi_probe.cuh.
//
//   warp::multi_value_map<std::uint32_t, std::uint32_t> m{warp::sizing{pairs, 0.8}, warp::empty_key{~0u}};
//   m.insert(keys, keys + n, values);
//   std::vector<std::uint64_t> offsets(q + 1);
//   std::uint64_t total = m.count(queries, queries + q);           // to size the output
//   (count() and retrieve() come from detail::two_pass_lookups, shared by the multi-value containers)
//   std::vector<std::uint32_t> out(total);
//   m.retrieve(queries, queries + q, offsets.data(), out.data(), out.size());
//   // the values of queries[i] are out[offsets[i] .. offsets[i + 1])
//
// Counts and offsets are 64-bit throughout. Options: keep or drop identical (key, value) pairs, and a
// cap on values per key (values beyond it are dropped, reported per pair as over_cap, counted in
// dropped_values() and flagged in status()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include <cuda/stream_ref>

#include <warp/open_addressing/multi_probe.cuh>
#include <warp/open_addressing/two_pass.cuh>
#include <warp/single_value_map.cuh>

namespace warp {

/// How a multi-value table treats an insert of a (key, value) pair it already holds.
enum class duplicate_pairs { keep, drop };

/// Options of multi_value_map.
struct multi_options {
  duplicate_pairs pairs = duplicate_pairs::keep;
  std::uint64_t max_values_per_key = std::numeric_limits<std::uint64_t>::max();
};

namespace detail {

template <class Probe, class KeyIt, class ValueIt>
struct multi_insert_fn {
  Probe probe;
  KeyIt keys;
  ValueIt values;
  bool unique_pairs;
  std::uint64_t cap;
  insert_outcome* outcomes;
  unsigned long long* dropped;
  WARP_HD void prefetch(std::size_t i) const { probe.engine.prefetch(keys[i]); }
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    insert_outcome const o = probe.insert(tile, keys[i], values[i], unique_pairs, cap);
    if (tile.thread_rank() == 0) {
      if (outcomes != nullptr) { outcomes[i] = o; }
      if (o == insert_outcome::over_cap) {
        cuda::atomic_ref<unsigned long long, cuda::thread_scope_device>{*dropped}.fetch_add(1, cuda::std::memory_order_relaxed);
      }
    }
    return o == insert_outcome::inserted ? 1u : 0u;
  }
};

template <class Probe, class KeyIt>
struct multi_count_fn {
  Probe probe;
  KeyIt keys;
  std::uint64_t* counts;
  WARP_HD void prefetch(std::size_t i) const { probe.engine.prefetch(keys[i]); }
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    std::uint64_t const c = probe.template count<slot_reads::read_only>(tile, keys[i]);
    if (tile.thread_rank() == 0) { counts[i] = c; }
    return 0;
  }
};

template <class Probe, class KeyIt>
struct multi_retrieve_fn {
  Probe probe;
  KeyIt keys;
  std::uint64_t const* offsets;
  typename Probe::Value* out;
  WARP_HD void prefetch(std::size_t i) const { probe.engine.prefetch(keys[i]); }
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    (void)probe.template retrieve<slot_reads::read_only>(tile, keys[i], out + offsets[i]);
    return 0;
  }
};

}  // namespace detail

/// The non-owning, trivially copyable view of a multi_value_map for user kernels (CUDA backend) or
/// host threads (host backend): insert (with the map's options), count and retrieve of one key, in
/// scalar and tile forms. Inserts may run concurrently with each other and with lookups.
template <class Key, class Value, class Probing>
class multi_value_map_ref {
  using probe_type = detail::multi_probe<detail::probing_engine<Key, Value, Probing>>;

 public:
  static constexpr int tile_size = Probing::tile_size;

  multi_value_map_ref() = default;
  multi_value_map_ref(probe_type probe, bool unique_pairs, std::uint64_t cap, unsigned long long* dropped) noexcept
      : probe_{probe}, unique_{unique_pairs}, cap_{cap}, dropped_{dropped} {}

  WARP_HD insert_outcome insert(Key const& k, Value const& v) const noexcept { return insert(one_lane_tile{}, k, v); }
  WARP_HD std::uint64_t count(Key const& k) const noexcept { return probe_.count(one_lane_tile{}, k); }
  /// Writes k's values to out[0 .. count(k)) (in no particular order); returns how many.
  WARP_HD std::uint64_t retrieve(Key const& k, Value* out) const noexcept { return probe_.retrieve(one_lane_tile{}, k, out); }

  template <class Tile>
  WARP_HD insert_outcome insert(Tile const& tile, Key const& k, Value const& v) const noexcept {
    insert_outcome const o = probe_.insert(tile, k, v, unique_, cap_);
    if (o == insert_outcome::over_cap && tile.thread_rank() == 0) {
      cuda::atomic_ref<unsigned long long, cuda::thread_scope_device>{*dropped_}.fetch_add(1, cuda::std::memory_order_relaxed);
    }
    return o;
  }
  template <class Tile>
  WARP_HD std::uint64_t count(Tile const& tile, Key const& k) const noexcept { return probe_.count(tile, k); }
  template <class Tile>
  WARP_HD std::uint64_t retrieve(Tile const& tile, Key const& k, Value* out) const noexcept {
    return probe_.retrieve(tile, k, out);
  }

 private:
  probe_type probe_{};
  bool unique_ = false;
  std::uint64_t cap_ = 0;
  unsigned long long* dropped_ = nullptr;
};

template <class Key, class Value, class Probing = linear_probing<4, 2>>
class multi_value_map
    : public detail::two_pass_lookups<multi_value_map<Key, Value, Probing>, Value, Probing::tile_size> {
  using table_type = single_value_map<Key, Value, Probing>;
  using probe_type = detail::multi_probe<typename table_type::engine_type>;
  friend class detail::two_pass_lookups<multi_value_map, Value, Probing::tile_size>;

 public:
  using key_type = Key;
  using mapped_type = Value;
  using hasher = typename table_type::hasher;
  using ref_type = multi_value_map_ref<Key, Value, Probing>;
  static constexpr int tile_size = Probing::tile_size;

  /// A table with room for at least `capacity` pairs.
  multi_value_map(std::size_t capacity, empty_key<Key> empty, multi_options options = {},
                  backend where = default_backend(), cuda::stream_ref stream = default_stream(), hasher h = {})
      : table_{capacity, empty, empty_value<Value>{Value{}}, where, stream, h},
        options_{checked(options)},
        dropped_{where, 1, stream} {
    reset_dropped(stream);
  }
  multi_value_map(sizing s, empty_key<Key> empty, multi_options options = {}, backend where = default_backend(),
                  cuda::stream_ref stream = default_stream(), hasher h = {})
      : table_{s, empty, empty_value<Value>{Value{}}, where, stream, h},
        options_{checked(options)},
        dropped_{where, 1, stream} {
    reset_dropped(stream);
  }

  /// Adds every pair (duplicates of a key are kept; identical pairs too unless the options drop
  /// them). Returns how many pairs were stored; `outcomes` (optional) receives each pair's outcome.
  template <class KeyIt, class ValueIt>
  std::size_t insert(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                     cuda::stream_ref stream = default_stream()) {
    return add(first, last, values, outcomes, detail::completion::wait, stream);
  }
  template <class KeyIt, class ValueIt>
  void insert_async(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                    cuda::stream_ref stream = default_stream()) {
    add(first, last, values, outcomes, detail::completion::enqueue, stream);
  }

  /// Every stored pair (in no particular order); the outputs must hold size() entries.
  std::size_t retrieve_all(Key* keys_out, Value* values_out, cuda::stream_ref stream = default_stream()) const {
    return table_.retrieve_all(keys_out, values_out, stream);
  }

  /// Number of stored pairs.
  [[nodiscard]] std::size_t size(cuda::stream_ref stream = default_stream()) const { return table_.size(stream); }
  [[nodiscard]] bool empty(cuda::stream_ref stream = default_stream()) const { return table_.empty(stream); }
  /// Values dropped by the per-key cap since construction or the last clear().
  [[nodiscard]] std::uint64_t dropped_values(cuda::stream_ref stream = default_stream()) const {
    unsigned long long d = 0;
    detail::copy_bytes(where(), &d, dropped_.data(), sizeof(d), stream);
    detail::synchronize(where(), stream);
    return d;
  }
  void clear(cuda::stream_ref stream = default_stream()) {
    table_.clear(stream);
    reset_dropped(stream);
  }
  [[nodiscard]] table_status status(cuda::stream_ref stream = default_stream()) const { return table_.status(stream); }
  void clear_status(cuda::stream_ref stream = default_stream()) { table_.clear_status(stream); }
  [[nodiscard]] std::size_t capacity() const noexcept { return table_.capacity(); }
  [[nodiscard]] double load_factor(cuda::stream_ref stream = default_stream()) const { return table_.load_factor(stream); }
  [[nodiscard]] std::size_t memory_footprint() const noexcept { return table_.memory_footprint() + sizeof(unsigned long long); }
  [[nodiscard]] backend where() const noexcept { return table_.where(); }
  [[nodiscard]] multi_options options() const noexcept { return options_; }

  /// Device (or host, on the host backend) view for user code.
  [[nodiscard]] ref_type ref() const noexcept {
    return ref_type{probe(), options_.pairs == duplicate_pairs::drop, options_.max_values_per_key,
                    dropped_.data()};
  }

 private:
  static multi_options checked(multi_options o) {
    if (o.max_values_per_key == 0) { throw invalid_argument("multi_options: max_values_per_key must be at least 1, got 0"); }
    return o;
  }
  probe_type probe() const noexcept { return probe_type{table_.ref().engine()}; }
  void reset_dropped(cuda::stream_ref stream) {
    unsigned long long const zero = 0;
    detail::copy_bytes(where(), dropped_.data(), &zero, sizeof(zero), stream);
    detail::synchronize(where(), stream);
  }

  template <class KeyIt, class ValueIt>
  std::size_t add(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes, detail::completion mode,
                  cuda::stream_ref stream) {
    bool const unique = options_.pairs == duplicate_pairs::drop;
    std::uint64_t const cap = options_.max_values_per_key;
    unsigned long long* const dropped = dropped_.data();
    return static_cast<std::size_t>(detail::run_keyed_pairs<tile_size>(
        detail::executor{where(), stream}, "insert", first, last, values, outcomes, mode,
        [&](auto keys, auto vals, insert_outcome* out) {
          return detail::multi_insert_fn<probe_type, decltype(keys), decltype(vals)>{probe(), keys, vals, unique, cap,
                                                                                     out, dropped};
        }));
  }

  auto counter() const {
    return [probe = probe()](auto keys, std::uint64_t* counts) {
      return detail::multi_count_fn<probe_type, decltype(keys)>{probe, keys, counts};
    };
  }
  auto writer() const {
    return [probe = probe()](auto keys, std::uint64_t const* offsets, Value* out) {
      return detail::multi_retrieve_fn<probe_type, decltype(keys)>{probe, keys, offsets, out};
    };
  }

  table_type table_;
  multi_options options_;
  detail::buffer<unsigned long long> dropped_;
};

}  // namespace warp
