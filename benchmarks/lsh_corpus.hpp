// A synthetic corpus for the LSH benchmarks: documents of words drawn from a Zipf-like
// vocabulary, a few hundred bytes to tens of KB each, and planted near-duplicates: a copy of an
// earlier document with each word replaced by a random one with probability `change`, so that
// the planted pairs' similarity is known (their exact Jaccard is computed by the benchmark).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <warp/lsh/documents.cuh>

namespace warp_bench {

struct lsh_corpus {
  warp::lsh::document_batch docs;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> planted;  // (original, copy), original < copy
};

/// n documents of min_bytes to max_bytes (log-uniform); a fraction `duplicates` of them are
/// planted copies with `change` of their words replaced.
inline lsh_corpus make_lsh_corpus(std::size_t n, std::size_t min_bytes, std::size_t max_bytes, double duplicates,
                                  double change, std::uint64_t seed) {
  std::mt19937_64 rng{seed};
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  // A vocabulary of 50,000 lowercase words of 2 to 10 letters.
  std::vector<std::string> vocabulary(50000);
  for (auto& w : vocabulary) {
    std::size_t const len = 2 + rng() % 9;
    for (std::size_t i = 0; i < len; ++i) { w += static_cast<char>('a' + rng() % 26); }
  }
  auto word = [&]() -> std::string const& {
    // Zipf-like: rank = floor(V^u) - 1 for uniform u.
    auto const rank = static_cast<std::size_t>(std::pow(double(vocabulary.size()), unit(rng))) - 1;
    return vocabulary[rank < vocabulary.size() ? rank : vocabulary.size() - 1];
  };
  lsh_corpus c;
  std::string text;
  for (std::size_t d = 0; d < n; ++d) {
    text.clear();
    if (d > 0 && unit(rng) < duplicates) {
      auto const original = static_cast<std::uint32_t>(rng() % d);
      std::string_view const src{c.docs.bytes.data() + c.docs.offsets[original],
                                 static_cast<std::size_t>(c.docs.offsets[original + 1] - c.docs.offsets[original])};
      std::size_t i = 0;
      while (i < src.size()) {
        std::size_t j = src.find(' ', i);
        if (j == std::string_view::npos) { j = src.size(); }
        if (!text.empty()) { text += ' '; }
        if (unit(rng) < change) {
          text += word();
        } else {
          text.append(src.substr(i, j - i));
        }
        i = j + 1;
      }
      c.planted.emplace_back(original, static_cast<std::uint32_t>(d));
    } else {
      double const lo = std::log(double(min_bytes)), hi = std::log(double(max_bytes));
      auto const target = static_cast<std::size_t>(std::exp(lo + (hi - lo) * unit(rng)));
      while (text.size() < target) {
        if (!text.empty()) { text += ' '; }
        text += word();
      }
    }
    c.docs.push_back(text);
  }
  return c;
}

}  // namespace warp_bench
