// Counts the canonical k-mers of a FASTA file with warp::counting_map and prints the most frequent.
//
//   example_kmer_count reads.fasta [k = 21] [top = 10]
//
// A k-mer and its reverse complement are the same canonical k-mer (the smaller 2-bit encoding of
// the two). Bases are A, C, G, T (any case); N (and other IUPAC ambiguity codes) break k-mers.
// Malformed input (sequence before the first header, characters that are not bases, an empty file)
// is rejected with its line number. The k-mers are counted in chunks (progress on stderr); when the
// map fills up it is rehashed to twice its capacity and the refused k-mers are counted again, so
// no occurrence is lost. Runs on the GPU when one is present, else on the host (WARP_BACKEND).
#include <warp/warp.cuh>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct input_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int base_code(char c) {
  switch (c) {
    case 'A': case 'a': return 0;
    case 'C': case 'c': return 1;
    case 'G': case 'g': return 2;
    case 'T': case 't': return 3;
    default: return -1;
  }
}
bool is_ambiguity_code(char c) { return std::string("NnRrYyKkMmSsWwBbDdHhVv").find(c) != std::string::npos; }

std::string decode(std::uint64_t kmer, int k) {
  std::string s(static_cast<std::size_t>(k), 'A');
  for (int i = k - 1; i >= 0; --i, kmer >>= 2) { s[static_cast<std::size_t>(i)] = "ACGT"[kmer & 3]; }
  return s;
}

/// Streams a FASTA file and hands out canonical k-mers in chunks.
class kmer_reader {
 public:
  kmer_reader(std::string const& path, int k) : in_{path}, path_{path}, k_{k} {
    if (!in_) { throw input_error("cannot open " + path); }
    mask_ = k == 32 ? ~std::uint64_t{0} : (std::uint64_t{1} << (2 * k)) - 1;
  }

  /// Appends up to `limit` k-mers to `out`; returns false at the end of the file.
  bool next(std::vector<std::uint64_t>& out, std::size_t limit) {
    std::string line;
    while (out.size() < limit && std::getline(in_, line)) {
      ++line_number_;
      if (!line.empty() && line.back() == '\r') { line.pop_back(); }
      if (!line.empty() && line[0] == '>') {
        seen_header_ = true;
        length_ = 0;  // k-mers do not span records
        continue;
      }
      if (line.empty()) { continue; }
      if (!seen_header_) { throw input_error(where() + "sequence data before the first '>' header"); }
      for (char c : line) {
        int const code = base_code(c);
        if (code < 0) {
          if (!is_ambiguity_code(c)) {
            throw input_error(where() + "unexpected character '" + std::string(1, c) + "' in a sequence");
          }
          length_ = 0;
          continue;
        }
        forward_ = ((forward_ << 2) | static_cast<std::uint64_t>(code)) & mask_;
        reverse_ = (reverse_ >> 2) | (static_cast<std::uint64_t>(3 - code) << (2 * (k_ - 1)));
        if (++length_ >= k_) { out.push_back(std::min(forward_, reverse_)); }
      }
      bases_ += line.size();
    }
    if (in_.bad()) { throw input_error("reading " + path_ + " failed"); }
    if (in_.eof() && line_number_ == 0) { throw input_error(path_ + ": the file is empty"); }
    if (in_.eof() && !seen_header_) { throw input_error(path_ + ": no '>' header found; not a FASTA file"); }
    return !in_.eof();
  }
  std::size_t bases() const { return bases_; }

 private:
  std::string where() const { return path_ + ":" + std::to_string(line_number_) + ": "; }
  std::ifstream in_;
  std::string path_;
  int k_;
  std::uint64_t mask_ = 0, forward_ = 0, reverse_ = 0;
  int length_ = 0;
  bool seen_header_ = false;
  std::size_t line_number_ = 0, bases_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::cerr << "usage: " << argv[0] << " file.fasta [k = 21 (1..32)] [top = 10]\n";
    return 2;
  }
  try {
    int const k = argc > 2 ? std::stoi(argv[2]) : 21;
    long const top = argc > 3 ? std::stol(argv[3]) : 10;
    if (k < 1 || k > 32) { throw input_error("k must be in [1, 32], got " + std::to_string(k)); }
    if (top < 0) { throw input_error("top must not be negative, got " + std::to_string(top)); }

    kmer_reader reader{argv[1], k};
    // Starts small and doubles when full (the refused k-mers are counted again after each rehash).
    warp::counting_map<std::uint64_t, std::uint32_t> counts{std::size_t{1} << 12, warp::empty_key{~std::uint64_t{0}}};
    std::cerr << "counting canonical " << k << "-mers on the " << warp::to_string(counts.where()) << " backend\n";
    std::vector<std::uint64_t> chunk;
    std::vector<warp::insert_outcome> outcomes;
    std::size_t total = 0;
    bool more = true;
    while (more) {
      chunk.clear();
      more = reader.next(chunk, std::size_t{1} << 24);
      while (!chunk.empty()) {
        outcomes.resize(chunk.size());
        counts.increment(chunk.begin(), chunk.end(), outcomes.data());
        // The occurrences a full map refused: grow it and count exactly those again.
        std::vector<std::uint64_t> refused;
        for (std::size_t i = 0; i < chunk.size(); ++i) {
          if (outcomes[i] == warp::insert_outcome::no_room) { refused.push_back(chunk[i]); }
        }
        total += chunk.size() - refused.size();
        if (!refused.empty()) {
          std::cerr << "  map full at " << counts.capacity() << " slots (" << refused.size()
                    << " occurrences refused): rehashing to " << 2 * counts.capacity() << "\n";
          counts.rehash(2 * counts.capacity());
          counts.clear_status();
        }
        chunk.swap(refused);
      }
      std::cerr << "  " << reader.bases() << " bases, " << total << " k-mers, " << counts.size() << " distinct\n";
    }

    std::size_t const distinct = counts.size();
    std::vector<std::uint64_t> kmers(distinct);
    std::vector<std::uint32_t> occurrences(distinct);
    counts.retrieve_all(kmers.data(), occurrences.data());
    std::vector<std::size_t> order(distinct);
    for (std::size_t i = 0; i < distinct; ++i) { order[i] = i; }
    std::size_t const shown = std::min(distinct, static_cast<std::size_t>(top));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), order.end(),
                      [&](std::size_t a, std::size_t b) {
                        return occurrences[a] != occurrences[b] ? occurrences[a] > occurrences[b] : kmers[a] < kmers[b];
                      });
    std::cout << "k-mers: " << total << ", distinct canonical: " << distinct << "\n";
    for (std::size_t i = 0; i < shown; ++i) {
      std::cout << decode(kmers[order[i]], k) << '\t' << occurrences[order[i]] << '\n';
    }
    return 0;
  } catch (input_error const& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  } catch (std::exception const& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}
