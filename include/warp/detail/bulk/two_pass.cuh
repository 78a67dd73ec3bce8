// warp/detail/bulk/two_pass.cuh: the host side of the two-pass retrieve that every
// multi-value container offers (multi_value_map, bucket_list_map, frozen_multimap):
//   pass 1: counts[i] = number of values of key i          (a per-key functor)
//   scan:   offsets = exclusive prefix sum of counts        (CUB on the device), offsets[n] = total
//   pass 2: the values of key i go to out[offsets[i] ..)    (a per-key functor)
// Counts and offsets are 64-bit. The total is checked against the caller's output capacity before
// anything is written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <cuda/stream_ref>

#include <warp/core/error.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>
#include <warp/detail/scan.cuh>
#include <warp/detail/backend/cuda.cuh>
#include <warp/detail/bulk/driver.cuh>

namespace warp::detail {

/// Per-key counts and their exclusive scan, in the backend's memory.
struct counted_keys {
  buffer<std::uint64_t> counts;
  buffer<std::uint64_t> offsets;
  std::uint64_t total = 0;
};

/// Pass 1 and the scan. make_count(keys, counts) -> per-key functor writing counts[i].
template <int TileSize, class KeyPtr, class MakeCount>
counted_keys count_and_scan(executor const& ex, KeyPtr keys, std::size_t n, MakeCount const& make_count) {
  counted_keys c{buffer<std::uint64_t>{ex.where, n + 1, ex.stream, ex.memory},
                 buffer<std::uint64_t>{ex.where, n + 1, ex.stream, ex.memory}, 0};
  if (n != 0) { for_each_item<TileSize>(ex, n, make_count(keys, c.counts.data())); }
  exclusive_scan(ex.where, c.counts.data(), c.offsets.data(), n, ex.stream, ex.memory);
  copy_bytes(ex.where, &c.total, c.offsets.data() + n, sizeof(c.total), ex.stream);
  synchronize(ex.where, ex.stream);
  return c;
}

/// count(): the total, and the per-key counts copied to `counts_out` when it is not null.
template <int TileSize, class KeyIt, class MakeCount>
std::uint64_t count_values(executor const& ex, KeyIt first, KeyIt last, std::uint64_t* counts_out,
                           MakeCount const& make_count) {
  std::size_t const n = checked_distance(first, last);
  auto keys = make_input(ex, first, n, "count: keys");
  counted_keys const c = count_and_scan<TileSize>(ex, keys.get(), n, make_count);
  if (counts_out != nullptr) {
    output_view<std::uint64_t> out{ex.where, counts_out, n, "count: counts output", ex.stream, ex.memory};
    copy_bytes(ex.where, out.get(), c.counts.data(), n * sizeof(std::uint64_t), ex.stream);
    out.finish(ex.stream);
    synchronize(ex.where, ex.stream);
  }
  return c.total;
}

/// retrieve(): both passes. make_write(keys, offsets, out) -> per-key functor writing key i's
/// values from out + offsets[i]. offsets_out (n + 1 entries) may be null.
template <int TileSize, class Value, class KeyIt, class MakeCount, class MakeWrite>
std::uint64_t retrieve_values(executor const& ex, KeyIt first, KeyIt last, std::uint64_t* offsets_out, Value* values_out,
                              std::uint64_t values_capacity, MakeCount const& make_count, MakeWrite const& make_write) {
  std::size_t const n = checked_distance(first, last);
  auto keys = make_input(ex, first, n, "retrieve: keys");
  counted_keys const c = count_and_scan<TileSize>(ex, keys.get(), n, make_count);
  if (c.total > values_capacity) {
    throw invalid_argument("retrieve: the keys have " + std::to_string(c.total) + " values but the output holds " +
                           std::to_string(values_capacity));
  }
  output_view<Value> values{ex.where, values_out, static_cast<std::size_t>(c.total), "retrieve: values output", ex.stream,
                            ex.memory};
  if (c.total != 0) { for_each_item<TileSize>(ex, n, make_write(keys.get(), c.offsets.data(), values.get())); }
  values.finish(ex.stream);
  if (offsets_out != nullptr) {
    output_view<std::uint64_t> out{ex.where, offsets_out, n + 1, "retrieve: offsets output", ex.stream, ex.memory};
    copy_bytes(ex.where, out.get(), c.offsets.data(), (n + 1) * sizeof(std::uint64_t), ex.stream);
    out.finish(ex.stream);
  }
  synchronize(ex.where, ex.stream);
  return c.total;
}

/// The count() and retrieve() of a multi-value container, written once. Derived provides
/// lookup_scope() (its device scope), lookup_executor(stream), counter() (keys, counts) -> per-key
/// counting functor, and writer() (keys, offsets, out) -> per-key writing functor. Both
/// synchronise; neither mutates the container.
template <class Derived, class Key, class Value, int TileSize>
class two_pass_lookups {
 public:
  /// counts[i] = number of values of key i (counts may be null). Returns the sum.
  template <class KeyIt>
  std::uint64_t count(KeyIt first, KeyIt last, std::uint64_t* counts = nullptr,
                      cuda::stream_ref stream = default_stream()) const {
    Derived const& self = static_cast<Derived const&>(*this);
    auto const scope = self.lookup_scope();
    return count_values<TileSize>(self.lookup_executor(stream), first, last, counts, self.counter());
  }

  /// The two-pass retrieve: counts every key's values, turns the counts into offsets (exclusive
  /// scan, offsets[n] = total), then writes the values of key i to values_out[offsets[i] ..
  /// offsets[i + 1]). offsets_out holds n + 1 entries (may be null); values_out must hold the total,
  /// which must not exceed `values_capacity` (checked before anything is written). Returns the total.
  template <class KeyIt>
  std::uint64_t retrieve(KeyIt first, KeyIt last, std::uint64_t* offsets_out, Value* values_out,
                         std::uint64_t values_capacity, cuda::stream_ref stream = default_stream()) const {
    Derived const& self = static_cast<Derived const&>(*this);
    auto const scope = self.lookup_scope();
    return retrieve_values<TileSize>(self.lookup_executor(stream), first, last, offsets_out, values_out,
                                     values_capacity, self.counter(), self.writer());
  }
};

}  // namespace warp::detail
