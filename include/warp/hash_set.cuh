// warp/hash_set.cuh: an owning hash set of 4-, 8- or 16-byte keys, on the GPU or the host.
//
// The same table as single_value_map, with key-only slots (a u32 set stores 4 bytes per slot): it
// is a single_value_map<Key, no_value> underneath, so the engine, the bulk paths, rehash, the
// status and the error model are the map's.
//
//   warp::hash_set<std::uint64_t> set{warp::sizing{n, 0.8}, warp::empty_key{~0ull}, warp::erased_key{~0ull - 1}};
//   std::size_t added = set.insert(keys, keys + n);   // host or device arrays, or iterators
//   set.contains(queries, queries + m, flags);
#pragma once

#include <cstddef>

#include <cuda/stream_ref>

#include <warp/core/iterators.cuh>
#include <warp/hash_set_ref.cuh>
#include <warp/single_value_map.cuh>

namespace warp {

namespace detail {
/// Adapts a user's f(key) to the map's f(key, value) (kernel arguments cannot be private types).
template <class Key, class F>
struct key_visitor {
  F f;
  WARP_HD void operator()(Key const& k, no_value) const { f(k); }
};
}  // namespace detail

template <class Key, class Probing = linear_probing<4, 2>>
class hash_set {
  using table_type = single_value_map<Key, detail::no_value, Probing>;

 public:
  using key_type = Key;
  using value_type = Key;
  using probing_scheme = Probing;
  using ref_type = hash_set_ref<Key, Probing>;
  using hasher = typename table_type::hasher;
  static constexpr int tile_size = Probing::tile_size;

  /// A set with room for at least `capacity` keys. Without an erased_key it supports everything
  /// but erase.
  hash_set(std::size_t capacity, empty_key<Key> empty, backend where = default_backend(),
           cuda::stream_ref stream = default_stream(), hasher h = {})
      : table_{capacity, empty, none(), where, stream, h} {}
  hash_set(std::size_t capacity, empty_key<Key> empty, erased_key<Key> erased, backend where = default_backend(),
           cuda::stream_ref stream = default_stream(), hasher h = {})
      : table_{capacity, empty, none(), erased, where, stream, h} {}
  hash_set(sizing s, empty_key<Key> empty, backend where = default_backend(), cuda::stream_ref stream = default_stream(),
           hasher h = {})
      : table_{s, empty, none(), where, stream, h} {}
  hash_set(sizing s, empty_key<Key> empty, erased_key<Key> erased, backend where = default_backend(),
           cuda::stream_ref stream = default_stream(), hasher h = {})
      : table_{s, empty, none(), erased, where, stream, h} {}

  /// Inserts the keys not present yet; returns how many were new. `outcomes` (optional, last -
  /// first entries) receives each key's insert_outcome.
  template <class KeyIt>
  std::size_t insert(KeyIt first, KeyIt last, insert_outcome* outcomes = nullptr,
                     cuda::stream_ref stream = default_stream()) {
    return table_.insert(first, last, nothing(), outcomes, stream);
  }
  template <class KeyIt>
  void insert_async(KeyIt first, KeyIt last, insert_outcome* outcomes = nullptr, cuda::stream_ref stream = default_stream()) {
    table_.insert_async(first, last, nothing(), outcomes, stream);
  }

  /// out[i] = whether key i is in the set. Returns how many were.
  template <class KeyIt>
  std::size_t contains(KeyIt first, KeyIt last, bool* out, cuda::stream_ref stream = default_stream()) const {
    return table_.contains(first, last, out, stream);
  }
  template <class KeyIt>
  void contains_async(KeyIt first, KeyIt last, bool* out, cuda::stream_ref stream = default_stream()) const {
    table_.contains_async(first, last, out, stream);
  }

  /// Erases the given keys (absent ones are ignored); returns how many were erased. Tombstones are
  /// cleaned by an automatic rehash as in single_value_map::erase.
  template <class KeyIt>
  std::size_t erase(KeyIt first, KeyIt last, cuda::stream_ref stream = default_stream()) {
    return table_.erase(first, last, stream);
  }
  template <class KeyIt>
  void erase_async(KeyIt first, KeyIt last, cuda::stream_ref stream = default_stream()) {
    table_.erase_async(first, last, stream);
  }

  [[nodiscard]] std::size_t size(cuda::stream_ref stream = default_stream()) const { return table_.size(stream); }
  [[nodiscard]] bool empty(cuda::stream_ref stream = default_stream()) const { return table_.empty(stream); }
  [[nodiscard]] std::size_t tombstones(cuda::stream_ref stream = default_stream()) const { return table_.tombstones(stream); }
  void clear(cuda::stream_ref stream = default_stream()) { table_.clear(stream); }
  void clear_async(cuda::stream_ref stream = default_stream()) { table_.clear_async(stream); }

  /// Copies every key (in no particular order) to `out`, which must hold size() entries.
  std::size_t retrieve_all(Key* out, cuda::stream_ref stream = default_stream()) const {
    return table_.retrieve_all(out, nullptr, stream);
  }
  /// Calls f(key) for every key, on the set's backend. Returns the number of keys visited.
  template <class F>
  std::size_t for_each(F f, cuda::stream_ref stream = default_stream()) const {
    return table_.for_each(detail::key_visitor<Key, F>{f}, stream);
  }

  void rehash(std::size_t new_capacity, cuda::stream_ref stream = default_stream()) { table_.rehash(new_capacity, stream); }
  void rehash(cuda::stream_ref stream = default_stream()) { table_.rehash(stream); }

  [[nodiscard]] table_status status(cuda::stream_ref stream = default_stream()) const { return table_.status(stream); }
  void clear_status(cuda::stream_ref stream = default_stream()) { table_.clear_status(stream); }
  [[nodiscard]] std::size_t capacity() const noexcept { return table_.capacity(); }
  [[nodiscard]] double load_factor(cuda::stream_ref stream = default_stream()) const { return table_.load_factor(stream); }
  [[nodiscard]] std::size_t memory_footprint() const noexcept { return table_.memory_footprint(); }
  [[nodiscard]] backend where() const noexcept { return table_.where(); }
  [[nodiscard]] Key empty_key_sentinel() const noexcept { return table_.empty_key_sentinel(); }
  [[nodiscard]] Key erased_key_sentinel() const { return table_.erased_key_sentinel(); }

  [[nodiscard]] ref_type ref() const noexcept { return ref_type{table_.ref()}; }

 private:
  static empty_value<detail::no_value> none() noexcept { return empty_value<detail::no_value>{detail::no_value{}}; }
  static detail::constant_iterator<detail::no_value> nothing() noexcept { return {}; }

  table_type table_;
};

}  // namespace warp
