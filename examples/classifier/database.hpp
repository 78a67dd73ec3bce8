// examples/classifier/database.hpp: the classifier's reference database: the taxonomy, the
// targets (reference sequences with their taxids), and feature -> (target, window) locations,
// built in a bucket_list_map and frozen into CSR form; saved as one versioned, checksummed file.
//
// File layout (little-endian): a 104-byte header (magic "WARPCLS\0", version, build options,
// counts, payload size, XXH3-64 of the payload, XXH3-64 of the header), then the payload:
// taxonomy nodes (id, parent, rank, name), merged ids, targets (name, taxid, length), then the
// feature keys (u32), their location offsets (u64, keys + 1) and the locations (u64:
// target << 32 | window), each of the three arrays starting at a multiple of 8 bytes from the
// file's start (zero padding before it). The loader maps the file, checks the header against the
// file's size before it allocates anything, then the checksums, then every count and offset; the
// three arrays are used in place, in the mapping, not copied.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <warp/bucket_list_map.cuh>
#include <warp/detail/files.cuh>
#include <warp/genomics/sequence_reader.cuh>
#include <warp/genomics/sketch.cuh>
#include <warp/genomics/taxonomy.cuh>
#include <warp/hash/xxh3.cuh>
#include <warp/lsh/documents.cuh>

#include "common/cli.hpp"

namespace classifier {

using example::input_error;

struct build_options {
  warp::genomics::sketch_options sketch{};  // k, window, features per window
  std::uint32_t max_locations = 254;        // per feature; features with more are dropped
  // Keep each dropped feature as one `dropped_marker` location instead of leaving it out: a
  // partition of a database (classifier/partitioned.hpp) must say that a feature went over the
  // cap, so that the merged lookup drops it as a database of every reference would.
  bool mark_dropped = false;
};

/// The one location of a feature that a marking build dropped.
inline constexpr std::uint64_t dropped_marker = ~std::uint64_t{0};

struct target {
  std::string name;
  std::uint64_t taxid;
  std::uint64_t length;
};

/// One of the database's large arrays: its own vector when the database was built, a view of the
/// mapped file when it was loaded (the database then keeps the mapping alive).
template <class T>
class table_array {
 public:
  table_array() = default;
  explicit table_array(std::vector<T> v) : owned_{std::move(v)}, data_{owned_.data()}, size_{owned_.size()} {}
  table_array(T const* data, std::size_t size) : data_{data}, size_{size} {}
  table_array(table_array const& o) { *this = o; }
  table_array& operator=(table_array const& o) {
    if (this != &o) {
      owned_ = o.owned_;
      data_ = o.owns() ? owned_.data() : o.data_;
      size_ = o.size_;
    }
    return *this;
  }
  table_array(table_array&& o) noexcept { *this = std::move(o); }
  table_array& operator=(table_array&& o) noexcept {
    bool const owned = o.owns();
    owned_ = std::move(o.owned_);  // a moved vector keeps its buffer, so owned_.data() is o's
    data_ = owned ? owned_.data() : o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
    return *this;
  }

  [[nodiscard]] T const* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] T const* begin() const noexcept { return data_; }
  [[nodiscard]] T const* end() const noexcept { return data_ + size_; }
  T const& operator[](std::size_t i) const noexcept { return data_[i]; }
  T const& front() const noexcept { return data_[0]; }
  T const& back() const noexcept { return data_[size_ - 1]; }
  friend bool operator==(table_array const& a, table_array const& b) {
    return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
  }

 private:
  [[nodiscard]] bool owns() const noexcept { return data_ != nullptr && data_ == owned_.data(); }
  std::vector<T> owned_;
  T const* data_ = nullptr;
  std::size_t size_ = 0;
};

struct database {
  build_options options;
  warp::genomics::taxonomy taxonomy;
  std::vector<target> targets;
  // CSR of feature -> locations, features ascending, each feature's locations ascending.
  table_array<std::uint32_t> features;
  table_array<std::uint64_t> offsets;
  table_array<std::uint64_t> locations;
  std::uint64_t dropped_features = 0;   // over max_locations
  std::uint64_t dropped_locations = 0;
  std::shared_ptr<warp::detail::mapped_file const> file;  // what a loaded database's arrays view
};

