// warp/hash_set.cuh: an owning hash set of 4-, 8- or 16-byte keys, on the GPU or the host.
//
// Key-only slots (a u32 set stores 4 bytes per slot) on the same owning table, engine, bulk paths,
// rehash, status and error model as single_value_map. Calls without `_async` wait for their work;
// `_async` calls only enqueue it on `stream`.
//
//   warp::hash_set<std::uint64_t> set{warp::sizing{n, 0.8}, warp::empty_key{~0ull}, warp::erased_key{~0ull - 1}};
//   std::size_t added = set.insert(keys, keys + n);   // host or device arrays, or iterators
//   set.contains(queries, queries + m, flags);
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda/stream_ref>

#include <warp/core/memory_resource.cuh>
#include <warp/core/sentinels.cuh>
#include <warp/detail/iterators.cuh>
#include <warp/detail/open_addressing/table.cuh>
#include <warp/detail/open_addressing/table_members.cuh>
#include <warp/hash_set_ref.cuh>
#include <warp/probing.cuh>

namespace warp {

namespace detail {
/// Adapts a user's f(key) to the table's f(key, value) (kernel arguments cannot be private types).
template <class Key, class F>
struct key_visitor {
  F f;
  WARP_HD void operator()(Key const& k, no_value) const { f(k); }
};
}  // namespace detail

template <class Key, class Probing = linear_probing<4, 2>>
class hash_set : public detail::table_members<hash_set<Key, Probing>>,
                 public detail::erase_members<hash_set<Key, Probing>>,
                 public detail::contains_members<hash_set<Key, Probing>>,
                 public detail::rehash_members<hash_set<Key, Probing>, detail::merge_duplicates> {
  using table_type = detail::open_addressing_table<Key, detail::no_value, Probing>;

 public:
  using key_type = Key;
  using value_type = Key;
  using probing_scheme = Probing;
  using ref_type = hash_set_ref<Key, Probing>;
  using mutable_ref_type = hash_set_mutable_ref<Key, Probing>;
  using hasher = typename table_type::hasher;
  static constexpr int tile_size = Probing::tile_size;

  /// A set with room for at least `capacity` keys. Without an erased_key it supports everything
  /// but erase. `memory`: see core/memory_resource.cuh.
  hash_set(std::size_t capacity, empty_key<Key> empty, backend where = default_backend(),
           cuda::stream_ref stream = default_stream(), hasher h = {}, memory_resource* memory = nullptr)
      : table_{capacity, empty.value, {}, empty.value, false, where, stream, h, memory} {}
  hash_set(std::size_t capacity, empty_key<Key> empty, erased_key<Key> erased, backend where = default_backend(),
           cuda::stream_ref stream = default_stream(), hasher h = {}, memory_resource* memory = nullptr)
      : table_{capacity, empty.value, {}, erased.value, true, where, stream, h, memory} {}
  hash_set(sizing s, empty_key<Key> empty, backend where = default_backend(), cuda::stream_ref stream = default_stream(),
           hasher h = {}, memory_resource* memory = nullptr)
      : hash_set(detail::capacity_for(s), empty, where, stream, h, memory) {}
  hash_set(sizing s, empty_key<Key> empty, erased_key<Key> erased, backend where = default_backend(),
           cuda::stream_ref stream = default_stream(), hasher h = {}, memory_resource* memory = nullptr)
      : hash_set(detail::capacity_for(s), empty, erased, where, stream, h, memory) {}

  /// Inserts the keys not present yet; returns how many were new. `outcomes` (optional, last -
  /// first entries) receives each key's insert_outcome; of duplicates within one call exactly one
  /// reports inserted (which one is unspecified).
  template <class KeyIt>
  std::size_t insert(KeyIt first, KeyIt last, insert_outcome* outcomes = nullptr,
                     cuda::stream_ref stream = default_stream()) {
    auto const scope = table_.activate();
    return table_.upsert("insert", first, last, nothing(), outcomes, detail::keep_existing{}, detail::completion::wait,
                         stream);
  }
  /// `inserted` (optional, host or device memory): receives the number of new keys, stream-ordered.
  template <class KeyIt>
  void insert_async(KeyIt first, KeyIt last, insert_outcome* outcomes = nullptr, cuda::stream_ref stream = default_stream(),
                    std::uint64_t* inserted = nullptr) {
    auto const scope = table_.activate();
    table_.upsert("insert", first, last, nothing(), outcomes, detail::keep_existing{}, detail::completion::enqueue, stream,
                  detail::count_sink{inserted});
  }

  // contains, erase, tombstones and rehash come from the member mixins.

  /// Copies every key (in no particular order) to `out`, which holds `capacity` entries (checked
  /// first). Returns the number written.
  std::size_t retrieve_all(Key* out, std::size_t capacity, cuda::stream_ref stream = default_stream()) const {
    auto const scope = table_.activate();
    return table_.retrieve_if("retrieve_all", detail::keep_all{}, out, nullptr, capacity, stream);
  }
  /// Unchecked form: `out` must hold size() entries.
  std::size_t retrieve_all(Key* out, cuda::stream_ref stream = default_stream()) const {
    return retrieve_all(out, ~std::size_t{0}, stream);
  }
  /// Calls f(key) for every key, on the set's backend and concurrently from its threads (see
  /// single_value_map::for_each). Returns the number of keys visited.
  template <class F>
  std::size_t for_each(F f, cuda::stream_ref stream = default_stream()) const {
    auto const scope = table_.activate();
    return table_.for_each(detail::key_visitor<Key, F>{f}, stream);
  }

  [[nodiscard]] Key empty_key_sentinel() const noexcept { return table_.engine().empty_key(); }
  [[nodiscard]] Key erased_key_sentinel() const {
    if (!table_.has_erased()) { throw logic_error("this set was constructed without an erased_key sentinel"); }
    return table_.engine().erased_key();
  }

  [[nodiscard]] ref_type ref() const noexcept { return ref_type{table_.engine()}; }
  [[nodiscard]] mutable_ref_type mutable_ref() noexcept { return mutable_ref_type{table_.engine()}; }

 private:
  friend struct detail::table_access;
  static detail::constant_iterator<detail::no_value> nothing() noexcept { return {}; }

  table_type table_;
};

}  // namespace warp
