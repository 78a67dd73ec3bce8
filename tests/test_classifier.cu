// The metagenomic classifier (examples/classifier): the whole pipeline on the ten viral genomes
// of ../shared/data/metagenomics/kraken2_viruses with reads simulated here (1 % substitutions,
// both strands, single and paired); host and CUDA identical per read; the database file's round
// trip and its corrupt, truncated and other-version forms; the report format line by line on a
// hand-made case; the LCA margin.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "classifier/classify.hpp"
#include "classifier/database.hpp"
#include "classifier/partitioned.hpp"
#include "classifier/report.hpp"
#include "test_common.hpp"

#include <warp/distributed/in_process.cuh>

namespace {

using warp_test::error_message;

std::string const viruses = std::string(WARP_TEST_DATA_DIR) + "/metagenomics/kraken2_viruses";
std::vector<std::string> const genome_files = {"COVID_19.fa", "FluA_H1N1.fa", "FluA_H2N2.fa", "FluA_H3N2.fa", "FluB.fa",
                                               "HIV_1.fa",    "HIV_2.fa",     "Lambda.fa",    "MERS.fa",      "SARS.fa"};

std::string temp_path(std::string const& name) {
  return "/tmp/warp_classifier_" + std::to_string(::getpid()) + "_" + name;
}

classifier::database const& viral_database() {
  static classifier::database const db = [] {
    std::ifstream probe{viruses + "/nodes.dmp"};
    if (!probe.good()) { throw std::runtime_error("the shared data is missing: " + viruses); }
    classifier::build_inputs in;
    for (auto const& f : genome_files) { in.references.push_back(viruses + "/" + f); }
    in.nodes = viruses + "/nodes.dmp";
    in.names = viruses + "/names.dmp";
    std::ostringstream quiet;
    return classifier::build(in, {}, warp::backend::host, quiet);
  }();
  return db;
}

struct simulated {
  std::vector<classifier::read_input> reads;
  std::vector<std::uint64_t> truth;  // the taxid of the sequence each read came from
};

std::string reverse_complement(std::string const& s) {
  std::string out(s.rbegin(), s.rend());
  for (char& c : out) { c = c == 'A' ? 'T' : c == 'C' ? 'G' : c == 'G' ? 'C' : c == 'T' ? 'A' : 'N'; }
  return out;
}

/// Reads of `length` (pairs: two mates of a 400-base fragment) from every reference sequence.
simulated simulate(bool paired, std::uint64_t seed) {
  std::mt19937_64 rng{seed};
  simulated out;
  for (auto const& f : genome_files) {
    warp::genomics::sequence_reader in{viruses + "/" + f};
    warp::genomics::sequence_record r;
    while (in.next(r)) {
      std::string s = r.sequence;
      for (char& c : s) { c = static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }
      if (s.size() < 400) { continue; }
      std::uint64_t const taxid = classifier::header_taxid(r.id);
      for (std::size_t i = 0; i < std::max<std::size_t>(3, s.size() / 600); ++i) {
        std::size_t const at = rng() % (s.size() - 400);
        std::string fragment = s.substr(at, 400);
        for (char& c : fragment) {
          if (rng() % 100 == 0) { c = "ACGT"[rng() % 4]; }
        }
        if (rng() % 2) { fragment = reverse_complement(fragment); }
        classifier::read_input read{"sim" + std::to_string(out.reads.size()), fragment.substr(0, 150), "", paired};
        if (paired) { read.second = reverse_complement(fragment.substr(250)); }
        out.reads.push_back(read);
        out.truth.push_back(taxid);
      }
    }
  }
  return out;
}

TEST(classifier, viral_reads_are_classified_to_their_taxon) {
  auto const& db = viral_database();
  EXPECT_EQ(db.targets.size(), 38u);  // the ten files hold 38 sequences (influenza segments)
  classifier::feature_index const index{db, warp::backend::host};
  for (bool paired : {false, true}) {
    auto const sim = simulate(paired, paired ? 2 : 1);
    auto const results = classifier::classify(db, index, sim.reads, {});
    std::size_t exact = 0, right_species = 0, wrong = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
      std::uint64_t const t = results[i].taxid;
      exact += t == sim.truth[i] ? 1 : 0;
      std::uint64_t const want = db.taxonomy.ancestor_with_rank(sim.truth[i], "species");
      bool const same_species = t != 0 && db.taxonomy.ancestor_with_rank(t, "species") == want;
      right_species += same_species ? 1 : 0;
      // A read may go to an ancestor (close strains), never to another lineage.
      wrong += t != 0 && !db.taxonomy.is_ancestor(t, sim.truth[i]) ? 1 : 0;
    }
    EXPECT_GE(right_species, results.size() * 97 / 100) << (paired ? "paired" : "single") << ": " << right_species << " of "
                                                         << results.size();
    EXPECT_GE(exact, results.size() * 90 / 100);
    EXPECT_LE(wrong, results.size() / 100);
  }
}

