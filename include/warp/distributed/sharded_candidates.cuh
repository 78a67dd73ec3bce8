// warp/distributed/sharded_candidates.cuh: LSH blocking (warp::lsh, dirty mode) over documents
// spread across the ranks of a communicator, with the band keys partitioned across ranks.
//
// Rank r holds documents [first_r, first_r + docs_r) of one global numbering (first_r is the sum
// of the lower ranks' counts) and their band keys, laid out as for warp::lsh::find_candidates
// (keys[d * bands + j]). Each (band key, document) goes to the rank that owns the band key, so
// every bucket is whole on one rank; each rank makes its buckets' pairs (and purges its hot
// buckets) with warp::lsh::find_candidates_keyed; pairs that several bands made on different
// ranks meet at the rank that owns the pair and are deduplicated there; the pairs are gathered on
// `root`. The result on root is what one find_candidates over all documents returns (pairs
// sorted by global id, the same bucket, raw-pair and purge counts); the other ranks get the counts
// and no pairs.
//
//   auto c = warp::distributed::find_candidates(comm, my_keys.data(), my_docs, options);
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/error.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>
#include <warp/distributed/communicator.cuh>
#include <warp/distributed/detail/routing.cuh>
#include <warp/distributed/detail/sharded_base.cuh>
#include <warp/lsh/candidates.cuh>

