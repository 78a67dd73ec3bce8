// warp/genomics/sequence_reader.cuh: reads FASTA and FASTQ records from plain, gzip (zlib) or xz
// (liblzma) files, one record at a time (host code; link warp::genomics, which brings zlib and
// liblzma).
//
//   warp::genomics::sequence_reader in{"reads.fq.gz"};
//   warp::genomics::sequence_record r;
//   while (in.next(r)) { use(r.id, r.sequence, r.quality); }
//
// The compression is recognised by the file's first bytes (1f 8b: gzip, concatenated members
// included; fd 37 7a 58 5a 00: xz), the format by its first character ('>' FASTA, '@' FASTQ).
// FASTA sequences may span lines; FASTQ records are four lines (the sequence on one line, as
// Illumina and every simulator write it). Lines end in LF, CRLF or a lone CR. Lengths are 64-bit.
// Malformed input is a warp::invalid_argument naming the file and line, thrown before the record
// is handed out: a file that is neither FASTA nor FASTQ, sequence before the first header, a FASTQ
// record without its '+' line or whose quality length differs from its sequence length, a
// truncated record, a gzip or xz stream that is corrupt or ends early.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <lzma.h>
#include <zlib.h>

#include <warp/core/error.cuh>

namespace warp::genomics {

struct sequence_record {
  std::string id;        // the header up to the first space or tab
  std::string comment;   // the rest of the header
  std::string sequence;
  std::string quality;   // FASTQ only
  std::uint64_t line = 0;  // the header's line
};

enum class sequence_format { fasta, fastq };

namespace detail {

/// A byte source: plain, gzip or xz.
class byte_source {
 public:
  virtual ~byte_source() = default;
  /// Up to `n` bytes into `out`; 0 at the end. Throws on a read or decompression error.
  virtual std::size_t read(unsigned char* out, std::size_t n) = 0;
};

class file_handle {
 public:
  explicit file_handle(std::string const& path) : f_{std::fopen(path.c_str(), "rb")} {
    if (f_ == nullptr) { throw invalid_argument(path + ": " + std::strerror(errno)); }
  }
  ~file_handle() {
    if (f_ != nullptr) { std::fclose(f_); }
  }
  file_handle(file_handle const&) = delete;
  file_handle& operator=(file_handle const&) = delete;
  std::size_t read(unsigned char* out, std::size_t n, std::string const& path) {
    std::size_t const got = std::fread(out, 1, n, f_);
    if (got < n && std::ferror(f_)) { throw invalid_argument(path + ": read error: " + std::strerror(errno)); }
    return got;
  }

 private:
  std::FILE* f_;
};

class plain_source final : public byte_source {
 public:
  explicit plain_source(std::string path) : path_{std::move(path)}, file_{path_} {}
  std::size_t read(unsigned char* out, std::size_t n) override { return file_.read(out, n, path_); }

 private:
  std::string path_;
  file_handle file_;
};

class gzip_source final : public byte_source {
 public:
  explicit gzip_source(std::string path) : path_{std::move(path)}, file_{path_}, in_(1 << 16) {
    std::memset(&z_, 0, sizeof(z_));
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) { throw invalid_argument(path_ + ": cannot start the gzip decoder"); }
  }
  ~gzip_source() override { inflateEnd(&z_); }
  std::size_t read(unsigned char* out, std::size_t n) override {
    z_.next_out = out;
    z_.avail_out = static_cast<uInt>(n);
    while (z_.avail_out != 0 && !done_) {
      if (z_.avail_in == 0) {
        std::size_t const got = file_.read(in_.data(), in_.size(), path_);
        if (got == 0) {
          if (!at_member_end_) { throw invalid_argument(path_ + ": the gzip stream ends early (truncated file)"); }
          done_ = true;
          break;
        }
        z_.next_in = in_.data();
        z_.avail_in = static_cast<uInt>(got);
      }
      if (at_member_end_) {  // another gzip member follows (concatenated .gz files)
        if (inflateReset(&z_) != Z_OK) { throw invalid_argument(path_ + ": cannot restart the gzip decoder"); }
        at_member_end_ = false;
      }
      int const rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        at_member_end_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw invalid_argument(path_ + ": corrupt gzip data (" + std::string(z_.msg != nullptr ? z_.msg : "zlib error") + ")");
      }
    }
    return n - z_.avail_out;
  }

