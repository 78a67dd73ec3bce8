// Counts the canonical k-mers of a FASTA file with warp::counting_map and prints the most frequent.
//
//   example_kmer_count reads.fasta [k = 21] [top = 10]
//
// A k-mer and its reverse complement are the same canonical k-mer (the smaller 2-bit encoding of
// the two). Bases are A, C, G, T (any case); N (and other IUPAC ambiguity codes) break k-mers;
// lines may end in LF, CRLF or CR (see common/fasta_kmers.hpp). Malformed input (sequence before
// the first header, characters that are not bases, an empty file) is rejected with its line
// number, and bad arguments before the file is read. The k-mers are counted in chunks (progress on stderr); when the
// map fills up it is rehashed to twice its capacity and the refused k-mers are counted again, so
// no occurrence is lost. Runs on the GPU when one is present, else on the host (WARP_BACKEND).
#include <warp/warp.cuh>

#include "common/cli.hpp"
#include "common/fasta_kmers.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

std::string decode(std::uint64_t kmer, int k) {
  std::string s(static_cast<std::size_t>(k), 'A');
  for (int i = k - 1; i >= 0; --i, kmer >>= 2) { s[static_cast<std::size_t>(i)] = "ACGT"[kmer & 3]; }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::cerr << "usage: " << argv[0] << " file.fasta [k = 21 (1..32)] [top = 10]\n";
    return 2;
  }
  try {
    int const k = argc > 2 ? example::parse_integer<int>(argv[2], "k", 1, 32) : 21;
    long const top = argc > 3 ? example::parse_integer<long>(argv[3], "top", 0, 1L << 40) : 10;
    example::require_readable(argv[1], "FASTA file");
    example::fasta_kmers reader{argv[1], k};
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
  } catch (std::exception const& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}