namespace warp::distributed {

namespace detail {
// ids[i] = first + i / bands: the global document of band key i.
struct global_document_fn {
  std::uint32_t first;
  std::uint32_t bands;
  std::uint32_t* ids;
  template <class Tile>
  WARP_HD unsigned operator()(Tile const&, std::size_t i) const {
    ids[i] = first + static_cast<std::uint32_t>(i / bands);
    return 0u;
  }
};
}  // namespace detail

namespace detail {

// Where this rank's documents start in the global numbering, and how many there are in all.
inline std::pair<std::uint64_t, std::uint64_t> global_numbering(communicator& comm, std::size_t docs) {
  auto const counts = all_gather(comm, docs);
  std::uint64_t first = 0, total = 0;
  for (int r = 0; r < comm.size(); ++r) {
    if (r < comm.rank()) { first += counts[static_cast<std::size_t>(r)]; }
    total += counts[static_cast<std::size_t>(r)];
  }
  return {first, total};
}

// Both modes: table A's documents and (clean-clean) table B's, numbered A first.
inline lsh::candidate_pairs sharded_candidates(communicator& comm, std::uint64_t const* keys_a, std::size_t docs_a,
                                               std::uint64_t const* keys_b, std::size_t docs_b, bool clean,
                                               lsh::candidate_options const& o, int root, sharding s,
                                               cuda::stream_ref stream, memory_resource* memory) {
  backend const where = comm.where();
  std::uint32_t const b = o.layout.bands;
  if (b == 0 || b > lsh::max_bands) {
    throw invalid_argument("distributed::find_candidates: candidate_options.layout.bands must be 1 to 255, got " +
                           std::to_string(b));
  }
  if (root < 0 || root >= comm.size()) {
    throw invalid_argument("distributed::find_candidates: root " + std::to_string(root) + " is not a rank of " +
                           std::to_string(comm.size()));
  }
  // The global numbering: every rank's document counts, on every rank; B's after all of A's.
  auto const [first_a, total_a] = global_numbering(comm, docs_a);
  auto const [first_b, total_b] = global_numbering(comm, docs_b);
  if (total_a + total_b >= lsh::max_documents) {  // every rank sees the same totals: all throw alike
    throw invalid_argument("distributed::find_candidates: " + std::to_string(total_a + total_b) +
                           " documents over " + std::to_string(comm.size()) + " ranks; at most " +
                           std::to_string(lsh::max_documents - 1));
  }
  warp::detail::executor const ex{where, stream, memory};
  std::size_t const n_a = docs_a * b, n_b = docs_b * b, n = n_a + n_b;
  warp::detail::buffer<std::uint64_t> k{where, n, stream, memory};
  warp::detail::buffer<std::uint32_t> ids{where, n, stream, memory};
  auto place = [&](std::uint64_t const* keys, std::size_t count, std::size_t at, std::uint64_t first) {
    if (count == 0) { return; }
    warp::detail::input_view<std::uint64_t const*> in{where, keys, count, "distributed::find_candidates keys", stream,
                                                      memory};
    warp::detail::copy_bytes(where, k.data() + at, in.get(), count * sizeof(std::uint64_t), stream);
    warp::detail::for_each_item<1>(ex, count,
                                   global_document_fn{static_cast<std::uint32_t>(first), b, ids.data() + at});
    warp::detail::synchronize(where, stream);  // the staged input lives until here
  };
  place(keys_a, n_a, 0, first_a);
  place(keys_b, n_b, n_a, total_a + first_b);
  std::uint32_t const split = clean ? static_cast<std::uint32_t>(total_a) : ~0u;
  // Band keys to their owners: every bucket whole on one rank.
  auto const r = route_to_owners<std::uint64_t, std::uint32_t>(comm, ex, k.data(), ids.data(), true, n, s.seed,
                                                                "distributed::find_candidates band keys");
  lsh::candidate_pairs local =
      lsh::find_candidates_keyed(r.keys.data(), r.values.data(), r.received(), o, where, stream, memory, split);

  // Pairs to their owners (another seed than the band keys'), deduplicated there.
  std::vector<std::uint64_t> pair_keys(local.pairs.size());
  for (std::size_t i = 0; i < pair_keys.size(); ++i) {
    pair_keys[i] = static_cast<std::uint64_t>(local.pairs[i].first) << 32 | local.pairs[i].second;
  }
  warp::detail::input_view<std::uint64_t const*> pk{where, pair_keys.data(), pair_keys.size(),
                                                     "distributed::find_candidates pairs", stream, memory};
  auto const routed = route_to_owners<std::uint64_t, char>(comm, ex, pk.get(), static_cast<char const*>(nullptr),
                                                                   false, pair_keys.size(), s.seed ^ 0x5bd1e995ull,
                                                           "distributed::find_candidates pairs");
  std::vector<std::uint64_t> mine(routed.received());
  if (!mine.empty()) {
    warp::detail::copy_bytes(where, mine.data(), routed.keys.data(), mine.size() * sizeof(std::uint64_t), stream);
    warp::detail::synchronize(where, stream);
  }
  std::sort(mine.begin(), mine.end());
  mine.erase(std::unique(mine.begin(), mine.end()), mine.end());

  // Gathered on root, host memory.
  std::vector<std::uint64_t> send(static_cast<std::size_t>(comm.size()), 0), recv(send.size(), 0);
  send[static_cast<std::size_t>(root)] = mine.size();
  comm.exchange_counts(send.data(), recv.data());
  std::uint64_t const gathered = sum(recv);
  warp::detail::buffer<std::uint64_t> out{where, static_cast<std::size_t>(gathered), stream, memory};
  warp::detail::buffer<std::uint64_t> mine_there{where, mine.size(), stream, memory};
  if (!mine.empty()) {
    warp::detail::copy_bytes(where, mine_there.data(), mine.data(), mine.size() * sizeof(std::uint64_t), stream);
  }
  exchange_items(comm, mine_there.data(), send, out.data(), recv, stream);

  lsh::candidate_pairs result;
  result.raw_pairs = all_reduce_sum(comm, local.raw_pairs);
  result.buckets = all_reduce_sum(comm, local.buckets);
  result.purged_buckets = all_reduce_sum(comm, local.purged_buckets);
  result.purged_pairs = all_reduce_sum(comm, local.purged_pairs);
  if (comm.rank() == root && gathered != 0) {
    std::vector<std::uint64_t> all(static_cast<std::size_t>(gathered));
    warp::detail::copy_bytes(where, all.data(), out.data(), all.size() * sizeof(std::uint64_t), stream);
    warp::detail::synchronize(where, stream);
    std::sort(all.begin(), all.end());
    result.pairs.resize(all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      result.pairs[i] = {static_cast<std::uint32_t>(all[i] >> 32), static_cast<std::uint32_t>(all[i])};
    }
  }
  return result;
}

}  // namespace detail

/// Dirty mode. Collective. keys: this rank's docs x bands band keys (backend-readable memory on
/// comm.where()); global ids follow rank order.
inline lsh::candidate_pairs find_candidates(communicator& comm, std::uint64_t const* keys, std::size_t docs,
                                            lsh::candidate_options const& o, int root = 0, sharding s = {},
                                            cuda::stream_ref stream = default_stream(),
                                            memory_resource* memory = nullptr) {
  return detail::sharded_candidates(comm, keys, docs, nullptr, 0, false, o, root, s, stream, memory);
}

/// Clean-clean mode: pairs of a document of table A and one of table B; each rank holds a share of
/// each table (global ids in rank order, per table). Collective.
inline lsh::candidate_pairs find_candidates(communicator& comm, std::uint64_t const* keys_a, std::size_t docs_a,
                                            std::uint64_t const* keys_b, std::size_t docs_b,
                                            lsh::candidate_options const& o, int root = 0, sharding s = {},
                                            cuda::stream_ref stream = default_stream(),
                                            memory_resource* memory = nullptr) {
  return detail::sharded_candidates(comm, keys_a, docs_a, keys_b, docs_b, true, o, root, s, stream, memory);
}

}  // namespace warp::distributed
