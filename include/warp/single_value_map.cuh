// warp/single_value_map.cuh: an owning hash map from Key to one Value, on the GPU or the host.
//
// Open addressing over windows of slots (see open_addressing/probing.cuh), keys and values of 4
// or 8 bytes (keys also 16), compared bitwise. Bulk operations take host or device arrays (or
// device-accessible iterators on the CUDA backend) and have stream-ordered `_async` twins; `ref()`
// gives a trivially copyable view for user kernels.
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

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>
#include <warp/core/executor.cuh>
#include <warp/core/functional.cuh>
#include <warp/core/memory.cuh>
#include <warp/core/outcome.cuh>
#include <warp/core/sentinels.cuh>
#include <warp/open_addressing/bulk_driver.cuh>
#include <warp/open_addressing/bulk_ops.cuh>
#include <warp/open_addressing/engine.cuh>
#include <warp/open_addressing/probing.cuh>
#include <warp/single_value_map_ref.cuh>

namespace warp {

/// Size a container for `expected_keys` at `load_factor` (in (0, 1]).
struct sizing {
  std::size_t expected_keys;
  double load_factor;
};

template <class Key, class Value, class Probing = linear_probing<4, 2>>
class single_value_map {
 public:
  using key_type = Key;
  using mapped_type = Value;
  using probing_scheme = Probing;
  using ref_type = single_value_map_ref<Key, Value, Probing>;
  using engine_type = typename ref_type::engine_type;
  using slot_type = typename engine_type::slot_type;
  using hasher = typename engine_type::hasher;
  static constexpr int tile_size = Probing::tile_size;

  /// A map with room for at least `capacity` keys (rounded up to whole windows). Without an
  /// erased_key it supports everything but erase.
  single_value_map(std::size_t capacity, empty_key<Key> empty, empty_value<Value> missing,
                   backend where = default_backend(), cuda::stream_ref stream = default_stream(),
                   hasher h = {})
      : single_value_map(capacity, empty, missing, empty.value, false, where, stream, h) {}

  single_value_map(std::size_t capacity, empty_key<Key> empty, empty_value<Value> missing, erased_key<Key> erased,
                   backend where = default_backend(), cuda::stream_ref stream = default_stream(), hasher h = {})
      : single_value_map(capacity, empty, missing, erased.value, true, where, stream, h) {}

  single_value_map(sizing s, empty_key<Key> empty, empty_value<Value> missing, backend where = default_backend(),
                   cuda::stream_ref stream = default_stream(), hasher h = {})
      : single_value_map(capacity_for(s), empty, missing, where, stream, h) {}

  single_value_map(sizing s, empty_key<Key> empty, empty_value<Value> missing, erased_key<Key> erased,
                   backend where = default_backend(), cuda::stream_ref stream = default_stream(), hasher h = {})
      : single_value_map(capacity_for(s), empty, missing, erased, where, stream, h) {}

  single_value_map(single_value_map&&) noexcept = default;
  single_value_map& operator=(single_value_map&&) noexcept = default;
  single_value_map(single_value_map const&) = delete;
  single_value_map& operator=(single_value_map const&) = delete;
  ~single_value_map() = default;

  // ---- insertion -------------------------------------------------------------------------------

  /// Inserts the pairs whose key is not present yet. Returns how many were new. When `outcomes` is
  /// given (host or device array of last - first entries) it receives each key's insert_outcome.
  template <class KeyIt, class ValueIt>
  std::size_t insert(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                     cuda::stream_ref stream = default_stream()) {
    return upsert("insert", first, last, values, outcomes, detail::keep_existing{}, detail::completion::wait, stream);
  }
  template <class KeyIt, class ValueIt>
  void insert_async(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                    cuda::stream_ref stream = default_stream()) {
    upsert("insert", first, last, values, outcomes, detail::keep_existing{}, detail::completion::enqueue, stream);
  }

  /// Inserts new keys and overwrites the value of present ones. Returns how many keys were new.
  template <class KeyIt, class ValueIt>
  std::size_t insert_or_assign(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                               cuda::stream_ref stream = default_stream()) {
    return upsert("insert_or_assign", first, last, values, outcomes, detail::assign_new{}, detail::completion::wait,
                  stream);
  }
  template <class KeyIt, class ValueIt>
  void insert_or_assign_async(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                              cuda::stream_ref stream = default_stream()) {
    upsert("insert_or_assign", first, last, values, outcomes, detail::assign_new{}, detail::completion::enqueue, stream);
  }

