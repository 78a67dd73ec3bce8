// examples/classifier/classify.hpp: classifying reads against a database.
//
// Per read (or read pair): its windows are sketched as the references were; each feature's
// locations are looked up in the frozen feature table (on the backend); the hits of each target
// are counted over the best contiguous range of reference windows a read of this length can
// touch (span = ceil(bases / stride) + 1 windows, bases = the read's length or, for a pair, the
// larger of both mates' lengths and --insert-size); targets are ranked by those hits. The read is
// unclassified when the best target has fewer than `min_hits`; otherwise it is assigned the lowest
// common ancestor of every target whose hits are within `margin` (a fraction of the best) of the
// best, so that reads shared by close strains or species go to their common ancestor.
// Lookups run on the backend in batches; the counting runs on OpenMP threads. Results do not
// depend on the backend or the batch size.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <warp/bucket_list_map.cuh>
#include <warp/frozen_multimap.cuh>

#include "classifier/database.hpp"

namespace classifier {

struct classify_options {
  std::uint32_t min_hits = 2;
  double margin = 0.1;
  std::uint64_t insert_size = 600;  // pairs: the largest fragment a pair is taken to span
};

struct read_input {
  std::string id;
  std::string first;
  std::string second;  // empty for single-end reads
  bool paired = false;
};

struct candidate {
  std::uint32_t target;
  std::uint32_t hits;
};

struct read_result {
  std::uint64_t taxid = 0;  // 0: unclassified
  std::vector<candidate> top;  // best first, at most 3
};

/// The feature table on the backend, ready for lookups.
class feature_index {
 public:
  /// target_offset: added to every location's target (a partition's first global target id).
  feature_index(database const& db, warp::backend where, std::uint32_t target_offset = 0)
      : where_{where}, frozen_{freeze(db, where, target_offset)} {}
  [[nodiscard]] warp::frozen_multimap<std::uint32_t, std::uint64_t> const& table() const { return frozen_; }
  [[nodiscard]] warp::backend where() const { return where_; }

