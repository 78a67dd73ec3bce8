// warp::genomics: the FASTA/FASTQ reader (plain, gzip, xz; every malformed case names the file
// and line) and the NCBI taxonomy (parsing errors, LCA, Kraken 2 rank codes), against hand-made
// files and the shared bacterial taxonomy.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <lzma.h>
#include <zlib.h>

#include <warp/genomics/sequence_reader.cuh>
#include <warp/genomics/taxonomy.cuh>

#include "test_common.hpp"

namespace {

using warp::genomics::sequence_reader;
using warp::genomics::sequence_record;
using warp::genomics::taxonomy;
using warp_test::error_message;

std::string temp_path(std::string const& name) {
  return "/tmp/warp_genomics_" + std::to_string(::getpid()) + "_" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" + name;
}
std::string write_file(std::string const& name, std::string const& bytes) {
  std::string const p = temp_path(name);
  std::ofstream f{p, std::ios::binary};
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return p;
}
std::string gzip(std::string const& text) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, text.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
std::string xz(std::string const& text) {
  std::string out(lzma_stream_buffer_bound(text.size()), '\0');
  std::size_t pos = 0;
  lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<uint8_t const*>(text.data()), text.size(),
                          reinterpret_cast<uint8_t*>(out.data()), &pos, out.size());
  out.resize(pos);
  return out;
}

std::vector<sequence_record> read_all(std::string const& path) {
  sequence_reader in{path};
  std::vector<sequence_record> out;
  sequence_record r;
  while (in.next(r)) { out.push_back(r); }
  return out;
}

std::string const fasta = ">seq1 first record\nACGT\nacgtNN\n>seq2\n\nGGCC\n>empty\n>last\tx y\nTTTT";
std::string const fastq = "@r1 a\nACGT\n+\nIIII\n@r2\nGG\n+r2\n#I\n";

TEST(sequence_reader, fasta_records_span_lines_with_any_line_ending) {
  for (std::string ending : {"\n", "\r\n", "\r"}) {
    std::string text = fasta;
    std::string converted;
    for (char c : text) { converted += c == '\n' ? ending : std::string(1, c); }
    auto const records = read_all(write_file("a.fa", converted));
    ASSERT_EQ(records.size(), 4u) << ending.size();
    EXPECT_EQ(records[0].id, "seq1");
    EXPECT_EQ(records[0].comment, "first record");
    EXPECT_EQ(records[0].sequence, "ACGTacgtNN");
    EXPECT_EQ(records[1].sequence, "GGCC");
    EXPECT_EQ(records[1].line, 4u);
    EXPECT_EQ(records[2].id, "empty");
    EXPECT_EQ(records[2].sequence, "");
    EXPECT_EQ(records[3].id, "last");
    EXPECT_EQ(records[3].comment, "x y");
    EXPECT_EQ(records[3].sequence, "TTTT");
  }
}

TEST(sequence_reader, fastq_plain_gzip_and_xz_give_the_same_records) {
  for (auto const& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"r.fq", fastq}, {"r.fq.gz", gzip(fastq)}, {"r.fq.xz", xz(fastq)},
           {"two_members.fq.gz", gzip(fastq.substr(0, 18)) + gzip(fastq.substr(18))}}) {
    sequence_reader in{write_file(name, bytes)};
    EXPECT_EQ(in.format(), warp::genomics::sequence_format::fastq) << name;
    std::vector<sequence_record> records;
    sequence_record r;
    while (in.next(r)) { records.push_back(r); }
    ASSERT_EQ(records.size(), 2u) << name;
    EXPECT_EQ(records[0].id, "r1");
    EXPECT_EQ(records[0].sequence, "ACGT");
    EXPECT_EQ(records[0].quality, "IIII");
    EXPECT_EQ(records[1].sequence, "GG");
    EXPECT_EQ(records[1].quality, "#I");
    EXPECT_EQ(records[1].line, 5u);
  }
  // A compressed FASTA too, longer than the reader's buffers.
  std::string big = ">big\n";
  for (int i = 0; i < 100000; ++i) { big += "ACGTACGTAC\n"; }
  auto const records = read_all(write_file("big.fa.gz", gzip(big)));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].sequence.size(), 1000000u);
}

