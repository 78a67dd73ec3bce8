// warp/detail/open_addressing/table.cuh: the one owning table under every open-addressing
// container (single_value_map, hash_set, counting_map, multi_value_map, the key table of
// bucket_list_map and of frozen_multimap).
//
// It owns the slots and the sticky status word, builds the engine over them, and remembers the
// backend, the device it was made on, the memory resource and the last stream it was used on.
// It offers what every container shares: the keyed bulk operations (upsert with a present-key
// policy, find, contains, erase), size, tombstones, clear, status, for_each, count_if,
// retrieve_if, and rehash with a policy for duplicate keys. Containers are built on it and add
// only their own semantics; none of them holds another public container.
//
// Every public call of a container makes the table's device current for its duration
// (`activate()`), so containers on several GPUs of one process each work on their own device.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/core/outcome.cuh>
#include <warp/detail/backend/cuda.cuh>
#include <warp/detail/bulk/driver.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>
#include <warp/detail/open_addressing/bulk_ops.cuh>
#include <warp/detail/open_addressing/engine.cuh>

namespace warp {

/// Size a container for `expected_keys` at `load_factor` (in (0, 1]).
struct sizing {
  std::size_t expected_keys;
  double load_factor;
};

namespace detail {

/// Rehash policies: a single-value table merges equal keys (there are none to merge, but the
/// insert path is the one that keeps keys unique); a multi-value table keeps every copy.
struct merge_duplicates {};
struct keep_duplicates {};

/// What rehash tells a container about each moved key (old slot -> new slot), so that data kept
/// in arrays parallel to the slots can follow; the default does nothing.
struct no_slot_moves {
  static constexpr bool tracks = false;
  WARP_HD void operator()(std::size_t, std::size_t) const noexcept {}
};

/// Slots for `s`, checked: load factor in (0, 1], a positive key count, no overflow.
inline std::size_t capacity_for(sizing s) {
  if (!(s.load_factor > 0.0 && s.load_factor <= 1.0)) {
    throw invalid_argument("load factor must be in (0, 1], got " + std::to_string(s.load_factor));
  }
  if (s.expected_keys == 0) { throw invalid_argument("expected key count must be positive, got 0"); }
  double const slots = std::ceil(static_cast<double>(s.expected_keys) / s.load_factor);
  if (!(slots <= static_cast<double>(std::size_t{1} << 40))) {
    throw invalid_argument("expected keys " + std::to_string(s.expected_keys) + " at load factor " +
                           std::to_string(s.load_factor) + " need more than the supported 2^40 slots");
  }
  return static_cast<std::size_t>(slots);
}


template <class Key, class Value, class Probing>
class open_addressing_table {
 public:
  using engine_type = probing_engine<Key, Value, Probing>;
  using slot_type = typename engine_type::slot_type;
  using hasher = typename engine_type::hasher;
  static constexpr int tile_size = Probing::tile_size;
  static constexpr std::size_t max_slots = std::size_t{1} << 40;

  /// `has_erased`: whether `erased` is a tombstone sentinel (erase is supported).
  open_addressing_table(std::size_t capacity, Key empty, Value empty_value, Key erased, bool has_erased, backend where,
                        cuda::stream_ref stream, hasher h, memory_resource* memory)
      : where_{where}, memory_{memory}, has_erased_{has_erased} {
    require_backend(where);
    if (capacity == 0) { throw invalid_argument("capacity must be positive, got 0"); }
    if (capacity > max_slots) {
      throw invalid_argument("capacity " + std::to_string(capacity) + " exceeds the supported maximum of " +
                             std::to_string(max_slots) + " slots");
    }
    if (has_erased && bitwise_equal(empty, erased)) {
      throw invalid_argument("the empty_key and erased_key sentinels must differ");
    }
    if (memory != nullptr && memory->where() != where) {
      throw invalid_argument(std::string("the memory resource serves the ") + to_string(memory->where()) +
                             " backend but the container uses the " + to_string(where) + " backend");
    }
    device_ = device_of(where);
    std::size_t const windows =
        Probing::valid_num_windows((capacity + Probing::window_size - 1) / Probing::window_size);
    slots_ = buffer<slot_type>{where, windows * Probing::window_size, stream, memory};
    status_ = buffer<std::uint32_t>{where, 1, stream, memory};
    if constexpr (engine_type::filtered) {
      // Only host lookups read a miss filter; CUDA tables do without (see with_miss_filter).
      if (where == backend::host) { filter_ = buffer<std::uint8_t>{where, slots_.size(), stream, memory}; }
    }
    engine_ = engine_type{slots_.data(), windows, empty, erased, has_erased, empty_value, h, status_.data(),
                          filter_.size() != 0 ? filter_.data() : nullptr};
    clear(stream);
  }