TEST(classifier, cuda_gives_the_same_result_for_every_read) {
  WARP_SKIP_UNLESS_AVAILABLE(warp::backend::cuda);
  auto const& db = viral_database();
  classifier::feature_index const host{db, warp::backend::host};
  classifier::feature_index const cuda{db, warp::backend::cuda};
  auto const sim = simulate(true, 3);
  auto const h = classifier::classify(db, host, sim.reads, {});
  auto const c = classifier::classify(db, cuda, sim.reads, {});
  ASSERT_EQ(h.size(), c.size());
  for (std::size_t i = 0; i < h.size(); ++i) {
    EXPECT_EQ(classifier::kraken_line(db, sim.reads[i], h[i]), classifier::kraken_line(db, sim.reads[i], c[i])) << i;
  }
}

// The database partitioned across ranks (contiguous shares of the reference files, one per
// in-process rank), every read looked up on every partition: each rank's reads get what one
// database of every reference gives, top candidates included. A small location cap makes features
// go over it in some partitions and only in the merge in others.
TEST(classifier, a_partitioned_database_classifies_as_one_database) {
  classifier::build_options capped;
  capped.max_locations = 1;  // every feature of two windows or more goes
  auto build = [&](std::size_t lo, std::size_t hi, bool mark) {
    classifier::build_inputs in;
    for (std::size_t f = lo; f < hi; ++f) { in.references.push_back(viruses + "/" + genome_files[f]); }
    in.nodes = viruses + "/nodes.dmp";
    in.names = viruses + "/names.dmp";
    classifier::build_options o = capped;
    o.mark_dropped = mark;
    std::ostringstream quiet;
    return classifier::build(in, o, warp::backend::host, quiet);
  };
  auto const whole = build(0, genome_files.size(), false);
  ASSERT_GT(whole.dropped_features, 0u);
  classifier::feature_index const index{whole, warp::backend::host};
  auto const sim = simulate(true, 4);
  auto const expected = classifier::classify(whole, index, sim.reads, {});
  for (int ranks : {2, 3}) {
    std::vector<classifier::database> parts;
    for (int r = 0; r < ranks; ++r) {
      parts.push_back(build(genome_files.size() * r / ranks, genome_files.size() * (r + 1) / ranks, true));
    }
    warp::distributed::in_process_group group{ranks};
    std::vector<std::vector<classifier::read_result>> got(static_cast<std::size_t>(ranks));
    warp::distributed::run_ranks(group, [&](warp::distributed::communicator& comm) {
      std::size_t const r = static_cast<std::size_t>(comm.rank());
      classifier::partitioned_database const part{comm, parts[r]};
      EXPECT_EQ(part.targets(), whole.targets.size());
      std::vector<classifier::read_input> mine(sim.reads.begin() + static_cast<std::ptrdiff_t>(sim.reads.size() * r / ranks),
                                               sim.reads.begin() + static_cast<std::ptrdiff_t>(sim.reads.size() * (r + 1) / ranks));
      got[r] = part.classify(mine, {});
      // Every feature of every partition (the marked ones included), and some none has: the
      // merged locations are one database's.
      if (r == 0) {
        std::vector<std::uint32_t> queries;
        for (auto const& p : parts) { queries.insert(queries.end(), p.features.begin(), p.features.end()); }
        for (std::uint32_t f = 0; f < 2000; ++f) { queries.push_back(f * 2654435761u); }
        std::vector<std::uint64_t> offsets, found;
        part.locations(queries, offsets, found);
        std::vector<std::uint64_t> want_offsets(queries.size() + 1);
        std::vector<std::uint64_t> want(index.table().count(queries.begin(), queries.end()));
        index.table().retrieve(queries.begin(), queries.end(), want_offsets.data(), want.data(), want.size());
        ASSERT_EQ(offsets, want_offsets) << ranks << " ranks";
        ASSERT_EQ(found, want) << ranks << " ranks";
      } else {
        std::vector<std::uint32_t> none;
        std::vector<std::uint64_t> offsets, found;
        part.locations(none, offsets, found);  // collective: the other ranks take part with no queries
      }
    });
    std::size_t i = 0;
    for (auto const& rank_results : got) {
      for (auto const& res : rank_results) {
        ASSERT_LT(i, expected.size());
        EXPECT_EQ(res.taxid, expected[i].taxid) << ranks << " ranks, read " << i;
        ASSERT_EQ(res.top.size(), expected[i].top.size()) << ranks << " ranks, read " << i;
        for (std::size_t c = 0; c < res.top.size(); ++c) {
          EXPECT_EQ(res.top[c].target, expected[i].top[c].target) << ranks << " ranks, read " << i;
          EXPECT_EQ(res.top[c].hits, expected[i].top[c].hits) << ranks << " ranks, read " << i;
        }
        ++i;
      }
    }
    EXPECT_EQ(i, expected.size());
  }
  // The marking survives the file, and a partition without it is refused.
  auto const part = build(0, 4, true);
  std::string const path = temp_path("partition.db");
  classifier::save(part, path);
  auto const loaded = classifier::load(path);
  std::remove(path.c_str());
  EXPECT_TRUE(loaded.options.mark_dropped);
  EXPECT_TRUE(loaded.locations == part.locations);
  warp::distributed::in_process_group one{1};
  auto const unmarked = build(0, 4, false);
  EXPECT_NE(error_message([&] { classifier::partitioned_database p{one.at(0), unmarked}; }).find("mark_dropped"),
            std::string::npos);
}

