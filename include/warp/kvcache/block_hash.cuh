// warp/kvcache/block_hash.cuh: chained, keyed block hashes of token sequences, the keys of a
// prefix (KV-cache) block table, on the GPU or the host.
//
//   auto hasher = warp::kvcache::block_hasher::keyed(deployment_key, 32);   // secret from the key
//   warp::kvcache::token_batch batch = warp::kvcache::token_batch::from(prompts);
//   std::vector<warp::kvcache::request_keys> keys(batch.size());           // salts, LoRA ids, images
//   auto h = warp::kvcache::hash_blocks(hasher, batch.view(), keys, 16, where);
//   // request r's full blocks have hashes h.hashes[h.block_offsets[r] .. h.block_offsets[r + 1])
//
// The scheme (docs/kvcache.md has the argument):
//   root_r = K("warp.kv.root", salt, LoRA id)                        per request
//   h_i    = K("warp.kv.block", h_(i-1), K(tokens of block i), B, m_i)  with h_(-1) = root_r
// where K is XXH3-128 keyed by a secret derived from a per-deployment key, every field is tagged
// and length-prefixed, and m_i is the digest of the multimodal items whose first placeholder
// token lies in block i (zero when none). So a block's hash fixes the whole prefix up to it, the
// salt and the LoRA id of its request, and every image placed before its end; two tenants with
// different salts never share a block. Only full blocks are hashed (a partial last block is never
// cached). The 64-bit mode replaces K by seeded XXH3-64 (the high half is 0): it exists for
// compatibility with 64-bit block tables and is weaker (a collision can be searched for in about
// 2^32 tries once the seed is known).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/config.cuh>
#include <warp/core/error.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>
#include <warp/hash/xxh3.cuh>

namespace warp::kvcache {

/// A block's hash: 128 bits (the 64-bit mode leaves `high` 0).
struct block_hash {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  friend WARP_HD bool operator==(block_hash a, block_hash b) noexcept { return a.low == b.low && a.high == b.high; }
  friend WARP_HD bool operator!=(block_hash a, block_hash b) noexcept { return !(a == b); }
};

enum class hash_mode : std::uint8_t { keyed128 = 1, compat64 = 2 };

/// The smallest per-deployment key keyed() accepts, in bytes.
inline constexpr std::size_t min_key_bytes = 16;
/// Block sizes, in tokens.
inline constexpr std::uint32_t max_block_size = 512;

namespace detail {
// Field tags: every field of a hashed message starts with its tag and its length.
enum field_tag : std::uint8_t { tag_root = 0x52, tag_block = 0x42, tag_salt = 0x53, tag_lora = 0x4c, tag_media = 0x4d };

// A small message of tagged fields, hashed in one call (a root: 40 bytes, a block link: 72).
struct message {
  unsigned char bytes[96];
  std::size_t size = 0;
  WARP_HD void put(std::uint8_t tag, void const* data, std::uint32_t n) noexcept {
    bytes[size] = tag;
    std::memcpy(bytes + size + 1, &n, 4);
    std::memcpy(bytes + size + 5, data, n);
    size += 5 + n;
  }
};
}  // namespace detail

/// The hash function of a deployment: keyed XXH3-128 (default) or seeded XXH3-64. Trivially
/// copyable (a 192-byte secret), so kernels take it by value.
class block_hasher {
 public:
  /// Keyed 128-bit mode: the XXH3 secret is derived from `key` (a per-deployment random key of at
  /// least min_key_bytes; never a fixed public value). Throws for a shorter key.
  static block_hasher keyed(void const* key, std::size_t key_bytes) {
    if (key == nullptr || key_bytes < min_key_bytes) {
      throw invalid_argument("kvcache::block_hasher::keyed: the key has " + std::to_string(key_bytes) +
                             " bytes; at least " + std::to_string(min_key_bytes) + " random bytes are needed");
    }
    block_hasher h;
    h.mode_ = hash_mode::keyed128;
    h.secret_ = hash::xxh3_secret_from_key(key, key_bytes);
    return h;
  }
  /// 64-bit compatibility mode: seeded XXH3-64 (weaker; see the file comment).
  static block_hasher compat64(std::uint64_t seed) {
    block_hasher h;
    h.mode_ = hash_mode::compat64;
    h.seed_ = seed;
    return h;
  }

  [[nodiscard]] WARP_HD hash_mode mode() const noexcept { return mode_; }