inline constexpr std::uint32_t location_window_bits = 32;
inline std::uint64_t location(std::uint32_t t, std::uint32_t w) { return std::uint64_t{t} << 32 | w; }
inline std::uint32_t location_target(std::uint64_t l) { return static_cast<std::uint32_t>(l >> 32); }
inline std::uint32_t location_window(std::uint64_t l) { return static_cast<std::uint32_t>(l); }

/// The taxid in a Kraken-style header ("kraken:taxid|562|..."), or 0.
inline std::uint64_t header_taxid(std::string const& id) {
  static std::string const tag = "kraken:taxid|";
  if (id.compare(0, tag.size(), tag) != 0) { return 0; }
  std::uint64_t v = 0;
  std::size_t i = tag.size();
  for (; i < id.size() && id[i] >= '0' && id[i] <= '9'; ++i) { v = v * 10 + static_cast<std::uint64_t>(id[i] - '0'); }
  return i < id.size() && id[i] == '|' ? v : 0;
}

/// accession -> taxid from a tab-separated file (accession, taxid); accessions are also found
/// without their version (".1").
inline std::unordered_map<std::string, std::uint64_t> read_mapping(std::string const& path) {
  std::ifstream in{path};
  if (!in) { throw input_error(path + ": cannot open for reading"); }
  std::unordered_map<std::string, std::uint64_t> map;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') { line.pop_back(); }
    if (line.empty() || line[0] == '#') { continue; }
    std::size_t const tab = line.find('\t');
    if (tab == std::string::npos) { throw input_error(path + ":" + std::to_string(n) + ": expected 'accession<TAB>taxid'"); }
    std::string const taxid = line.substr(tab + 1, line.find('\t', tab + 1) - tab - 1);
    map[line.substr(0, tab)] = example::parse_integer<std::uint64_t>(taxid.c_str(), ("taxid on line " + std::to_string(n) + " of " + path).c_str(), 1, ~0ull >> 1);
  }
  return map;
}

struct build_inputs {
  std::vector<std::string> references;
  std::string nodes, names, merged, mapping;
  bool skip_unmapped = false;
};