TEST(classifier, database_file_round_trip_and_bad_files) {
  auto const& db = viral_database();
  std::string const path = temp_path("viruses.db");
  classifier::save(db, path);
  auto const back = classifier::load(path);
  EXPECT_EQ(back.features, db.features);
  EXPECT_EQ(back.offsets, db.offsets);
  EXPECT_EQ(back.locations, db.locations);
  ASSERT_EQ(back.targets.size(), db.targets.size());
  EXPECT_EQ(back.targets[7].name, db.targets[7].name);
  EXPECT_EQ(back.targets[7].taxid, db.targets[7].taxid);
  EXPECT_EQ(back.taxonomy.lca(11676, 11709), db.taxonomy.lca(11676, 11709));
  EXPECT_EQ(back.options.sketch.k, db.options.sketch.k);
  std::string bytes;
  {
    std::ifstream in{path, std::ios::binary};
    std::stringstream s;
    s << in.rdbuf();
    bytes = s.str();
  }
  auto load_variant = [&](std::string const& name, std::string const& content) {
    std::string const p = temp_path(name);
    std::ofstream{p, std::ios::binary}.write(content.data(), static_cast<std::streamsize>(content.size()));
    return error_message([&] { (void)classifier::load(p); });
  };
  EXPECT_NE(load_variant("truncated.db", bytes.substr(0, bytes.size() - 100)).find("truncated"), std::string::npos);
  EXPECT_NE(load_variant("short.db", bytes.substr(0, 50)).find("shorter than a database header"), std::string::npos);
  std::string flipped = bytes;
  flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 1);
  EXPECT_NE(load_variant("flipped.db", flipped).find("payload is corrupt"), std::string::npos);
  std::string version = bytes;
  version[8] = 9;  // the version field
  EXPECT_NE(load_variant("version.db", version).find("version 9"), std::string::npos);
  std::string counts = bytes;
  counts[60] = static_cast<char>(counts[60] ^ 0x40);  // a count in the header
  EXPECT_NE(load_variant("counts.db", counts).find("header is corrupt"), std::string::npos);
  EXPECT_NE(load_variant("magic.db", "not a database" + std::string(200, '.'))
                .find("bad magic"),
            std::string::npos);
  EXPECT_NE(error_message([&] { (void)classifier::load("/tmp"); }).find("/tmp"), std::string::npos);
}