void expect_error(std::string const& name, std::string const& bytes, std::string const& expect) {
  std::string const p = write_file(name, bytes);
  std::string const m = error_message([&] { (void)read_all(p); });
  EXPECT_NE(m.find(expect), std::string::npos) << "expected '" << expect << "' in: " << m;
  EXPECT_NE(m.find(p), std::string::npos) << "the error names the file: " << m;
}

TEST(sequence_reader, malformed_input_names_the_file_and_line) {
  expect_error("qual.fq", "@r1\nACGT\n+\nIIII\n@r2\nACGT\n+\nIII\n", ":8: the FASTQ record 'r2' has 3 quality values for 4 bases");
  expect_error("plus.fq", "@r1\nACGT\nIIII\n", ":3: the FASTQ record 'r1' has no '+' line");
  expect_error("short.fq", "@r1\nACGT\n+\n", "ends before its quality line");
  expect_error("header.fq", "@r1\n", "ends after its header");
  expect_error("neither.txt", "hello world\n", ":1: not FASTA or FASTQ");
  expect_error("empty.fa", "", "empty file");
  expect_error("mixed.fq", "@r1\nAC\n+\nII\n>r2\nAC\n", ":5: a record must start with '@'");
  std::string const gz = gzip(fastq + fastq + fastq);
  expect_error("cut.fq.gz", gz.substr(0, gz.size() - 12), "the gzip stream ends early");
  std::string corrupt = gzip(fastq);
  corrupt[12] = static_cast<char>(corrupt[12] ^ 0x55);
  expect_error("corrupt.fq.gz", corrupt, "corrupt gzip data");
  std::string const x = xz(fastq);
  expect_error("cut.fq.xz", x.substr(0, x.size() - 20), "xz");
  EXPECT_NE(error_message([] { sequence_reader in{"/nonexistent/reads.fq"}; }).find("No such file"), std::string::npos);
}

std::string dmp(std::vector<std::vector<std::string>> const& rows) {
  std::string out;
  for (auto const& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) { out += (i ? "\t|\t" : "") + r[i]; }
    out += "\t|\n";
  }
  return out;
}

// root(1) - cellular(131567, no rank) - Bacteria(2, superkingdom) - family 10 - genus 20 - species 30, 31
//                                                                             - genus 21 - species 32 - strain 40
TEST(taxonomy, lca_ranks_and_codes_on_a_hand_made_tree) {
  std::string const nodes = write_file("nodes.dmp", dmp({{"1", "1", "no rank"}, {"131567", "1", "no rank"},
                                                          {"2", "131567", "superkingdom"}, {"10", "2", "family"},
                                                          {"20", "10", "genus"}, {"21", "10", "genus"},
                                                          {"30", "20", "species"}, {"31", "20", "species"},
                                                          {"32", "21", "species"}, {"40", "32", "strain"}}));
  std::string const names = write_file("names.dmp", dmp({{"1", "root", "", "scientific name"},
                                                          {"30", "Alpha one", "", "scientific name"},
                                                          {"30", "A1", "", "synonym"},
                                                          {"40", "Strain X", "", "scientific name"}}));
  std::string const merged = write_file("merged.dmp", dmp({{"99", "31"}}));
  auto const t = taxonomy::load(nodes, names, merged);
  EXPECT_EQ(t.size(), 10u);
  EXPECT_EQ(t.root(), 1u);
  EXPECT_EQ(t.lca(30, 31), 20u);
  EXPECT_EQ(t.lca(30, 40), 10u);
  EXPECT_EQ(t.lca(40, 32), 32u);
  EXPECT_EQ(t.lca(40, taxonomy::none), 40u);
  EXPECT_EQ(t.lca(99, 30), 20u);  // 99 was merged into 31
  EXPECT_EQ(t.resolve(99), 31u);
  EXPECT_EQ(t.resolve(12345), taxonomy::none);
  EXPECT_EQ(t.name(30), "Alpha one");
  EXPECT_EQ(t.name(40), "Strain X");
  EXPECT_EQ(t.rank_code(1), "R");
  EXPECT_EQ(t.rank_code(131567), "R1");
  EXPECT_EQ(t.rank_code(2), "D");
  EXPECT_EQ(t.rank_code(10), "F");
  EXPECT_EQ(t.rank_code(30), "S");
  EXPECT_EQ(t.rank_code(40), "S1");
  EXPECT_EQ(t.ancestor_with_rank(40, "genus"), 21u);
  EXPECT_EQ(t.ancestor_with_rank(2, "genus"), taxonomy::none);
  EXPECT_TRUE(t.is_ancestor(10, 40));
  EXPECT_FALSE(t.is_ancestor(20, 40));
  EXPECT_EQ(t.depth(40), 6u);
  EXPECT_NE(error_message([&] { (void)t.lca(30, 555); }).find("555"), std::string::npos);
  // A round trip through entries().
  auto const copy = taxonomy::from_entries(t.entries(), t.merged_entries());
  EXPECT_EQ(copy.lca(99, 30), 20u);
  EXPECT_EQ(copy.rank_code(40), "S1");
  EXPECT_EQ(copy.name(30), "Alpha one");
}

