// warp/distributed/sharded_multimap.cuh: a key -> many values table spread over the ranks of a
// communicator, one multi_value_map shard per rank (every value of a key lives on its owner).
//
// Collective bulk calls as in sharded_map.cuh. retrieve() is the two-pass retrieve of
// multi_value_map across ranks: the owners count and gather each received key's values and send
// back per-key counts and the values; the caller lays them out in its own key order.
//
//   warp::distributed::sharded_multimap<std::uint64_t, std::uint32_t> mm{comm, 1 << 20, warp::empty_key{~0ull}};
//   mm.insert(keys.begin(), keys.end(), values.begin());
//   std::uint64_t total = mm.count(queries.begin(), queries.end());
//   std::vector<std::uint64_t> offsets(q + 1);
//   std::vector<std::uint32_t> out(total);
//   mm.retrieve(queries.begin(), queries.end(), offsets.data(), out.data(), out.size());
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/memory_resource.cuh>
#include <warp/core/outcome.cuh>
#include <warp/core/sentinels.cuh>
#include <warp/detail/bulk/driver.cuh>
#include <warp/detail/scan.cuh>
#include <warp/distributed/communicator.cuh>
#include <warp/distributed/detail/routing.cuh>
#include <warp/distributed/detail/sharded_base.cuh>
#include <warp/multi_value_map.cuh>
#include <warp/probing.cuh>

namespace warp::distributed {

namespace detail {

// values_out[offsets[i] ..] = the counts[perm[i]] values at back_values[back_offsets[perm[i]] ..].
template <class Value>
struct lay_out_values_fn {
  std::uint64_t const* perm;
  std::uint64_t const* back_counts;
  std::uint64_t const* back_offsets;
  Value const* back_values;
  std::uint64_t const* offsets;
  Value* values_out;
  template <class Tile>
  WARP_HD unsigned operator()(Tile const&, std::size_t i) const {
    std::uint64_t const at = perm[i];
    std::uint64_t const from = back_offsets[at];
    std::uint64_t const to = offsets[i];
    for (std::uint64_t j = 0; j < back_counts[at]; ++j) { values_out[to + j] = back_values[from + j]; }
    return 0u;
  }
};

}  // namespace detail

template <class Key, class Value, class Probing = linear_probing<4, 2>>
class sharded_multimap : public detail::sharded_base<multi_value_map<Key, Value, Probing>> {
  using base = detail::sharded_base<multi_value_map<Key, Value, Probing>>;

 public:
  using typename base::shard_type;

  /// A shard with room for `shard_capacity` pairs on this rank. Not collective.
  sharded_multimap(communicator& comm, std::size_t shard_capacity, empty_key<Key> empty, multi_options options = {},
                   sharding s = {}, cuda::stream_ref stream = default_stream(), memory_resource* memory = nullptr)
      : base{comm, shard_type{shard_capacity, empty, options, comm.where(), stream, {}, memory}, s, memory} {}

  /// Adds every pair. Returns the number of pairs stored over all ranks; `outcomes` (optional)
  /// receives each of this rank's pairs' outcome.
  template <class KeyIt, class ValueIt>
  std::size_t insert(KeyIt first, KeyIt last, ValueIt values, insert_outcome* outcomes = nullptr,
                     cuda::stream_ref stream = default_stream()) {
    std::size_t const n = warp::detail::checked_distance(first, last);
    auto r = this->template route_batch<Value>("sharded_multimap::insert", first, n, values, true, stream);
    warp::detail::buffer<insert_outcome> local{this->where(), r.received(), stream, this->memory_};
    std::size_t const stored =
        r.received() == 0
            ? 0
            : this->shard_.insert(r.keys.data(), r.keys.data() + r.received(), r.values.data(), local.data(), stream);
    detail::return_to_callers(this->comm(), this->executor_on(stream), r, local.data(), outcomes,
                              "sharded_multimap::insert: outcomes");
    return static_cast<std::size_t>(all_reduce_sum(this->comm(), stored));
  }

