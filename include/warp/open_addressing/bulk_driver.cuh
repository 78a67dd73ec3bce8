// warp/open_addressing/bulk_driver.cuh: the host side of every bulk call of every container.
//
// A bulk call takes caller ranges (keys, maybe values) and maybe an output array, makes them
// readable/writable by the container's backend (input_view / output_view), builds the per-item
// functor from bulk_ops.cuh, runs it through the executor, and either waits and returns a count
// or only enqueues the work (the `_async` twins). Containers describe *what* to run; this file
// is the one place that knows *how*.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>
#include <warp/core/executor.cuh>
#include <warp/core/memory.cuh>

namespace warp::detail {

enum class completion { wait, enqueue };

template <class It>
std::size_t checked_distance(It first, It last) {
  auto const d = std::distance(first, last);
  if (d < 0) { throw invalid_argument("input range has negative length " + std::to_string(static_cast<long long>(d))); }
  return static_cast<std::size_t>(d);
}

/// A caller's input range as the backend can read it (std::vector iterators become pointers; host
/// arrays are staged to the device on CUDA).
template <class It>
input_view<normalized_iterator_t<It>> make_input(backend b, It first, std::size_t n, std::string const& what,
                                                 cuda::stream_ref stream) {
  using normal = contiguous_pointer<It>;
  return input_view<typename normal::type>{b, normal::get(first), n, what.c_str(), stream};
}

/// Runs `fn` (built by make_fn from the readable inputs and writable output) over n items.
/// Returns the summed per-item counts when `mode` is wait, else 0.
template <int TileSize, class MakeFn>
std::uint64_t run_items(executor const& ex, std::size_t n, completion mode, MakeFn const& make_fn) {
  if (mode == completion::wait) { return count_items<TileSize>(ex, n, make_fn()); }
  for_each_item<TileSize>(ex, n, make_fn());
  return 0;
}

/// Bulk call over one key range and an optional output array of n entries:
///   make(keys, out) -> per-item functor.
template <int TileSize, class KeyIt, class Out, class Make>
std::uint64_t run_keyed(executor const& ex, std::string const& op, KeyIt first, KeyIt last, Out* out,
                        bool output_required, completion mode, Make const& make) {
  std::size_t const n = checked_distance(first, last);
  auto keys = make_input(ex.where, first, n, op + ": keys", ex.stream);
  output_view<Out> output{ex.where, out, (output_required || out != nullptr) ? n : 0, (op + ": output").c_str(), ex.stream};
  std::uint64_t const count = run_items<TileSize>(ex, n, mode, [&] { return make(keys.get(), out ? output.get() : nullptr); });
  output.finish(ex.stream);
  if (mode == completion::wait) { synchronize(ex.where, ex.stream); }
  return count;
}

/// Bulk call over a key range, a parallel value range and an optional output array:
///   make(keys, values, out) -> per-item functor.
template <int TileSize, class KeyIt, class ValueIt, class Out, class Make>
std::uint64_t run_keyed_pairs(executor const& ex, std::string const& op, KeyIt first, KeyIt last, ValueIt values,
                              Out* out, completion mode, Make const& make) {
  std::size_t const n = checked_distance(first, last);
  auto keys = make_input(ex.where, first, n, op + ": keys", ex.stream);
  auto vals = make_input(ex.where, values, n, op + ": values", ex.stream);
  output_view<Out> output{ex.where, out, out != nullptr ? n : 0, (op + ": outcomes").c_str(), ex.stream};
  std::uint64_t const count =
      run_items<TileSize>(ex, n, mode, [&] { return make(keys.get(), vals.get(), out ? output.get() : nullptr); });
  output.finish(ex.stream);
  if (mode == completion::wait) { synchronize(ex.where, ex.stream); }
  return count;
}

}  // namespace warp::detail
