// warp/detail/open_addressing/table_members.cuh: the member functions containers on the owning
// table share, written once so that their names and semantics are the same everywhere.
//   table_members       every container: size, empty, clear, status, capacity, load_factor, ...
//   erase_members       containers with tombstones: erase, erase_async, tombstones
//   contains_members    contains, contains_async
//   rehash_members      rehash(n), rehash() with the container's duplicate-key policy
//   pair_members        retrieve_all into key and value arrays (checked and unchecked), for_each
// A container derives from the ones that fit, names its table `table_` and befriends
// detail::table_access; it hides a member only where its meaning differs (multi_value_map::clear
// also resets the dropped-value counter, for instance).
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/outcome.cuh>
#include <warp/detail/bulk/driver.cuh>
#include <warp/detail/open_addressing/bulk_ops.cuh>
#include <warp/detail/open_addressing/table.cuh>

namespace warp::detail {

/// The one door through which the member mixins reach a container's table.
struct table_access {
  template <class C>
  static auto const& table(C const& c) noexcept { return c.table_; }
  template <class C>
  static auto& table(C& c) noexcept { return c.table_; }
};

/// What every mixin needs: the container's table. `Id` tells the mixins apart, so that each one's
/// way down to Derived is unambiguous.
template <class Derived, int Id>
class mixin_base {
 protected:
  auto const& table() const noexcept { return table_access::table(static_cast<Derived const&>(*this)); }
  auto& table() noexcept { return table_access::table(static_cast<Derived&>(*this)); }
};

template <class Derived>
class table_members : public mixin_base<Derived, 0> {
  using mixin_base<Derived, 0>::table;

 public:
 public:
  /// Number of stored keys (multi-value tables: stored pairs). Counts the slots; synchronises.
  [[nodiscard]] std::size_t size(cuda::stream_ref stream = default_stream()) const {
    auto const scope = table().activate();
    return table().size(stream);
  }
  /// The same, written to `out` (host or device memory) without synchronising.
  void size_async(std::uint64_t* out, cuda::stream_ref stream = default_stream()) const {
    auto const scope = table().activate();
    table().size_async(out, stream);
  }
  [[nodiscard]] bool empty(cuda::stream_ref stream = default_stream()) const { return size(stream) == 0; }
  /// Removes everything and resets the sticky status; clear waits, clear_async only enqueues.
  void clear(cuda::stream_ref stream = default_stream()) {
    auto const scope = table().activate();
    table().clear(stream);
  }
  void clear_async(cuda::stream_ref stream = default_stream()) {
    auto const scope = table().activate();
    table().clear_async(stream);
  }
  /// Sticky error bits since construction or the last clear()/clear_status() (synchronises).
  [[nodiscard]] table_status status(cuda::stream_ref stream = default_stream()) const {
    auto const scope = table().activate();
    return table().status(stream);
  }
  void clear_status(cuda::stream_ref stream = default_stream()) {
    auto const scope = table().activate();
    table().clear_status(stream);
  }
  /// Slots in the table.
  [[nodiscard]] std::size_t capacity() const noexcept { return table().capacity(); }
  /// size() / capacity() (synchronises).
  [[nodiscard]] double load_factor(cuda::stream_ref stream = default_stream()) const {
    auto const scope = table().activate();
    return table().load_factor(stream);
  }
  /// Bytes of memory the container owns on its backend.
  [[nodiscard]] std::size_t memory_bytes() const noexcept { return table().memory_bytes(); }
  [[nodiscard]] backend where() const noexcept { return table().where(); }
  /// The CUDA device the container lives on (-1 on the host backend).
  [[nodiscard]] int device() const noexcept { return table().device(); }
  /// The hasher the container was built with.
  [[nodiscard]] auto hash_function() const noexcept { return table().engine().hash_function(); }
};

template <class Derived>
class erase_members : public mixin_base<Derived, 1> {
  using mixin_base<Derived, 1>::table;

