// examples/classifier/report.hpp: Kraken 2's output formats, so that KrakenTools, Pavian and
// Bracken read them unchanged.
//
// Per read (one line, tab-separated): C or U, the read id, the taxid (0 when unclassified), the
// length (l1|l2 for a pair), and the hit list. Kraken 2's hit list is its k-mers' LCA taxids in
// runs; ours lists the best targets' taxids with their window-range hits ("562:14 573:3"), or
// "0:0" when nothing was hit.
//
// Report (one line per taxon with reads in its clade, depth-first from the root, children by clade
// size, largest first; "unclassified" first): percentage of all reads in the clade (%6.2f), reads
// in the clade, reads assigned directly, rank code, taxid, and the scientific name indented by two
// spaces per level below the root.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include <warp/genomics/taxonomy.cuh>

#include "classifier/classify.hpp"

namespace classifier {

inline std::string kraken_line(database const& db, read_input const& read, read_result const& r) {
  std::string line = r.taxid != 0 ? "C\t" : "U\t";
  line += read.id + "\t" + std::to_string(r.taxid) + "\t" + std::to_string(read.first.size());
  if (read.paired) { line += "|" + std::to_string(read.second.size()); }
  line += "\t";
  if (r.top.empty()) {
    line += "0:0";
  } else {
    for (std::size_t i = 0; i < r.top.size(); ++i) {
      if (i != 0) { line += ' '; }
      line += std::to_string(db.targets[r.top[i].target].taxid) + ":" + std::to_string(r.top[i].hits);
    }
  }
  return line + "\n";
}

/// Reads assigned directly to each taxid (0: unclassified).
using assignment_counts = std::unordered_map<std::uint64_t, std::uint64_t>;

inline std::string kraken_report(warp::genomics::taxonomy const& tax, assignment_counts const& direct) {
  std::uint64_t total = 0;
  std::unordered_map<std::uint64_t, std::uint64_t> clade;
  for (auto const& [taxid, n] : direct) {
    total += n;
    if (taxid == 0) { continue; }
    for (std::uint64_t t = taxid;; t = tax.parent(t)) {
      clade[t] += n;
      if (t == tax.root()) { break; }
    }
  }
  std::string out;
  char buf[64];
  auto percent = [&](std::uint64_t n) {
    std::snprintf(buf, sizeof(buf), "%6.2f", total == 0 ? 0.0 : 100.0 * static_cast<double>(n) / static_cast<double>(total));
    return std::string(buf);
  };
  auto const unclassified = direct.count(0) ? direct.at(0) : 0;
  if (unclassified != 0 || total == 0) {
    out += percent(unclassified) + "\t" + std::to_string(unclassified) + "\t" + std::to_string(unclassified) + "\tU\t0\tunclassified\n";
  }
  // Depth-first, children by clade size (then taxid).
  std::vector<std::pair<std::uint64_t, std::uint32_t>> stack;
  if (clade.count(tax.root())) { stack.push_back({tax.root(), 0}); }
  while (!stack.empty()) {
    auto const [t, level] = stack.back();
    stack.pop_back();
    std::uint64_t const d = direct.count(t) ? direct.at(t) : 0;
    out += percent(clade[t]) + "\t" + std::to_string(clade[t]) + "\t" + std::to_string(d) + "\t" + tax.rank_code(t) + "\t" +
           std::to_string(t) + "\t" + std::string(2 * level, ' ') + tax.name(t) + "\n";
    std::vector<std::uint64_t> kids;
    for (std::uint64_t c : tax.children_of(t)) {
      if (clade.count(c)) { kids.push_back(c); }
    }
    std::sort(kids.begin(), kids.end(), [&](std::uint64_t a, std::uint64_t b) {
      return clade[a] != clade[b] ? clade[a] < clade[b] : a > b;  // reversed: the stack pops the largest first
    });
    for (std::uint64_t c : kids) { stack.push_back({c, level + 1}); }
  }
  return out;
}

/// Species abundance (TSV): taxid, name, reads in the species' clade, fraction of classified reads.
inline std::string species_abundance(warp::genomics::taxonomy const& tax, assignment_counts const& direct) {
  std::unordered_map<std::uint64_t, std::uint64_t> species;
  std::uint64_t classified = 0;
  for (auto const& [taxid, n] : direct) {
    if (taxid == 0) { continue; }
    classified += n;
    std::uint64_t const s = tax.ancestor_with_rank(taxid, "species");
    if (s != warp::genomics::taxonomy::none) { species[s] += n; }
  }
  std::vector<std::pair<std::uint64_t, std::uint64_t>> rows(species.begin(), species.end());
  std::sort(rows.begin(), rows.end(), [](auto a, auto b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  std::string out = "taxid\tname\treads\tfraction_of_classified\n";
  char buf[32];
  for (auto const& [s, n] : rows) {
    std::snprintf(buf, sizeof(buf), "%.6f", classified == 0 ? 0.0 : static_cast<double>(n) / static_cast<double>(classified));
    out += std::to_string(s) + "\t" + tax.name(s) + "\t" + std::to_string(n) + "\t" + buf + "\n";
  }
  return out;
}

}  // namespace classifier
