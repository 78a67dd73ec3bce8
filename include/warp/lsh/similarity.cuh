// warp/lsh/similarity.cuh: Jaccard similarity, estimated from two signatures or exact from two
// documents' shingle sets (host code, for verification and for filtering candidate pairs).
//
//   double j = warp::lsh::estimate_jaccard(sig.data() + i * k, sig.data() + j * k, k);
//   double e = warp::lsh::exact_jaccard("the quick brown fox", "the quick brown cat", shingles);
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <warp/lsh/detail/shingling.cuh>
#include <warp/lsh/shingles.cuh>

namespace warp::lsh {

/// The fraction of positions where two k-value signatures agree: an unbiased estimate of the
/// Jaccard similarity of their documents' shingle sets (for MinHash and densified one-permutation
/// hashing alike), with variance J(1 - J) / k for MinHash.
template <class T>
double estimate_jaccard(T const* x, T const* y, std::uint32_t k) noexcept {
  if (k == 0) { return 0.0; }
  std::uint32_t equal = 0;
  for (std::uint32_t i = 0; i < k; ++i) { equal += x[i] == y[i] ? 1u : 0u; }
  return static_cast<double>(equal) / static_cast<double>(k);
}

/// The set of a document's shingles as sorted, distinct 64-bit hashes (xxHash64, seed 0), with the
/// rules of shingles.cuh (a document without shingles is one shingle of all its bytes; an empty
/// document has none). Does not check UTF-8.
inline std::vector<std::uint64_t> shingle_set(std::string_view doc, shingle_options const& o) {
  validate(o);
  detail::shingle_hasher const h{detail::byte_hash::xxhash64, 0};
  auto const* p = reinterpret_cast<unsigned char const*>(doc.data());
  std::vector<std::uint64_t> out;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    if (std::uint64_t const v = detail::shingle_at(p, doc.size(), i, o, h); v != 0) { out.push_back(v); }
  }
  if (out.empty() && !doc.empty()) { out.push_back(h(p, doc.size())); }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// |A ∩ B| / |A ∪ B| of two sorted, distinct sets (1 when both are empty).
inline double jaccard_of_sets(std::vector<std::uint64_t> const& a, std::vector<std::uint64_t> const& b) {
  if (a.empty() && b.empty()) { return 1.0; }
  std::size_t common = 0;
  for (std::size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    if (a[i] == b[j]) {
      ++common;
      ++i;
      ++j;
    } else if (a[i] < b[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return static_cast<double>(common) / static_cast<double>(a.size() + b.size() - common);
}

/// The exact Jaccard similarity of two documents' shingle sets.
inline double exact_jaccard(std::string_view x, std::string_view y, shingle_options const& o) {
  return jaccard_of_sets(shingle_set(x, o), shingle_set(y, o));
}

}  // namespace warp::lsh