  /// Reduce by key: inserts new keys, and replaces a present key's value s by op(s, v). `op` must
  /// be callable on the map's backend (a __host__ __device__ functor such as warp::op::plus).
  template <class KeyIt, class ValueIt, class Op>
  std::size_t insert_or_apply(KeyIt first, KeyIt last, ValueIt values, Op op, insert_outcome* outcomes = nullptr,
                              cuda::stream_ref stream = default_stream()) {
    return upsert("insert_or_apply", first, last, values, outcomes, detail::apply_op<Op>{op}, detail::completion::wait,
                  stream);
  }
  template <class KeyIt, class ValueIt, class Op>
  void insert_or_apply_async(KeyIt first, KeyIt last, ValueIt values, Op op, insert_outcome* outcomes = nullptr,
                             cuda::stream_ref stream = default_stream()) {
    upsert("insert_or_apply", first, last, values, outcomes, detail::apply_op<Op>{op}, detail::completion::enqueue,
           stream);
  }

  // ---- lookup ----------------------------------------------------------------------------------

  /// Writes each key's value, or the empty_value sentinel for absent keys. Returns how many were found.
  template <class KeyIt>
  std::size_t find(KeyIt first, KeyIt last, Value* out, cuda::stream_ref stream = default_stream()) const {
    return lookup(first, last, out, detail::completion::wait, stream);
  }
  template <class KeyIt>
  void find_async(KeyIt first, KeyIt last, Value* out, cuda::stream_ref stream = default_stream()) const {
    lookup(first, last, out, detail::completion::enqueue, stream);
  }

  /// Writes whether each key is present. Returns how many were.
  template <class KeyIt>
  std::size_t contains(KeyIt first, KeyIt last, bool* out, cuda::stream_ref stream = default_stream()) const {
    return presence(first, last, out, detail::completion::wait, stream);
  }
  template <class KeyIt>
  void contains_async(KeyIt first, KeyIt last, bool* out, cuda::stream_ref stream = default_stream()) const {
    presence(first, last, out, detail::completion::enqueue, stream);
  }

  // ---- erase -----------------------------------------------------------------------------------

  /// Erases the given keys (absent keys are ignored). Returns how many were erased. When erased
  /// slots (tombstones) reach a quarter of the capacity the table is rehashed in place, so that
  /// lookups of absent keys do not slow down without bound.
  template <class KeyIt>
  std::size_t erase(KeyIt first, KeyIt last, cuda::stream_ref stream = default_stream()) {
    std::size_t const erased = remove(first, last, detail::completion::wait, stream);
    tombstone_estimate_ += erased;
    if (tombstone_estimate_ >= capacity() / 4) {
      tombstone_estimate_ = tombstones(stream);
      if (tombstone_estimate_ >= capacity() / 4) { rehash(capacity(), stream); }
    }
    return erased;
  }
  /// Enqueues the erase; tombstones are not cleaned automatically (call rehash() when needed).
  template <class KeyIt>
  void erase_async(KeyIt first, KeyIt last, cuda::stream_ref stream = default_stream()) {
    remove(first, last, detail::completion::enqueue, stream);
  }

  // ---- whole-table operations ------------------------------------------------------------------

  /// Exact number of stored keys (counts the slots; synchronizes).
  [[nodiscard]] std::size_t size(cuda::stream_ref stream = default_stream()) const {
    return static_cast<std::size_t>(detail::count_items<1>(detail::executor{backend_, stream}, capacity(),
                                                           detail::count_filled_fn<engine_type>{engine_}));
  }
  [[nodiscard]] bool empty(cuda::stream_ref stream = default_stream()) const { return size(stream) == 0; }

  /// Number of erased slots (tombstones) currently in the table.
  [[nodiscard]] std::size_t tombstones(cuda::stream_ref stream = default_stream()) const {
    return static_cast<std::size_t>(detail::count_items<1>(detail::executor{backend_, stream}, capacity(),
                                                           detail::count_erased_fn<engine_type>{engine_}));
  }

  /// Removes every key and resets the sticky status.
  void clear(cuda::stream_ref stream = default_stream()) {
    clear_async(stream);
    detail::synchronize(backend_, stream);
  }
  void clear_async(cuda::stream_ref stream = default_stream()) {
    detail::for_each_item<1>(detail::executor{backend_, stream}, capacity(), detail::clear_fn<engine_type>{engine_});
    std::uint32_t const zero = 0;
    detail::copy_bytes(backend_, status_.data(), &zero, sizeof(zero), stream);
    tombstone_estimate_ = 0;
  }

  /// Copies all pairs (in no particular order) to the output arrays, which must hold size()
  /// entries (values_out may be null: keys only). Returns the number written.
  std::size_t retrieve_all(Key* keys_out, Value* values_out, cuda::stream_ref stream = default_stream()) const {
    return retrieve_if(detail::keep_all{}, keys_out, values_out, stream);
  }

