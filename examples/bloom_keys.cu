// Builds a Bloom filter from a file of keys (one per line), saves it, loads it back and queries it.
//
//   example_bloom_keys keys.txt filter.bloom queries.txt [false-positive rate = 0.01]
//
// Lines are hashed to 64-bit keys with XXH3-64. The filter is sized for the number of keys at the
// requested rate, written to filter.bloom (atomically: a temporary file renamed into place), read
// back (the header and checksum are validated), and every line of queries.txt is printed with
// "maybe" (possibly in the set) or "no" (certainly not). Runs on the GPU when one is present.
#include <warp/warp.cuh>

#include "common/cli.hpp"

#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> read_lines(std::string const& path) {
  std::ifstream in{path};
  if (!in) { throw warp::error("cannot open " + path); }
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') { line.pop_back(); }
    if (!line.empty()) { lines.push_back(line); }
  }
  return lines;
}

std::vector<std::uint64_t> hashed(std::vector<std::string> const& lines) {
  std::vector<std::uint64_t> keys;
  keys.reserve(lines.size());
  for (auto const& l : lines) { keys.push_back(warp::hash::xxh3_64(l.data(), l.size(), 0)); }
  return keys;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::cerr << "usage: " << argv[0] << " keys.txt filter.bloom queries.txt [false-positive rate = 0.01]\n";
    return 2;
  }
  try {
    // Every argument is checked before anything is built or written.
    double const rate = argc > 4 ? example::parse_real(argv[4], "false-positive rate", 1e-12, 0.5) : 0.01;
    example::require_readable(argv[1], "key file");
    example::require_readable(argv[3], "query file");
    example::require_writable_prefix(argv[2]);
    auto const keys = read_lines(argv[1]);
    if (keys.empty()) { throw warp::invalid_argument(std::string(argv[1]) + " holds no keys"); }
    auto const key_hashes = hashed(keys);

    warp::bloom_filter<std::uint64_t> filter{warp::bloom_sizing{keys.size(), rate}};
    filter.add(key_hashes.begin(), key_hashes.end());
    std::cerr << "built a filter of " << filter.num_bits() << " bits (" << filter.hashes() << " hashes) for "
              << keys.size() << " keys on the " << warp::to_string(filter.where()) << " backend; predicted "
              << "false-positive rate " << filter.predicted_false_positive_rate(keys.size()) << "\n";
    filter.save(argv[2]);

    auto const loaded = warp::bloom_filter<std::uint64_t>::load(argv[2]);
    auto const queries = read_lines(argv[3]);
    auto const query_hashes = hashed(queries);
    std::vector<char> hits(queries.size());
    std::size_t const positives =
        loaded.contains(query_hashes.begin(), query_hashes.end(), reinterpret_cast<bool*>(hits.data()));
    for (std::size_t i = 0; i < queries.size(); ++i) { std::cout << (hits[i] ? "maybe" : "no") << '\t' << queries[i] << '\n'; }
    std::cout << positives << " of " << queries.size() << " queries possibly present\n";
    return 0;
  } catch (std::exception const& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}
