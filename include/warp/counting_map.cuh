// warp/counting_map.cuh: counts occurrences of keys (k-mers, features, items), on the GPU or the
// host. A single_value_map<Key, Count> driven by insert_or_apply: each occurrence adds 1 with one
// hardware atomic add, or, with a saturation limit, a compare-and-swap that clamps at the limit.
// An absent key has count 0.
//
//   warp::counting_map<std::uint64_t> counts{warp::sizing{distinct, 0.8}, warp::empty_key{~0ull}};
//   counts.count(kmers, kmers + n);                         // every occurrence increments
//   std::size_t frequent = counts.count_at_least(10);
//   counts.retrieve_at_least(10, keys_out, counts_out);     // keys seen at least 10 times
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include <cuda/stream_ref>

#include <warp/core/iterators.cuh>
#include <warp/core/functional.cuh>
#include <warp/counting_map_ref.cuh>
#include <warp/single_value_map.cuh>

namespace warp {

/// The largest count a counting_map stores; counts stop there instead of wrapping around.
template <class Count>
struct max_count {
  explicit constexpr max_count(Count v) : value(v) {}
  Count value;
};

namespace detail {
template <class Key, class Count>
struct count_at_least {
  Count k;
  WARP_HD bool operator()(Key const&, Count const& c) const noexcept { return c >= k; }
};

/// Reads counts from `it`, clamped to `limit` (a saturating map clamps a new key's first amount).
template <class It, class Count>
struct clamp_iterator {
  using iterator_category = std::random_access_iterator_tag;
  using value_type = Count;
  using difference_type = std::ptrdiff_t;
  using pointer = Count const*;
  using reference = Count;
  It it;
  Count limit;
  WARP_HD Count operator[](difference_type i) const {
    Count const c = static_cast<Count>(it[i]);
    return c < limit ? c : limit;
  }
  WARP_HD Count operator*() const { return (*this)[0]; }
  WARP_HD clamp_iterator operator+(difference_type d) const { return {it + d, limit}; }
};
}  // namespace detail

template <class Key, class Count = std::uint32_t, class Probing = linear_probing<4, 2>>
class counting_map {
  static_assert(std::is_arithmetic_v<Count> && (sizeof(Count) == 4 || sizeof(Count) == 8),
                "counts must be 4- or 8-byte arithmetic types");
  using table_type = single_value_map<Key, Count, Probing>;

 public:
  using key_type = Key;
  using count_type = Count;
  using ref_type = counting_map_ref<Key, Count, Probing>;
  using hasher = typename table_type::hasher;
  static constexpr int tile_size = Probing::tile_size;

  /// Counts wrap around at the type's maximum unless a max_count is given.
  counting_map(std::size_t capacity, empty_key<Key> empty, backend where = default_backend(),
               cuda::stream_ref stream = default_stream(), hasher h = {})
      : table_{capacity, empty, zero(), where, stream, h} {}
  counting_map(std::size_t capacity, empty_key<Key> empty, max_count<Count> limit, backend where = default_backend(),
               cuda::stream_ref stream = default_stream(), hasher h = {})
      : table_{capacity, empty, zero(), where, stream, h}, limit_{checked(limit)}, saturating_{true} {}
  counting_map(sizing s, empty_key<Key> empty, backend where = default_backend(), cuda::stream_ref stream = default_stream(),
               hasher h = {})
      : table_{s, empty, zero(), where, stream, h} {}
  counting_map(sizing s, empty_key<Key> empty, max_count<Count> limit, backend where = default_backend(),
               cuda::stream_ref stream = default_stream(), hasher h = {})
      : table_{s, empty, zero(), where, stream, h}, limit_{checked(limit)}, saturating_{true} {}

  /// Adds 1 per occurrence of each key. Returns how many keys were new to the map; `outcomes`
  /// (optional) receives each key's insert_outcome (no_room: that occurrence was not counted).
  template <class KeyIt>
  std::size_t count(KeyIt first, KeyIt last, insert_outcome* outcomes = nullptr, cuda::stream_ref stream = default_stream()) {
    return add(first, last, detail::constant_iterator<Count>{Count{1}}, outcomes, stream);
  }
  template <class KeyIt>
  void count_async(KeyIt first, KeyIt last, insert_outcome* outcomes = nullptr, cuda::stream_ref stream = default_stream()) {
    add_async(first, last, detail::constant_iterator<Count>{Count{1}}, outcomes, stream);
  }