/// Reads the references, sketches their windows, and builds the feature table on `where`.
inline database build(build_inputs const& in, build_options const& o, warp::backend where, std::ostream& progress) {
  warp::genomics::validate(o.sketch);
  if (o.max_locations == 0) { throw input_error("max locations per feature must be at least 1"); }
  auto const t0 = std::chrono::steady_clock::now();
  database db;
  db.options = o;
  db.taxonomy = warp::genomics::taxonomy::load(in.nodes, in.names, in.merged);
  auto const mapping = in.mapping.empty() ? std::unordered_map<std::string, std::uint64_t>{} : read_mapping(in.mapping);
  warp::lsh::document_batch sequences;
  std::uint64_t bases = 0, skipped = 0;
  for (auto const& path : in.references) {
    warp::genomics::sequence_reader reader{path};
    warp::genomics::sequence_record r;
    while (reader.next(r)) {
      std::uint64_t taxid = header_taxid(r.id);
      if (taxid == 0) {
        auto it = mapping.find(r.id);
        if (it == mapping.end()) { it = mapping.find(r.id.substr(0, r.id.find('.'))); }
        if (it != mapping.end()) { taxid = it->second; }
      }
      if (taxid == 0 || !db.taxonomy.contains(taxid)) {
        if (in.skip_unmapped) {
          ++skipped;
          continue;
        }
        throw input_error(path + ":" + std::to_string(r.line) + ": sequence '" + r.id + "' has " +
                          (taxid == 0 ? std::string("no taxid (neither a kraken:taxid| header nor a mapping entry)")
                                      : "taxid " + std::to_string(taxid) + ", which is not in the taxonomy") +
                          "; give --skip-unmapped to skip such sequences");
      }
      if (db.targets.size() >= 0xffffffffull) { throw input_error("more than 2^32 - 1 reference sequences"); }
      db.targets.push_back({r.id, db.taxonomy.resolve(taxid), r.sequence.size()});
      bases += r.sequence.size();
      sequences.push_back(r.sequence);
      if (db.targets.size() % 256 == 0) {
        progress << "\rreferences: " << db.targets.size() << " sequences, " << bases << " bases" << std::flush;
      }
    }
  }
  progress << "\rreferences: " << db.targets.size() << " sequences, " << bases << " bases\n";
  if (db.targets.empty()) { throw input_error("no reference sequences with a taxid"); }
  if (skipped != 0) { progress << "skipped " << skipped << " sequences without a taxid\n"; }
  auto const sketches = warp::genomics::sketch(sequences.view(), o.sketch, where);
  // (feature, location) pairs, then the bucket-list map.
  std::vector<std::uint32_t> keys;
  std::vector<std::uint64_t> values;
  for (std::size_t t = 0; t < db.targets.size(); ++t) {
    for (std::uint64_t w = sketches.window_offsets[t]; w < sketches.window_offsets[t + 1]; ++w) {
      std::uint64_t const local = w - sketches.window_offsets[t];
      if (local > 0xffffffffull) { throw input_error("target " + db.targets[t].name + " has more than 2^32 windows"); }
      for (std::uint32_t f = 0; f < sketches.counts[w]; ++f) {
        std::uint32_t const feature = sketches.features[w * o.sketch.sketch_size + f];
        if (feature == ~0u) { continue; }  // the table's empty sentinel
        keys.push_back(feature);
        values.push_back(location(static_cast<std::uint32_t>(t), static_cast<std::uint32_t>(local)));
      }
    }
  }
  progress << "features: " << keys.size() << " (feature, location) pairs from " << sketches.windows() << " windows\n";
  warp::bucket_list_map<std::uint32_t, std::uint64_t> table{warp::sizing{keys.size(), 0.5}, warp::empty_key<std::uint32_t>{~0u},
                                                            {}, where};
  table.insert(keys.begin(), keys.end(), values.begin());
  std::size_t const distinct = table.num_keys();
  std::vector<std::uint32_t> feature_keys(distinct);
  table.retrieve_keys(feature_keys.data(), distinct);
  std::sort(feature_keys.begin(), feature_keys.end());
  std::vector<std::uint64_t> offsets(distinct + 1);
  std::vector<std::uint64_t> all(keys.size());
  table.retrieve(feature_keys.begin(), feature_keys.end(), offsets.data(), all.data(), all.size());
  // Locations ascending within each feature; features over the cap dropped (reported).
  std::vector<std::uint32_t> kept_features;
  std::vector<std::uint64_t> kept_offsets{0};
  std::vector<std::uint64_t> kept_locations;
  for (std::size_t i = 0; i < distinct; ++i) {
    auto const begin = all.begin() + static_cast<std::ptrdiff_t>(offsets[i]);
    auto const end = all.begin() + static_cast<std::ptrdiff_t>(offsets[i + 1]);
    std::uint64_t const n = offsets[i + 1] - offsets[i];
    if (n > o.max_locations) {
      ++db.dropped_features;
      db.dropped_locations += n;
      if (o.mark_dropped) {
        kept_features.push_back(feature_keys[i]);
        kept_locations.push_back(dropped_marker);
        kept_offsets.push_back(kept_locations.size());
      }
      continue;
    }
    std::sort(begin, end);
    kept_features.push_back(feature_keys[i]);
    kept_locations.insert(kept_locations.end(), begin, end);
    kept_offsets.push_back(kept_locations.size());
  }
  db.features = table_array<std::uint32_t>{std::move(kept_features)};
  db.offsets = table_array<std::uint64_t>{std::move(kept_offsets)};
  db.locations = table_array<std::uint64_t>{std::move(kept_locations)};
  double const seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  progress << "database: " << db.targets.size() << " targets, " << db.features.size() << " features, "
           << db.locations.size() << " locations";
  if (db.dropped_features != 0) {
    progress << "; " << db.dropped_features << " features with more than " << o.max_locations << " locations dropped ("
             << db.dropped_locations << " locations)";
  }
  progress << ", " << (db.features.size() * 4 + db.offsets.size() * 8 + db.locations.size() * 8) / (1 << 20)
           << " MiB of tables, " << seconds << " s\n";
  return db;
}

// ---- the file ----