 private:
  static warp::frozen_multimap<std::uint32_t, std::uint64_t> freeze(database const& db, warp::backend where,
                                                                      std::uint32_t target_offset) {
    std::vector<std::uint64_t> shifted;
    if (target_offset != 0) {
      shifted.assign(db.locations.begin(), db.locations.end());
      for (auto& l : shifted) {
        if (l != dropped_marker) { l = location(location_target(l) + target_offset, location_window(l)); }
      }
    }
    return warp::frozen_multimap<std::uint32_t, std::uint64_t>::from_csr(
        db.features.data(), db.features.size(), db.offsets.data(),
        target_offset != 0 ? shifted.data() : db.locations.data(), warp::empty_key<std::uint32_t>{~0u}, where);
  }
  warp::backend where_;
  warp::frozen_multimap<std::uint32_t, std::uint64_t> frozen_;
};

/// The hits of each target over its best window range, from a read's locations (sorted here).
inline std::vector<candidate> rank_targets(std::vector<std::uint64_t>& locations, std::uint64_t span) {
  std::sort(locations.begin(), locations.end());
  std::vector<candidate> out;
  std::size_t i = 0;
  while (i < locations.size()) {
    std::uint32_t const t = location_target(locations[i]);
    std::size_t j = i;
    while (j < locations.size() && location_target(locations[j]) == t) { ++j; }
    // Sliding range of `span` windows over [i, j): the most locations in any one.
    std::uint32_t best = 0;
    std::size_t lo = i;
    for (std::size_t hi = i; hi < j; ++hi) {
      while (location_window(locations[hi]) - location_window(locations[lo]) >= span) { ++lo; }
      best = std::max(best, static_cast<std::uint32_t>(hi - lo + 1));
    }
    out.push_back({t, best});
    i = j;
  }
  std::sort(out.begin(), out.end(), [](candidate a, candidate b) { return a.hits != b.hits ? a.hits > b.hits : a.target < b.target; });
  return out;
}

/// Every feature of a batch of reads, in read order: queries[query_start[r] .. query_start[r + 1])
/// are read r's (both mates).
struct batch_features {
  std::vector<std::uint32_t> queries;
  std::vector<std::uint64_t> query_start;
};

inline batch_features features_of(database const& db, std::vector<read_input> const& reads, warp::backend where) {
  warp::lsh::document_batch mates;
  for (auto const& r : reads) {
    mates.push_back(r.first);
    mates.push_back(r.second);
  }
  auto const sketches = warp::genomics::sketch(mates.view(), db.options.sketch, where);
  std::uint32_t const s = db.options.sketch.sketch_size;
  batch_features b;
  b.query_start.assign(reads.size() + 1, 0);
  for (std::size_t r = 0; r < reads.size(); ++r) {
    for (std::uint64_t w = sketches.window_offsets[2 * r]; w < sketches.window_offsets[2 * r + 2]; ++w) {
      for (std::uint32_t f = 0; f < sketches.counts[w]; ++f) {
        std::uint32_t const feature = sketches.features[w * s + f];
        if (feature != ~0u) { b.queries.push_back(feature); }
      }
    }
    b.query_start[r + 1] = b.queries.size();
  }
  return b;
}

/// The per-read step: gather(r, locations) appends read r's locations; taxid_of(target) names a
/// target's taxon. Ranks the targets and assigns the read (see the file's comment).
template <class Gather, class TaxidOf>
std::vector<read_result> assign_reads(database const& db, std::vector<read_input> const& reads, classify_options const& o,
                                      Gather const& gather, TaxidOf const& taxid_of) {
  std::uint64_t const stride = db.options.sketch.window - db.options.sketch.k + 1;
  std::vector<read_result> out(reads.size());
#pragma omp parallel for schedule(dynamic, 64)
  for (std::int64_t ri = 0; ri < static_cast<std::int64_t>(reads.size()); ++ri) {
    auto const r = static_cast<std::size_t>(ri);
    std::vector<std::uint64_t> locations;
    gather(r, locations);
    std::uint64_t bases = reads[r].first.size();
    if (reads[r].paired) { bases = std::max<std::uint64_t>(o.insert_size, reads[r].first.size() + reads[r].second.size()); }
    std::uint64_t const span = (bases + stride - 1) / stride + 1;
    auto const ranked = rank_targets(locations, span);
    read_result& res = out[r];
    for (std::size_t c = 0; c < ranked.size() && c < 3; ++c) { res.top.push_back(ranked[c]); }
    if (ranked.empty() || ranked[0].hits < o.min_hits) { continue; }
    auto const close = static_cast<std::uint32_t>(std::floor(o.margin * ranked[0].hits));
    std::uint64_t taxid = 0;
    for (auto const& c : ranked) {
      if (c.hits + close < ranked[0].hits) { break; }
      taxid = db.taxonomy.lca(taxid, taxid_of(c.target));
    }
    res.taxid = taxid;
  }
  return out;
}

/// Classifies a batch of reads.
inline std::vector<read_result> classify(database const& db, feature_index const& index, std::vector<read_input> const& reads,
                                         classify_options const& o) {
  auto const batch = features_of(db, reads, index.where());
  auto const& queries = batch.queries;
  auto const& query_start = batch.query_start;
  auto const& table = index.table();
  // On the host, one probe per feature gives its row, and each read gathers its locations from the
  // CSR arrays. On CUDA the lookups run on the device (two-pass retrieve) and the locations come
  // back in one array.
  bool const on_host = index.where() == warp::backend::host;
  std::vector<std::uint64_t> rows;
  std::vector<std::uint64_t> offsets;
  std::vector<std::uint64_t> found;
  if (on_host) {
    rows.resize(queries.size());
    table.find_rows(queries.begin(), queries.end(), rows.data());
  } else {
    offsets.assign(queries.size() + 1, 0);
    found.resize(table.count(queries.begin(), queries.end()));
    table.retrieve(queries.begin(), queries.end(), offsets.data(), found.data(), found.size());
  }
  std::uint64_t const* const row_offsets = on_host ? table.row_offsets() : nullptr;
  std::uint64_t const* const row_values = on_host ? table.values() : nullptr;
  auto const gather = [&](std::size_t r, std::vector<std::uint64_t>& locations) {
    if (on_host) {
      for (std::uint64_t q = query_start[r]; q < query_start[r + 1]; ++q) {
        if (rows[q] == table.no_row) { continue; }
        locations.insert(locations.end(), row_values + row_offsets[rows[q]], row_values + row_offsets[rows[q] + 1]);
      }
    } else {
      locations.assign(found.begin() + static_cast<std::ptrdiff_t>(offsets[query_start[r]]),
                       found.begin() + static_cast<std::ptrdiff_t>(offsets[query_start[r + 1]]));
    }
  };
  return assign_reads(db, reads, o, gather, [&](std::uint32_t t) { return db.targets[t].taxid; });
}

}  // namespace classifier