 private:
  std::string path_;
  file_handle file_;
  std::vector<unsigned char> in_;
  z_stream z_;
  bool at_member_end_ = false;
  bool done_ = false;
};

class xz_source final : public byte_source {
 public:
  explicit xz_source(std::string path) : path_{std::move(path)}, file_{path_}, in_(1 << 16) {
    if (lzma_stream_decoder(&s_, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
      throw invalid_argument(path_ + ": cannot start the xz decoder");
    }
  }
  ~xz_source() override { lzma_end(&s_); }
  std::size_t read(unsigned char* out, std::size_t n) override {
    s_.next_out = out;
    s_.avail_out = n;
    while (s_.avail_out != 0 && !done_) {
      lzma_action action = LZMA_RUN;
      if (s_.avail_in == 0 && !eof_) {
        std::size_t const got = file_.read(in_.data(), in_.size(), path_);
        eof_ = got == 0;
        s_.next_in = in_.data();
        s_.avail_in = got;
      }
      if (eof_) { action = LZMA_FINISH; }
      lzma_ret const rc = lzma_code(&s_, action);
      if (rc == LZMA_STREAM_END) {
        done_ = true;
      } else if (rc == LZMA_BUF_ERROR && eof_) {
        throw invalid_argument(path_ + ": the xz stream ends early (truncated file)");
      } else if (rc != LZMA_OK && rc != LZMA_BUF_ERROR) {
        throw invalid_argument(path_ + ": corrupt xz data (liblzma error " + std::to_string(static_cast<int>(rc)) + ")");
      }
    }
    return n - s_.avail_out;
  }

 private:
  std::string path_;
  file_handle file_;
  std::vector<unsigned char> in_;
  lzma_stream s_ = LZMA_STREAM_INIT;
  bool eof_ = false;
  bool done_ = false;
};

inline std::unique_ptr<byte_source> open_source(std::string const& path) {
  unsigned char magic[6] = {};
  std::size_t got;
  {
    file_handle f{path};
    got = f.read(magic, sizeof(magic), path);
  }
  if (got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) { return std::make_unique<gzip_source>(path); }
  if (got >= 6 && std::memcmp(magic, "\xfd" "7zXZ\0", 6) == 0) { return std::make_unique<xz_source>(path); }
  return std::make_unique<plain_source>(path);
}

}  // namespace detail

class sequence_reader {
 public:
  /// Opens `path` and reads far enough to know its format. Throws naming the file when it cannot
  /// be opened, is empty, or starts with neither '>' nor '@'.
  explicit sequence_reader(std::string path) : path_{std::move(path)}, source_{detail::open_source(path_)}, buffer_(1 << 16) {
    int c;
    while ((c = peek()) == '\n' || c == '\r') { get_line(line_buffer_); }
    if (c == '>') {
      format_ = sequence_format::fasta;
    } else if (c == '@') {
      format_ = sequence_format::fastq;
    } else if (c < 0) {
      throw invalid_argument(path_ + ": empty file (no FASTA or FASTQ records)");
    } else {
      throw invalid_argument(path_ + ":" + std::to_string(line_ + 1) +
                             ": not FASTA or FASTQ (the first record must start with '>' or '@')");
    }
  }

  [[nodiscard]] sequence_format format() const noexcept { return format_; }
  [[nodiscard]] std::string const& path() const noexcept { return path_; }
  [[nodiscard]] std::uint64_t records() const noexcept { return records_; }

