// warp/detail/open_addressing/bulk_ops.cuh: the per-item functions the bulk APIs run through the
// executor. Each is a small trivially copyable functor over an engine, so one set of bulk kernels
// (and OpenMP loops) serves every container built on the engine.
#pragma once

#include <cstddef>
#include <cstdint>

#include <warp/core/config.cuh>
#include <warp/detail/executor.cuh>
#include <warp/core/outcome.cuh>
#include <warp/detail/open_addressing/engine.cuh>
#include <warp/detail/open_addressing/multi_probe.cuh>

namespace warp::detail {

/// What every key-driven functor shares: the engine, the keys, and the prefetch the host loop
/// issues a few items ahead (see for_each_item).
template <class Engine, class KeyIt>
struct keyed_items {
  Engine engine;
  KeyIt keys;
  WARP_HD void prefetch(std::size_t i) const { engine.prefetch(keys[i]); }
  WARP_HD typename Engine::key_type key(std::size_t i) const {
    return static_cast<typename Engine::key_type>(keys[i]);
  }
};

template <class Engine, class KeyIt, class ValueIt, class OnPresent>
struct upsert_fn : keyed_items<Engine, KeyIt> {
  ValueIt values;
  OnPresent on_present;
  insert_outcome* outcomes;  // optional
  WARP_HD void prefetch(std::size_t i) const { this->engine.prefetch_for_insert(this->key(i)); }
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    typename Engine::value_type const v = values[i];
    insert_outcome const o = this->engine.upsert(tile, this->key(i), v, on_present);
    if (outcomes != nullptr && tile.thread_rank() == 0) { outcomes[i] = o; }
    return o == insert_outcome::inserted ? 1u : 0u;
  }
};

/// Bulk lookups (find, contains). On the device each item is one locate; the host loop drives
/// the staged form instead (start/resume, see probing_engine::start_lookup and
/// host::for_each_item), so that a walk leaving its prefetched lines waits in a queue, not on
/// memory. Derived::settle(i, result) writes item i's output and returns its count.
template <class Derived, class Engine, class KeyIt>
struct lookup_items : keyed_items<Engine, KeyIt> {
  using cursor_type = typename Engine::lookup_cursor;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    auto const r = this->engine.template find<slot_reads::read_only>(tile, this->key(i));
    if (tile.thread_rank() == 0) { derived().settle(i, r); }
    return r.found ? 1u : 0u;
  }
  bool start(std::size_t i, cursor_type& c, std::uint32_t& count) const {
    find_result<typename Engine::value_type> r;
    return this->engine.template start_lookup<slot_reads::read_only>(this->key(i), c, r) && settled(i, r, count);
  }
  bool resume(std::size_t i, cursor_type& c, std::uint32_t& count) const {
    find_result<typename Engine::value_type> r;
    return this->engine.template resume_lookup<slot_reads::read_only>(this->key(i), c, r) && settled(i, r, count);
  }

  // The miss filter's side of the staged loop (host::run_staged), for with_miss_filter tables.
  static constexpr bool filtered = Engine::filtered;
  bool filtering() const { return Engine::filtered && this->engine.filter() != nullptr; }
  using filter_position = typename Engine::filter_position;
  filter_position filter_spot(std::size_t i) const { return this->engine.filter_spot(this->key(i)); }
  void prefetch_filter(filter_position const& at) const { this->engine.prefetch_filter(at); }
  bool may_contain(filter_position const& at) const { return this->engine.may_contain(at); }
  /// Item i is absent (its filter bit is clear): its output, as a miss of find() writes it.
  void settle_absent(std::size_t i) const {
    derived().settle(i, find_result<typename Engine::value_type>{false, this->engine.empty_value()});
  }

 private:
  WARP_HD Derived const& derived() const { return static_cast<Derived const&>(*this); }
  bool settled(std::size_t i, find_result<typename Engine::value_type> const& r, std::uint32_t& count) const {
    derived().settle(i, r);
    count = r.found ? 1u : 0u;
    return true;
  }
};

template <class Engine, class KeyIt, class OutIt>
struct find_fn : lookup_items<find_fn<Engine, KeyIt, OutIt>, Engine, KeyIt> {
  OutIt out;
  WARP_HD void settle(std::size_t i, find_result<typename Engine::value_type> const& r) const { out[i] = r.value; }
};

