// warp_classifier: a taxonomic read classifier on warp's tables, with Kraken 2's output formats.
//
//   warp_classifier build --db viruses.db --taxonomy taxonomy_dir genomes/*.fa
//   warp_classifier classify --db viruses.db --output reads.kraken --report reads.report reads.fq.gz
//   warp_classifier classify --db viruses.db --paired --output pairs.kraken r1.fq.gz r2.fq.gz
//
// `build` reads reference FASTA files (plain, .gz or .xz), an NCBI taxonomy (nodes.dmp, names.dmp,
// optional merged.dmp) and each sequence's taxid (from a "kraken:taxid|N|" header or a
// tab-separated accession -> taxid file), sketches every window (docs/metagenomics.md) and writes
// one database file (versioned, checksummed, written atomically) that holds everything `classify`
// needs. `classify` reads FASTA/FASTQ (plain or .gz), single-end, paired (two files) or
// interleaved, and writes Kraken 2's per-read output, its report and a species abundance table.
// `--help` lists every option.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <warp/core/backend.cuh>
#include <warp/detail/files.cuh>
#include <warp/genomics/sequence_reader.cuh>

#include "classifier/classify.hpp"
#include "classifier/database.hpp"
#include "classifier/report.hpp"
#include "common/cli.hpp"

namespace {

using example::input_error;

char const* const usage = R"(usage:
  warp_classifier build --db FILE (--taxonomy DIR | --nodes F --names F [--merged F]) [options] REFERENCE...
    --mapping FILE        accession<TAB>taxid lines (else taxids come from kraken:taxid|N| headers)
    --skip-unmapped       skip (and count) sequences without a taxid instead of failing
    --k N                 k-mer length, 1 to 32 (default 16)
    --window N            window length in bases (default 127)
    --sketch N            features per window, 1 to 64 (default 16)
    --max-locations N     drop features found in more than N windows (default 254)
    --seed N              feature hash seed (default 0)
  warp_classifier classify --db FILE [options] READS [READS2]
    --paired              READS and READS2 are mates (two files)
    --interleaved         READS holds mates one after the other
    --output FILE         Kraken 2 per-read output (default: standard output)
    --report FILE         Kraken 2 report
    --abundance FILE      reads per species (TSV)
    --min-hits N          fewest window-range hits to classify a read (default 2)
    --margin X            candidates within this fraction of the best hits go to their LCA (default 0.1)
    --insert-size N       bases a read pair is taken to span (default 600)
    --batch N             reads per lookup batch (default 8192)
  common: --backend host|cuda (default: cuda when a device is usable)
)";

struct arguments {
  std::string command, db, taxonomy, nodes, names, merged, mapping, output, report, abundance, backend;
  std::vector<std::string> files;
  bool skip_unmapped = false, paired = false, interleaved = false;
  classifier::build_options build;
  classifier::classify_options classify;
  std::size_t batch = 8192;
};

