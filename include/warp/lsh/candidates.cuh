// warp/lsh/candidates.cuh: candidate pairs from LSH band keys, on warp's own tables.
//
//   warp::lsh::candidate_options o{bands};             // the band layout the keys were made with
//   o.max_bucket_size = 200;                           // purge hotter buckets (reported)
//   warp::lsh::candidate_pairs c = warp::lsh::find_candidates(keys, docs, o, where);          // dirty
//   warp::lsh::candidate_pairs x = warp::lsh::find_candidates(keys_a, n_a, keys_b, n_b, o, where);  // clean-clean
//
// How: every (band key, document) goes into a multi_value_map (the buckets); a counting_map of the
// keys gives the buckets of two or more documents and their sizes; the multi-value map's two-pass
// retrieve lays those buckets out as lists; one pass over the lists sums the pairs each bucket
// makes (the raw |C|) and a second inserts every pair's 64-bit key (first << 32 | second) into a
// hash_set, which removes the pairs that several bands produce (the deduplicated |C|).
// Dirty mode pairs every two documents of a bucket (first < second); clean-clean mode only pairs a
// document of table A with one of table B (first: A's index, second: B's).
// A bucket with more than max_bucket_size documents is purged whole (block purging): it makes no
// pairs, and the result counts the purged buckets and the pairs they would have made. (Keeping a
// subset instead would depend on the order of concurrent inserts, so results would differ between
// backends and runs; purging does not.) Pairs come back sorted, so results are bitwise the same on
// both backends and for any stream.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/core/sentinels.cuh>
#include <warp/counting_map.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/iterators.cuh>
#include <warp/detail/memory.cuh>
#include <warp/detail/scan.cuh>
#include <warp/hash_set.cuh>
#include <warp/lsh/banding.cuh>
#include <warp/lsh/detail/candidate_kernels.cuh>
#include <warp/lsh/documents.cuh>
#include <warp/lsh/similarity.cuh>
#include <warp/multi_value_map.cuh>