  open_addressing_table(open_addressing_table&&) noexcept = default;
  open_addressing_table& operator=(open_addressing_table&&) noexcept = default;

  // ---- identity ---------------------------------------------------------------------------------

  [[nodiscard]] backend where() const noexcept { return where_; }
  /// The CUDA device the table lives on (-1 on the host backend).
  [[nodiscard]] int device() const noexcept { return device_; }
  [[nodiscard]] memory_resource* memory() const noexcept { return memory_; }
  [[nodiscard]] bool has_erased() const noexcept { return has_erased_; }
  [[nodiscard]] engine_type const& engine() const noexcept { return engine_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return engine_.capacity(); }
  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    return capacity() * sizeof(slot_type) + sizeof(std::uint32_t) + filter_.size();
  }

  /// The device scope of one call, and the executor of its work on `stream`. Records the stream
  /// as the one the table's memory is freed on.
  [[nodiscard]] device_scope activate() const { return device_scope{device_}; }
  [[nodiscard]] executor on(cuda::stream_ref stream) const noexcept {
    slots_.use_on(stream);
    status_.use_on(stream);
    filter_.use_on(stream);
    return executor{where_, stream, memory_};
  }

  // ---- keyed bulk operations -------------------------------------------------------------------

  /// Insert-type bulk call: new keys are inserted, present keys get on_present (keep, assign,
  /// apply). Returns the number of new keys (mode wait) or 0 (enqueue; the count goes to sink).
  template <class KeyIt, class ValueIt, class OnPresent>
  std::size_t upsert(char const* op, KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes,
                     OnPresent on_present, completion mode, cuda::stream_ref stream, count_sink sink = {}) {
    return static_cast<std::size_t>(run_keyed_pairs<tile_size>(
        on(stream), op, first, last, values, outcomes, mode,
        [&](auto keys, auto vals, insert_outcome* out) {
          return upsert_fn<engine_type, decltype(keys), decltype(vals), OnPresent>{{engine_, keys}, vals, on_present, out};
        },
        sink));
  }

  /// Writes each key's value (the empty_value for absent keys). Returns how many were found.
  template <class KeyIt>
  std::size_t find(KeyIt first, KeyIt last, Value* out, completion mode, cuda::stream_ref stream,
                   count_sink sink = {}) const {
    return static_cast<std::size_t>(run_keyed<tile_size>(
        on(stream), "find", first, last, out, true, mode,
        [&](auto keys, Value* values) { return find_fn<engine_type, decltype(keys), Value*>{{{engine_, keys}}, values}; },
        sink));
  }

  /// Writes whether each key is present. Returns how many were.
  template <class KeyIt>
  std::size_t contains(KeyIt first, KeyIt last, bool* out, completion mode, cuda::stream_ref stream,
                       count_sink sink = {}) const {
    return static_cast<std::size_t>(run_keyed<tile_size>(
        on(stream), "contains", first, last, out, true, mode,
        [&](auto keys, bool* flags) { return contains_fn<engine_type, decltype(keys)>{{{engine_, keys}}, flags}; }, sink));
  }

