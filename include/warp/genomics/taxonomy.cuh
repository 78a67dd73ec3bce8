// warp/genomics/taxonomy.cuh: an NCBI taxonomy (nodes.dmp, names.dmp, optional merged.dmp) with
// lowest common ancestors and Kraken 2's rank codes (host code).
//
//   auto tax = warp::genomics::taxonomy::load("nodes.dmp", "names.dmp", "merged.dmp");
//   std::uint64_t l = tax.lca(562, 573);          // Enterobacteriaceae (543)
//   std::string code = tax.rank_code(83333);      // "S1": one level below a species
//
// The .dmp format: fields separated by "\t|\t", each line ending in "\t|"; nodes.dmp gives
// tax_id, parent tax_id, rank; names.dmp gives tax_id, name, unique name, name class (the
// "scientific name" is kept); merged.dmp maps old tax_ids to their current ones. The root is the
// node that is its own parent. Errors name the file, the line and the field: a short line, a
// tax_id that is not a number, a tax_id given twice, a parent that is not in the file, a cycle,
// no root or several.
//
// Rank codes follow Kraken 2's report: R (root), D (superkingdom or domain), K, P, C, O, F, G, S;
// a node of another rank takes its nearest coded ancestor's letter and one more than that
// ancestor's number (R1 for "cellular organisms", S1 for a strain under a species, G1 for a
// species group under a genus).
#pragma once

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <warp/core/error.cuh>

namespace warp::genomics {

class taxonomy {
 public:
  static constexpr std::uint64_t none = 0;  // not a tax_id (NCBI's start at 1)

  static taxonomy load(std::string const& nodes, std::string const& names, std::string const& merged = {}) {
    taxonomy t;
    t.read_nodes(nodes);
    t.read_names(names);
    if (!merged.empty()) { t.read_merged(merged); }
    return t;
  }

  /// Builds a taxonomy from (tax_id, parent, rank, name) tuples (tests, and the database loader).
  struct node_entry {
    std::uint64_t id, parent;
    std::string rank, name;
  };
  static taxonomy from_entries(std::vector<node_entry> const& entries,
                               std::vector<std::pair<std::uint64_t, std::uint64_t>> const& merged = {}) {
    taxonomy t;
    for (std::size_t i = 0; i < entries.size(); ++i) { t.add(entries[i].id, entries[i].parent, entries[i].rank, "entries", i + 1); }
    t.link("entries");
    for (std::size_t i = 0; i < entries.size(); ++i) { t.name_[t.index_.at(entries[i].id)] = entries[i].name; }
    for (auto const& [from, to] : merged) { t.merged_[from] = to; }
    return t;
  }

  [[nodiscard]] std::size_t size() const noexcept { return id_.size(); }
  [[nodiscard]] std::uint64_t root() const noexcept { return id_.empty() ? none : id_[root_]; }
  /// The current tax_id of `id` (following merged.dmp), or `none` when it is unknown.
  [[nodiscard]] std::uint64_t resolve(std::uint64_t id) const {
    if (index_.count(id) != 0) { return id; }
    auto const m = merged_.find(id);
    return m != merged_.end() && index_.count(m->second) != 0 ? m->second : none;
  }
  [[nodiscard]] bool contains(std::uint64_t id) const { return resolve(id) != none; }
  [[nodiscard]] std::uint64_t parent(std::uint64_t id) const { return id_[parent_[at(id)]]; }
  [[nodiscard]] std::string const& rank(std::uint64_t id) const { return rank_[at(id)]; }
  [[nodiscard]] std::string const& name(std::uint64_t id) const { return name_[at(id)]; }
  [[nodiscard]] std::uint32_t depth(std::uint64_t id) const { return depth_[at(id)]; }
  [[nodiscard]] std::string const& rank_code(std::uint64_t id) const { return code_[at(id)]; }

