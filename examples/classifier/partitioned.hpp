// examples/classifier/partitioned.hpp: a database partitioned across the ranks of a communicator,
// as MetaCache-GPU spreads one over several GPUs: each rank builds (or loads) the database of its
// own share of the references, with dropped features marked (build_options::mark_dropped), and
// every read is looked up on every partition; the hits are merged and the read is assigned as
// against one database of every reference.
//
// Exact when rank r's references are the r-th contiguous share of the reference list (so that
// global target ids are those one database would give) and every partition has the same sketch
// options and location cap: a feature is dropped if any partition marked it or the partitions
// together hold more than the cap of its locations, as one database would have dropped it.
//
//   classifier::partitioned_database part{comm, my_share};        // collective
//   auto results = part.classify(my_reads, options);              // collective; each rank its reads
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <warp/distributed/communicator.cuh>
#include <warp/distributed/detail/routing.cuh>
#include <warp/distributed/partitioned.cuh>
#include <warp/hash/xxh3.cuh>

#include "classifier/classify.hpp"
#include "classifier/database.hpp"

namespace classifier {

class partitioned_database {
 public:
  /// Collective: exchanges the partitions' target counts and taxa and checks that their options agree.
  partitioned_database(warp::distributed::communicator& comm, database const& part)
      : comm_{&comm}, part_{&part}, first_target_{offset_of(comm, part)}, index_{part, comm.where(), first_target_} {
    if (!part.options.mark_dropped) {
      throw input_error("a database partition must be built with its dropped features marked (mark_dropped)");
    }
    gather_taxa();
  }

  [[nodiscard]] std::uint32_t first_target() const noexcept { return first_target_; }
  [[nodiscard]] std::size_t targets() const noexcept { return taxa_.size(); }

  /// Collective: every query's locations on all partitions, merged (rank order), with the
  /// features that one database would have dropped left empty: queries[i]'s locations are
  /// found[offsets[i] .. offsets[i + 1]).
  void locations(std::vector<std::uint32_t> const& queries, std::vector<std::uint64_t>& offsets,
                 std::vector<std::uint64_t>& found) const {
    std::vector<std::uint64_t> all_offsets;
    std::vector<std::uint64_t> all;
    warp::distributed::retrieve_from_every_rank(*comm_, index_.table(), queries.data(), queries.size(), all_offsets, all);
    std::uint64_t const cap = part_->options.max_locations;
    offsets.assign(queries.size() + 1, 0);
    found.clear();
    for (std::size_t q = 0; q < queries.size(); ++q) {
      auto const begin = all.begin() + static_cast<std::ptrdiff_t>(all_offsets[q]);
      auto const end = all.begin() + static_cast<std::ptrdiff_t>(all_offsets[q + 1]);
      bool const dropped = all_offsets[q + 1] - all_offsets[q] > cap || std::find(begin, end, dropped_marker) != end;
      if (!dropped) { found.insert(found.end(), begin, end); }
      offsets[q + 1] = found.size();
    }
  }

  /// Collective: every rank classifies its own reads, looked up on every partition.
  [[nodiscard]] std::vector<read_result> classify(std::vector<read_input> const& reads, classify_options const& o) const {
    auto const batch = features_of(*part_, reads, comm_->where());
    std::vector<std::uint64_t> offsets;
    std::vector<std::uint64_t> found;
    locations(batch.queries, offsets, found);
    auto const gather = [&](std::size_t r, std::vector<std::uint64_t>& out) {
      out.insert(out.end(), found.begin() + static_cast<std::ptrdiff_t>(offsets[batch.query_start[r]]),
                 found.begin() + static_cast<std::ptrdiff_t>(offsets[batch.query_start[r + 1]]));
    };
    return assign_reads(*part_, reads, o, gather, [&](std::uint32_t t) { return taxa_[t]; });
  }

 private:
  static std::uint32_t offset_of(warp::distributed::communicator& comm, database const& part) {
    auto const counts = warp::distributed::all_gather(comm, part.targets.size());
    // The partitions must sketch alike and cap alike: compare a digest of their options.
    auto const& s = part.options.sketch;
    std::uint64_t const words[6] = {s.k, s.window, s.sketch_size, s.seed, part.options.max_locations,
                                    part.options.mark_dropped ? 1u : 0u};
    auto const digests = warp::distributed::all_gather(comm, warp::hash::xxh3_64(words, sizeof(words), 0));
    for (std::size_t r = 0; r < digests.size(); ++r) {
      if (digests[r] != digests[0]) {
        throw input_error("database partition " + std::to_string(r) + " was built with other sketch options or " +
                          "location cap than partition 0");
      }
    }
    std::uint64_t first = 0, total = 0;
    for (int r = 0; r < comm.size(); ++r) {
      if (r < comm.rank()) { first += counts[static_cast<std::size_t>(r)]; }
      total += counts[static_cast<std::size_t>(r)];
    }
    if (total >= 0xffffffffull) { throw input_error("the partitions hold more than 2^32 - 1 targets together"); }
    return static_cast<std::uint32_t>(first);
  }

  // Every partition's targets' taxa, in global target order, on every rank.
  void gather_taxa() {
    auto const where = comm_->where();
    std::size_t const ranks = static_cast<std::size_t>(comm_->size());
    std::vector<std::uint64_t> mine;
    for (auto const& t : part_->targets) { mine.push_back(t.taxid); }
    std::vector<std::uint64_t> send_counts(ranks, mine.size()), recv_counts(ranks);
    comm_->exchange_counts(send_counts.data(), recv_counts.data());
    warp::detail::buffer<std::uint64_t> send{where, mine.size() * ranks, warp::default_stream()};
    for (std::size_t p = 0; p < ranks && !mine.empty(); ++p) {
      warp::detail::copy_bytes(where, send.data() + p * mine.size(), mine.data(), mine.size() * sizeof(std::uint64_t),
                               warp::default_stream());
    }
    std::size_t const total = static_cast<std::size_t>(warp::distributed::detail::sum(recv_counts));
    warp::detail::buffer<std::uint64_t> all{where, total, warp::default_stream()};
    warp::distributed::detail::exchange_items(*comm_, send.data(), send_counts, all.data(), recv_counts,
                                              warp::default_stream());
    taxa_.resize(total);
    if (total != 0) {
      warp::detail::copy_bytes(where, taxa_.data(), all.data(), total * sizeof(std::uint64_t), warp::default_stream());
    }
    warp::detail::synchronize(where, warp::default_stream());
  }

  warp::distributed::communicator* comm_;
  database const* part_;
  std::uint32_t first_target_;
  feature_index index_;
  std::vector<std::uint64_t> taxa_;
};

}  // namespace classifier
