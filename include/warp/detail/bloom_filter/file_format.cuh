// warp/detail/bloom_filter/file_format.cuh: the on-disk format of a saved bloom_filter (a
// 64-byte header, then the words) and the size limits every filter is checked against.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include <warp/hash/xxh3.cuh>

namespace warp::bloom::detail {

/// The file header of a saved filter (little-endian, 64 bytes, then the words). Version 2: the
/// header carries its own checksum, so that every field (hash count, seed, geometry) is covered.
struct file_header {
  char magic[8];           // "WARPBLM\0"
  std::uint32_t version;   // file_version
  std::uint32_t block_bytes;
  std::uint32_t hashes;
  std::uint32_t key_bytes;
  std::uint64_t hash_seed;
  std::uint64_t num_blocks;
  std::uint64_t payload_bytes;
  std::uint64_t payload_checksum;  // XXH3-64 of the words
  std::uint64_t header_checksum;   // XXH3-64 of this header with header_checksum = 0
};
static_assert(sizeof(file_header) == 64, "the header layout is part of the file format");
inline constexpr char file_magic[8] = {'W', 'A', 'R', 'P', 'B', 'L', 'M', '\0'};
inline constexpr std::uint32_t file_version = 2;

inline std::uint64_t header_checksum(file_header h) {
  h.header_checksum = 0;
  return hash::xxh3_64(&h, sizeof(h), 0);
}

/// The largest filter: 2^50 bytes (far beyond any device; keeps every size computation exact).
inline constexpr std::uint64_t max_filter_bytes = std::uint64_t{1} << 50;

template <class Hash, class = void>
struct seed_of {
  static std::uint64_t get(Hash const&) { return 0; }
};
template <class Hash>
struct seed_of<Hash, std::void_t<decltype(std::declval<Hash const&>().seed)>> {
  static std::uint64_t get(Hash const& h) { return static_cast<std::uint64_t>(h.seed); }
};

}  // namespace warp::bloom::detail