 public:
  /// Erases the keys (absent ones are ignored; needs an erased_key). Returns how many were erased.
  /// When tombstones reach a quarter of the capacity the table is rehashed in place, so that
  /// lookups of absent keys do not slow down without bound.
  template <class KeyIt>
  std::size_t erase(KeyIt first, KeyIt last, cuda::stream_ref stream = default_stream()) {
    auto const scope = table().activate();
    return table().erase(first, last, completion::wait, stream);
  }
  /// Enqueues the erase (tombstones are not cleaned automatically: call rehash() when needed);
  /// `erased` (optional, host or device memory) receives the count, stream-ordered.
  template <class KeyIt>
  void erase_async(KeyIt first, KeyIt last, cuda::stream_ref stream = default_stream(), std::uint64_t* erased = nullptr) {
    auto const scope = table().activate();
    table().erase(first, last, completion::enqueue, stream, count_sink{erased});
  }
  /// Number of erased slots (tombstones) in the table.
  [[nodiscard]] std::size_t tombstones(cuda::stream_ref stream = default_stream()) const {
    auto const scope = table().activate();
    return table().tombstones(stream);
  }
};

template <class Derived>
class contains_members : public mixin_base<Derived, 2> {
  using mixin_base<Derived, 2>::table;

 public:
  /// out[i] = whether key i is present. Returns how many were.
  template <class KeyIt>
  std::size_t contains(KeyIt first, KeyIt last, bool* out, cuda::stream_ref stream = default_stream()) const {
    auto const scope = table().activate();
    return table().contains(first, last, out, completion::wait, stream);
  }
  /// `found` (optional, host or device memory): receives how many were present, stream-ordered.
  template <class KeyIt>
  void contains_async(KeyIt first, KeyIt last, bool* out, cuda::stream_ref stream = default_stream(),
                      std::uint64_t* found = nullptr) const {
    auto const scope = table().activate();
    table().contains(first, last, out, completion::enqueue, stream, count_sink{found});
  }
};

/// Policy: merge_duplicates (single-value tables) or keep_duplicates (multi-value tables).
template <class Derived, class Policy>
class rehash_members : public mixin_base<Derived, 3> {
  using mixin_base<Derived, 3>::table;

 public:
  /// Moves everything into a new table of at least `new_capacity` slots, dropping tombstones
  /// (a multi-value table keeps every pair, duplicates included). Throws, keeping the current
  /// table, when `new_capacity` cannot hold what is stored.
  void rehash(std::size_t new_capacity, cuda::stream_ref stream = default_stream()) {
    auto const scope = table().activate();
    table().rehash(new_capacity, Policy{}, stream);
  }
  /// Rehash into the same capacity (drops tombstones).
  void rehash(cuda::stream_ref stream = default_stream()) { rehash(table().capacity(), stream); }
};

template <class Derived, class Key, class Value>
class pair_members : public mixin_base<Derived, 4> {
  using mixin_base<Derived, 4>::table;

 public:
  /// Every stored pair (in no particular order) into the outputs, which hold `capacity` entries
  /// (checked before anything is written: the error names both numbers; values_out may be null).
  /// Returns the number written.
  std::size_t retrieve_all(Key* keys_out, Value* values_out, std::size_t capacity,
                           cuda::stream_ref stream = default_stream()) const {
    auto const scope = table().activate();
    return table().retrieve_if("retrieve_all", keep_all{}, keys_out, values_out, capacity, stream);
  }
  /// Unchecked form: the outputs must hold size() entries.
  std::size_t retrieve_all(Key* keys_out, Value* values_out, cuda::stream_ref stream = default_stream()) const {
    return retrieve_all(keys_out, values_out, ~std::size_t{0}, stream);
  }
  /// Calls f(key, value) for every stored pair, on the container's backend and concurrently from
  /// its threads: in a CUDA kernel (f must be __device__ or __host__ __device__) or on OpenMP
  /// threads (f must be thread-safe). Returns the number of pairs visited.
  template <class F>
  std::size_t for_each(F f, cuda::stream_ref stream = default_stream()) const {
    auto const scope = table().activate();
    return table().for_each(f, stream);
  }
};

}  // namespace warp::detail