  /// Number of stored pairs for which keep(key, value) holds (a __host__ __device__ callable).
  template <class Keep>
  [[nodiscard]] std::size_t count_if(Keep keep, cuda::stream_ref stream = default_stream()) const {
    return static_cast<std::size_t>(detail::count_items<1>(detail::executor{backend_, stream}, capacity(),
                                                           detail::count_if_fn<engine_type, Keep>{engine_, keep}));
  }

  /// Copies the pairs for which keep(key, value) holds (in no particular order) to the output
  /// arrays, which must hold count_if(keep) entries (values_out may be null). Returns the number
  /// written.
  template <class Keep>
  std::size_t retrieve_if(Keep keep, Key* keys_out, Value* values_out, cuda::stream_ref stream = default_stream()) const {
    std::size_t const n = count_if(keep, stream);
    detail::output_view<Key> keys{backend_, keys_out, n, "retrieve: keys output", stream};
    detail::output_view<Value> values{backend_, values_out, values_out != nullptr ? n : 0, "retrieve: values output", stream};
    detail::buffer<unsigned long long> position{backend_, 1, stream};
    unsigned long long const zero = 0;
    detail::copy_bytes(backend_, position.data(), &zero, sizeof(zero), stream);
    detail::for_each_item<1>(detail::executor{backend_, stream}, capacity(),
                             detail::retrieve_if_fn<engine_type, Keep>{engine_, keys.get(),
                                                                       values_out != nullptr ? values.get() : nullptr,
                                                                       position.data(), keep});
    keys.finish(stream);
    values.finish(stream);
    detail::synchronize(backend_, stream);
    return n;
  }

  /// Calls f(key, value) for every stored pair, on the map's backend (f must be a __device__ or
  /// __host__ __device__ callable on CUDA). Returns the number of pairs visited.
  template <class F>
  std::size_t for_each(F f, cuda::stream_ref stream = default_stream()) const {
    return static_cast<std::size_t>(detail::count_items<1>(detail::executor{backend_, stream}, capacity(),
                                                           detail::for_each_fn<engine_type, F>{engine_, f}));
  }

  /// Moves every pair into a new table of at least `new_capacity` slots, dropping tombstones.
  /// Throws (and keeps the current table) when `new_capacity` cannot hold the stored keys.
  void rehash(std::size_t new_capacity, cuda::stream_ref stream = default_stream()) {
    std::size_t const stored = size(stream);
    if (new_capacity < stored) {
      throw invalid_argument("rehash: new capacity " + std::to_string(new_capacity) + " is below the " +
                             std::to_string(stored) + " keys stored");
    }
    single_value_map next(new_capacity, empty_key<Key>{engine_.empty_key()}, empty_value<Value>{engine_.empty_value()},
                          engine_.erased_key(), has_erased_, backend_, stream, engine_.hash_function());
    std::uint64_t const lost = detail::count_items<1>(detail::executor{backend_, stream}, capacity(),
                                                      detail::reinsert_fn<engine_type>{engine_, next.engine_});
    if (lost != 0) {
      throw error("rehash: " + std::to_string(lost) + " keys found no room in the new table of " +
                  std::to_string(next.capacity()) + " slots; the map is unchanged");
    }
    std::uint32_t const old_status = status(stream).bits;
    detail::copy_bytes(backend_, next.status_.data(), &old_status, sizeof(old_status), stream);
    detail::synchronize(backend_, stream);
    *this = std::move(next);
  }
  /// Rehash into the same capacity (drops tombstones).
  void rehash(cuda::stream_ref stream = default_stream()) { rehash(capacity(), stream); }

  // ---- state -----------------------------------------------------------------------------------

  /// Sticky error bits since construction or the last clear()/clear_status().
  [[nodiscard]] table_status status(cuda::stream_ref stream = default_stream()) const {
    table_status s{};
    detail::copy_bytes(backend_, &s.bits, status_.data(), sizeof(s.bits), stream);
    detail::synchronize(backend_, stream);
    return s;
  }
  void clear_status(cuda::stream_ref stream = default_stream()) {
    std::uint32_t const zero = 0;
    detail::copy_bytes(backend_, status_.data(), &zero, sizeof(zero), stream);
    detail::synchronize(backend_, stream);
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return engine_.capacity(); }
  [[nodiscard]] double load_factor(cuda::stream_ref stream = default_stream()) const {
    return static_cast<double>(size(stream)) / static_cast<double>(capacity());
  }
  /// Bytes of memory the map owns on its backend.
  [[nodiscard]] std::size_t memory_footprint() const noexcept { return capacity() * sizeof(slot_type) + sizeof(std::uint32_t); }
  [[nodiscard]] backend where() const noexcept { return backend_; }
  [[nodiscard]] Key empty_key_sentinel() const noexcept { return engine_.empty_key(); }
  [[nodiscard]] Value empty_value_sentinel() const noexcept { return engine_.empty_value(); }
  [[nodiscard]] Key erased_key_sentinel() const {
    require_erase();
    return engine_.erased_key();
  }