template <class Engine, class KeyIt>
struct contains_fn : lookup_items<contains_fn<Engine, KeyIt>, Engine, KeyIt> {
  bool* out;
  WARP_HD void settle(std::size_t i, find_result<typename Engine::value_type> const& r) const { out[i] = r.found; }
};

/// Erase. Per key 1 when erased; with CountTombstones, also erase_tombstone_unit (2^32) when the
/// erase left a tombstone, so that the summed result holds both counts (callers keep a call below
/// 2^32 keys).
inline constexpr std::uint64_t erase_tombstone_unit = std::uint64_t{1} << 32;
template <class Engine, class KeyIt, bool CountTombstones = false>
struct erase_fn : keyed_items<Engine, KeyIt> {
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const& tile, std::size_t i) const {
    using result = typename Engine::erase_result;
    result const r = this->engine.erase_reporting(tile, this->key(i));
    if (r == result::absent) { return 0; }
    return CountTombstones && r == result::tombstone ? erase_tombstone_unit + 1 : 1;
  }
};

template <class Engine>
struct count_filled_fn {
  Engine engine;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const { return engine.is_filled(i) ? 1u : 0u; }
};

template <class Engine>
struct count_erased_fn {
  Engine engine;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const { return engine.is_erased(i) ? 1u : 0u; }
};

template <class Engine>
struct clear_fn {
  Engine engine;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    engine.slots()[i] = Engine::slot_type::make(engine.empty_key(), engine.empty_value());
    return 0;
  }
};

/// Predicate of retrieve_all: every stored pair.
struct keep_all {
  template <class K, class V>
  WARP_HD constexpr bool operator()(K const&, V const&) const noexcept { return true; }
};

/// Copies the stored pairs for which keep(key, value) holds to the output arrays, in no particular
/// order (values_out may be null: keys only).
template <class Engine, class Keep = keep_all>
struct retrieve_if_fn {
  Engine engine;
  typename Engine::key_type* keys_out;
  typename Engine::value_type* values_out;
  unsigned long long* position;
  Keep keep{};
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    if (!engine.is_filled(i)) { return 0; }
    auto const k = engine.load_key(i);
    auto const v = engine.load_value(i);
    if (!keep(k, v)) { return 0; }
    unsigned long long const p = claim_output_position(position);
    keys_out[p] = k;
    if (values_out != nullptr) { values_out[p] = v; }
    return 1;
  }
};

/// Counts the stored pairs for which keep(key, value) holds.
template <class Engine, class Keep>
struct count_if_fn {
  Engine engine;
  Keep keep;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    return engine.is_filled(i) && keep(engine.load_key(i), engine.load_value(i)) ? 1u : 0u;
  }
};

template <class Engine, class F>
struct for_each_fn {
  Engine engine;
  F f;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    if (!engine.is_filled(i)) { return 0; }
    f(engine.load_key(i), engine.load_value(i));
    return 1;
  }
};

/// Inserts every pair stored in `source` into `target` (rehash). Returns 1 per pair that found no
/// room. KeepDuplicates: every copy of a key is added again (multi-value tables); else keys stay
/// unique. on_move(old, new) learns where each key went (single-value tables only).
template <class Engine, bool KeepDuplicates, class OnMove>
struct reinsert_fn {
  Engine source;
  Engine target;
  OnMove on_move;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    if (!source.is_filled(i)) { return 0; }
    auto const key = source.load_key(i);
    if constexpr (KeepDuplicates) {
      static_assert(!OnMove::tracks, "multi-value tables keep no per-slot data");
      insert_outcome const o = multi_probe<Engine>{target}.insert(tile, key, source.load_value(i), false,
                                                                  ~std::uint64_t{0});
      return o == insert_outcome::no_room ? 1u : 0u;
    } else {
      insert_outcome const o = target.upsert(tile, key, source.load_value(i), keep_existing{});
      if (o == insert_outcome::no_room) { return 1u; }
      if constexpr (OnMove::tracks) { on_move(i, target.find_index(tile, key)); }
      return 0u;
    }
  }
};

}  // namespace warp::detail