  /// Adds amounts[i] to the count of key i (weighted counting).
  template <class KeyIt, class CountIt>
  std::size_t add(KeyIt first, KeyIt last, CountIt amounts, insert_outcome* outcomes = nullptr,
                  cuda::stream_ref stream = default_stream()) {
    return accumulate(first, last, amounts, outcomes, detail::completion::wait, stream);
  }
  template <class KeyIt, class CountIt>
  void add_async(KeyIt first, KeyIt last, CountIt amounts, insert_outcome* outcomes = nullptr,
                 cuda::stream_ref stream = default_stream()) {
    accumulate(first, last, amounts, outcomes, detail::completion::enqueue, stream);
  }

  /// out[i] = the count of key i (0 when never seen). Returns how many keys were present.
  template <class KeyIt>
  std::size_t counts(KeyIt first, KeyIt last, Count* out, cuda::stream_ref stream = default_stream()) const {
    return table_.find(first, last, out, stream);
  }
  template <class KeyIt>
  void counts_async(KeyIt first, KeyIt last, Count* out, cuda::stream_ref stream = default_stream()) const {
    table_.find_async(first, last, out, stream);
  }

  /// Number of distinct keys seen at least `k` times.
  [[nodiscard]] std::size_t count_at_least(Count k, cuda::stream_ref stream = default_stream()) const {
    return table_.count_if(detail::count_at_least<Key, Count>{k}, stream);
  }
  /// Writes the keys seen at least `k` times and their counts (in no particular order; counts_out
  /// may be null). The outputs must hold count_at_least(k) entries. Returns the number written.
  std::size_t retrieve_at_least(Count k, Key* keys_out, Count* counts_out, cuda::stream_ref stream = default_stream()) const {
    return table_.retrieve_if(detail::count_at_least<Key, Count>{k}, keys_out, counts_out, stream);
  }
  /// Every (key, count) pair; the outputs must hold size() entries.
  std::size_t retrieve_all(Key* keys_out, Count* counts_out, cuda::stream_ref stream = default_stream()) const {
    return table_.retrieve_all(keys_out, counts_out, stream);
  }

  /// Number of distinct keys.
  [[nodiscard]] std::size_t size(cuda::stream_ref stream = default_stream()) const { return table_.size(stream); }
  [[nodiscard]] bool empty(cuda::stream_ref stream = default_stream()) const { return table_.empty(stream); }
  void clear(cuda::stream_ref stream = default_stream()) { table_.clear(stream); }
  void clear_async(cuda::stream_ref stream = default_stream()) { table_.clear_async(stream); }
  void rehash(std::size_t new_capacity, cuda::stream_ref stream = default_stream()) { table_.rehash(new_capacity, stream); }
  [[nodiscard]] table_status status(cuda::stream_ref stream = default_stream()) const { return table_.status(stream); }
  void clear_status(cuda::stream_ref stream = default_stream()) { table_.clear_status(stream); }
  [[nodiscard]] std::size_t capacity() const noexcept { return table_.capacity(); }
  [[nodiscard]] double load_factor(cuda::stream_ref stream = default_stream()) const { return table_.load_factor(stream); }
  [[nodiscard]] std::size_t memory_footprint() const noexcept { return table_.memory_footprint(); }
  [[nodiscard]] backend where() const noexcept { return table_.where(); }
  /// The saturation limit (the type's maximum when counts wrap around).
  [[nodiscard]] Count limit() const noexcept { return limit_; }
  [[nodiscard]] bool saturating() const noexcept { return saturating_; }

  [[nodiscard]] ref_type ref() const noexcept { return ref_type{table_.ref(), limit_, saturating_}; }

 private:
  static empty_value<Count> zero() noexcept { return empty_value<Count>{Count{0}}; }
  static Count checked(max_count<Count> limit) {
    if (!(limit.value >= Count{1})) { throw invalid_argument("max_count must be at least 1, got " + std::to_string(limit.value)); }
    return limit.value;
  }

  template <class KeyIt, class CountIt>
  std::size_t accumulate(KeyIt first, KeyIt last, CountIt amounts, insert_outcome* outcomes, detail::completion mode,
                         cuda::stream_ref stream) {
    auto run = [&](auto values, auto op) -> std::size_t {
      if (mode == detail::completion::wait) { return table_.insert_or_apply(first, last, values, op, outcomes, stream); }
      table_.insert_or_apply_async(first, last, values, op, outcomes, stream);
      return 0;
    };
    if (!saturating_) { return run(amounts, op::plus{}); }
    // Stage the amounts where the backend reads them, then clamp on the fly. The staging buffer is
    // freed stream-ordered, after the kernel that reads it.
    std::size_t const n = detail::checked_distance(first, last);
    auto staged = detail::make_input(where(), amounts, n, "add: amounts", stream);
    return run(detail::clamp_iterator<decltype(staged.get()), Count>{staged.get(), limit_}, op::saturating_plus<Count>{limit_});
  }

  table_type table_;
  Count limit_ = std::numeric_limits<Count>::max();
  bool saturating_ = false;
};

}  // namespace warp