namespace warp::lsh {

struct candidate_options {
  band_layout layout{};
  std::uint64_t max_bucket_size = 0;  // 0: no limit
};

/// A candidate pair: document indices (dirty: first < second; clean-clean: A's, B's).
struct document_pair {
  std::uint32_t first;
  std::uint32_t second;
  friend bool operator==(document_pair a, document_pair b) noexcept { return a.first == b.first && a.second == b.second; }
  friend bool operator<(document_pair a, document_pair b) noexcept {
    return a.first != b.first ? a.first < b.first : a.second < b.second;
  }
};

struct candidate_pairs {
  std::vector<document_pair> pairs;  // deduplicated, sorted
  std::uint64_t raw_pairs = 0;       // the sum over (kept) buckets of the pairs each makes
  std::uint64_t buckets = 0;         // buckets of two or more documents (kept or purged)
  std::uint64_t purged_buckets = 0;  // buckets over max_bucket_size
  std::uint64_t purged_pairs = 0;    // the raw pairs the purged buckets would have made
  [[nodiscard]] std::uint64_t deduplicated_pairs() const noexcept { return pairs.size(); }
};

/// Documents per call: ids are 32-bit.
inline constexpr std::uint64_t max_documents = std::numeric_limits<std::uint32_t>::max();

namespace detail {

template <class T>
std::vector<T> to_host(backend where, T const* p, std::size_t n, cuda::stream_ref stream) {
  std::vector<T> out(n);
  if (n != 0) { warp::detail::copy_bytes(where, out.data(), p, n * sizeof(T), stream); }
  warp::detail::synchronize(where, stream);
  return out;
}

/// (band key, document id) pairs in the backend's memory: the input of the bucket stage.
struct keyed_documents {
  std::uint64_t const* keys;
  std::uint32_t const* ids;
  std::size_t n;
};

/// The bucket stage of every mode: buckets from the pairs of `parts`, the pairs each bucket makes
/// (dirty: every two documents; clean-clean: documents below `split` with those at or above it),
/// purged, deduplicated and sorted. Documents are identified by their ids alone, so the pairs may
/// come from one call's layout or from several ranks (warp::distributed's sharded candidates).
template <std::size_t Parts>
candidate_pairs pairs_from_buckets(keyed_documents const (&parts)[Parts], std::uint32_t split,
                                   candidate_options const& o, backend where, cuda::stream_ref stream,
                                   memory_resource* memory);

/// The shared body of both modes: keys [0, n_a * b) belong to documents [0, n_a), keys after them
/// to documents split + [0, n_b) (clean-clean), all in one set of buckets.
inline candidate_pairs find_candidates(std::uint64_t const* keys_a, std::size_t n_a, std::uint64_t const* keys_b,
                                       std::size_t n_b, bool clean, candidate_options const& o, backend where,
                                       cuda::stream_ref stream, memory_resource* memory) {
  std::uint32_t const b = o.layout.bands;
  if (b == 0 || b > max_bands) {
    throw invalid_argument("find_candidates: candidate_options.layout.bands must be 1 to 255, got " + std::to_string(b));
  }
  if (static_cast<std::uint64_t>(n_a) + n_b >= max_documents) {
    throw invalid_argument("find_candidates: " + std::to_string(n_a + n_b) + " documents; at most " +
                           std::to_string(max_documents - 1) + " per call");
  }
  require_backend(where);
  if ((n_a + n_b) * b == 0) { return {}; }
  auto const split = clean ? static_cast<std::uint32_t>(n_a) : ~0u;
  warp::detail::executor const ex{where, stream, memory};
  // Document d's keys are keys[d * b .. (d + 1) * b): the id of key i is first_id + i / b.
  auto ids_of = [&](std::size_t n, std::uint32_t first_id) {
    warp::detail::buffer<std::uint32_t> ids{where, n * b, stream, memory};
    if (n != 0) { warp::detail::for_each_item<1>(ex, n * b, detail::key_owner_fn{first_id, b, ids.data()}); }
    return ids;
  };
  warp::detail::input_view<std::uint64_t const*> ka{where, keys_a, n_a * b, "find_candidates keys", stream, memory};
  warp::detail::input_view<std::uint64_t const*> kb{where, keys_b, n_b * b, "find_candidates keys", stream, memory};
  auto const ids_a = ids_of(n_a, 0);
  auto const ids_b = ids_of(n_b, clean ? split : static_cast<std::uint32_t>(n_a));
  keyed_documents const parts[2] = {{ka.get(), ids_a.data(), n_a * b}, {kb.get(), ids_b.data(), n_b * b}};
  return pairs_from_buckets(parts, split, o, where, stream, memory);
}

template <std::size_t Parts>
candidate_pairs pairs_from_buckets(keyed_documents const (&parts)[Parts], std::uint32_t split,
                                   candidate_options const& o, backend where, cuda::stream_ref stream,
                                   memory_resource* memory) {
  candidate_pairs result;
  std::size_t keys_total = 0;
  for (auto const& p : parts) { keys_total += p.n; }
  if (keys_total == 0) { return result; }
  warp::detail::executor const ex{where, stream, memory};

  // Buckets: (band key, document) pairs; the counting map finds the keys of two or more documents.
  multi_value_map<std::uint64_t, std::uint32_t> buckets{sizing{keys_total, 0.5}, empty_key<std::uint64_t>{~0ull},
                                                        multi_options{}, where, stream, {}, memory};
  counting_map<std::uint64_t, std::uint64_t> sizes{sizing{keys_total, 0.5}, empty_key<std::uint64_t>{~0ull}, where,
                                                   stream, {}, memory};
  for (auto const& p : parts) {
    if (p.n == 0) { continue; }
    std::size_t const stored = buckets.insert(p.keys, p.keys + p.n, p.ids, nullptr, stream);
    sizes.increment(p.keys, p.keys + p.n, nullptr, stream);
    if (stored != p.n) {
      throw logic_error("find_candidates: the bucket table stored " + std::to_string(stored) + " of " +
                        std::to_string(p.n) + " band keys");
    }
  }

  std::size_t const shared = sizes.count_at_least(2, stream);
  result.buckets = shared;
  if (shared == 0) { return result; }
  warp::detail::buffer<std::uint64_t> bucket_keys{where, shared, stream, memory};
  sizes.retrieve_at_least(2, bucket_keys.data(), nullptr, shared, stream);
  warp::detail::buffer<std::uint64_t> offsets{where, shared + 1, stream, memory};
  std::uint64_t const members = buckets.count(bucket_keys.data(), bucket_keys.data() + shared, nullptr, stream);
  warp::detail::buffer<std::uint32_t> ids{where, members, stream, memory};
  buckets.retrieve(bucket_keys.data(), bucket_keys.data() + shared, offsets.data(), ids.data(), members, stream);

  // Raw pairs per bucket, purged buckets counted.
  warp::detail::buffer<std::uint64_t> pairs{where, shared + 1, stream, memory};
  warp::detail::buffer<unsigned long long> purged{where, 2, stream, memory};
  warp::detail::fill_zero(where, purged.data(), 2 * sizeof(unsigned long long), stream);
  warp::detail::for_each_item<1>(ex, shared,
                                 detail::bucket_count_fn{offsets.data(), ids.data(), split, o.max_bucket_size,
                                                         pairs.data(), purged.data()});
  warp::detail::buffer<std::uint64_t> pair_offsets{where, shared + 1, stream, memory};
  warp::detail::exclusive_scan(where, pairs.data(), pair_offsets.data(), shared, stream, memory);
  std::uint64_t raw = 0;
  warp::detail::copy_bytes(where, &raw, pair_offsets.data() + shared, sizeof(raw), stream);
  unsigned long long purged_host[2] = {0, 0};
  warp::detail::copy_bytes(where, purged_host, purged.data(), sizeof(purged_host), stream);
  warp::detail::synchronize(where, stream);
  result.raw_pairs = raw;
  result.purged_buckets = purged_host[0];
  result.purged_pairs = purged_host[1];
  if (raw == 0) { return result; }

  // Deduplication across bands.
  hash_set<std::uint64_t> set{sizing{raw, 0.5}, empty_key<std::uint64_t>{~0ull}, where, stream, {}, memory};
  warp::detail::buffer<unsigned long long> failed{where, 1, stream, memory};
  warp::detail::fill_zero(where, failed.data(), sizeof(unsigned long long), stream);
  warp::detail::for_each_item<32>(ex, shared,
                                  detail::bucket_pairs_fn<typename hash_set<std::uint64_t>::mutable_ref_type>{
                                      offsets.data(), ids.data(), pairs.data(), split, set.mutable_ref(), failed.data()});
  unsigned long long failed_host = 0;
  warp::detail::copy_bytes(where, &failed_host, failed.data(), sizeof(failed_host), stream);
  warp::detail::synchronize(where, stream);
  if (failed_host != 0) {
    throw logic_error("find_candidates: the pair set, sized for " + std::to_string(raw) + " pairs, had no room for " +
                      std::to_string(failed_host));
  }
  std::size_t const distinct = set.size(stream);
  warp::detail::buffer<std::uint64_t> unique{where, distinct, stream, memory};
  std::size_t const written = set.retrieve_all(unique.data(), distinct, stream);
  std::vector<std::uint64_t> host_keys = to_host(where, unique.data(), written, stream);
  std::sort(host_keys.begin(), host_keys.end());
  result.pairs.resize(host_keys.size());
  for (std::size_t i = 0; i < host_keys.size(); ++i) {
    result.pairs[i] = {static_cast<std::uint32_t>(host_keys[i] >> 32), static_cast<std::uint32_t>(host_keys[i])};
  }
  return result;
}

}  // namespace detail

/// Dirty mode: candidate pairs among `docs` documents whose band keys are keys[d * b + j]
/// (host or device memory on the CUDA backend). Waits for its work.
inline candidate_pairs find_candidates(std::uint64_t const* keys, std::size_t docs, candidate_options const& o,
                                       backend where = default_backend(), cuda::stream_ref stream = default_stream(),
                                       memory_resource* memory = nullptr) {
  return detail::find_candidates(keys, docs, nullptr, 0, false, o, where, stream, memory);
}
inline candidate_pairs find_candidates(std::vector<std::uint64_t> const& keys, std::size_t docs,
                                       candidate_options const& o, backend where = default_backend(),
                                       cuda::stream_ref stream = default_stream(), memory_resource* memory = nullptr) {
  if (keys.size() != docs * static_cast<std::size_t>(o.layout.bands)) {
    throw invalid_argument("find_candidates: " + std::to_string(keys.size()) + " band keys for " + std::to_string(docs) +
                           " documents of " + std::to_string(o.layout.bands) + " bands");
  }
  return find_candidates(keys.data(), docs, o, where, stream, memory);
}

/// Clean-clean mode: pairs (a, b) of a document of table A and one of table B that share a band key.
inline candidate_pairs find_candidates(std::uint64_t const* keys_a, std::size_t docs_a, std::uint64_t const* keys_b,
                                       std::size_t docs_b, candidate_options const& o,
                                       backend where = default_backend(), cuda::stream_ref stream = default_stream(),
                                       memory_resource* memory = nullptr) {
  return detail::find_candidates(keys_a, docs_a, keys_b, docs_b, true, o, where, stream, memory);
}
inline candidate_pairs find_candidates(std::vector<std::uint64_t> const& keys_a, std::size_t docs_a,
                                       std::vector<std::uint64_t> const& keys_b, std::size_t docs_b,
                                       candidate_options const& o, backend where = default_backend(),
                                       cuda::stream_ref stream = default_stream(), memory_resource* memory = nullptr) {
  std::size_t const b = o.layout.bands;
  if (keys_a.size() != docs_a * b || keys_b.size() != docs_b * b) {
    throw invalid_argument("find_candidates: " + std::to_string(keys_a.size()) + " and " + std::to_string(keys_b.size()) +
                           " band keys for " + std::to_string(docs_a) + " and " + std::to_string(docs_b) +
                           " documents of " + std::to_string(b) + " bands");
  }
  return find_candidates(keys_a.data(), docs_a, keys_b.data(), docs_b, o, where, stream, memory);
}

/// Over explicit (band key, document id) pairs: keys[i] is a band key of document ids[i] (n pairs,
/// backend-readable memory; ids below 2^32 - 1). The bucket stage of find_candidates without the
/// per-document layout, for documents whose keys arrive from elsewhere (e.g. the ranks of
/// warp::distributed::find_candidates). Dirty mode by default; with `split` (not ~0), clean-clean:
/// ids below split are table A's, the others table B's (pairs: A's id, B's id - split). Waits.
inline candidate_pairs find_candidates_keyed(std::uint64_t const* keys, std::uint32_t const* ids, std::size_t n,
                                             candidate_options const& o, backend where = default_backend(),
                                             cuda::stream_ref stream = default_stream(),
                                             memory_resource* memory = nullptr, std::uint32_t split = ~0u) {
  require_backend(where);
  warp::detail::input_view<std::uint64_t const*> k{where, keys, n, "find_candidates_keyed keys", stream, memory};
  warp::detail::input_view<std::uint32_t const*> d{where, ids, n, "find_candidates_keyed ids", stream, memory};
  detail::keyed_documents const parts[1] = {{k.get(), d.get(), n}};
  return detail::pairs_from_buckets(parts, split, o, where, stream, memory);
}

/// The pairs whose estimated Jaccard similarity (from host signatures of k values; `second` indexes
/// signatures_b, which is signatures_a in dirty mode) is at least `threshold`, in their order.
/// `estimates` (optional) receives the kept pairs' estimates.
template <class T>
std::vector<document_pair> filter_by_estimate(std::vector<document_pair> const& pairs, T const* signatures_a,
                                              T const* signatures_b, std::uint32_t k, double threshold,
                                              std::vector<double>* estimates = nullptr) {
  std::vector<document_pair> kept;
  if (estimates != nullptr) { estimates->clear(); }
  for (auto const& p : pairs) {
    double const e = estimate_jaccard(signatures_a + std::size_t{p.first} * k, signatures_b + std::size_t{p.second} * k, k);
    if (e < threshold) { continue; }
    kept.push_back(p);
    if (estimates != nullptr) { estimates->push_back(e); }
  }
  return kept;
}

/// The pairs whose exact Jaccard similarity (of the documents' shingle sets, similarity.cuh) is at
/// least `threshold`; the documents are host batches (`b` is `a` in dirty mode).
inline std::vector<document_pair> filter_by_jaccard(std::vector<document_pair> const& pairs, document_batch const& a,
                                                    document_batch const& b, shingle_options const& shingles,
                                                    double threshold) {
  auto text = [](document_batch const& d, std::uint32_t i) {
    return std::string_view{d.bytes.data() + d.offsets[i], static_cast<std::size_t>(d.offsets[i + 1] - d.offsets[i])};
  };
  std::vector<document_pair> kept;
  for (auto const& p : pairs) {
    if (p.first >= a.size() || p.second >= b.size()) {
      throw invalid_argument("filter_by_jaccard: pair (" + std::to_string(p.first) + ", " + std::to_string(p.second) +
                             ") is outside the " + std::to_string(a.size()) + " x " + std::to_string(b.size()) +
                             " documents");
    }
    if (exact_jaccard(text(a, p.first), text(b, p.second), shingles) >= threshold) { kept.push_back(p); }
  }
  return kept;
}

}  // namespace warp::lsh
