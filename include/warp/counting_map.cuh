// warp/counting_map.cuh: counts occurrences of keys (k-mers, features, items), on the GPU or the
// host. On the owning open-addressing table with Count values, driven by insert_or_apply: each
// occurrence adds 1 with one hardware atomic add, or, with a saturation limit, a compare-and-swap
// that clamps at the limit. An absent key has count 0. A stored key is always found, whatever its
// count (a key added with amount 0 has count 0 and is present).
//
//   warp::counting_map<std::uint64_t> counts{warp::sizing{distinct, 0.8}, warp::empty_key{~0ull}};
//   counts.increment(kmers, kmers + n);                     // every occurrence adds 1
//   counts.count(queries, queries + q, out);                // looks up (never mutates)
//   std::size_t frequent = counts.count_at_least(10);
//   counts.retrieve_at_least(10, keys_out, counts_out, capacity);   // keys seen at least 10 times
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include <cuda/stream_ref>

#include <warp/core/functional.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/core/sentinels.cuh>
#include <warp/counting_map_ref.cuh>
#include <warp/detail/iterators.cuh>
#include <warp/detail/open_addressing/table.cuh>
#include <warp/detail/open_addressing/table_members.cuh>
#include <warp/probing.cuh>

namespace warp {

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
class counting_map : public detail::table_members<counting_map<Key, Count, Probing>>,
                     public detail::erase_members<counting_map<Key, Count, Probing>>,
                     public detail::contains_members<counting_map<Key, Count, Probing>>,
                     public detail::rehash_members<counting_map<Key, Count, Probing>, detail::merge_duplicates>,
                     public detail::pair_members<counting_map<Key, Count, Probing>, Key, Count> {
  static_assert(std::is_arithmetic_v<Count> && (sizeof(Count) == 4 || sizeof(Count) == 8),
                "counts must be 4- or 8-byte arithmetic types");
  using table_type = detail::open_addressing_table<Key, Count, Probing>;

 public:
  using key_type = Key;
  using count_type = Count;
  using probing_scheme = Probing;
  using ref_type = counting_map_ref<Key, Count, Probing>;
  using mutable_ref_type = counting_map_mutable_ref<Key, Count, Probing>;
  using hasher = typename table_type::hasher;
  static constexpr int tile_size = Probing::tile_size;

  /// Counts wrap around at the type's maximum unless a max_count is given; erase needs an erased_key.
  counting_map(std::size_t capacity, empty_key<Key> empty, backend where = default_backend(),
               cuda::stream_ref stream = default_stream(), hasher h = {}, memory_resource* memory = nullptr)
      : table_{capacity, empty.value, Count{0}, empty.value, false, where, stream, h, memory} {}
  counting_map(std::size_t capacity, empty_key<Key> empty, max_count<Count> limit, backend where = default_backend(),
               cuda::stream_ref stream = default_stream(), hasher h = {}, memory_resource* memory = nullptr)
      : table_{capacity, empty.value, Count{0}, empty.value, false, where, stream, h, memory},
        limit_{checked(limit)},
        saturating_{true} {}
  counting_map(std::size_t capacity, empty_key<Key> empty, erased_key<Key> erased, backend where = default_backend(),
               cuda::stream_ref stream = default_stream(), hasher h = {}, memory_resource* memory = nullptr)
      : table_{capacity, empty.value, Count{0}, erased.value, true, where, stream, h, memory} {}
  counting_map(std::size_t capacity, empty_key<Key> empty, erased_key<Key> erased, max_count<Count> limit,
               backend where = default_backend(), cuda::stream_ref stream = default_stream(), hasher h = {},
               memory_resource* memory = nullptr)
      : table_{capacity, empty.value, Count{0}, erased.value, true, where, stream, h, memory},
        limit_{checked(limit)},
        saturating_{true} {}
  counting_map(sizing s, empty_key<Key> empty, backend where = default_backend(), cuda::stream_ref stream = default_stream(),
               hasher h = {}, memory_resource* memory = nullptr)
      : counting_map(detail::capacity_for(s), empty, where, stream, h, memory) {}
  counting_map(sizing s, empty_key<Key> empty, max_count<Count> limit, backend where = default_backend(),
               cuda::stream_ref stream = default_stream(), hasher h = {}, memory_resource* memory = nullptr)
      : counting_map(detail::capacity_for(s), empty, limit, where, stream, h, memory) {}
  counting_map(sizing s, empty_key<Key> empty, erased_key<Key> erased, backend where = default_backend(),
               cuda::stream_ref stream = default_stream(), hasher h = {}, memory_resource* memory = nullptr)
      : counting_map(detail::capacity_for(s), empty, erased, where, stream, h, memory) {}
  counting_map(sizing s, empty_key<Key> empty, erased_key<Key> erased, max_count<Count> limit,
               backend where = default_backend(), cuda::stream_ref stream = default_stream(), hasher h = {},
               memory_resource* memory = nullptr)
      : counting_map(detail::capacity_for(s), empty, erased, limit, where, stream, h, memory) {}

  // ---- counting (mutates) ----------------------------------------------------------------------

  /// Adds 1 per occurrence of each key. Returns how many keys were new to the map; `outcomes`
  /// (optional) receives each key's insert_outcome (no_room: that occurrence was not counted).
  template <class KeyIt>
  std::size_t increment(KeyIt first, KeyIt last, insert_outcome* outcomes = nullptr,
                        cuda::stream_ref stream = default_stream()) {
    return add(first, last, detail::constant_iterator<Count>{Count{1}}, outcomes, stream);
  }
  /// `inserted` (optional, host or device memory): receives the number of new keys, stream-ordered.
  template <class KeyIt>
  void increment_async(KeyIt first, KeyIt last, insert_outcome* outcomes = nullptr,
                       cuda::stream_ref stream = default_stream(), std::uint64_t* inserted = nullptr) {
    add_async(first, last, detail::constant_iterator<Count>{Count{1}}, outcomes, stream, inserted);
  }

  /// Adds amounts[i] to the count of key i (weighted counting).
  template <class KeyIt, class CountIt>
  std::size_t add(KeyIt first, KeyIt last, CountIt amounts, insert_outcome* outcomes = nullptr,
                  cuda::stream_ref stream = default_stream()) {
    auto const scope = table_.activate();
    return accumulate(first, last, amounts, outcomes, detail::completion::wait, stream, {});
  }
  template <class KeyIt, class CountIt>
  void add_async(KeyIt first, KeyIt last, CountIt amounts, insert_outcome* outcomes = nullptr,
                 cuda::stream_ref stream = default_stream(), std::uint64_t* inserted = nullptr) {
    auto const scope = table_.activate();
    accumulate(first, last, amounts, outcomes, detail::completion::enqueue, stream, detail::count_sink{inserted});
  }

  // ---- lookups (never mutate) ------------------------------------------------------------------

  /// out[i] = the count of key i (0 when never seen). Returns how many keys were present.
  template <class KeyIt>
  std::size_t count(KeyIt first, KeyIt last, Count* out, cuda::stream_ref stream = default_stream()) const {
    auto const scope = table_.activate();
    return table_.find(first, last, out, detail::completion::wait, stream);
  }
  template <class KeyIt>
  void count_async(KeyIt first, KeyIt last, Count* out, cuda::stream_ref stream = default_stream(),
                   std::uint64_t* found = nullptr) const {
    auto const scope = table_.activate();
    table_.find(first, last, out, detail::completion::enqueue, stream, detail::count_sink{found});
  }

  /// Number of distinct keys seen at least `k` times.
  [[nodiscard]] std::size_t count_at_least(Count k, cuda::stream_ref stream = default_stream()) const {
    auto const scope = table_.activate();
    return table_.count_if(detail::count_at_least<Key, Count>{k}, stream);
  }
  /// Writes the keys seen at least `k` times and their counts (in no particular order; counts_out
  /// may be null). The outputs hold `capacity` entries (checked first). Returns the number written.
  std::size_t retrieve_at_least(Count k, Key* keys_out, Count* counts_out, std::size_t capacity,
                                cuda::stream_ref stream = default_stream()) const {
    auto const scope = table_.activate();
    return table_.retrieve_if("retrieve_at_least", detail::count_at_least<Key, Count>{k}, keys_out, counts_out, capacity,
                              stream);
  }
  /// Unchecked form: the outputs must hold count_at_least(k) entries.
  std::size_t retrieve_at_least(Count k, Key* keys_out, Count* counts_out, cuda::stream_ref stream = default_stream()) const {
    return retrieve_at_least(k, keys_out, counts_out, ~std::size_t{0}, stream);
  }
  // erase, contains, tombstones, rehash, retrieve_all (key, count) and for_each (key, count)
  // come from the member mixins.

  /// The saturation limit (the type's maximum when counts wrap around).
  [[nodiscard]] Count limit() const noexcept { return limit_; }
  [[nodiscard]] bool saturating() const noexcept { return saturating_; }
  [[nodiscard]] Key empty_key_sentinel() const noexcept { return table_.engine().empty_key(); }

  [[nodiscard]] ref_type ref() const noexcept { return ref_type{table_.engine()}; }
  [[nodiscard]] mutable_ref_type mutable_ref() noexcept { return mutable_ref_type{table_.engine(), limit_, saturating_}; }

 private:
  friend struct detail::table_access;

  static Count checked(max_count<Count> limit) {
    if (!(limit.value >= Count{1})) { throw invalid_argument("max_count must be at least 1, got " + std::to_string(limit.value)); }
    return limit.value;
  }

  template <class KeyIt, class CountIt>
  std::size_t accumulate(KeyIt first, KeyIt last, CountIt amounts, insert_outcome* outcomes, detail::completion mode,
                         cuda::stream_ref stream, detail::count_sink sink) {
    if (!saturating_) {
      return table_.upsert("add", first, last, amounts, outcomes, detail::apply_op<op::plus>{}, mode, stream, sink);
    }
    // Stage the amounts where the backend reads them, then clamp on the fly. The staging buffer is
    // freed stream-ordered, after the kernel that reads it.
    std::size_t const n = detail::checked_distance(first, last);
    auto staged = detail::make_input(table_.on(stream), amounts, n, "add: amounts");
    return table_.upsert("add", first, last, detail::clamp_iterator<decltype(staged.get()), Count>{staged.get(), limit_},
                         outcomes, detail::apply_op<op::saturating_plus<Count>>{op::saturating_plus<Count>{limit_}}, mode,
                         stream, sink);
  }

  table_type table_;
  Count limit_ = std::numeric_limits<Count>::max();
  bool saturating_ = false;
};

}  // namespace warp
