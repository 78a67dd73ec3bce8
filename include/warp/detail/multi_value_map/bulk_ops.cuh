// warp/detail/multi_value_map/bulk_ops.cuh: the per-item functors of multi_value_map's bulk
// calls (insert with the options, and the two passes of count/retrieve), over multi_probe.
#pragma once

#include <cstddef>
#include <cstdint>

#include <warp/core/config.cuh>
#include <warp/core/outcome.cuh>
#include <warp/detail/atomic.cuh>
#include <warp/detail/open_addressing/bulk_ops.cuh>
#include <warp/detail/open_addressing/multi_probe.cuh>

namespace warp::detail {

/// The options of an insert as the device sees them.
struct multi_insert_policy {
  bool unique_pairs;
  std::uint64_t cap;
  unsigned long long* dropped;  // counts over_cap pairs

  template <class Probe, class Tile, class Key, class Value>
  WARP_HD insert_outcome insert(Probe const& probe, Tile const& tile, Key const& k, Value const& v) const noexcept {
    insert_outcome const o = probe.insert(tile, k, v, unique_pairs, cap);
    if (o == insert_outcome::over_cap && tile.thread_rank() == 0) { (void)atomic_add(dropped, 1ull); }
    return o;
  }
};

template <class Probe, class KeyIt, class ValueIt>
struct multi_insert_fn : keyed_items<typename Probe::engine_type, KeyIt> {
  ValueIt values;
  multi_insert_policy policy;
  insert_outcome* outcomes;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    insert_outcome const o = policy.insert(Probe{this->engine}, tile, this->key(i), values[i]);
    if (outcomes != nullptr && tile.thread_rank() == 0) { outcomes[i] = o; }
    return o == insert_outcome::inserted ? 1u : 0u;
  }
};

template <class Probe, class KeyIt>
struct multi_count_fn : keyed_items<typename Probe::engine_type, KeyIt> {
  std::uint64_t* counts;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    std::uint64_t const c = Probe{this->engine}.template count<slot_reads::read_only>(tile, this->key(i));
    if (tile.thread_rank() == 0) { counts[i] = c; }
    return 0;
  }
};

template <class Probe, class KeyIt>
struct multi_retrieve_fn : keyed_items<typename Probe::engine_type, KeyIt> {
  std::uint64_t const* offsets;
  typename Probe::Value* out;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    (void)Probe{this->engine}.template retrieve<slot_reads::read_only>(tile, this->key(i), out + offsets[i]);
    return 0;
  }
};

}  // namespace warp::detail
