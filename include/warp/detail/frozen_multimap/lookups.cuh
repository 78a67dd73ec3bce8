// warp/detail/frozen_multimap/lookups.cuh: the per-key functors of frozen_multimap's two-pass
// count/retrieve: key -> row through the row table, then the row's CSR range.
#pragma once

#include <cstddef>
#include <cstdint>

#include <warp/core/config.cuh>
#include <warp/detail/open_addressing/bulk_ops.cuh>
#include <warp/detail/open_addressing/slot.cuh>

namespace warp::detail {

template <class Engine, class KeyIt>
struct frozen_count_fn : keyed_items<Engine, KeyIt> {
  std::uint64_t const* row_offsets;
  std::uint64_t* counts;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    auto const r = this->engine.template find<slot_reads::read_only>(tile, this->key(i));
    if (tile.thread_rank() == 0) { counts[i] = r.found ? row_offsets[r.value + 1] - row_offsets[r.value] : 0; }
    return 0;
  }
};

template <class Engine, class KeyIt, class Value>
struct frozen_retrieve_fn : keyed_items<Engine, KeyIt> {
  std::uint64_t const* row_offsets;
  Value const* row_values;
  std::uint64_t const* offsets;
  Value* out;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    auto const r = this->engine.template find<slot_reads::read_only>(tile, this->key(i));
    if (!r.found) { return 0; }
    // The tile's lanes copy the row together.
    std::uint64_t const begin = row_offsets[r.value], end = row_offsets[r.value + 1];
    for (std::uint64_t j = begin + tile.thread_rank(); j < end; j += Tile::num_threads()) {
      out[offsets[i] + (j - begin)] = row_values[j];
    }
    return 0;
  }
};

}  // namespace warp::detail