arguments parse(int argc, char** argv) {
  arguments a;
  if (argc < 2) { throw input_error("a command is needed: build or classify (see --help)"); }
  a.command = argv[1];
  if (a.command == "--help" || a.command == "-h") {
    std::cout << usage;
    std::exit(0);
  }
  if (a.command != "build" && a.command != "classify") {
    throw input_error("unknown command '" + a.command + "': build or classify (see --help)");
  }
  example::option_reader args{argc, argv, 2, usage};
  while (args.next()) {
    std::string const& o = args.option();
    auto value = [&]() -> char const* { return args.value(); };
    if (o == "--db") {
      a.db = value();
    } else if (o == "--taxonomy") {
      a.taxonomy = value();
    } else if (o == "--nodes") {
      a.nodes = value();
    } else if (o == "--names") {
      a.names = value();
    } else if (o == "--merged") {
      a.merged = value();
    } else if (o == "--mapping") {
      a.mapping = value();
    } else if (o == "--skip-unmapped") {
      a.skip_unmapped = true;
    } else if (o == "--k") {
      a.build.sketch.k = example::parse_integer<std::uint32_t>(value(), "--k", 1, 32);
    } else if (o == "--window") {
      a.build.sketch.window = example::parse_integer<std::uint32_t>(value(), "--window", 1, warp::genomics::max_window);
    } else if (o == "--sketch") {
      a.build.sketch.sketch_size = example::parse_integer<std::uint32_t>(value(), "--sketch", 1, warp::genomics::max_sketch_size);
    } else if (o == "--max-locations") {
      a.build.max_locations = example::parse_integer<std::uint32_t>(value(), "--max-locations", 1, 1u << 30);
    } else if (o == "--seed") {
      a.build.sketch.seed = example::parse_integer<std::uint64_t>(value(), "--seed", 0, ~0ull >> 1);
    } else if (o == "--paired") {
      a.paired = true;
    } else if (o == "--interleaved") {
      a.interleaved = true;
    } else if (o == "--output") {
      a.output = value();
    } else if (o == "--report") {
      a.report = value();
    } else if (o == "--abundance") {
      a.abundance = value();
    } else if (o == "--min-hits") {
      a.classify.min_hits = example::parse_integer<std::uint32_t>(value(), "--min-hits", 1, 1u << 20);
    } else if (o == "--margin") {
      a.classify.margin = example::parse_real(value(), "--margin", 0.0, 1.0);
    } else if (o == "--insert-size") {
      a.classify.insert_size = example::parse_integer<std::uint64_t>(value(), "--insert-size", 1, 1ull << 32);
    } else if (o == "--batch") {
      a.batch = example::parse_integer<std::size_t>(value(), "--batch", 1, std::size_t{1} << 24);
    } else if (o == "--backend") {
      a.backend = value();
      if (a.backend != "host" && a.backend != "cuda") { throw input_error("--backend must be host or cuda, got '" + a.backend + "'"); }
    } else if (!o.empty() && o[0] == '-') {
      throw input_error("unknown option '" + o + "' (see --help)");
    } else {
      a.files.push_back(o);
    }
  }
  if (a.db.empty()) { throw input_error("--db is required"); }
  if (!a.taxonomy.empty()) {
    a.nodes = a.taxonomy + "/nodes.dmp";
    a.names = a.taxonomy + "/names.dmp";
    std::FILE* merged = std::fopen((a.taxonomy + "/merged.dmp").c_str(), "r");
    if (merged != nullptr) {
      std::fclose(merged);
      a.merged = a.taxonomy + "/merged.dmp";
    }
  }
  return a;
}

int build(arguments const& a, warp::backend where) {
  if (a.nodes.empty() || a.names.empty()) { throw input_error("build: give --taxonomy DIR, or --nodes and --names"); }
  if (a.files.empty()) { throw input_error("build: no reference files"); }
  example::require_readable(a.nodes, "nodes.dmp");
  example::require_readable(a.names, "names.dmp");
  if (!a.merged.empty()) { example::require_readable(a.merged, "merged.dmp"); }
  if (!a.mapping.empty()) { example::require_readable(a.mapping, "mapping file"); }
  for (auto const& f : a.files) { example::require_readable(f, "reference"); }
  example::require_writable_prefix(a.db);
  classifier::build_inputs in{a.files, a.nodes, a.names, a.merged, a.mapping, a.skip_unmapped};
  auto const db = classifier::build(in, a.build, where, std::cerr);
  classifier::save(db, a.db);
  std::cerr << "wrote " << a.db << "\n";
  return 0;
}

/// Read ids of mates without their /1 and /2 suffixes (as Kraken 2 prints them).
std::string mate_id(std::string id) {
  if (id.size() > 2 && id[id.size() - 2] == '/' && (id.back() == '1' || id.back() == '2')) { id.resize(id.size() - 2); }
  return id;
}