  /// K(bytes): the keyed digest of a byte range (a block's tokens, a multimodal item list).
  WARP_HD block_hash digest(void const* data, std::size_t bytes) const noexcept {
    if (mode_ == hash_mode::compat64) { return {hash::xxh3_64(data, bytes, seed_), 0}; }
    hash::xxh3_128_result const r = hash::xxh3_128(data, bytes, secret_);
    return {r.low, r.high};
  }

  /// root_r: what the first block of a request chains from (its salt and LoRA id).
  WARP_HD block_hash root(block_hash salt_digest, std::uint64_t lora_id) const noexcept {
    detail::message m;
    std::uint8_t const version = 1;
    m.put(detail::tag_root, &version, 1);
    m.put(detail::tag_salt, &salt_digest, sizeof(salt_digest));
    m.put(detail::tag_lora, &lora_id, sizeof(lora_id));
    return digest(m.bytes, m.size);
  }

  /// h_i from h_(i-1), the digest of block i's tokens, the block size and the digest of the
  /// multimodal items that start in the block (zero: none).
  WARP_HD block_hash link(block_hash parent, block_hash tokens, std::uint32_t block_size, block_hash media) const noexcept {
    detail::message m;
    m.put(detail::tag_block, &parent, sizeof(parent));
    m.put(detail::tag_block, &tokens, sizeof(tokens));
    m.put(detail::tag_block, &block_size, sizeof(block_size));
    m.put(detail::tag_media, &media, sizeof(media));
    return digest(m.bytes, m.size);
  }

  /// h_i from h_(i-1) and block i's `block_size` tokens (and its media digest): one step of the
  /// chain, as a scheduler kernel computes it per block.
  WARP_HD block_hash next(block_hash parent, std::uint32_t const* tokens, std::uint32_t block_size,
                          block_hash media = {}) const noexcept {
    return link(parent, digest(tokens, std::size_t{block_size} * sizeof(std::uint32_t)), block_size, media);
  }

 private:
  hash_mode mode_ = hash_mode::keyed128;
  std::uint64_t seed_ = 0;
  hash::xxh3_secret secret_{};
};

/// A multimodal item of a request: its content hash and the position of its first placeholder token.
struct media_item {
  block_hash content;
  std::uint64_t first_token;
};

/// What a request adds to its tokens' identity.
struct request_keys {
  std::string salt;               // tenant / cache salt; empty: none
  std::uint64_t lora_id = 0;      // 0: no adapter
  std::vector<media_item> media;  // any order
};

/// A non-owning view of `count` token sequences: request r is tokens[offsets[r] .. offsets[r + 1]).
/// Token ids are 32-bit; both arrays on the host (tokens may also be in device memory).
struct token_requests {
  std::uint32_t const* tokens = nullptr;
  std::int64_t const* offsets = nullptr;  // count + 1 entries, host memory
  std::size_t count = 0;
};

/// Host storage for a batch of token sequences (tests, tools).
struct token_batch {
  std::vector<std::uint32_t> tokens;
  std::vector<std::int64_t> offsets{0};
  void push_back(std::vector<std::uint32_t> const& request) {
    tokens.insert(tokens.end(), request.begin(), request.end());
    offsets.push_back(static_cast<std::int64_t>(tokens.size()));
  }
  template <class Range>
  static token_batch from(Range const& requests) {
    token_batch b;
    for (auto const& r : requests) { b.push_back(r); }
    return b;
  }
  [[nodiscard]] std::size_t size() const noexcept { return offsets.size() - 1; }
  [[nodiscard]] token_requests view() const noexcept { return {tokens.data(), offsets.data(), size()}; }
};

/// A batch's block hashes in caller memory: request r's are hashes[block_offsets[r] ..
/// block_offsets[r + 1]). The hashes in host memory or the table's backend's (on a GPU, where
/// hash_blocks can leave them), the offsets (requests + 1 entries) on the host.
struct block_hashes_view {
  block_hash const* hashes = nullptr;
  std::uint64_t const* block_offsets = nullptr;
  std::size_t requests = 0;
  [[nodiscard]] std::uint64_t blocks() const noexcept { return requests == 0 ? 0 : block_offsets[requests]; }
};

/// The hashes of every full block of every request (host arrays).
struct block_hashes {
  std::vector<std::uint64_t> block_offsets;  // requests + 1 entries
  std::vector<block_hash> hashes;
  [[nodiscard]] block_hashes_view view() const noexcept {
    return {hashes.data(), block_offsets.data(), block_offsets.empty() ? 0 : block_offsets.size() - 1};
  }
};

namespace detail {
// Pass 1: the keyed digest of each block's tokens, read in place; an item is a run of
// `blocks_per_item` blocks (one on a GPU; on the host a few thousand tokens' worth, so that the
// thread team shares out work that is worth it).
struct token_digest_fn {
  static constexpr std::int64_t host_min_parallel_items = 2;
  block_hasher hasher;
  std::uint32_t const* tokens;
  std::int64_t const* token_start;  // of each block, relative to tokens
  std::uint32_t block_size;
  std::size_t blocks_per_item;
  std::size_t blocks;
  block_hash* out;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t item) const {
    std::size_t const first = item * blocks_per_item;
    std::size_t const last = first + blocks_per_item < blocks ? first + blocks_per_item : blocks;
    for (std::size_t b = first; b < last; ++b) {
      out[b] = hasher.digest(tokens + token_start[b], std::size_t{block_size} * sizeof(std::uint32_t));
    }
    return 0;
  }
};

// The host's single pass, one request per item: each block's token digest and its link, in
// order (no per-block array of token positions; the tokens are read once, while in cache).
struct fused_chain_fn {
  // Items are whole requests: worth a thread team from a few of them on.
  static constexpr std::int64_t host_min_parallel_items = 4;
  block_hasher hasher;
  std::uint32_t const* tokens;       // of the first request
  std::int64_t const* offsets;       // request token offsets, relative to tokens after offsets[0] is subtracted
  std::uint64_t const* block_offsets;
  block_hash const* roots;
  block_hash const* media;  // per block, or null
  std::uint32_t block_size;
  block_hash* hashes;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t r) const {
    block_hash h = roots[r];
    std::uint32_t const* t = tokens + (offsets[r] - offsets[0]);
    for (std::uint64_t b = block_offsets[r]; b < block_offsets[r + 1]; ++b, t += block_size) {
      h = hasher.next(h, t, block_size, media != nullptr ? media[b] : block_hash{});
      hashes[b] = h;
    }
    return 0;
  }
};

