// examples/common/fasta_kmers.hpp: streams a FASTA file (or any std::istream) and hands out its
// canonical k-mers in chunks, without holding a whole line or record in memory.
//
// A k-mer and its reverse complement are the same canonical k-mer (the smaller 2-bit encoding of
// the two). Bases are A, C, G, T (any case); N and the other IUPAC ambiguity codes break k-mers.
// Lines end in LF, CRLF or a lone CR (old Mac files). Lengths and counts are 64-bit, so records of
// 2^31 bases and more are read correctly. Malformed input (sequence before the first header,
// characters that are not bases, an empty file) is an input_error with its line number.
#pragma once

#include <cstdint>
#include <fstream>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include <warp/genomics/dna.cuh>

#include "cli.hpp"

namespace example {

class fasta_kmers {
 public:
  /// Reads `path`; `k` in [1, 32].
  fasta_kmers(std::string const& path, int k) : file_{std::make_unique<std::ifstream>(path, std::ios::binary)}, in_{file_.get()}, name_{path} {
    if (!*file_) { throw input_error("cannot open " + path); }
    init(k);
  }
  /// Reads an already open stream (named `name` in errors).
  fasta_kmers(std::istream& in, std::string name, int k) : in_{&in}, name_{std::move(name)} { init(k); }

  /// Appends up to `limit` k-mers to `out`; returns false at the end of the input.
  bool next(std::vector<std::uint64_t>& out, std::size_t limit) {
    while (out.size() < limit) {
      if (pos_ == end_ && !refill()) { break; }
      char const c = buffer_[pos_++];
      if (c == '\n' || c == '\r') {
        // LF, CR and CRLF all end a line; the LF of a CRLF is not a second (empty) line.
        if (!(c == '\n' && last_ == '\r')) { ++line_; }
        in_header_ = false;
        at_line_start_ = true;
        last_ = c;
        continue;
      }
      last_ = c;
      if (in_header_) { continue; }
      if (at_line_start_ && c == '>') {
        seen_header_ = true;
        in_header_ = true;
        roller_ = warp::genomics::kmer_roller{static_cast<std::uint32_t>(k_)};  // k-mers do not span records
        ++records_;
        at_line_start_ = false;
        continue;
      }
      at_line_start_ = false;
      if (!seen_header_) { throw input_error(where() + "sequence data before the first '>' header"); }
      ++bases_;
      if (warp::genomics::base_code(static_cast<unsigned char>(c)) < 0 && !is_ambiguity_code(c)) {
        throw input_error(where() + "unexpected character '" + std::string(1, c) + "' in a sequence");
      }
      if (roller_.push(static_cast<unsigned char>(c))) { out.push_back(roller_.canonical()); }  // N breaks k-mers
    }
    if (pos_ == end_ && done_) {
      if (!any_input_) { throw input_error(name_ + ": the file is empty"); }
      if (!seen_header_) { throw input_error(name_ + ": no '>' header found; not a FASTA file"); }
      return false;
    }
    return true;
  }
  [[nodiscard]] std::uint64_t bases() const { return bases_; }
  [[nodiscard]] std::uint64_t records() const { return records_; }

 private:
  void init(int k) {
    if (k < 1 || k > 32) { throw input_error("k must be in [1, 32], got " + std::to_string(k)); }
    k_ = k;
    roller_ = warp::genomics::kmer_roller{static_cast<std::uint32_t>(k)};
    buffer_.resize(std::size_t{1} << 20);
  }
  bool refill() {
    if (done_) { return false; }
    in_->read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    std::streamsize const got = in_->gcount();
    if (in_->bad()) { throw input_error("reading " + name_ + " failed"); }
    pos_ = 0;
    end_ = static_cast<std::size_t>(got);
    if (got > 0) { any_input_ = true; }
    if (!*in_) { done_ = true; }
    return end_ != 0;
  }
  static bool is_ambiguity_code(char c) { return std::string("NnRrYyKkMmSsWwBbDdHhVv").find(c) != std::string::npos; }
  std::string where() const { return name_ + ":" + std::to_string(line_) + ": "; }

  std::unique_ptr<std::ifstream> file_;
  std::istream* in_;
  std::string name_;
  int k_ = 0;
  warp::genomics::kmer_roller roller_{1};
  std::uint64_t bases_ = 0, records_ = 0, line_ = 1;
  std::vector<char> buffer_;
  std::size_t pos_ = 0, end_ = 0;
  char last_ = 0;
  bool seen_header_ = false, in_header_ = false, at_line_start_ = true, done_ = false, any_input_ = false;
};

}  // namespace example