int classify(arguments const& a, warp::backend where) {
  if (a.paired && a.interleaved) { throw input_error("classify: --paired and --interleaved exclude each other"); }
  std::size_t const want = a.paired ? 2 : 1;
  if (a.files.size() != want) {
    throw input_error("classify: " + std::to_string(want) + " read file(s) expected, got " + std::to_string(a.files.size()));
  }
  for (auto const& f : a.files) { example::require_readable(f, "reads"); }
  for (auto const* out : {&a.output, &a.report, &a.abundance}) {
    if (!out->empty()) { example::require_writable_prefix(*out); }
  }
  auto const t0 = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  auto const db = classifier::load(a.db);
  std::cerr << "database " << a.db << ": " << db.targets.size() << " targets, " << db.features.size() << " features, "
            << db.locations.size() << " locations, read in " << seconds() << " s";
  classifier::feature_index const index{db, where};
  double const ready_at = seconds();
  std::cerr << ", tables ready at " << ready_at << " s\n";
  warp::genomics::sequence_reader first{a.files[0]};
  std::unique_ptr<warp::genomics::sequence_reader> second;
  if (a.paired) { second = std::make_unique<warp::genomics::sequence_reader>(a.files[1]); }
  // Per-read lines go out batch by batch: into a unique temporary that is renamed over --output
  // once the run has succeeded (an error leaves no output file), or straight to standard output.
  std::unique_ptr<warp::detail::atomic_file_writer> output_file;
  if (!a.output.empty()) { output_file = std::make_unique<warp::detail::atomic_file_writer>(a.output, "classify"); }
  std::string output;
  classifier::assignment_counts direct;
  std::uint64_t reads = 0, classified = 0;
  std::vector<classifier::read_input> batch;
  warp::genomics::sequence_record r1, r2;
  bool more = true;
  while (more) {
    batch.clear();
    while (batch.size() < a.batch) {
      if (!first.next(r1)) {
        more = false;
        break;
      }
      classifier::read_input in{r1.id, r1.sequence, "", false};
      if (a.paired || a.interleaved) {
        auto& reader = a.paired ? *second : first;
        if (!reader.next(r2)) {
          throw input_error(reader.path() + ": the mate of read '" + r1.id + "' is missing (the files end unevenly)");
        }
        in.id = mate_id(r1.id);
        in.second = r2.sequence;
        in.paired = true;
      }
      batch.push_back(std::move(in));
    }
    if (batch.empty()) { break; }
    auto const results = classifier::classify(db, index, batch, a.classify);
    output.clear();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      output += classifier::kraken_line(db, batch[i], results[i]);
      ++direct[results[i].taxid];
      classified += results[i].taxid != 0 ? 1 : 0;
    }
    if (output_file) {
      output_file->write(output.data(), output.size());
    } else {
      std::fwrite(output.data(), 1, output.size(), stdout);
    }
    reads += batch.size();
    std::cerr << "\rclassified " << classified << " of " << reads << " reads" << std::flush;
  }
  double const classified_at = seconds();
  if (a.paired && second->next(r2)) {
    throw input_error(a.files[1] + ": more reads than " + a.files[0] + " (the files end unevenly)");
  }
  double const rate = classified_at > ready_at ? static_cast<double>(reads) / (classified_at - ready_at) * 60.0 : 0.0;
  std::cerr << " in " << classified_at << " s\nclassification: " << classified_at - ready_at << " s, " << rate
            << " reads per minute (database loading not counted)\n";
  if (output_file) { output_file->commit(); }
  if (!a.report.empty()) {
    std::string const text = classifier::kraken_report(db.taxonomy, direct);
    warp::detail::write_file_atomically(a.report, "classify", {{text.data(), text.size()}});
  }
  if (!a.abundance.empty()) {
    std::string const text = classifier::species_abundance(db.taxonomy, direct);
    warp::detail::write_file_atomically(a.abundance, "classify", {{text.data(), text.size()}});
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    arguments const a = parse(argc, argv);
    warp::backend const where = example::backend_option(a.backend);
    return a.command == "build" ? build(a, where) : classify(a, where);
  } catch (std::exception const& e) {
    std::cerr << "warp_classifier: " << e.what() << "\n";
    return 1;
  }
}
