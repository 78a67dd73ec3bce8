// lsh_dedup: near-duplicate detection and record-linkage blocking with MinHash LSH (warp::lsh).
//
//   lsh_dedup --input abt.csv --input2 buy.csv --separator '|' --columns name \
//             --shingle words --size 1 --lowercase --k 128 --bands 64 --rows 2 \
//             --pairs pairs.csv --truth gt.csv
//
// Reads one table (dirty mode: duplicates inside it) or two (clean-clean: pairs across them), as
// CSV/TSV with a header row or JSON Lines, concatenates the chosen columns of each record (one
// space between them), and writes the candidate pairs (CSV: id_a,id_b,estimated_jaccard) and/or
// duplicate clusters (CSV: id,cluster; the cluster is the first record's id), atomically. With a
// ground-truth file it prints pair completeness, pairs quality, reduction ratio, F1 and |C| (raw
// and deduplicated). `--help` lists every option. Progress goes to stderr.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <warp/detail/files.cuh>
#include <warp/lsh/lsh.cuh>

#include "common/cli.hpp"
#include "lsh_dedup/metrics.hpp"
#include "lsh_dedup/records.hpp"

namespace {

using lsh_tool::input_error;

struct options {
  std::string input, input2, format = "csv", id_column, pairs_out, clusters_out, truth, metrics_out;
  char separator = ',', quote = '"', truth_separator = 0;
  bool truth_header = true;
  std::vector<std::string> columns;
  warp::lsh::shingle_options shingles{warp::lsh::shingle_kind::characters, 5};
  std::uint32_t k = 128, bands = 0, rows = 0, width = 64;
  double threshold = 0;
  warp::lsh::permutation mode = warp::lsh::permutation::mersenne61;
  std::uint64_t seed = 0, max_bucket = 0;
  double min_estimate = 0, min_jaccard = 0;
  std::string backend;
  bool print_curve = false;
};

char const* const usage = R"(usage: lsh_dedup --input FILE [--input2 FILE] --columns C1[,C2...] [options]
input:
  --input FILE           records (dirty mode: duplicates within it)
  --input2 FILE          a second table (clean-clean mode: only pairs across the two)
  --format csv|jsonl     (default csv; TSV is --separator tab)
  --separator C          field separator: one character, or 'tab' (default ',')
  --quote C              quote character (default '"')
  --columns LIST         columns to concatenate, comma-separated
  --id-column NAME       the records' ids (default: the row number, from 0)
shingles and signatures:
  --shingle chars|words|dna   (default chars)
  --size N               characters, words or bases per shingle (default 5)
  --lowercase            fold ASCII letters A-Z to a-z (any shingle kind)
  --bytes                take bytes as they are (no UTF-8 check)
  --k N                  signature length (default 128)
  --width 32|64          signature value width (default 64)
  --mode mersenne61|cudf|oph   permutation arithmetic (default mersenne61)
  --seed N               (default 0)
banding and candidates:
  --bands B --rows R     LSH bands and rows (B * R <= k), or
  --threshold T          the (B, R) minimising false-positive + false-negative area at T
  --print-curve          print the S-curve of the chosen bands
  --max-bucket N         purge buckets of more than N records (reported)
  --min-estimate T       keep pairs with estimated Jaccard >= T
  --min-jaccard T        keep pairs with exact Jaccard >= T
outputs (written atomically):
  --pairs FILE           candidate pairs: id_a,id_b,estimated_jaccard
  --clusters FILE        id,cluster (the smallest record of its cluster)
  --truth FILE           ground-truth pairs (two ids a line) for the metrics
  --truth-separator C    (default: the input's separator)
  --truth-header yes|no  whether the ground truth has a header line (default yes)
  --metrics FILE         the metrics as JSON
  --backend host|cuda    (default: cuda when a device is usable)
)";

char parse_char(std::string const& v, char const* name) {
  if (v == "tab" || v == "\\t") { return '\t'; }
  if (v.size() != 1) { throw input_error(std::string(name) + " must be one character or 'tab', got '" + v + "'"); }
  return v[0];
}

options parse(int argc, char** argv) {
  options o;
  example::option_reader args{argc, argv, 1, usage};
  while (args.next()) {
    std::string const& a = args.option();
    auto value = [&]() -> std::string { return args.value(); };
    auto number = [&](auto lo, auto hi) {
      std::string const v = value();
      return example::parse_integer<decltype(lo)>(v.c_str(), a.c_str(), lo, hi);
    };
    auto real = [&](double lo, double hi) {
      std::string const v = value();
      return example::parse_real(v.c_str(), a.c_str(), lo, hi);
    };
    if (a == "--input") {
      o.input = value();
    } else if (a == "--input2") {
      o.input2 = value();
    } else if (a == "--format") {
      o.format = value();
      if (o.format != "csv" && o.format != "jsonl") { throw input_error("--format must be csv or jsonl, got '" + o.format + "'"); }
    } else if (a == "--separator") {
      o.separator = parse_char(value(), "--separator");
    } else if (a == "--quote") {
      o.quote = parse_char(value(), "--quote");
    } else if (a == "--columns") {
      o.columns = example::split_list(value(), "--columns");
    } else if (a == "--id-column") {
      o.id_column = value();
    } else if (a == "--shingle") {
      std::string const v = value();
      if (v == "chars") {
        o.shingles.kind = warp::lsh::shingle_kind::characters;
      } else if (v == "words") {
        o.shingles.kind = warp::lsh::shingle_kind::words;
      } else if (v == "dna") {
        o.shingles.kind = warp::lsh::shingle_kind::dna;
      } else {
        throw input_error("--shingle must be chars, words or dna, got '" + v + "'");
      }
    } else if (a == "--size") {
      o.shingles.size = number(std::uint32_t{1}, warp::lsh::max_character_shingle);
    } else if (a == "--lowercase") {
      o.shingles.lowercase = true;
    } else if (a == "--bytes") {
      o.shingles.utf8 = warp::lsh::utf8_policy::bytes;
    } else if (a == "--k") {
      o.k = number(std::uint32_t{1}, warp::lsh::max_signature_length);
    } else if (a == "--width") {
      o.width = number(std::uint32_t{32}, std::uint32_t{64});
      if (o.width != 32 && o.width != 64) { throw input_error("--width must be 32 or 64, got " + std::to_string(o.width)); }
    } else if (a == "--mode") {
      std::string const v = value();
      if (v == "mersenne61") {
        o.mode = warp::lsh::permutation::mersenne61;
      } else if (v == "cudf") {
        o.mode = warp::lsh::permutation::cudf;
      } else if (v == "oph") {
        o.mode = warp::lsh::permutation::one_permutation;
      } else {
        throw input_error("--mode must be mersenne61, cudf or oph, got '" + v + "'");
      }
    } else if (a == "--seed") {
      o.seed = number(std::uint64_t{0}, std::uint64_t{0xffffffffull});
    } else if (a == "--bands") {
      o.bands = number(std::uint32_t{1}, warp::lsh::max_bands);
    } else if (a == "--rows") {
      o.rows = number(std::uint32_t{1}, warp::lsh::max_signature_length);
    } else if (a == "--threshold") {
      o.threshold = real(0.0, 1.0);
      if (o.threshold <= 0 || o.threshold >= 1) { throw input_error("--threshold must lie strictly between 0 and 1"); }
    } else if (a == "--print-curve") {
      o.print_curve = true;
    } else if (a == "--max-bucket") {
      o.max_bucket = number(std::uint64_t{2}, std::uint64_t{1} << 40);
    } else if (a == "--min-estimate") {
      o.min_estimate = real(0.0, 1.0);
    } else if (a == "--min-jaccard") {
      o.min_jaccard = real(0.0, 1.0);
    } else if (a == "--pairs") {
      o.pairs_out = value();
    } else if (a == "--clusters") {
      o.clusters_out = value();
    } else if (a == "--truth") {
      o.truth = value();
    } else if (a == "--truth-separator") {
      o.truth_separator = parse_char(value(), "--truth-separator");
    } else if (a == "--truth-header") {
      std::string const v = value();
      if (v != "yes" && v != "no") { throw input_error("--truth-header must be yes or no, got '" + v + "'"); }
      o.truth_header = v == "yes";
    } else if (a == "--metrics") {
      o.metrics_out = value();
    } else if (a == "--backend") {
      o.backend = value();
      if (o.backend != "host" && o.backend != "cuda") { throw input_error("--backend must be host or cuda, got '" + o.backend + "'"); }
    } else {
      throw input_error("unknown option '" + a + "' (see --help)");
    }
  }
  if (o.input.empty()) { throw input_error("--input is required (see --help)"); }
  if (o.columns.empty()) { throw input_error("--columns is required (see --help)"); }
  if ((o.bands == 0) != (o.rows == 0)) { throw input_error("--bands and --rows go together"); }
  if (o.bands == 0 && o.threshold == 0) { throw input_error("give --bands and --rows, or --threshold"); }
  if (o.bands != 0 && o.threshold != 0) { throw input_error("give --bands and --rows, or --threshold, not both"); }
  if (o.pairs_out.empty() && o.clusters_out.empty() && o.truth.empty()) {
    throw input_error("nothing to do: give --pairs, --clusters or --truth");
  }
  if (o.truth_separator == 0) { o.truth_separator = o.separator; }
  warp::lsh::validate(o.shingles);
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// The documents of a table: the chosen columns of each row, one space between them.
warp::lsh::document_batch documents_of(lsh_tool::table const& t, std::vector<std::string> const& columns, bool lowercase) {
  std::vector<std::size_t> idx;
  for (auto const& c : columns) { idx.push_back(t.column(c)); }
  warp::lsh::document_batch docs;
  std::string text;
  for (auto const& row : t.rows) {
    text.clear();
    for (std::size_t i = 0; i < idx.size(); ++i) {
      if (i != 0) { text += ' '; }
      text += row[idx[i]];
    }
    if (lowercase) {
      for (char& ch : text) { ch = ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; }
    }
    docs.push_back(text);
  }
  return docs;
}

std::string id_of(lsh_tool::table const& t, std::size_t id_column, std::uint32_t row) {
  return id_column == ~std::size_t{0} ? std::to_string(row) : t.rows[row][id_column];
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
std::string csv_field(std::string const& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) { return s; }
  std::string out = "\"";
  for (char c : s) { out += c == '"' ? std::string("\"\"") : std::string(1, c); }
  return out + "\"";
}

template <class T>
int run(options const& o, warp::backend where) {
  auto const t0 = std::chrono::steady_clock::now();
  lsh_tool::table_options const to{o.format == "jsonl" ? lsh_tool::table_format::jsonl : lsh_tool::table_format::csv,
                                   o.separator, o.quote};
  // Everything that can be wrong with the input is found before any work or output.
  example::require_readable(o.input, "input");
  if (!o.input2.empty()) { example::require_readable(o.input2, "second input"); }
  if (!o.truth.empty()) { example::require_readable(o.truth, "ground truth"); }
  for (auto const* out : {&o.pairs_out, &o.clusters_out, &o.metrics_out}) {
    if (!out->empty()) { example::require_writable_prefix(*out); }
  }
  bool const clean = !o.input2.empty();
  lsh_tool::table const a = lsh_tool::read_table(o.input, to);
  lsh_tool::table const b = clean ? lsh_tool::read_table(o.input2, to) : lsh_tool::table{};
  std::size_t const id_a = o.id_column.empty() ? ~std::size_t{0} : a.column(o.id_column);
  std::size_t const id_b = o.id_column.empty() || !clean ? ~std::size_t{0} : b.column(o.id_column);
  auto const docs_a = documents_of(a, o.columns, o.shingles.lowercase);
  auto const docs_b = clean ? documents_of(b, o.columns, o.shingles.lowercase) : warp::lsh::document_batch{};
  std::vector<std::uint64_t> truth;
  if (!o.truth.empty()) {
    auto index = [](lsh_tool::table const& t, std::size_t col) {
      if (col != ~std::size_t{0}) { return lsh_tool::index_ids(t, col); }
      std::unordered_map<std::string, std::uint32_t> ids;
      for (std::size_t r = 0; r < t.rows.size(); ++r) { ids.emplace(std::to_string(r), static_cast<std::uint32_t>(r)); }
      return ids;
    };
    auto const ids_a = index(a, id_a);
    auto const ids_b = clean ? index(b, id_b) : ids_a;
    truth = lsh_tool::read_truth(o.truth, o.truth_separator, o.truth_header, ids_a, ids_b, clean);
  }
  std::cerr << "read " << docs_a.size() << " records from " << o.input;
  if (clean) { std::cerr << " and " << docs_b.size() << " from " << o.input2; }
  std::cerr << " (" << seconds_since(t0) << " s)\n";

  warp::lsh::band_layout layout{o.bands, o.rows};
  if (o.bands == 0) {
    auto const c = warp::lsh::choose_bands(o.threshold, o.k);
    layout = c.layout;
    std::cerr << "threshold " << o.threshold << ": " << layout.bands << " bands x " << layout.rows
              << " rows (false-positive area " << c.false_positive_area << ", false-negative area "
              << c.false_negative_area << ")\n";
  }
  warp::lsh::validate(layout, o.k);
  if (o.print_curve) {
    std::cout << "similarity\tcollision_probability\n";
    for (int i = 0; i <= 20; ++i) {
      std::cout << i / 20.0 << '\t' << warp::lsh::collision_probability(i / 20.0, layout) << '\n';
    }
  }

  warp::lsh::minhash_options mo;
  mo.mode = o.mode;
  mo.shingles = o.shingles;
  mo.seed = o.seed;
  warp::lsh::minhasher<T> const mh{o.k, mo, where};
  // Signatures in slices, with progress on large inputs.
  auto signatures = [&](warp::lsh::document_batch const& docs, char const* name) {
    std::vector<T> sig(docs.size() * o.k);
    std::size_t const slice = 1 << 16;
    for (std::size_t first = 0; first < docs.size(); first += slice) {
      std::size_t const n = std::min(slice, docs.size() - first);
      mh.signatures(warp::lsh::documents{docs.bytes.data(), docs.offsets.data() + first, n}, sig.data() + first * o.k);
      if (docs.size() > slice) {
        std::cerr << "\rsignatures of " << name << ": " << first + n << " / " << docs.size() << std::flush;
      }
    }
    if (docs.size() > slice) { std::cerr << '\n'; }
    return sig;
  };
  auto const sig_a = signatures(docs_a, o.input.c_str());
  auto const sig_b = clean ? signatures(docs_b, o.input2.c_str()) : std::vector<T>{};
  auto const keys_a = warp::lsh::band_keys(sig_a, docs_a.size(), o.k, layout, where);
  auto const keys_b = clean ? warp::lsh::band_keys(sig_b, docs_b.size(), o.k, layout, where) : std::vector<std::uint64_t>{};
  std::cerr << "signatures (k = " << o.k << ", " << warp::lsh::to_string(o.mode) << ", " << sizeof(T) * 8
            << "-bit) and " << layout.bands << " band keys per record (" << seconds_since(t0) << " s)\n";
  warp::lsh::candidate_options const co{layout, o.max_bucket};
  warp::lsh::candidate_pairs c = clean ? warp::lsh::find_candidates(keys_a, docs_a.size(), keys_b, docs_b.size(), co, where)
                                       : warp::lsh::find_candidates(keys_a, docs_a.size(), co, where);
  std::uint64_t const deduplicated = c.pairs.size();
  // Filters on the similarity of each pair.
  T const* sb = clean ? sig_b.data() : sig_a.data();
  if (o.min_jaccard > 0) { c.pairs = warp::lsh::filter_by_jaccard(c.pairs, docs_a, clean ? docs_b : docs_a, o.shingles, o.min_jaccard); }
  std::vector<double> kept_estimate;
  c.pairs = warp::lsh::filter_by_estimate(c.pairs, sig_a.data(), sb, o.k, o.min_estimate, &kept_estimate);
  std::cerr << "candidates: " << c.raw_pairs << " raw pairs over " << c.buckets << " buckets, " << deduplicated
            << " distinct";
  if (o.min_estimate > 0 || o.min_jaccard > 0) { std::cerr << ", " << c.pairs.size() << " after the similarity filter"; }
  if (c.purged_buckets != 0) {
    std::cerr << "; " << c.purged_buckets << " bucket(s) over " << o.max_bucket << " records purged (" << c.purged_pairs
              << " raw pairs dropped)";
  }
  std::cerr << " (" << seconds_since(t0) << " s)\n";

  if (!o.pairs_out.empty()) {
    std::string text = "id_a,id_b,estimated_jaccard\n";
    char buf[32];
    for (std::size_t i = 0; i < c.pairs.size(); ++i) {
      std::snprintf(buf, sizeof(buf), "%.6f", kept_estimate[i]);
      text += csv_field(id_of(a, id_a, c.pairs[i].first)) + "," +
              csv_field(id_of(clean ? b : a, clean ? id_b : id_a, c.pairs[i].second)) + "," + buf + "\n";
    }
    warp::detail::write_file_atomically(o.pairs_out, "lsh_dedup", {{text.data(), text.size()}});
    std::cerr << "wrote " << c.pairs.size() << " pairs to " << o.pairs_out << "\n";
  }
  if (!o.clusters_out.empty()) {
    auto const labels = clean ? warp::lsh::components_of_clean_pairs(docs_a.size(), docs_b.size(), c.pairs, where)
                              : warp::lsh::connected_components(docs_a.size(), c.pairs, where);
    auto name = [&](std::uint32_t node) {
      return node < docs_a.size() ? id_of(a, id_a, node) : id_of(b, id_b, static_cast<std::uint32_t>(node - docs_a.size()));
    };
    std::string text = clean ? "table,id,cluster\n" : "id,cluster\n";
    std::size_t clusters = 0;
    for (std::size_t n = 0; n < labels.size(); ++n) {
      clusters += labels[n] == n ? 1 : 0;
      if (clean) { text += n < docs_a.size() ? "a," : "b,"; }
      text += csv_field(name(static_cast<std::uint32_t>(n))) + "," + csv_field(name(labels[n])) + "\n";
    }
    warp::detail::write_file_atomically(o.clusters_out, "lsh_dedup", {{text.data(), text.size()}});
    std::cerr << "wrote " << labels.size() << " records in " << clusters << " clusters to " << o.clusters_out << "\n";
  }
  if (!o.truth.empty()) {
    double const na = static_cast<double>(docs_a.size());
    double const all = clean ? na * static_cast<double>(docs_b.size()) : na * (na - 1) / 2;
    auto const m = lsh_tool::measure(c.pairs, truth, all);
    std::printf("ground truth pairs   %llu\n", static_cast<unsigned long long>(m.truth));
    std::printf("candidates raw       %llu\n", static_cast<unsigned long long>(c.raw_pairs));
    std::printf("candidates distinct  %llu\n", static_cast<unsigned long long>(deduplicated));
    if (o.min_estimate > 0 || o.min_jaccard > 0) {
      std::printf("candidates filtered  %llu\n", static_cast<unsigned long long>(m.candidates));
    }
    std::printf("matches found        %llu\n", static_cast<unsigned long long>(m.found));
    std::printf("pair completeness    %.4f\n", m.pc);
    std::printf("pairs quality        %.6f\n", m.pq);
    std::printf("reduction ratio      %.6f\n", m.rr);
    std::printf("f1                   %.6f\n", m.f1);
    if (!o.metrics_out.empty()) {
      char json[1024];
      std::snprintf(json, sizeof(json),
                    "{\"truth\": %llu, \"raw_pairs\": %llu, \"distinct_pairs\": %llu, \"candidates\": %llu, "
                    "\"found\": %llu, \"pc\": %.9f, \"pq\": %.9f, \"rr\": %.9f, \"f1\": %.9f, \"bands\": %u, "
                    "\"rows\": %u, \"purged_buckets\": %llu, \"purged_pairs\": %llu}\n",
                    static_cast<unsigned long long>(m.truth), static_cast<unsigned long long>(c.raw_pairs),
                    static_cast<unsigned long long>(deduplicated), static_cast<unsigned long long>(m.candidates),
                    static_cast<unsigned long long>(m.found), m.pc, m.pq, m.rr, m.f1, layout.bands, layout.rows,
                    static_cast<unsigned long long>(c.purged_buckets), static_cast<unsigned long long>(c.purged_pairs));
      std::string const s = json;
      warp::detail::write_file_atomically(o.metrics_out, "lsh_dedup", {{s.data(), s.size()}});
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    options const o = parse(argc, argv);
    warp::backend const where = example::backend_option(o.backend);
    return o.width == 32 ? run<std::uint32_t>(o, where) : run<std::uint64_t>(o, where);
  } catch (std::exception const& e) {
    std::cerr << "lsh_dedup: " << e.what() << "\n";
    return 1;
  }
}