  /// counts[i] (optional): the number of values of this rank's key i. Returns their sum.
  template <class KeyIt>
  std::uint64_t count(KeyIt first, KeyIt last, std::uint64_t* counts = nullptr,
                      cuda::stream_ref stream = default_stream()) const {
    std::size_t const n = warp::detail::checked_distance(first, last);
    auto r = this->template route_batch<Value>("sharded_multimap::count", first, n, static_cast<Value const*>(nullptr),
                                               false, stream);
    auto const local = local_counts(r, stream);
    warp::detail::buffer<std::uint64_t> mine{this->where(), n, stream, this->memory_};
    detail::return_to_callers(this->comm(), this->executor_on(stream), r, local.data(), mine.data(),
                              "sharded_multimap::count: counts");
    return finish_counts(mine, n, counts, stream);
  }

  /// The values of this rank's keys, laid out as multi_value_map::retrieve does: key i's values at
  /// values_out[offsets_out[i] .. offsets_out[i + 1]) (offsets_out: n + 1 entries, may be null).
  /// The total must not exceed `values_capacity` (checked after the exchange, before anything is
  /// written, so that no rank is left waiting). Returns the total.
  template <class KeyIt>
  std::uint64_t retrieve(KeyIt first, KeyIt last, std::uint64_t* offsets_out, Value* values_out,
                         std::uint64_t values_capacity, cuda::stream_ref stream = default_stream()) const {
    std::size_t const n = warp::detail::checked_distance(first, last);
    communicator& comm = this->comm();
    auto const ex = this->executor_on(stream);
    backend const b = this->where();
    auto r = this->template route_batch<Value>("sharded_multimap::retrieve", first, n,
                                               static_cast<Value const*>(nullptr), false, stream);
    std::size_t const m = r.received();
    // The owner's side: per-key counts and values of what it received, in received order.
    auto const local = local_counts(r, stream);
    warp::detail::buffer<std::uint64_t> local_offsets{b, m + 1, stream, this->memory_};
    warp::detail::exclusive_scan(b, local.data(), local_offsets.data(), m, stream, this->memory_);
    std::vector<std::uint64_t> segment_values(r.recv_counts.size());  // values going back to each peer
    std::vector<std::uint64_t> bounds(r.recv_counts.size() + 1);
    {
      std::uint64_t key_at = 0;
      for (std::size_t p = 0; p <= r.recv_counts.size(); ++p) {
        warp::detail::copy_bytes(b, &bounds[p], local_offsets.data() + key_at, sizeof(std::uint64_t), stream);
        if (p < r.recv_counts.size()) { key_at += r.recv_counts[p]; }
      }
      warp::detail::synchronize(b, stream);
      for (std::size_t p = 0; p < segment_values.size(); ++p) { segment_values[p] = bounds[p + 1] - bounds[p]; }
    }
    std::uint64_t const local_total = bounds.back();
    warp::detail::buffer<Value> local_values{b, static_cast<std::size_t>(local_total), stream, this->memory_};
    if (m != 0 && local_total != 0) {
      this->shard_.retrieve(r.keys.data(), r.keys.data() + m, nullptr, local_values.data(), local_total, stream);
    }
    // Back to the callers: per-key counts (send order), then the values.
    warp::detail::buffer<std::uint64_t> back_counts{b, n + 1, stream, this->memory_};
    detail::exchange_items(comm, local.data(), r.recv_counts, back_counts.data(), r.send_counts, stream);
    std::vector<std::uint64_t> values_from(segment_values.size());
    comm.exchange_counts(segment_values.data(), values_from.data());
    std::uint64_t const total = detail::sum(values_from);
    warp::detail::buffer<Value> back_values{b, static_cast<std::size_t>(total), stream, this->memory_};
    detail::exchange_items(comm, local_values.data(), segment_values, back_values.data(), values_from, stream);
    // The caller's side: counts in its key order, offsets, then the values.
    if (total > values_capacity) {
      throw invalid_argument("sharded_multimap::retrieve: the keys have " + std::to_string(total) +
                             " values but the output holds " + std::to_string(values_capacity));
    }
    if (n == 0) {
      write_offsets(nullptr, 0, offsets_out, stream);
      return 0;
    }
    warp::detail::buffer<std::uint64_t> back_offsets{b, n + 1, stream, this->memory_};
    warp::detail::exclusive_scan(b, back_counts.data(), back_offsets.data(), n, stream, this->memory_);
    warp::detail::buffer<std::uint64_t> counts{b, n + 1, stream, this->memory_};
    warp::detail::for_each_item<1>(
        ex, n, detail::gather_back_fn<std::uint64_t, detail::count_none>{back_counts.data(), r.perm.data(), counts.data(), {}});
    warp::detail::buffer<std::uint64_t> offsets{b, n + 1, stream, this->memory_};
    warp::detail::exclusive_scan(b, counts.data(), offsets.data(), n, stream, this->memory_);
    if (total != 0) {
      warp::detail::output_view<Value> out{b, values_out, static_cast<std::size_t>(total),
                                           "sharded_multimap::retrieve: values output", stream, this->memory_};
      warp::detail::for_each_item<1>(ex, n,
                                     detail::lay_out_values_fn<Value>{r.perm.data(), back_counts.data(),
                                                                      back_offsets.data(), back_values.data(),
                                                                      offsets.data(), out.get()});
      out.finish(stream);
    }
    write_offsets(offsets.data(), n, offsets_out, stream);
    warp::detail::synchronize(b, stream);
    return total;
  }