  /// Erases the keys (absent ones are ignored). Returns how many were erased. In wait mode, when
  /// tombstones reach a quarter of the capacity the table is rehashed in place, so that lookups
  /// of absent keys do not slow down without bound; enqueued erases leave that to rehash().
  template <class KeyIt>
  std::size_t erase(KeyIt first, KeyIt last, completion mode, cuda::stream_ref stream, count_sink sink = {}) {
    if (!has_erased_) { throw logic_error("erase needs a container constructed with an erased_key sentinel"); }
    if (mode != completion::wait) {
      return static_cast<std::size_t>(run_keyed<tile_size>(
          on(stream), "erase", first, last, static_cast<bool*>(nullptr), false, mode,
          [&](auto keys, bool*) { return erase_fn<engine_type, decltype(keys)>{{engine_, keys}}; }, sink));
    }
    // Each erase reports whether it left a tombstone (most empty their slot, see the engine), in
    // the upper half of its 64-bit count; calls of fewer than 2^32 keys keep the halves apart.
    constexpr std::size_t max_call = (std::size_t{1} << 32) - 1;
    std::size_t const n = checked_distance(first, last);
    std::size_t erased = 0, left_tombstones = 0;
    for (std::size_t done = 0; done < n;) {
      std::size_t const part = n - done < max_call ? n - done : max_call;
      KeyIt const from = done == 0 ? first : first + static_cast<std::ptrdiff_t>(done);
      KeyIt const to = part == n ? last : from + static_cast<std::ptrdiff_t>(part);
      std::uint64_t const counts = run_keyed<tile_size>(
          on(stream), "erase", from, to, static_cast<bool*>(nullptr), false, mode,
          [&](auto keys, bool*) { return erase_fn<engine_type, decltype(keys), true>{{engine_, keys}}; });
      erased += static_cast<std::size_t>(counts & (erase_tombstone_unit - 1));
      left_tombstones += static_cast<std::size_t>(counts >> 32);
      done += part;
    }
    // The estimate counts the tombstones left; inserts that reuse one do not lower it, so it is
    // checked by counting. A count that finds the table below the threshold waits for another
    // sixteenth of the capacity in new tombstones: otherwise a table whose tombstones hover just
    // below a quarter (erases and tombstone-reusing inserts in balance, as in a cache) was scanned
    // whole after nearly every erase call.
    tombstone_estimate_ += left_tombstones;
    tombstones_since_count_ += left_tombstones;
    if (tombstone_estimate_ >= capacity() / 4 && tombstones_since_count_ >= capacity() / 16) {
      tombstones_since_count_ = 0;
      tombstone_estimate_ = tombstones(stream);
      if (tombstone_estimate_ >= capacity() / 4) { rehash(capacity(), merge_duplicates{}, stream); }
    }
    return erased;
  }

  // ---- whole-table operations ------------------------------------------------------------------

  /// Exact number of filled slots (synchronizes).
  [[nodiscard]] std::size_t size(cuda::stream_ref stream) const {
    return static_cast<std::size_t>(count_items<1>(on(stream), capacity(), count_filled_fn<engine_type>{engine_}));
  }
  /// The same, written to `out` (host or device memory) without synchronising.
  void size_async(std::uint64_t* out, cuda::stream_ref stream) const {
    (void)run_items<1>(on(stream), capacity(), completion::enqueue, [&] { return count_filled_fn<engine_type>{engine_}; },
                       count_sink{out});
  }
  [[nodiscard]] std::size_t tombstones(cuda::stream_ref stream) const {
    return static_cast<std::size_t>(count_items<1>(on(stream), capacity(), count_erased_fn<engine_type>{engine_}));
  }
  [[nodiscard]] double load_factor(cuda::stream_ref stream) const {
    return static_cast<double>(size(stream)) / static_cast<double>(capacity());
  }

  /// Empties every slot and resets the sticky status (stream-ordered).
  void clear_async(cuda::stream_ref stream) {
    executor const ex = on(stream);
    for_each_item<1>(ex, capacity(), clear_fn<engine_type>{engine_});
    fill_zero(where_, status_.data(), sizeof(std::uint32_t), stream);
    if (filter_.size() != 0) { fill_zero(where_, filter_.data(), filter_.size(), stream); }
    tombstone_estimate_ = 0;
    tombstones_since_count_ = 0;
  }
  void clear(cuda::stream_ref stream) {
    clear_async(stream);
    synchronize(where_, stream);
  }

  [[nodiscard]] table_status status(cuda::stream_ref stream) const {
    table_status s{};
    copy_bytes(where_, &s.bits, status_.data(), sizeof(s.bits), stream);
    synchronize(where_, stream);
    return s;
  }
  void clear_status(cuda::stream_ref stream) {
    fill_zero(where_, status_.data(), sizeof(std::uint32_t), stream);
    synchronize(where_, stream);
  }