TEST(taxonomy, malformed_files_name_the_file_line_and_field) {
  auto load_nodes = [](std::string const& text) {
    std::string const n = write_file("bad_nodes.dmp", text);
    std::string const m = write_file("names.dmp", "");
    return error_message([&] { (void)taxonomy::load(n, m); });
  };
  EXPECT_NE(load_nodes(dmp({{"1", "1", "no rank"}, {"2", "1"}})).find(":2: a nodes.dmp line needs"), std::string::npos);
  EXPECT_NE(load_nodes(dmp({{"1", "1", "no rank"}, {"2x", "1", "genus"}})).find(":2: field 1: '2x' is not a tax_id"),
            std::string::npos);
  EXPECT_NE(load_nodes(dmp({{"1", "1", "no rank"}, {"2", "7", "genus"}})).find(":2: field 2: parent 7"), std::string::npos);
  EXPECT_NE(load_nodes(dmp({{"1", "1", "no rank"}, {"1", "1", "genus"}})).find("given twice"), std::string::npos);
  EXPECT_NE(load_nodes(dmp({{"1", "2", "no rank"}, {"2", "1", "genus"}})).find("no root"), std::string::npos);
  EXPECT_NE(load_nodes(dmp({{"1", "1", "no rank"}, {"2", "3", "genus"}, {"3", "2", "genus"}})).find("cycle"),
            std::string::npos);
  EXPECT_NE(load_nodes(dmp({{"1", "1", "no rank"}, {"2", "2", "genus"}})).find("second root"), std::string::npos);
  std::string const n = write_file("nodes.dmp", dmp({{"1", "1", "no rank"}}));
  std::string const names = write_file("names.dmp", dmp({{"5", "x", "", "scientific name"}}));
  EXPECT_NE(error_message([&] { (void)taxonomy::load(n, names); }).find(":1: field 1: tax_id 5 is not in nodes.dmp"),
            std::string::npos);
}

TEST(taxonomy, shared_bacterial_taxonomy) {
  std::string const dir = std::string(WARP_TEST_DATA_DIR) + "/metagenomics/bacteria_taxonomy";
  std::ifstream probe{dir + "/nodes.dmp"};
  ASSERT_TRUE(probe.good()) << "the shared data is missing: " << dir << "/nodes.dmp";
  auto const t = taxonomy::load(dir + "/nodes.dmp", dir + "/names.dmp");
  EXPECT_EQ(t.lca(562, 573), 543u);  // E. coli and K. pneumoniae: Enterobacteriaceae
  EXPECT_EQ(t.name(543), "Enterobacteriaceae");
  EXPECT_EQ(t.rank_code(562), "S");
  EXPECT_EQ(t.rank(561), "genus");
  EXPECT_EQ(t.lca(562, 1280), 2u);  // E. coli and S. aureus: Bacteria
}

}  // namespace

#include <set>

#include <warp/genomics/sketch.cuh>