// Pass 2, one request per item: the chain over its blocks (72-byte links, sequential by nature).
struct chain_fn {
  block_hasher hasher;
  std::uint64_t const* block_offsets;
  block_hash const* roots;
  block_hash const* media;  // per block, zero when no item starts in it; null: no items at all
  std::uint32_t block_size;
  block_hash* hashes;       // in: token digests; out: chained hashes
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t r) const {
    block_hash h = roots[r];
    for (std::uint64_t b = block_offsets[r]; b < block_offsets[r + 1]; ++b) {
      h = hasher.link(h, hashes[b], block_size, media != nullptr ? media[b] : block_hash{});
      hashes[b] = h;
    }
    return 0;
  }
};
}  // namespace detail

namespace detail {
// Checks a hash_blocks call's arguments (before any work) and sets block_offsets[r] to the first
// block of request r (requests + 1 entries). Returns the number of blocks.
inline std::size_t plan_blocks(token_requests const& requests, std::vector<request_keys> const& keys, std::uint32_t block_size,
                               std::vector<std::uint64_t>& block_offsets) {
  if (block_size == 0 || block_size > max_block_size) {
    throw invalid_argument("kvcache::hash_blocks: block size " + std::to_string(block_size) + " is outside 1.." +
                           std::to_string(max_block_size));
  }
  if (!keys.empty() && keys.size() != requests.count) {
    throw invalid_argument("kvcache::hash_blocks: " + std::to_string(keys.size()) + " request keys for " +
                           std::to_string(requests.count) + " requests");
  }
  if (requests.count != 0 && (requests.offsets == nullptr || (requests.tokens == nullptr && requests.offsets[requests.count] > requests.offsets[0]))) {
    throw invalid_argument("kvcache::hash_blocks: null tokens or offsets");
  }
  block_offsets.assign(requests.count + 1, 0);
  for (std::size_t r = 0; r < requests.count; ++r) {
    std::int64_t const begin = requests.offsets[r], end = requests.offsets[r + 1];
    if (end < begin || begin < requests.offsets[0]) {
      throw invalid_argument("kvcache::hash_blocks: offsets[" + std::to_string(r + 1) + "] = " + std::to_string(end) +
                             " is below offsets[" + std::to_string(r) + "] = " + std::to_string(begin));
    }
    block_offsets[r + 1] = block_offsets[r] + static_cast<std::uint64_t>(end - begin) / block_size;
  }
  return block_offsets[requests.count];
}

// The hashes of a planned call into out[0 .. total) (host or `where`'s memory).
inline void hash_planned(block_hasher const& hasher, token_requests const& requests, std::vector<request_keys> const& keys,
                         std::uint32_t block_size, std::vector<std::uint64_t> const& block_offsets, block_hash* out,
                         backend where, cuda::stream_ref stream, memory_resource* memory) {
  std::size_t const total = block_offsets[requests.count];
  if (total == 0) { return; }
  // Roots and per-block media digests on the host: small, and they read std::strings. The media
  // array exists only when some request has items (the chain reads zero otherwise).
  // A batch of a few requests keeps its roots on the stack: the heap allocation was a tenth of
  // hashing one 2,048-token request at B = 512 on the host.
  constexpr std::size_t stack_roots = 8;
  block_hash roots_here[stack_roots];
  std::vector<block_hash> roots_heap(requests.count > stack_roots ? requests.count : 0);
  block_hash* const roots = requests.count > stack_roots ? roots_heap.data() : roots_here;
  std::vector<block_hash> media;
  std::vector<media_item> items;
  block_hash const plain_root = keys.empty() ? hasher.root({}, 0) : block_hash{};  // no salt, adapter or media
  for (std::size_t r = 0; r < requests.count; ++r) {
    if (keys.empty()) {
      roots[r] = plain_root;
      continue;
    }
    request_keys const& k = keys[r];
    block_hash const salt = k.salt.empty() ? block_hash{} : hasher.digest(k.salt.data(), k.salt.size());
    roots[r] = hasher.root(salt, k.lora_id);
    // The items of full blocks in order of (position, content); each run of one block is digested.
    std::uint64_t const blocks = block_offsets[r + 1] - block_offsets[r];
    items.clear();
    for (media_item const& m : k.media) {
      if (m.first_token / block_size < blocks) { items.push_back(m); }
    }
    std::sort(items.begin(), items.end(), [](media_item const& x, media_item const& y) {
      return x.first_token != y.first_token ? x.first_token < y.first_token
                                            : (x.content.high != y.content.high ? x.content.high < y.content.high
                                                                                : x.content.low < y.content.low);
    });
    if (!items.empty() && media.empty()) { media.assign(total, block_hash{}); }
    for (std::size_t i = 0; i < items.size();) {
      std::uint64_t const b = items[i].first_token / block_size;
      std::size_t j = i;
      while (j < items.size() && items[j].first_token / block_size == b) { ++j; }
      media[block_offsets[r] + b] = hasher.digest(items.data() + i, (j - i) * sizeof(media_item));
      i = j;
    }
  }
  std::size_t const tokens = static_cast<std::size_t>(requests.offsets[requests.count] - requests.offsets[0]);
  // On the host, one pass per request, unless a few long requests would leave cores idle: then
  // the token digests (the bulk of the work) go first, over every block, in parallel. "Long" is
  // counted in tokens, not blocks: 32k tokens take a thread over 10 us to digest, far more than
  // waking a thread team, whatever the block size.
  constexpr std::size_t min_parallel_tokens = 32768;
  if (where == backend::host && (requests.count >= 4 || tokens < min_parallel_tokens)) {
    warp::detail::executor const ex{where, stream, memory};
    warp::detail::for_each_item<1>(ex, requests.count,
                                   detail::fused_chain_fn{hasher, requests.tokens + requests.offsets[0], requests.offsets,
                                                          block_offsets.data(), roots,
                                                          media.empty() ? nullptr : media.data(), block_size, out});
    return;
  }
  std::vector<std::int64_t> token_start(total);  // of every block, relative to the first request
  for (std::size_t r = 0; r < requests.count; ++r) {
    for (std::uint64_t b = block_offsets[r]; b < block_offsets[r + 1]; ++b) {
      token_start[b] = requests.offsets[r] - requests.offsets[0] + static_cast<std::int64_t>((b - block_offsets[r]) * block_size);
    }
  }
  warp::detail::input_view<std::uint32_t const*> tok{where, requests.tokens + requests.offsets[0], tokens,
                                                      "kvcache::hash_blocks tokens", stream, memory};
  warp::detail::input_view<std::int64_t const*> starts{where, token_start.data(), total, "kvcache::hash_blocks starts",
                                                       stream, memory};
  warp::detail::input_view<std::uint64_t const*> boff{where, block_offsets.data(), block_offsets.size(),
                                                      "kvcache::hash_blocks block offsets", stream, memory};
  warp::detail::input_view<block_hash const*> root_view{where, roots, requests.count, "kvcache::hash_blocks roots",
                                                        stream, memory};
  warp::detail::input_view<block_hash const*> media_view{where, media.empty() ? roots : media.data(), media.size(),
                                                         "kvcache::hash_blocks media", stream, memory};
  warp::detail::output_view<block_hash> hashes{where, out, total, "kvcache::hash_blocks hashes", stream, memory};
  warp::detail::executor const ex{where, stream, memory};
  std::size_t const blocks_per_item = where == backend::host ? std::max<std::size_t>(1, 4096 / block_size) : 1;
  warp::detail::for_each_item<1>(ex, (total + blocks_per_item - 1) / blocks_per_item,
                                 detail::token_digest_fn{hasher, tok.get(), starts.get(), block_size, blocks_per_item,
                                                         total, hashes.get()});
  warp::detail::for_each_item<1>(ex, requests.count,
                                 detail::chain_fn{hasher, boff.get(), root_view.get(), media.empty() ? nullptr : media_view.get(),
                                                  block_size, hashes.get()});
  hashes.finish(stream);
  warp::detail::synchronize(where, stream);
}
}  // namespace detail

