// warp/lsh/shingles.cuh: what a document's shingles are (the hashing of each shingle is in
// detail/shingling.cuh, host and device code).
//
// Three kinds (shingle_options::kind), each of `size` units:
// - characters: n consecutive characters, counted in UTF-8 code points (utf8_policy::strict:
//   invalid UTF-8 is an error naming the document and byte offset; utf8_policy::bytes: every byte
//   is a character). A shingle starts at every character; the one at the document's start may be
//   shorter (a document of fewer than n characters is hashed whole, as cuDF does), later ones
//   must be complete. Its hash is over its bytes.
// - words: n consecutive tokens. Separators are Unicode whitespace (U+0009-000D, U+0020, U+0085,
//   U+00A0, U+1680, U+2000-200A, U+2028, U+2029, U+202F, U+205F, U+3000) and ASCII punctuation
//   (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~); with utf8_policy::bytes only the ASCII ones separate.
//   `lowercase` folds ASCII A-Z. A token's fingerprint is FNV-1a over its (folded) bytes through
//   the 64-bit MurmurHash3 finalizer; a shingle's hash is over its n fingerprints (8 bytes each,
//   little-endian). A document of fewer than n tokens is one shingle of all its tokens.
// - dna: k-mers (k <= 32) of A, C, G, T (either case); any other byte ends the window, so k-mers
//   with N are skipped. A k-mer is taken in its canonical form (the smaller of its 2-bit encoding
//   and its reverse complement's, first base in the high bits) and hashed as 8 bytes.
// A non-empty document without any shingle (only separators, or no valid k-mer) is hashed whole
// (all its bytes). An empty document has no shingles.
//
// Shingle hashes are never 0: 0 marks "no shingle here" (a hash of 0 is taken as 1, as cuDF does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <warp/core/config.cuh>
#include <warp/core/error.cuh>

namespace warp::lsh {

enum class shingle_kind : std::uint8_t { characters, words, dna };
enum class utf8_policy : std::uint8_t { strict, bytes };

struct shingle_options {
  shingle_kind kind = shingle_kind::characters;
  std::uint32_t size = 5;  // characters, words or bases per shingle
  utf8_policy utf8 = utf8_policy::strict;
  bool lowercase = false;  // words: fold ASCII A-Z before hashing
};

inline constexpr std::uint32_t max_character_shingle = 4096;
inline constexpr std::uint32_t max_word_shingle = 64;
inline constexpr std::uint32_t max_kmer = 32;

inline char const* to_string(shingle_kind k) noexcept {
  switch (k) {
    case shingle_kind::characters: return "characters";
    case shingle_kind::words: return "words";
    case shingle_kind::dna: return "dna";
  }
  return "?";
}

/// Throws warp::invalid_argument naming the field and the number when `o` is out of range.
inline void validate(shingle_options const& o) {
  std::uint32_t const limit = o.kind == shingle_kind::characters ? max_character_shingle
                              : o.kind == shingle_kind::words    ? max_word_shingle
                                                                 : max_kmer;
  if (o.kind != shingle_kind::characters && o.kind != shingle_kind::words && o.kind != shingle_kind::dna) {
    throw invalid_argument("shingle_options.kind: unknown kind " + std::to_string(static_cast<int>(o.kind)));
  }
  if (o.size == 0 || o.size > limit) {
    throw invalid_argument(std::string("shingle_options.size: ") + to_string(o.kind) + " shingles take 1 to " +
                           std::to_string(limit) + " units, got " + std::to_string(o.size));
  }
}

}  // namespace warp::lsh