namespace {

/// The reference: every window's k-mers into a std::set, the s smallest kept.
std::vector<std::vector<std::uint32_t>> reference_sketches(std::string const& seq, warp::genomics::sketch_options o) {
  std::vector<std::vector<std::uint32_t>> out;
  std::uint64_t const windows = warp::genomics::windows_in(seq.size(), o);
  std::uint64_t const stride = o.window - o.k + 1;
  auto code = [](char c) { return std::string("ACGTacgt").find(c) % 4; };
  for (std::uint64_t w = 0; w < windows; ++w) {
    std::size_t const begin = w * stride, end = std::min<std::size_t>(seq.size(), begin + o.window);
    std::set<std::uint32_t> features;
    for (std::size_t i = begin; i + o.k <= end; ++i) {
      std::uint64_t fw = 0, rc = 0;
      bool ok = true;
      for (std::uint32_t j = 0; j < o.k; ++j) {
        char const c = seq[i + j];
        if (std::string("ACGTacgt").find(c) == std::string::npos) {
          ok = false;
          break;
        }
        fw = fw << 2 | code(c);
        rc |= static_cast<std::uint64_t>(3 - code(c)) << (2 * j);
      }
      if (ok) { features.insert(warp::genomics::detail::kmer_feature(std::min(fw, rc), o.seed)); }
    }
    std::vector<std::uint32_t> v(features.begin(), features.end());
    if (v.size() > o.sketch_size) { v.resize(o.sketch_size); }
    out.push_back(v);
  }
  return out;
}

template <class B>
class sketch_on : public warp_test::on_backend<B> {};
TYPED_TEST_SUITE(sketch_on, warp_test::both_backends, warp_test::backend_names);

TYPED_TEST(sketch_on, window_sketches_match_a_std_set_reference) {
  std::mt19937_64 rng{17};
  std::vector<std::string> seqs;
  for (std::size_t len : {0u, 5u, 15u, 16u, 100u, 127u, 128u, 1000u, 5000u}) {
    std::string s;
    for (std::size_t i = 0; i < len; ++i) { s += "ACGTacgtN"[rng() % (i % 97 == 3 ? 9 : 8)]; }
    seqs.push_back(s);
  }
  auto const batch = warp::lsh::document_batch::from(seqs);
  for (warp::genomics::sketch_options o : {warp::genomics::sketch_options{}, warp::genomics::sketch_options{31, 64, 8, 5},
                                           warp::genomics::sketch_options{32, 200, 64, 1}}) {
    auto const got = warp::genomics::sketch(batch.view(), o, this->where);
    ASSERT_EQ(got.window_offsets.size(), seqs.size() + 1);
    for (std::size_t i = 0; i < seqs.size(); ++i) {
      auto const want = reference_sketches(seqs[i], o);
      ASSERT_EQ(got.window_offsets[i + 1] - got.window_offsets[i], want.size()) << "sequence " << i;
      for (std::size_t w = 0; w < want.size(); ++w) {
        std::uint64_t const at = got.window_offsets[i] + w;
        std::vector<std::uint32_t> const have(got.features.begin() + at * o.sketch_size,
                                              got.features.begin() + at * o.sketch_size + got.counts[at]);
        EXPECT_EQ(have, want[w]) << "sequence " << i << " window " << w << " k " << o.k;
      }
    }
  }
  // A sequence and its reverse complement have the same features (one window).
  std::string const fw = "ACGTTGCATGCAAAGGCTTACCGATGAC";
  std::string rc(fw.rbegin(), fw.rend());
  for (char& c : rc) { c = c == 'A' ? 'T' : c == 'C' ? 'G' : c == 'G' ? 'C' : 'A'; }
  auto const both = warp::genomics::sketch(warp::lsh::document_batch::from(std::vector<std::string>{fw, rc}).view(),
                                           {15, 127, 8, 0}, this->where);
  EXPECT_TRUE(std::equal(both.features.begin(), both.features.begin() + 8, both.features.begin() + 8));
  EXPECT_NE(error_message([&] { (void)warp::genomics::sketch(batch.view(), {33, 127, 16, 0}, this->where); }).find("1 to 32"),
            std::string::npos);
  EXPECT_NE(error_message([&] { (void)warp::genomics::sketch(batch.view(), {16, 10, 16, 0}, this->where); })
                .find("window must be k"),
            std::string::npos);
}

}  // namespace
