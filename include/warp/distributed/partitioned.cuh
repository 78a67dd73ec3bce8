// warp/distributed/partitioned.cuh: lookups in a table partitioned by content rather than by
// key, where every rank may hold values of any key (MetaCache-GPU's multi-GPU database: each GPU
// holds the features of some reference genomes). Each rank's queries are answered by every rank
// and the answers merged per query, in rank order.
//
//   std::vector<std::uint64_t> offsets;
//   std::vector<Value> values;
//   warp::distributed::retrieve_from_every_rank(comm, my_partition, queries.data(), queries.size(), offsets, values);
//   // the values of queries[i], rank 0's first: values[offsets[i] .. offsets[i + 1])
//
// `Table` is any multi-value container with the two-pass count/retrieve (frozen_multimap,
// multi_value_map) on comm.where(). Queries and results are host memory. Collective.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/memory_resource.cuh>
#include <warp/detail/memory.cuh>
#include <warp/detail/scan.cuh>
#include <warp/distributed/communicator.cuh>
#include <warp/distributed/detail/routing.cuh>

namespace warp::distributed {

template <class Table, class Key, class Value>
std::uint64_t retrieve_from_every_rank(communicator& comm, Table const& table, Key const* queries, std::size_t n,
                                       std::vector<std::uint64_t>& offsets, std::vector<Value>& values,
                                       cuda::stream_ref stream = default_stream(), memory_resource* memory = nullptr) {
  backend const b = comm.where();
  std::size_t const ranks = static_cast<std::size_t>(comm.size());
  // Every rank's queries to every rank.
  std::vector<std::uint64_t> send_counts(ranks, n), recv_counts(ranks);
  comm.exchange_counts(send_counts.data(), recv_counts.data());
  std::size_t const m = static_cast<std::size_t>(detail::sum(recv_counts));
  warp::detail::buffer<Key> send{b, n * ranks, stream, memory};
  for (std::size_t p = 0; p < ranks && n != 0; ++p) {
    warp::detail::copy_bytes(b, send.data() + p * n, queries, n * sizeof(Key), stream);
  }
  warp::detail::buffer<Key> received{b, m, stream, memory};
  detail::exchange_items(comm, send.data(), send_counts, received.data(), recv_counts, stream);

  // This rank's answers, in received order.
  warp::detail::buffer<std::uint64_t> counts{b, m + 1, stream, memory};
  warp::detail::buffer<std::uint64_t> local_offsets{b, m + 1, stream, memory};
  std::uint64_t local_total = 0;
  if (m != 0) {
    local_total = table.count(received.data(), received.data() + m, counts.data(), stream);
  }
  warp::detail::buffer<Value> local_values{b, static_cast<std::size_t>(local_total), stream, memory};
  std::vector<std::uint64_t> to_peer(ranks, 0);  // values going back to each peer
  if (m != 0) {
    table.retrieve(received.data(), received.data() + m, local_offsets.data(), local_values.data(), local_total, stream);
    std::vector<std::uint64_t> host_offsets(m + 1);
    warp::detail::copy_bytes(b, host_offsets.data(), local_offsets.data(), (m + 1) * sizeof(std::uint64_t), stream);
    warp::detail::synchronize(b, stream);
    std::size_t at = 0;
    for (std::size_t p = 0; p < ranks; ++p) {
      to_peer[p] = host_offsets[at + recv_counts[p]] - host_offsets[at];
      at += recv_counts[p];
    }
  }
  // The answers back: per-query counts, then the values.
  warp::detail::buffer<std::uint64_t> back_counts{b, n * ranks, stream, memory};
  detail::exchange_items(comm, counts.data(), recv_counts, back_counts.data(), send_counts, stream);
  std::vector<std::uint64_t> from_peer(ranks);
  comm.exchange_counts(to_peer.data(), from_peer.data());
  std::uint64_t const total = detail::sum(from_peer);
  warp::detail::buffer<Value> back_values{b, static_cast<std::size_t>(total), stream, memory};
  detail::exchange_items(comm, local_values.data(), to_peer, back_values.data(), from_peer, stream);

  // Merged per query, rank order, on the host.
  std::vector<std::uint64_t> c(n * ranks);
  std::vector<Value> v(static_cast<std::size_t>(total));
  if (!c.empty()) { warp::detail::copy_bytes(b, c.data(), back_counts.data(), c.size() * sizeof(std::uint64_t), stream); }
  if (!v.empty()) { warp::detail::copy_bytes(b, v.data(), back_values.data(), v.size() * sizeof(Value), stream); }
  warp::detail::synchronize(b, stream);
  std::vector<std::uint64_t> cursor(ranks, 0);  // where peer p's values for the next query start in v
  for (std::size_t p = 1; p < ranks; ++p) { cursor[p] = cursor[p - 1] + from_peer[p - 1]; }
  offsets.assign(n + 1, 0);
  values.clear();
  values.reserve(v.size());
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t p = 0; p < ranks; ++p) {
      std::uint64_t const k = c[p * n + i];
      values.insert(values.end(), v.begin() + static_cast<std::ptrdiff_t>(cursor[p]),
                    v.begin() + static_cast<std::ptrdiff_t>(cursor[p] + k));
      cursor[p] += k;
    }
    offsets[i + 1] = values.size();
  }
  return total;
}

}  // namespace warp::distributed