  /// Values dropped by the per-key cap, over all ranks. Collective.
  [[nodiscard]] std::uint64_t dropped_values(cuda::stream_ref stream = default_stream()) const {
    return all_reduce_sum(this->comm(), this->shard_.dropped_values(stream));
  }

 private:
  // The owner's per-key counts of the keys it received.
  warp::detail::buffer<std::uint64_t> local_counts(detail::route<Key, Value> const& r, cuda::stream_ref stream) const {
    warp::detail::buffer<std::uint64_t> local{this->where(), r.received() + 1, stream, this->memory_};
    if (r.received() != 0) { this->shard_.count(r.keys.data(), r.keys.data() + r.received(), local.data(), stream); }
    return local;
  }

  std::uint64_t finish_counts(warp::detail::buffer<std::uint64_t> const& mine, std::size_t n, std::uint64_t* counts,
                              cuda::stream_ref stream) const {
    if (n == 0) { return 0; }
    backend const b = this->where();
    std::vector<std::uint64_t> host(n);
    warp::detail::copy_bytes(b, host.data(), mine.data(), n * sizeof(std::uint64_t), stream);
    warp::detail::synchronize(b, stream);
    std::uint64_t total = 0;
    for (auto c : host) { total += c; }
    if (counts != nullptr) {
      warp::detail::output_view<std::uint64_t> out{b, counts, n, "sharded_multimap::count: counts output", stream,
                                                   this->memory_};
      warp::detail::copy_bytes(b, out.get(), mine.data(), n * sizeof(std::uint64_t), stream);
      out.finish(stream);
      warp::detail::synchronize(b, stream);
    }
    return total;
  }

  void write_offsets(std::uint64_t const* offsets, std::size_t n, std::uint64_t* offsets_out,
                     cuda::stream_ref stream) const {
    if (offsets_out == nullptr) { return; }
    backend const b = this->where();
    warp::detail::output_view<std::uint64_t> out{b, offsets_out, n + 1, "sharded_multimap::retrieve: offsets output",
                                                 stream, this->memory_};
    if (offsets == nullptr) {
      warp::detail::fill_zero(b, out.get(), sizeof(std::uint64_t), stream);
    } else {
      warp::detail::copy_bytes(b, out.get(), offsets, (n + 1) * sizeof(std::uint64_t), stream);
    }
    out.finish(stream);
    warp::detail::synchronize(b, stream);
  }
};

}  // namespace warp::distributed
