// The input handling the example programs share (examples/common): strict argument parsing, and
// the streaming FASTA k-mer reader with every line-ending convention and records longer than 2^31
// bases (its lengths were 32-bit before).
#include "test_common.hpp"

#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "common/cli.hpp"
#include "common/fasta_kmers.hpp"

namespace {

TEST(ExampleArguments, IntegersAreParsedStrictly) {
  EXPECT_EQ(example::parse_integer<int>("21", "k", 1, 32), 21);
  for (char const* bad : {"21abc", "", " 21", "2.5", "0x10", "99999999999999999999", "33", "0"}) {
    EXPECT_THROW((void)example::parse_integer<int>(bad, "k", 1, 32), example::input_error) << bad;
  }
  try {
    (void)example::parse_integer<int>("21abc", "k", 1, 32);
  } catch (example::input_error const& e) {
    EXPECT_EQ(std::string(e.what()), "k must be an integer in [1, 32], got '21abc'");
  }
}

TEST(ExampleArguments, RealsMustBeFiniteAndInRange) {
  EXPECT_DOUBLE_EQ(example::parse_real("0.25", "rate", 0, 1), 0.25);
  for (char const* bad : {"nan", "inf", "-inf", "1e400", "0.5x", "", "2"}) {
    EXPECT_THROW((void)example::parse_real(bad, "rate", 0, 1), example::input_error) << bad;
  }
}

std::vector<std::uint64_t> all_kmers(std::string const& text, int k) {
  std::istringstream in{text};
  example::fasta_kmers reader{in, "test.fasta", k};
  std::vector<std::uint64_t> out;
  while (reader.next(out, 1000)) {}
  return out;
}

TEST(FastaKmers, EveryLineEndingGivesTheSameKmers) {
  std::string const lf = ">r1 first\nACGTACGTAC\nGGTT\n\n>r2\nACGTTT\n";
  std::string crlf, cr;
  for (char c : lf) {
    crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    cr += c == '\n' ? '\r' : c;
  }
  auto const expected = all_kmers(lf, 5);
  EXPECT_EQ(expected.size(), 12u);  // 14 bases then 6: 10 + 2 k-mers (none spans records)
  EXPECT_EQ(all_kmers(crlf, 5), expected);
  EXPECT_EQ(all_kmers(cr, 5), expected);
}

TEST(FastaKmers, MalformedInputNamesTheLine) {
  auto message = [](std::string const& text) -> std::string {
    try {
      (void)all_kmers(text, 5);
    } catch (example::input_error const& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(message(">a\rACGT\rACXT\r"), "test.fasta:3: unexpected character 'X' in a sequence");
  EXPECT_EQ(message("ACGT\n"), "test.fasta:1: sequence data before the first '>' header");
  EXPECT_EQ(message(""), "test.fasta: the file is empty");
}

/// A stream of ">r\n" and then `bases` times 'A', generated on the fly (never held in memory).
class long_record : public std::streambuf {
 public:
  explicit long_record(std::uint64_t bases) : left_{bases} { setg(chunk_, chunk_, chunk_); }

 protected:
  int_type underflow() override {
    if (!header_sent_) {
      header_sent_ = true;
      chunk_[0] = '>';
      chunk_[1] = 'r';
      chunk_[2] = '\n';
      setg(chunk_, chunk_, chunk_ + 3);
      return traits_type::to_int_type(chunk_[0]);
    }
    if (left_ == 0) { return traits_type::eof(); }
    std::size_t const n = left_ < sizeof(chunk_) ? static_cast<std::size_t>(left_) : sizeof(chunk_);
    std::fill(chunk_, chunk_ + n, 'A');
    left_ -= n;
    setg(chunk_, chunk_, chunk_ + n);
    return traits_type::to_int_type(chunk_[0]);
  }

 private:
  std::uint64_t left_;
  bool header_sent_ = false;
  char chunk_[1 << 16];
};

TEST(FastaKmers, RecordsLongerThan2To31BasesAreCountedWhole) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "2^31 bases take too long under AddressSanitizer";
#endif
  std::uint64_t const bases = (std::uint64_t{1} << 31) + 100;
  long_record source{bases};
  std::istream in{&source};
  int const k = 31;
  example::fasta_kmers reader{in, "long.fasta", k};
  std::vector<std::uint64_t> chunk;
  std::uint64_t kmers = 0;
  bool more = true;
  while (more) {
    chunk.clear();
    more = reader.next(chunk, std::size_t{1} << 22);
    kmers += chunk.size();
  }
  EXPECT_EQ(reader.bases(), bases);
  EXPECT_EQ(kmers, bases - static_cast<std::uint64_t>(k) + 1) << "every window of the record is a k-mer";
}

}  // namespace