  /// Device (or host, on the host backend) view for user code.
  [[nodiscard]] ref_type ref() const noexcept { return ref_type{engine_}; }

 private:
  single_value_map(std::size_t capacity, empty_key<Key> empty, empty_value<Value> missing, Key erased, bool has_erased,
                   backend where, cuda::stream_ref stream, hasher h)
      : backend_{where}, has_erased_{has_erased} {
    require_backend(where);
    if (capacity == 0) { throw invalid_argument("capacity must be positive, got 0"); }
    constexpr std::size_t max_slots = std::size_t{1} << 40;
    if (capacity > max_slots) {
      throw invalid_argument("capacity " + std::to_string(capacity) + " exceeds the supported maximum of " +
                             std::to_string(max_slots) + " slots");
    }
    if (has_erased && detail::bitwise_equal(empty.value, erased)) {
      throw invalid_argument("the empty_key and erased_key sentinels must differ");
    }
    std::size_t const windows =
        Probing::valid_num_windows((capacity + Probing::window_size - 1) / Probing::window_size);
    slots_ = detail::buffer<slot_type>{where, windows * Probing::window_size, stream};
    status_ = detail::buffer<std::uint32_t>{where, 1, stream};
    engine_ = engine_type{slots_.data(), windows, empty.value, erased, has_erased, missing.value, h, status_.data()};
    clear(stream);
  }

  static std::size_t capacity_for(sizing s) {
    if (!(s.load_factor > 0.0 && s.load_factor <= 1.0)) {
      throw invalid_argument("load factor must be in (0, 1], got " + std::to_string(s.load_factor));
    }
    if (s.expected_keys == 0) { throw invalid_argument("expected key count must be positive, got 0"); }
    double const slots = std::ceil(static_cast<double>(s.expected_keys) / s.load_factor);
    if (slots > static_cast<double>(std::numeric_limits<std::size_t>::max() / 2)) {
      throw invalid_argument("expected keys " + std::to_string(s.expected_keys) + " at load factor " +
                             std::to_string(s.load_factor) + " need an absurd capacity");
    }
    return static_cast<std::size_t>(slots);
  }

  void require_erase() const {
    if (!has_erased_) { throw logic_error("erase needs a map constructed with an erased_key sentinel"); }
  }

  template <class KeyIt, class ValueIt, class OnPresent>
  std::size_t upsert(char const* op, KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes,
                     OnPresent on_present, detail::completion mode, cuda::stream_ref stream) {
    return static_cast<std::size_t>(detail::run_keyed_pairs<tile_size>(
        detail::executor{backend_, stream}, op, first, last, values, outcomes, mode,
        [&](auto keys, auto vals, insert_outcome* out) {
          return detail::upsert_fn<engine_type, decltype(keys), decltype(vals), OnPresent>{{engine_, keys}, vals,
                                                                                         on_present, out};
        }));
  }

  template <class KeyIt>
  std::size_t lookup(KeyIt first, KeyIt last, Value* out, detail::completion mode, cuda::stream_ref stream) const {
    return static_cast<std::size_t>(detail::run_keyed<tile_size>(
        detail::executor{backend_, stream}, "find", first, last, out, true, mode,
        [&](auto keys, Value* values) { return detail::find_fn<engine_type, decltype(keys), Value*>{{engine_, keys}, values}; }));
  }

  template <class KeyIt>
  std::size_t presence(KeyIt first, KeyIt last, bool* out, detail::completion mode, cuda::stream_ref stream) const {
    return static_cast<std::size_t>(detail::run_keyed<tile_size>(
        detail::executor{backend_, stream}, "contains", first, last, out, true, mode,
        [&](auto keys, bool* flags) { return detail::contains_fn<engine_type, decltype(keys)>{{engine_, keys}, flags}; }));
  }

  template <class KeyIt>
  std::size_t remove(KeyIt first, KeyIt last, detail::completion mode, cuda::stream_ref stream) {
    require_erase();
    return static_cast<std::size_t>(detail::run_keyed<tile_size>(
        detail::executor{backend_, stream}, "erase", first, last, static_cast<bool*>(nullptr), false, mode,
        [&](auto keys, bool*) { return detail::erase_fn<engine_type, decltype(keys)>{{engine_, keys}}; }));
  }

  backend backend_;
  bool has_erased_;
  detail::buffer<slot_type> slots_{};
  detail::buffer<std::uint32_t> status_{};
  engine_type engine_{};
  std::size_t tombstone_estimate_ = 0;
};

}  // namespace warp