struct file_header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t k, window, sketch_size, max_locations, flags;  // flags: 1 = dropped features marked
  std::uint64_t seed;
  std::uint64_t taxa, merged, targets, features, locations;
  std::uint64_t payload_bytes;
  std::uint64_t payload_checksum;
  std::uint64_t header_checksum;
};
static_assert(sizeof(file_header) == 104, "the header layout is part of the file format");
inline constexpr char file_magic[8] = {'W', 'A', 'R', 'P', 'C', 'L', 'S', '\0'};
inline constexpr std::uint32_t file_version = 2;  // 2: the arrays are 8-byte aligned
inline constexpr std::size_t array_alignment = 8;

inline std::uint64_t checksum_of(file_header h) {
  h.header_checksum = 0;
  return warp::hash::xxh3_64(&h, sizeof(h), 0);
}

class byte_writer {
 public:
  template <class T>
  void put(T const& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    auto const* p = reinterpret_cast<char const*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  void put(std::string const& s) {
    put(static_cast<std::uint32_t>(s.size()));
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  // Zero padding up to the next multiple of array_alignment from the file's start, then the array.
  template <class T>
  void put_array(table_array<T> const& v) {
    while ((sizeof(file_header) + bytes.size()) % array_alignment != 0) { bytes.push_back('\0'); }
    auto const* p = reinterpret_cast<char const*>(v.data());
    bytes.insert(bytes.end(), p, p + v.size() * sizeof(T));
  }
  std::vector<char> bytes;
};

class byte_reader {
 public:
  byte_reader(char const* p, std::size_t n, std::string path) : p_{p}, n_{n}, path_{std::move(path)} {}
  template <class T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string get_string() {
    auto const n = get<std::uint32_t>();
    need(n);
    std::string s(p_ + pos_, n);
    pos_ += n;
    return s;
  }
  // The padding put_array wrote (zeros), then a view of `count` elements in place. p_ points just
  // past the header in a page-aligned mapping, so the array starts aligned.
  template <class T>
  table_array<T> view_array(std::uint64_t count) {
    static_assert(alignof(T) <= array_alignment);
    while ((sizeof(file_header) + pos_) % array_alignment != 0) {
      if (get<char>() != '\0') { throw input_error(path_ + ": the database payload has bytes where padding belongs"); }
    }
    if (count > (n_ - pos_) / sizeof(T)) { fail(); }
    table_array<T> v{reinterpret_cast<T const*>(p_ + pos_), static_cast<std::size_t>(count)};
    pos_ += count * sizeof(T);
    return v;
  }
  [[nodiscard]] bool done() const { return pos_ == n_; }

 private:
  void need(std::size_t bytes) const {
    if (bytes > n_ - pos_) { fail(); }
  }
  [[noreturn]] void fail() const { throw input_error(path_ + ": the database payload is shorter than its counts say"); }
  char const* p_;
  std::size_t n_;
  std::size_t pos_ = 0;
  std::string path_;
};

inline void save(database const& db, std::string const& path) {
  byte_writer w;
  auto const entries = db.taxonomy.entries();
  auto const merged = db.taxonomy.merged_entries();
  for (auto const& e : entries) {
    w.put(e.id);
    w.put(e.parent);
    w.put(e.rank);
    w.put(e.name);
  }
  for (auto const& [from, to] : merged) {
    w.put(from);
    w.put(to);
  }
  for (auto const& t : db.targets) {
    w.put(t.name);
    w.put(t.taxid);
    w.put(t.length);
  }
  w.put_array(db.features);
  w.put_array(db.offsets);
  w.put_array(db.locations);
  file_header h{};
  std::memcpy(h.magic, file_magic, sizeof(file_magic));
  h.version = file_version;
  h.k = db.options.sketch.k;
  h.window = db.options.sketch.window;
  h.sketch_size = db.options.sketch.sketch_size;
  h.max_locations = db.options.max_locations;
  h.flags = db.options.mark_dropped ? 1u : 0u;
  h.seed = db.options.sketch.seed;
  h.taxa = entries.size();
  h.merged = merged.size();
  h.targets = db.targets.size();
  h.features = db.features.size();
  h.locations = db.locations.size();
  h.payload_bytes = w.bytes.size();
  h.payload_checksum = warp::hash::xxh3_64(w.bytes.data(), w.bytes.size(), 0);
  h.header_checksum = checksum_of(h);
  warp::detail::write_file_atomically(path, "database", {{&h, sizeof(h)}, {w.bytes.data(), w.bytes.size()}});
}

inline database load(std::string const& path) {
  // Mapping allocates nothing; every size below is checked against the mapped file's own size.
  auto file = std::make_shared<warp::detail::mapped_file const>(path, "database");
  std::uint64_t const size = file->size();
  if (size < sizeof(file_header)) {
    throw input_error(path + ": " + std::to_string(size) + " bytes, shorter than a database header (" +
                      std::to_string(sizeof(file_header)) + ")");
  }
  file_header h{};
  std::memcpy(&h, file->data(), sizeof(h));
  if (std::memcmp(h.magic, file_magic, sizeof(file_magic)) != 0) { throw input_error(path + ": not a warp classifier database (bad magic)"); }
  if (h.version != file_version) {
    throw input_error(path + ": database format version " + std::to_string(h.version) + ", this program reads version " +
                      std::to_string(file_version));
  }
  if (checksum_of(h) != h.header_checksum) { throw input_error(path + ": the database header is corrupt (checksum mismatch)"); }
  if (h.payload_bytes != size - sizeof(file_header)) {
    throw input_error(path + ": the header says " + std::to_string(h.payload_bytes) + " payload bytes, the file has " +
                      std::to_string(size - sizeof(file_header)) + " (truncated or extended)");
  }
  // Every array must fit in the payload: checked before allocating.
  if (h.features > h.payload_bytes / 12 || h.locations > h.payload_bytes / 8 || h.taxa > h.payload_bytes / 24 ||
      h.targets > h.payload_bytes / 20 || h.merged > h.payload_bytes / 16) {
    throw input_error(path + ": the header's counts do not fit in the file");
  }
  char const* const payload = file->data() + sizeof(file_header);
  if (warp::hash::xxh3_64(payload, h.payload_bytes, 0) != h.payload_checksum) {
    throw input_error(path + ": the database payload is corrupt (checksum mismatch)");
  }
  byte_reader r{payload, h.payload_bytes, path};
  database db;
  db.file = file;
  db.options.sketch = {h.k, h.window, h.sketch_size, h.seed};
  db.options.max_locations = h.max_locations;
  if (h.flags > 1) { throw input_error(path + ": unknown database flags " + std::to_string(h.flags)); }
  db.options.mark_dropped = h.flags == 1;
  warp::genomics::validate(db.options.sketch);
  std::vector<warp::genomics::taxonomy::node_entry> entries(h.taxa);
  for (auto& e : entries) {
    e.id = r.get<std::uint64_t>();
    e.parent = r.get<std::uint64_t>();
    e.rank = r.get_string();
    e.name = r.get_string();
  }
  std::vector<std::pair<std::uint64_t, std::uint64_t>> merged(h.merged);
  for (auto& m : merged) {
    m.first = r.get<std::uint64_t>();
    m.second = r.get<std::uint64_t>();
  }
  db.taxonomy = warp::genomics::taxonomy::from_entries(entries, merged);
  db.targets.resize(h.targets);
  for (auto& t : db.targets) {
    t.name = r.get_string();
    t.taxid = r.get<std::uint64_t>();
    t.length = r.get<std::uint64_t>();
    if (!db.taxonomy.contains(t.taxid)) { throw input_error(path + ": target " + t.name + " has a taxid outside the taxonomy"); }
  }
  db.features = r.view_array<std::uint32_t>(h.features);
  db.offsets = r.view_array<std::uint64_t>(h.features + 1);
  db.locations = r.view_array<std::uint64_t>(h.locations);
  if (!r.done()) { throw input_error(path + ": bytes after the database payload"); }
  if (db.offsets.front() != 0 || db.offsets.back() != db.locations.size() ||
      !std::is_sorted(db.offsets.begin(), db.offsets.end())) {
    throw input_error(path + ": the feature offsets are inconsistent");
  }
  for (auto l : db.locations) {
    if (db.options.mark_dropped && l == dropped_marker) { continue; }
    if (location_target(l) >= db.targets.size()) { throw input_error(path + ": a location names a target beyond the targets"); }
  }
  return db;
}

}  // namespace classifier