/// The chained hashes of every full block of every request, on `where` (tokens in host or that
/// backend's memory), written into `out` (its arrays are reused: a scheduler that keeps one
/// block_hashes makes no allocation per step once they have grown). keys[r] belongs to request r
/// (keys may be empty: no salts, adapters or media). Throws, before any work, for a block size
/// outside 1..max_block_size, offsets that decrease, or a keys array of the wrong length. Waits
/// for its work.
inline void hash_blocks(block_hasher const& hasher, token_requests const& requests, std::vector<request_keys> const& keys,
                        std::uint32_t block_size, block_hashes& out, backend where = default_backend(),
                        cuda::stream_ref stream = default_stream(), memory_resource* memory = nullptr) {
  require_backend(where);
  out.hashes.resize(detail::plan_blocks(requests, keys, block_size, out.block_offsets));
  detail::hash_planned(hasher, requests, keys, block_size, out.block_offsets, out.hashes.data(), where, stream, memory);
}

/// The same into a caller's array of `capacity` hashes in host or `where`'s memory (on a GPU,
/// device memory keeps the hashes there for block_table's calls: no copy back and forth), with
/// the block offsets in `block_offsets` (host). Throws, before any work, when the batch has more
/// full blocks than `capacity`, naming both.
inline void hash_blocks(block_hasher const& hasher, token_requests const& requests, std::vector<request_keys> const& keys,
                        std::uint32_t block_size, std::vector<std::uint64_t>& block_offsets, block_hash* out,
                        std::size_t capacity, backend where = default_backend(), cuda::stream_ref stream = default_stream(),
                        memory_resource* memory = nullptr) {
  require_backend(where);
  std::size_t const total = detail::plan_blocks(requests, keys, block_size, block_offsets);
  if (total > capacity) {
    throw invalid_argument("kvcache::hash_blocks: the batch has " + std::to_string(total) +
                           " full blocks but the output holds " + std::to_string(capacity));
  }
  if (total != 0 && out == nullptr) { throw invalid_argument("kvcache::hash_blocks: the output is a null pointer"); }
  if (total != 0 && where == backend::host && warp::detail::is_device_only(out)) {
    throw invalid_argument("kvcache::hash_blocks: the output points to device memory but the hashing runs on the host");
  }
  detail::hash_planned(hasher, requests, keys, block_size, block_offsets, out, where, stream, memory);
}

/// The same, returning new arrays.
inline block_hashes hash_blocks(block_hasher const& hasher, token_requests const& requests,
                                std::vector<request_keys> const& keys, std::uint32_t block_size,
                                backend where = default_backend(), cuda::stream_ref stream = default_stream(),
                                memory_resource* memory = nullptr) {
  block_hashes out;
  hash_blocks(hasher, requests, keys, block_size, out, where, stream, memory);
  return out;
}

}  // namespace warp::kvcache
