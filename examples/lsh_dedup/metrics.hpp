// examples/lsh_dedup/metrics.hpp: ground truth and the blocking metrics of the field: pair
// completeness PC = |C ∩ G| / |G|, pairs quality PQ = |C ∩ G| / |C|, reduction ratio
// RR = 1 - |C| / |A × B| (one table: n (n - 1) / 2 pairs), and F1 of PC and PQ.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <warp/lsh/candidates.cuh>

#include "records.hpp"

namespace lsh_tool {

/// Row index of every id of a table's id column (duplicate ids are an error naming both lines).
inline std::unordered_map<std::string, std::uint32_t> index_ids(table const& t, std::size_t id_column) {
  std::unordered_map<std::string, std::uint32_t> ids;
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    auto const [it, fresh] = ids.emplace(t.rows[r][id_column], static_cast<std::uint32_t>(r));
    if (!fresh) {
      throw input_error(t.path + ":" + std::to_string(t.row_lines[r]) + ": id '" + t.rows[r][id_column] +
                        "' already on line " + std::to_string(t.row_lines[it->second]));
    }
  }
  return ids;
}

/// Ground-truth pairs as (row in A, row in B) keys (first << 32 | second); dirty mode stores
/// first < second. Ids that are not in the tables are errors naming the file and line.
inline std::vector<std::uint64_t> read_truth(std::string const& path, char separator, bool header,
                                             std::unordered_map<std::string, std::uint32_t> const& ids_a,
                                             std::unordered_map<std::string, std::uint32_t> const& ids_b, bool clean) {
  std::string const text = read_whole_file(path);
  std::vector<std::size_t> lines;
  auto const records = parse_delimited(text, path, separator, '"', &lines);
  std::vector<std::uint64_t> out;
  for (std::size_t r = header ? 1 : 0; r < records.size(); ++r) {
    auto const& f = records[r];
    if (f.size() == 1 && f[0].empty()) { continue; }  // a blank line
    if (f.size() < 2) {
      throw input_error(path + ":" + std::to_string(lines[r]) + ": a ground-truth line needs two ids, it has " +
                        std::to_string(f.size()) + " field(s) (separator '" + std::string(1, separator) + "')");
    }
    auto const a = ids_a.find(f[0]);
    auto const b = ids_b.find(f[1]);
    if (a == ids_a.end()) {
      throw input_error(path + ":" + std::to_string(lines[r]) + ": column 1: id '" + f[0] + "' is not in the first table");
    }
    if (b == ids_b.end()) {
      throw input_error(path + ":" + std::to_string(lines[r]) + ": column 2: id '" + f[1] + "' is not in the " +
                        (clean ? "second" : "") + " table");
    }
    std::uint32_t x = a->second, y = b->second;
    if (!clean) {
      if (x == y) { continue; }
      if (x > y) { std::swap(x, y); }
    }
    out.push_back(std::uint64_t{x} << 32 | y);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

struct blocking_metrics {
  std::uint64_t truth = 0, candidates = 0, found = 0;
  double all_pairs = 0;
  double pc = 0, pq = 0, rr = 0, f1 = 0;
};

inline blocking_metrics measure(std::vector<warp::lsh::document_pair> const& pairs,
                                std::vector<std::uint64_t> const& truth, double all_pairs) {
  blocking_metrics m;
  m.truth = truth.size();
  m.candidates = pairs.size();
  m.all_pairs = all_pairs;
  for (auto const& p : pairs) {
    m.found += std::binary_search(truth.begin(), truth.end(), std::uint64_t{p.first} << 32 | p.second) ? 1 : 0;
  }
  m.pc = m.truth == 0 ? 0.0 : static_cast<double>(m.found) / static_cast<double>(m.truth);
  m.pq = m.candidates == 0 ? 0.0 : static_cast<double>(m.found) / static_cast<double>(m.candidates);
  m.rr = all_pairs <= 0 ? 0.0 : 1.0 - static_cast<double>(m.candidates) / all_pairs;
  m.f1 = m.pc + m.pq == 0 ? 0.0 : 2 * m.pc * m.pq / (m.pc + m.pq);
  return m;
}

}  // namespace lsh_tool
