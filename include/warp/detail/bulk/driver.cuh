// warp/detail/bulk/driver.cuh: the host side of every bulk call of every container.
//
// A bulk call takes caller ranges (keys, maybe values) and maybe an output array, makes them
// readable/writable by the container's backend (input_view / output_view), builds the per-item
// functor, runs it through the executor, and either waits and returns a count or only enqueues the
// work (the `_async` twins), writing the count to caller memory when asked. Containers describe
// *what* to run; this file is the one place that knows *how*. Empty ranges of any iterator type
// are a no-op that never dereferences them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>

namespace warp::detail {

/// How a bulk call ends: `wait` synchronises and returns the count; `enqueue` returns at once
/// (stream-ordered on CUDA) and writes the count to `count_out` when that is not null.
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
input_view<normalized_iterator_t<It>> make_input(executor const& ex, It first, std::size_t n, array_label what) {
  using normal = contiguous_pointer<It>;
  return input_view<typename normal::type>{ex.where, normal::get(first, n), n, what, ex.stream, ex.memory};
}

/// Where an `_async` call writes its count: the caller's std::uint64_t (host or device memory), or nowhere.
struct count_sink {
  std::uint64_t* user = nullptr;
};

/// Runs `fn` (built by make_fn) over n items. Returns the summed per-item counts when `mode` is
/// wait; else enqueues the work, writes the count to sink.user when it is given, and returns 0.
template <int TileSize, class MakeFn>
std::uint64_t run_items(executor const& ex, std::size_t n, completion mode, MakeFn const& make_fn, count_sink sink = {}) {
  if (mode == completion::wait) { return count_items<TileSize>(ex, n, make_fn()); }
  if (sink.user == nullptr) {
    for_each_item<TileSize>(ex, n, make_fn());
    return 0;
  }
  static_assert(sizeof(std::uint64_t) == sizeof(unsigned long long), "counts are 64-bit");
  output_view<unsigned long long> out{ex.where, reinterpret_cast<unsigned long long*>(sink.user), 1, "count output",
                                      ex.stream, ex.memory};
  count_items_into<TileSize>(ex, n, make_fn(), out.get());
  out.finish(ex.stream);
  return 0;
}

/// Writes a count of 0 to the sink (an `_async` call over an empty range), stream-ordered.
inline void write_zero_count(executor const& ex, count_sink sink) {
  if (sink.user == nullptr) { return; }
  output_view<std::uint64_t> out{ex.where, sink.user, 1, "count output", ex.stream, ex.memory};
  fill_zero(ex.where, out.get(), sizeof(std::uint64_t), ex.stream);
  out.finish(ex.stream);
}

/// Bulk call over one key range and an optional output array of n entries:
///   make(keys, out) -> per-item functor.
template <int TileSize, class KeyIt, class Out, class Make>
std::uint64_t run_keyed(executor const& ex, char const* op, KeyIt first, KeyIt last, Out* out,
                        bool output_required, completion mode, Make const& make, count_sink sink = {}) {
  std::size_t const n = checked_distance(first, last);
  auto keys = make_input(ex, first, n, {op, ": keys"});
  output_view<Out> output{ex.where, out, (output_required || out != nullptr) ? n : 0, {op, ": output"}, ex.stream,
                          ex.memory};
  std::uint64_t const count =
      run_items<TileSize>(ex, n, mode, [&] { return make(keys.get(), out ? output.get() : nullptr); }, sink);
  output.finish(ex.stream);
  if (mode == completion::wait) { synchronize(ex.where, ex.stream); }
  return count;
}

/// Bulk call over a key range, a parallel value range and an optional output array:
///   make(keys, values, out) -> per-item functor.
template <int TileSize, class KeyIt, class ValueIt, class Out, class Make>
std::uint64_t run_keyed_pairs(executor const& ex, char const* op, KeyIt first, KeyIt last, ValueIt values,
                              Out* out, completion mode, Make const& make, count_sink sink = {}) {
  std::size_t const n = checked_distance(first, last);
  auto keys = make_input(ex, first, n, {op, ": keys"});
  auto vals = make_input(ex, values, n, {op, ": values"});
  output_view<Out> output{ex.where, out, out != nullptr ? n : 0, {op, ": outcomes"}, ex.stream, ex.memory};
  std::uint64_t const count = run_items<TileSize>(
      ex, n, mode, [&] { return make(keys.get(), vals.get(), out ? output.get() : nullptr); }, sink);
  output.finish(ex.stream);
  if (mode == completion::wait) { synchronize(ex.where, ex.stream); }
  return count;
}

/// Checks a caller's output capacity before anything is written.
inline void require_output_capacity(char const* op, std::uint64_t needed, std::uint64_t capacity) {
  if (needed > capacity) {
    throw invalid_argument(std::string(op) + ": the output needs " + std::to_string(needed) + " entries but holds " +
                           std::to_string(capacity));
  }
}

}  // namespace warp::detail
