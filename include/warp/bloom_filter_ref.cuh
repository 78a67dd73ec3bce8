// warp/bloom_filter_ref.cuh: the non-owning, trivially copyable views of a bloom_filter for
// user kernels (CUDA backend) or host threads (host backend): bloom_filter_ref (filter.ref())
// only tests keys; bloom_filter_mutable_ref (filter.mutable_ref()) also adds them. Adds and
// contains may run concurrently (a contains racing with the add of its key may miss it).
//
// Every operation has a scalar form and a tile form. In the tile form the BlockBytes / 16 lanes of
// the tile (2, 4 or 8) each own 16 bytes of the key's block: one vectorized load per lane reads the
// whole block, and adds touch only the lanes' own words. A tile of any size dividing the block's
// word count works; the scalar form is a one-lane tile.
//   __global__ void k(warp::bloom_filter_mutable_ref<std::uint64_t> filter, std::uint64_t const* keys, int n) {
//     int i = blockIdx.x * blockDim.x + threadIdx.x;
//     if (i < n) filter.add(keys[i]);
//   }
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda/atomic>

#include <warp/detail/bloom_filter/block_pattern.cuh>
#include <warp/detail/atomic.cuh>
#include <warp/detail/loads.cuh>
#include <warp/core/config.cuh>
#include <warp/core/tile.cuh>
#include <warp/hash/hash.cuh>

namespace warp {

namespace bloom {
/// How contains reads words: concurrently with adds (relaxed atomics), or from a filter that does
/// not change during the call (bulk lookups: the read-only data path). See detail/loads.cuh.
using word_reads = warp::detail::reads;
}  // namespace bloom

template <class Key, int BlockBytes = 64, class Hash = hash::default_hash<Key>>
class bloom_filter_ref {
 public:
  using key_type = Key;
  using hasher = Hash;
  using pattern = bloom::block_pattern<BlockBytes>;
  static constexpr int block_bytes = BlockBytes;
  static constexpr int words_per_block = pattern::words;
  /// Lanes per key in the tile forms: one per 16 bytes of block.
  static constexpr int tile_size = BlockBytes / 16;

  bloom_filter_ref() = default;
  bloom_filter_ref(std::uint64_t* words, std::size_t num_blocks, int hashes, Hash h) noexcept
      : words_{words}, num_blocks_{num_blocks}, hashes_{hashes}, hash_{h} {}

  WARP_HD bool contains(Key const& key) const noexcept { return contains(one_lane_tile{}, key); }

  template <class Tile>
  WARP_HD bool contains(Tile const& tile, Key const& key) const noexcept {
    return contains<bloom::word_reads::concurrent>(tile, key);
  }

  template <bloom::word_reads Reads, class Tile>
  WARP_HD bool contains(Tile const& tile, Key const& key) const noexcept {
    constexpr int per_lane = lane_words<Tile>();
    std::uint64_t const h = hash_(key);
    int const first = static_cast<int>(tile.thread_rank()) * per_lane;
    std::uint64_t mask[per_lane];
    pattern::masks(h, hashes_, first, mask);
    std::uint64_t const* const block = words_ + pattern::block_of(h, num_blocks_) * words_per_block + first;
    std::uint64_t bits[per_lane];
    load_words<Reads>(block, bits);
    bool ok = true;
    for (int w = 0; w < per_lane; ++w) { ok &= (bits[w] & mask[w]) == mask[w]; }
    return tile.all(ok);
  }

  /// Host bulk loops call this a few keys ahead (see detail/backend/host.cuh).
  WARP_HD void prefetch(Key const& key) const noexcept {
#if !WARP_DEVICE_COMPILATION
    detail::prefetch_lines(words_ + pattern::block_of(hash_(key), num_blocks_) * words_per_block, BlockBytes);
#else
    (void)key;
#endif
  }

  WARP_HD std::uint64_t* words() const noexcept { return words_; }
  WARP_HD std::size_t num_blocks() const noexcept { return num_blocks_; }
  WARP_HD int hashes() const noexcept { return hashes_; }
  WARP_HD Hash hash_function() const noexcept { return hash_; }

 private:
  template <class Tile>
  WARP_HD static constexpr int lane_words() noexcept {
    static_assert(words_per_block % Tile::num_threads() == 0, "the tile size must divide the block's word count");
    return words_per_block / static_cast<int>(Tile::num_threads());
  }

  template <bloom::word_reads Reads, int N>
  WARP_HD WARP_FORCEINLINE static void load_words(std::uint64_t const* p, std::uint64_t (&out)[N]) noexcept {
    static_assert(N % 2 == 0, "a lane owns whole 16-byte pieces of the block");
    detail::u128_words pieces[N / 2];
    detail::load_pieces16<Reads>(p, pieces, N / 2);
    for (int i = 0; i < N / 2; ++i) {
      out[2 * i] = pieces[i].lo;
      out[2 * i + 1] = pieces[i].hi;
    }
  }

  template <class, int, class>
  friend class bloom_filter_mutable_ref;

  std::uint64_t* words_ = nullptr;
  std::size_t num_blocks_ = 0;
  int hashes_ = 0;
  Hash hash_{};
};

template <class Key, int BlockBytes = 64, class Hash = hash::default_hash<Key>>
class bloom_filter_mutable_ref : public bloom_filter_ref<Key, BlockBytes, Hash> {
  using base = bloom_filter_ref<Key, BlockBytes, Hash>;
  using pattern = typename base::pattern;
  static constexpr int words_per_block = base::words_per_block;

 public:
  using base::base;

  WARP_HD void add(Key const& key) const noexcept { (void)add_and_test(one_lane_tile{}, key); }
  /// Adds the key; returns whether all its bits were already set (it was possibly present).
  WARP_HD bool add_and_test(Key const& key) const noexcept { return add_and_test(one_lane_tile{}, key); }

  template <class Tile>
  WARP_HD void add(Tile const& tile, Key const& key) const noexcept { (void)add_and_test(tile, key); }

  template <class Tile>
  WARP_HD bool add_and_test(Tile const& tile, Key const& key) const noexcept {
    constexpr int per_lane = base::template lane_words<Tile>();
    std::uint64_t const h = this->hash_(key);
    int const first = static_cast<int>(tile.thread_rank()) * per_lane;
    std::uint64_t mask[per_lane];
    pattern::masks(h, this->hashes_, first, mask);
    std::uint64_t* const block = this->words_ + pattern::block_of(h, this->num_blocks_) * words_per_block + first;
    bool had = true;
    for (int w = 0; w < per_lane; ++w) {
      if (mask[w] == 0) { continue; }
      // Read first: once a filter fills up most adds find their bits set and need no atomic.
      std::uint64_t old = detail::atomic_load(block + w);
      if ((old & mask[w]) != mask[w]) { old = detail::atomic_or(block + w, mask[w]); }
      had &= (old & mask[w]) == mask[w];
    }
    return tile.all(had);
  }

};

}  // namespace warp
