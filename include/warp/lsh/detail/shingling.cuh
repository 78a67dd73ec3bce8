// warp/lsh/detail/shingling.cuh: the hash of the shingle at each byte of a document, by the rules
// of warp/lsh/shingles.cuh (host and device code), and the UTF-8 checks.
#pragma once

#include <cstddef>
#include <cstdint>

#include <warp/core/config.cuh>
#include <warp/genomics/dna.cuh>
#include <warp/hash/murmur3.cuh>
#include <warp/hash/xxhash64.cuh>
#include <warp/lsh/shingles.cuh>

namespace warp::lsh {

namespace detail {

/// The hash function over a shingle's bytes.
enum class byte_hash : std::uint8_t { murmur3_32, murmur3_x64_128, xxhash64 };

struct shingle_hasher {
  byte_hash function = byte_hash::xxhash64;
  std::uint64_t seed = 0;
  WARP_HD WARP_FORCEINLINE std::uint64_t operator()(void const* p, std::size_t n) const noexcept {
    std::uint64_t h;
    switch (function) {
      case byte_hash::murmur3_32: h = hash::murmur3_32(p, n, static_cast<std::uint32_t>(seed)); break;
      case byte_hash::murmur3_x64_128: h = hash::murmur3_x64_128(p, n, seed).low; break;
      default: h = hash::xxhash64(p, n, seed); break;
    }
    return h == 0 ? 1 : h;
  }
};

WARP_HD WARP_FORCEINLINE bool is_continuation(unsigned char c) noexcept { return (c & 0xC0u) == 0x80u; }

/// Bytes of the UTF-8 sequence that lead byte `c` starts (1 for bytes that start none).
WARP_HD WARP_FORCEINLINE std::uint32_t sequence_length(unsigned char c) noexcept {
  return c < 0xC0u ? 1u : c < 0xE0u ? 2u : c < 0xF0u ? 3u : 4u;
}

/// Offset of the first byte of `p[0, n)` that breaks UTF-8 (overlong forms, surrogates, code
/// points above U+10FFFF, stray continuation bytes, truncated sequences), or -1.
WARP_HD inline std::int64_t first_invalid_utf8(unsigned char const* p, std::size_t n) noexcept {
  std::size_t i = 0;
  while (i < n) {
    unsigned char const c = p[i];
    if (c < 0x80u) {
      ++i;
      continue;
    }
    std::uint32_t len;
    std::uint32_t cp;
    if (c >= 0xC2u && c <= 0xDFu) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0u && c <= 0xEFu) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0u && c <= 0xF4u) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return static_cast<std::int64_t>(i);  // continuation byte, C0/C1 or F5-FF
    }
    if (i + len > n) { return static_cast<std::int64_t>(i); }
    for (std::uint32_t j = 1; j < len; ++j) {
      if (!is_continuation(p[i + j])) { return static_cast<std::int64_t>(i); }
      cp = (cp << 6) | (p[i + j] & 0x3Fu);
    }
    bool const overlong = (len == 3 && cp < 0x800u) || (len == 4 && cp < 0x10000u);
    if (overlong || (cp >= 0xD800u && cp <= 0xDFFFu) || cp > 0x10FFFFu) { return static_cast<std::int64_t>(i); }
    i += len;
  }
  return -1;
}

/// The code point at p[i] and its length (valid UTF-8 assumed; with `bytes`, each byte is one).
struct code_point {
  std::uint32_t value;
  std::uint32_t length;
};
WARP_HD WARP_FORCEINLINE code_point decode(unsigned char const* p, std::size_t n, std::size_t i, bool bytes) noexcept {
  unsigned char const c = p[i];
  if (bytes || c < 0x80u) { return {c, 1}; }
  std::uint32_t len = sequence_length(c);
  if (i + len > n) { len = static_cast<std::uint32_t>(n - i); }
  std::uint32_t cp = c & (0x7Fu >> len);
  for (std::uint32_t j = 1; j < len; ++j) { cp = (cp << 6) | (p[i + j] & 0x3Fu); }
  return {cp, len};
}