  /// The lowest common ancestor of a and b (either may be `none`: the other is returned).
  [[nodiscard]] std::uint64_t lca(std::uint64_t a, std::uint64_t b) const {
    if (a == none) { return b; }
    if (b == none) { return a; }
    std::uint32_t x = at(a), y = at(b);
    while (depth_[x] > depth_[y]) { x = parent_[x]; }
    while (depth_[y] > depth_[x]) { y = parent_[y]; }
    while (x != y) {
      x = parent_[x];
      y = parent_[y];
    }
    return id_[x];
  }
  /// True when `ancestor` is `id` or one of its ancestors.
  [[nodiscard]] bool is_ancestor(std::uint64_t ancestor, std::uint64_t id) const { return lca(ancestor, id) == resolve(ancestor); }
  /// The ancestor of `id` (itself included) of rank `r`, or `none`.
  [[nodiscard]] std::uint64_t ancestor_with_rank(std::uint64_t id, std::string_view r) const {
    for (std::uint32_t x = at(id);; x = parent_[x]) {
      if (rank_[x] == r) { return id_[x]; }
      if (x == root_) { return none; }
    }
  }
  /// Every node's tax_id, parent and so on, in the order they were read (for serialisation).
  [[nodiscard]] std::vector<node_entry> entries() const {
    std::vector<node_entry> out;
    out.reserve(id_.size());
    for (std::size_t i = 0; i < id_.size(); ++i) { out.push_back({id_[i], id_[parent_[i]], rank_[i], name_[i]}); }
    return out;
  }
  [[nodiscard]] std::vector<std::pair<std::uint64_t, std::uint64_t>> merged_entries() const {
    return {merged_.begin(), merged_.end()};
  }
  /// The children of every node (index by tax_id through children_of).
  [[nodiscard]] std::vector<std::uint64_t> children_of(std::uint64_t id) const {
    std::vector<std::uint64_t> out;
    std::uint32_t const x = at(id);
    for (std::uint32_t c : children_[x]) { out.push_back(id_[c]); }
    return out;
  }

 private:
  std::uint32_t at(std::uint64_t id) const {
    std::uint64_t const r = resolve(id);
    if (r == none) { throw invalid_argument("taxonomy: tax_id " + std::to_string(id) + " is not in the taxonomy"); }
    return index_.at(r);
  }