/// root 1 - genus 10 - species 100 (strains 1000, 1001), species 101
warp::genomics::taxonomy small_tree() {
  return warp::genomics::taxonomy::from_entries({{1, 1, "no rank", "root"},
                                                 {10, 1, "genus", "Genus"},
                                                 {100, 10, "species", "Species one"},
                                                 {101, 10, "species", "Species two"},
                                                 {1000, 100, "strain", "Strain a"},
                                                 {1001, 100, "strain", "Strain b"}});
}

TEST(classifier, kraken_report_line_by_line) {
  auto const tax = small_tree();
  classifier::assignment_counts direct{{0, 2}, {1000, 3}, {100, 1}, {101, 4}};
  std::string const report = classifier::kraken_report(tax, direct);
  std::string const want =
      " 20.00\t2\t2\tU\t0\tunclassified\n"
      " 80.00\t8\t0\tR\t1\troot\n"
      " 80.00\t8\t0\tG\t10\t  Genus\n"
      " 40.00\t4\t1\tS\t100\t    Species one\n"  // 4 in the clade: 1 direct + 3 of strain a
      " 30.00\t3\t3\tS1\t1000\t      Strain a\n"
      " 40.00\t4\t4\tS\t101\t    Species two\n";
  // Children by clade size, largest first; ties by taxid: Species one (100) before Species two (101).
  EXPECT_EQ(report, want);
  std::string const abundance = classifier::species_abundance(tax, direct);
  EXPECT_EQ(abundance,
            "taxid\tname\treads\tfraction_of_classified\n100\tSpecies one\t4\t0.500000\n101\tSpecies two\t4\t0.500000\n");
}

TEST(classifier, candidates_within_the_margin_go_to_their_lca) {
  // Locations: target 0 hit in windows 3,4,5 (3 hits in range), target 1 in windows 4,5 and 40.
  std::vector<std::uint64_t> loc = {classifier::location(1, 40), classifier::location(0, 3), classifier::location(1, 4),
                                    classifier::location(0, 4), classifier::location(0, 5), classifier::location(1, 5)};
  auto const ranked = classifier::rank_targets(loc, 3);
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(ranked[0].target, 0u);
  EXPECT_EQ(ranked[0].hits, 3u);
  EXPECT_EQ(ranked[1].target, 1u);
  EXPECT_EQ(ranked[1].hits, 2u);  // window 40 is outside any 3-window range with 4 and 5
  EXPECT_EQ(classifier::rank_targets(loc, 100)[0].hits, 3u);  // both targets 3: ties by target
  EXPECT_EQ(classifier::rank_targets(loc, 100)[1].hits, 3u);
}

TEST(classifier, headers_and_mapping_files) {
  EXPECT_EQ(classifier::header_taxid("kraken:taxid|11676|NC_001802.1"), 11676u);
  EXPECT_EQ(classifier::header_taxid("kraken:taxid|11676"), 0u);
  EXPECT_EQ(classifier::header_taxid("NC_001802.1"), 0u);
  std::string const map = temp_path("map.tsv");
  std::ofstream{map} << "# accession\ttaxid\nNC_1\t562\nNC_2.1\t573\n";
  auto const m = classifier::read_mapping(map);
  EXPECT_EQ(m.at("NC_1"), 562u);
  EXPECT_EQ(m.at("NC_2.1"), 573u);
  std::string const bad = temp_path("bad_map.tsv");
  std::ofstream{bad} << "NC_1\t562\nNC_2 573\n";
  EXPECT_NE(error_message([&] { (void)classifier::read_mapping(bad); }).find(":2: expected 'accession<TAB>taxid'"),
            std::string::npos);
  // A reference without a taxid is an error naming it, unless skipped.
  std::string const ref = temp_path("ref.fa");
  std::ofstream{ref} << ">kraken:taxid|11676|x\nACGTACGTACGTACGTACGTAAACCCGGGTTT\n>unnamed\nACGTTTTTTTTTTTTTTTTTTGGGGGG\n";
  classifier::build_inputs in{{ref}, viruses + "/nodes.dmp", viruses + "/names.dmp", "", "", false};
  std::ostringstream quiet;
  std::string const m2 = error_message([&] { (void)classifier::build(in, {}, warp::backend::host, quiet); });
  EXPECT_NE(m2.find("ref.fa:3: sequence 'unnamed' has no taxid"), std::string::npos) << m2;
  in.skip_unmapped = true;
  EXPECT_EQ(classifier::build(in, {}, warp::backend::host, quiet).targets.size(), 1u);
}

}  // namespace