  /// Calls f(key, value) for every stored pair, concurrently from the backend's threads (a CUDA
  /// kernel on the CUDA backend: f must be __device__ callable; OpenMP threads on the host).
  template <class F>
  std::size_t for_each(F f, cuda::stream_ref stream) const {
    return static_cast<std::size_t>(count_items<1>(on(stream), capacity(), for_each_fn<engine_type, F>{engine_, f}));
  }

  template <class Keep>
  [[nodiscard]] std::size_t count_if(Keep keep, cuda::stream_ref stream) const {
    return static_cast<std::size_t>(
        count_items<1>(on(stream), capacity(), count_if_fn<engine_type, Keep>{engine_, keep}));
  }

  /// Copies the pairs for which keep(key, value) holds (in no particular order) to the outputs,
  /// which hold `out_capacity` entries (checked first; values_out may be null). Returns the number written.
  template <class Keep>
  std::size_t retrieve_if(char const* op, Keep keep, Key* keys_out, Value* values_out, std::uint64_t out_capacity,
                          cuda::stream_ref stream) const {
    std::size_t const n = count_if(keep, stream);
    require_output_capacity(op, n, out_capacity);
    executor const ex = on(stream);
    output_view<Key> keys{where_, keys_out, n, {op, ": keys output"}, stream, memory_};
    output_view<Value> values{where_, values_out, values_out != nullptr ? n : 0, {op, ": values output"}, stream, memory_};
    buffer<unsigned long long> position{where_, 1, stream, memory_};
    fill_zero(where_, position.data(), sizeof(unsigned long long), stream);
    for_each_item<1>(ex, capacity(),
                     retrieve_if_fn<engine_type, Keep>{engine_, keys.get(), values_out != nullptr ? values.get() : nullptr,
                                                       position.data(), keep});
    keys.finish(stream);
    values.finish(stream);
    synchronize(where_, stream);
    return n;
  }

  /// Moves every stored pair into a new table of at least `new_capacity` slots, dropping
  /// tombstones. Policy merge_duplicates keeps keys unique (single-value tables);
  /// keep_duplicates keeps every copy of a key (multi-value tables). on_move(old, new) is called
  /// for each moved slot. Throws, keeping the current table, when the new one cannot hold the pairs.
  template <class Policy, class OnMove = no_slot_moves>
  void rehash(std::size_t new_capacity, Policy, cuda::stream_ref stream, OnMove on_move = {}) {
    std::size_t const stored = size(stream);
    if (new_capacity < stored) {
      throw invalid_argument("rehash: new capacity " + std::to_string(new_capacity) + " is below the " +
                             std::to_string(stored) + " keys stored");
    }
    open_addressing_table next(new_capacity, engine_.empty_key(), engine_.empty_value(), engine_.erased_key(), has_erased_,
                               where_, stream, engine_.hash_function(), memory_);
    std::uint64_t const lost = count_items<1>(
        on(stream), capacity(),
        reinsert_fn<engine_type, std::is_same_v<Policy, keep_duplicates>, OnMove>{engine_, next.engine_, on_move});
    if (lost != 0) {
      throw error("rehash: " + std::to_string(lost) + " keys found no room in the new table of " +
                  std::to_string(next.capacity()) + " slots; the container is unchanged");
    }
    copy_bytes(where_, next.status_.data(), status_.data(), sizeof(std::uint32_t), stream);
    synchronize(where_, stream);
    *this = std::move(next);
  }

 private:
  backend where_;
  int device_ = -1;
  memory_resource* memory_ = nullptr;
  bool has_erased_ = false;
  mutable buffer<slot_type> slots_{};
  mutable buffer<std::uint32_t> status_{};
  mutable buffer<std::uint8_t> filter_{};  // the miss filter (host tables of with_miss_filter schemes)
  engine_type engine_{};
  std::size_t tombstone_estimate_ = 0;
  std::size_t tombstones_since_count_ = 0;  // tombstones left since the last count of them
};

}  // namespace detail
}  // namespace warp
