// warp/genomics/dna.cuh: 2-bit DNA and canonical k-mers (host and device code), shared by the
// window sketches (sketch.cuh) and the LSH module's DNA shingles.
//
//   warp::genomics::kmer_roller r{21};
//   for (char c : bases) { if (r.push(c)) use(r.canonical()); }   // every complete k-mer
//
// A, C, G, T (either case) are 0 to 3; any other byte (N and the IUPAC ambiguity codes) breaks
// k-mers. A k-mer's encoding has its first base in the high bits; its canonical form is the
// smaller of its encoding and its reverse complement's.
#pragma once

#include <cstdint>

#include <warp/core/config.cuh>

namespace warp::genomics {

/// 0 to 3 for A, C, G, T (either case), -1 for anything else.
WARP_HD WARP_FORCEINLINE int base_code(unsigned char c) noexcept {
  switch (c) {
    case 'A': case 'a': return 0;
    case 'C': case 'c': return 1;
    case 'G': case 'g': return 2;
    case 'T': case 't': return 3;
    default: return -1;
  }
}

/// The k-mers of a stream of bases, k in [1, 32].
struct kmer_roller {
  std::uint32_t k;
  std::uint64_t forward = 0;
  std::uint64_t reverse = 0;
  std::uint32_t valid = 0;  // bases since the last break

  WARP_HD explicit kmer_roller(std::uint32_t length) noexcept : k{length} {}
  /// Adds a base; true when the last k bases form a k-mer.
  WARP_HD WARP_FORCEINLINE bool push(unsigned char c) noexcept {
    int const code = base_code(c);
    if (code < 0) {
      valid = 0;
      return false;
    }
    std::uint64_t const mask = k == 32 ? ~0ull : (1ull << (2 * k)) - 1;
    forward = ((forward << 2) | static_cast<std::uint64_t>(code)) & mask;
    reverse = (reverse >> 2) | (static_cast<std::uint64_t>(3 - code) << (2 * (k - 1)));
    if (valid < k) { ++valid; }
    return valid == k;
  }
  [[nodiscard]] WARP_HD WARP_FORCEINLINE std::uint64_t canonical() const noexcept { return forward < reverse ? forward : reverse; }
};

}  // namespace warp::genomics