  /// The next record, or false at the end of the file.
  bool next(sequence_record& r) {
    r.sequence.clear();
    r.quality.clear();
    // Skip blank lines between records.
    int c;
    while ((c = peek()) == '\n' || c == '\r') { get_line(line_buffer_); }
    if (c < 0) { return false; }
    char const marker = format_ == sequence_format::fasta ? '>' : '@';
    if (c != marker) {
      throw invalid_argument(where(line_ + 1) + "a record must start with '" + std::string(1, marker) + "', found '" +
                             printable(c) + "'");
    }
    get_line(line_buffer_);
    r.line = line_;
    split_header(line_buffer_, r);
    if (format_ == sequence_format::fasta) {
      while ((c = peek()) >= 0 && c != '>') {
        get_line(line_buffer_);
        r.sequence += line_buffer_;
      }
    } else {
      if (!get_line(r.sequence)) { throw invalid_argument(where(r.line) + "the FASTQ record '" + r.id + "' ends after its header"); }
      if (!get_line(line_buffer_) || line_buffer_.empty() || line_buffer_[0] != '+') {
        throw invalid_argument(where(line_) + "the FASTQ record '" + r.id + "' has no '+' line after its sequence");
      }
      if (!get_line(r.quality)) {
        throw invalid_argument(where(line_) + "the FASTQ record '" + r.id + "' ends before its quality line");
      }
      if (r.quality.size() != r.sequence.size()) {
        throw invalid_argument(where(line_) + "the FASTQ record '" + r.id + "' has " + std::to_string(r.quality.size()) +
                               " quality values for " + std::to_string(r.sequence.size()) + " bases");
      }
    }
    ++records_;
    return true;
  }

 private:
  std::string where(std::uint64_t line) const { return path_ + ":" + std::to_string(line) + ": "; }
  static std::string printable(int c) {
    if (c >= 0x20 && c < 0x7f) { return std::string(1, static_cast<char>(c)); }
    char buf[8];
    std::snprintf(buf, sizeof(buf), "\\x%02x", c & 0xff);
    return buf;
  }
  static void split_header(std::string const& header, sequence_record& r) {
    std::size_t const space = header.find_first_of(" \t", 1);
    r.id = header.substr(1, space == std::string::npos ? std::string::npos : space - 1);
    r.comment = space == std::string::npos ? std::string{} : header.substr(space + 1);
  }
  bool fill() {
    if (eof_) { return false; }
    end_ = source_->read(buffer_.data(), buffer_.size());
    pos_ = 0;
    eof_ = end_ == 0;
    return !eof_;
  }
  int peek() {
    if (pos_ == end_ && !fill()) { return -1; }
    return buffer_[pos_];
  }
  /// One line without its terminator (LF, CRLF or CR); false at the end of the file.
  bool get_line(std::string& out) {
    out.clear();
    if (pos_ == end_ && !fill()) { return false; }
    ++line_;
    for (;;) {
      if (pos_ == end_ && !fill()) { return true; }
      unsigned char const* begin = buffer_.data() + pos_;
      unsigned char const* stop = begin;
      unsigned char const* const limit = buffer_.data() + end_;
      while (stop != limit && *stop != '\n' && *stop != '\r') { ++stop; }
      out.append(reinterpret_cast<char const*>(begin), static_cast<std::size_t>(stop - begin));
      pos_ += static_cast<std::size_t>(stop - begin);
      if (stop == limit) { continue; }
      unsigned char const terminator = *stop;
      ++pos_;
      if (terminator == '\r' && peek() == '\n') { ++pos_; }
      return true;
    }
  }

  std::string path_;
  std::unique_ptr<detail::byte_source> source_;
  std::vector<unsigned char> buffer_;
  std::size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  std::uint64_t line_ = 0;
  std::uint64_t records_ = 0;
  std::string line_buffer_;
  sequence_format format_ = sequence_format::fasta;
};

}  // namespace warp::genomics