  /// The fields of one .dmp line ("a\t|\tb\t|\t...\t|").
  static std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    if (!line.empty() && line.back() == '\r') { line.remove_suffix(1); }
    if (line.size() >= 2 && line.substr(line.size() - 2) == "\t|") { line.remove_suffix(2); }
    std::size_t start = 0;
    for (;;) {
      std::size_t const sep = line.find("\t|\t", start);
      if (sep == std::string_view::npos) {
        out.push_back(line.substr(start));
        return out;
      }
      out.push_back(line.substr(start, sep - start));
      start = sep + 3;
    }
  }
  static std::uint64_t number(std::string_view text, std::string const& file, std::size_t line, int field) {
    std::uint64_t v = 0;
    if (text.empty() || text.size() > 19) {
      throw invalid_argument(file + ":" + std::to_string(line) + ": field " + std::to_string(field) + ": '" +
                             std::string(text) + "' is not a tax_id");
    }
    for (char c : text) {
      if (c < '0' || c > '9') {
        throw invalid_argument(file + ":" + std::to_string(line) + ": field " + std::to_string(field) + ": '" +
                               std::string(text) + "' is not a tax_id");
      }
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v == none) { throw invalid_argument(file + ":" + std::to_string(line) + ": field " + std::to_string(field) + ": tax_id 0"); }
    return v;
  }
  template <class F>
  static void each_line(std::string const& path, F f) {
    std::ifstream in{path};
    if (!in) { throw invalid_argument(path + ": cannot open for reading"); }
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.empty() || line == "\r") { continue; }
      f(fields(line), n);
    }
    if (in.bad()) { throw invalid_argument(path + ": read error"); }
  }

  void add(std::uint64_t id, std::uint64_t parent, std::string rank, std::string const& file, std::size_t line) {
    auto const [it, fresh] = index_.emplace(id, static_cast<std::uint32_t>(id_.size()));
    if (!fresh) {
      throw invalid_argument(file + ":" + std::to_string(line) + ": tax_id " + std::to_string(id) + " is given twice");
    }
    id_.push_back(id);
    parent_id_.push_back(parent);
    rank_.push_back(std::move(rank));
    line_.push_back(line);
  }

  void read_nodes(std::string const& path) {
    each_line(path, [&](std::vector<std::string_view> const& f, std::size_t line) {
      if (f.size() < 3) {
        throw invalid_argument(path + ":" + std::to_string(line) + ": a nodes.dmp line needs tax_id, parent and rank, it has " +
                               std::to_string(f.size()) + " field(s)");
      }
      add(number(f[0], path, line, 1), number(f[1], path, line, 2), std::string(f[2]), path, line);
    });
    link(path);
  }

  /// Parents, the root, depths (cycles are errors), rank codes and children.
  void link(std::string const& file) {
    std::size_t const n = id_.size();
    if (n == 0) { throw invalid_argument(file + ": no taxonomy nodes"); }
    parent_.assign(n, 0);
    bool have_root = false;
    for (std::size_t i = 0; i < n; ++i) {
      auto const p = index_.find(parent_id_[i]);
      if (p == index_.end()) {
        throw invalid_argument(file + ":" + std::to_string(line_[i]) + ": field 2: parent " + std::to_string(parent_id_[i]) +
                               " of tax_id " + std::to_string(id_[i]) + " is not in the file");
      }
      parent_[i] = p->second;
      if (p->second == i) {
        if (have_root) {
          throw invalid_argument(file + ":" + std::to_string(line_[i]) + ": tax_id " + std::to_string(id_[i]) +
                                 " is a second root (its own parent; the first is " + std::to_string(id_[root_]) + ")");
        }
        have_root = true;
        root_ = static_cast<std::uint32_t>(i);
      }
    }
    if (!have_root) { throw invalid_argument(file + ": no root (no tax_id is its own parent)"); }
    // Depths by walking up until a known depth; a walk longer than n is a cycle.
    constexpr std::uint32_t unknown = ~0u;
    depth_.assign(n, unknown);
    depth_[root_] = 0;
    std::vector<std::uint32_t> path;
    for (std::size_t i = 0; i < n; ++i) {
      path.clear();
      std::uint32_t x = static_cast<std::uint32_t>(i);
      while (depth_[x] == unknown) {
        path.push_back(x);
        if (path.size() > n) {
          throw invalid_argument(file + ":" + std::to_string(line_[i]) + ": tax_id " + std::to_string(id_[i]) +
                                 " is in a cycle of parents");
        }
        x = parent_[x];
      }
      for (std::size_t j = path.size(); j-- > 0;) {
        depth_[path[j]] = depth_[x] + 1;
        x = path[j];
      }
    }
    // Rank codes, parents before children (by depth).
    std::vector<std::uint32_t> order(n);
    for (std::uint32_t i = 0; i < n; ++i) { order[i] = i; }
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return depth_[a] < depth_[b]; });
    code_.assign(n, "");
    for (std::uint32_t x : order) {
      if (x == root_) {
        code_[x] = "R";
        continue;
      }
      char const letter = rank_letter(rank_[x]);
      if (letter != 0) {
        code_[x] = std::string(1, letter);
      } else {
        std::string const& up = code_[parent_[x]];
        int const level = up.size() > 1 ? std::stoi(up.substr(1)) : 0;
        code_[x] = up.substr(0, 1) + std::to_string(level + 1);
      }
    }
    children_.assign(n, {});
    for (std::uint32_t i = 0; i < n; ++i) {
      if (i != root_) { children_[parent_[i]].push_back(i); }
    }
    name_.assign(n, "");
  }

  static char rank_letter(std::string const& rank) {
    if (rank == "superkingdom" || rank == "domain") { return 'D'; }
    if (rank == "kingdom") { return 'K'; }
    if (rank == "phylum") { return 'P'; }
    if (rank == "class") { return 'C'; }
    if (rank == "order") { return 'O'; }
    if (rank == "family") { return 'F'; }
    if (rank == "genus") { return 'G'; }
    if (rank == "species") { return 'S'; }
    return 0;
  }

  void read_names(std::string const& path) {
    each_line(path, [&](std::vector<std::string_view> const& f, std::size_t line) {
      if (f.size() < 4) {
        throw invalid_argument(path + ":" + std::to_string(line) +
                               ": a names.dmp line needs tax_id, name, unique name and name class, it has " +
                               std::to_string(f.size()) + " field(s)");
      }
      if (f[3] != "scientific name") { return; }
      std::uint64_t const id = number(f[0], path, line, 1);
      auto const it = index_.find(id);
      if (it == index_.end()) {
        throw invalid_argument(path + ":" + std::to_string(line) + ": field 1: tax_id " + std::to_string(id) +
                               " is not in nodes.dmp");
      }
      name_[it->second] = std::string(f[1]);
    });
  }

  void read_merged(std::string const& path) {
    each_line(path, [&](std::vector<std::string_view> const& f, std::size_t line) {
      if (f.size() < 2) {
        throw invalid_argument(path + ":" + std::to_string(line) + ": a merged.dmp line needs the old and the new tax_id");
      }
      merged_[number(f[0], path, line, 1)] = number(f[1], path, line, 2);
    });
  }

  std::vector<std::uint64_t> id_, parent_id_;
  std::vector<std::uint32_t> parent_, depth_;
  std::vector<std::string> rank_, name_, code_;
  std::vector<std::size_t> line_;
  std::vector<std::vector<std::uint32_t>> children_;
  std::unordered_map<std::uint64_t, std::uint32_t> index_;
  std::unordered_map<std::uint64_t, std::uint64_t> merged_;
  std::uint32_t root_ = 0;
};

}  // namespace warp::genomics