WARP_HD WARP_FORCEINLINE bool is_ascii_punctuation(std::uint32_t c) noexcept {
  return (c >= 0x21u && c <= 0x2Fu) || (c >= 0x3Au && c <= 0x40u) || (c >= 0x5Bu && c <= 0x60u) ||
         (c >= 0x7Bu && c <= 0x7Eu);
}
WARP_HD WARP_FORCEINLINE bool is_separator(std::uint32_t c, bool bytes) noexcept {
  if ((c >= 0x09u && c <= 0x0Du) || c == 0x20u || is_ascii_punctuation(c)) { return true; }
  if (bytes) { return false; }
  return c == 0x85u || c == 0xA0u || c == 0x1680u || (c >= 0x2000u && c <= 0x200Au) || c == 0x2028u ||
         c == 0x2029u || c == 0x202Fu || c == 0x205Fu || c == 0x3000u;
}

/// Start of the code point before byte i (i > 0).
WARP_HD WARP_FORCEINLINE std::size_t previous_start(unsigned char const* p, std::size_t i, bool bytes) noexcept {
  std::size_t k = i - 1;
  if (!bytes) {
    while (k > 0 && is_continuation(p[k])) { --k; }
  }
  return k;
}

/// Fingerprint of the token p[i, end) (folded when asked), and where the token ends.
WARP_HD inline std::uint64_t token_fingerprint(unsigned char const* p, std::size_t n, std::size_t& i, bool bytes,
                                               bool lowercase) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  while (i < n) {
    code_point const cp = decode(p, n, i, bytes);
    if (is_separator(cp.value, bytes)) { break; }
    for (std::uint32_t j = 0; j < cp.length; ++j) {
      unsigned char c = p[i + j];
      if (lowercase && c >= 'A' && c <= 'Z') { c = static_cast<unsigned char>(c + ('a' - 'A')); }
      h = (h ^ c) * 0x100000001b3ull;
    }
    i += cp.length;
  }
  return hash::fmix64(h);
}

/// The hash of the shingle that starts at byte i of document p[0, n), or 0 when none starts there.
WARP_HD inline std::uint64_t shingle_at(unsigned char const* p, std::size_t n, std::size_t i,
                                        shingle_options const& o, shingle_hasher const& h) noexcept {
  bool const bytes = o.utf8 == utf8_policy::bytes;
  switch (o.kind) {
    case shingle_kind::characters: {
      if (!bytes && is_continuation(p[i])) { return 0; }
      std::size_t j = i;
      std::uint32_t c = 0;
      for (; c < o.size && j < n; ++c) {
        std::uint32_t const len = bytes ? 1u : sequence_length(p[j]);
        j = j + len > n ? n : j + len;
      }
      if (c < o.size && i != 0) { return 0; }  // runs past the end
      return h(p + i, j - i);
    }
    case shingle_kind::words: {
      code_point const first = decode(p, n, i, bytes);
      if ((!bytes && is_continuation(p[i])) || is_separator(first.value, bytes)) { return 0; }
      if (i != 0 && !is_separator(decode(p, n, previous_start(p, i, bytes), bytes).value, bytes)) { return 0; }
      std::uint64_t prints[max_word_shingle];
      std::uint32_t t = 0;
      std::size_t j = i;
      while (t < o.size && j < n) {
        prints[t++] = token_fingerprint(p, n, j, bytes, o.lowercase);
        while (j < n) {  // to the next token
          code_point const cp = decode(p, n, j, bytes);
          if (!is_separator(cp.value, bytes)) { break; }
          j += cp.length;
        }
      }
      if (t < o.size) {
        // Fewer than n tokens left: a shingle only if this is the document's first token.
        std::size_t k = i;
        while (k > 0) {
          k = previous_start(p, k, bytes);
          if (!is_separator(decode(p, n, k, bytes).value, bytes)) { return 0; }
        }
      }
      unsigned char buffer[8 * max_word_shingle];
      for (std::uint32_t a = 0; a < t; ++a) {
        for (int b = 0; b < 8; ++b) { buffer[8 * a + b] = static_cast<unsigned char>(prints[a] >> (8 * b)); }
      }
      return h(buffer, 8 * static_cast<std::size_t>(t));
    }
    case shingle_kind::dna: {
      if (i + o.size > n) { return 0; }
      genomics::kmer_roller roller{o.size};
      for (std::uint32_t j = 0; j < o.size; ++j) {
        (void)roller.push(p[i + j]);
        if (roller.valid != j + 1) { return 0; }  // a byte that is not a base: no k-mer here
      }
      std::uint64_t const canonical = roller.canonical();
      unsigned char buffer[8];
      for (int b = 0; b < 8; ++b) { buffer[b] = static_cast<unsigned char>(canonical >> (8 * b)); }
      return h(buffer, 8);
    }
  }
  return 0;
}

}  // namespace detail


}  // namespace warp::lsh
