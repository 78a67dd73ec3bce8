// warp/kvcache/block_table.cuh: a prefix-cache block table with vLLM's block-pool semantics: a
// fixed pool of KV blocks, block hash -> block ids (one hash may map to several blocks), reference
// counts, and an LRU list of free blocks that keep their hash until the allocator needs them.
//
//   warp::kvcache::block_table t{{/* blocks */ 4096, /* block size */ 16}, where};
//   auto h = warp::kvcache::hash_blocks(hasher, batch.view(), keys, 16, where);
//   auto m = t.match_prefixes(h);                 // per request: its leading cached blocks
//   t.acquire(m.blocks.data(), m.blocks.size());  // the scheduler takes them
//   std::vector<block_id> fresh;  t.allocate(n, fresh);   // evicts the least recently freed
//   t.commit(hashes, fresh.data(), n);            // once the blocks' KV is written
//   t.release(blocks, count);                     // when the request ends (last block first)
//
// Phases: within one scheduler step, lookups (match_prefixes) run first and read only; then
// acquire, allocate (with its lazy evictions), commit and release, which mutate. Nothing races.
// The hash index is a warp::single_value_map on the table's backend. The pool's per-block state
// (reference count, place in the LRU order, the hash a block holds, the list of blocks sharing a
// hash) lives where the options say: on the CUDA backend always in device memory, every call a
// few bulk passes there (detail/resident_pool.cuh); on the host, by default, in a host pool made
// for the small calls of a scheduler step (one thread, linked lists), or, with resident_pool, in
// the same bulk passes run as host loops. The two give the same results, call for call.
//
// Free list order: blocks that never held a hash come first (in id order); a released block joins
// the tail, so the head is always the least recently released block, and allocate() evicts from
// the head. A block that is acquired again while free leaves the list (it is no longer evictable).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>
#include <warp/core/outcome.cuh>
#include <warp/core/sentinels.cuh>
#include <warp/detail/backend/host.cuh>
#include <warp/kvcache/block_hash.cuh>
#include <warp/kvcache/block_table_ref.cuh>
#include <warp/kvcache/detail/head_changes.cuh>
#include <warp/kvcache/detail/resident_pool.cuh>
#include <warp/single_value_map.cuh>

namespace warp::kvcache {

struct block_table_options {
  std::uint32_t num_blocks = 0;   // the block budget, 1 to 2^31
  std::uint32_t block_size = 16;  // tokens per block, 1 to max_block_size
  bool verify_tokens = false;     // keep each block's tokens; a hit needs them to match too
  // Keep the pool in the backend's memory and run its calls there as bulk passes. Always so on
  // the CUDA backend; on the host these passes run as loops (the tests check them against the
  // host pool that way); the host pool is faster for a scheduler step's small calls.
  bool resident_pool = false;
};

/// What the table has seen (counted by match_prefixes, allocate and commit).
struct block_table_stats {
  std::uint64_t queried_blocks = 0, hit_blocks = 0;
  std::uint64_t queried_tokens = 0, hit_tokens = 0;  // full blocks only
  std::uint64_t evictions = 0;                       // cached blocks reused by allocate
  std::uint64_t duplicates = 0;                      // commits of a hash that already had a block
  std::uint64_t verification_misses = 0;             // hash matches whose tokens differed
  std::uint64_t refused_allocations = 0;             // allocate calls the pool could not serve
  [[nodiscard]] double hit_rate() const noexcept {
    return queried_tokens == 0 ? 0.0 : static_cast<double>(hit_tokens) / static_cast<double>(queried_tokens);
  }
};

/// Per request, its leading cached blocks: request r's are blocks[offsets[r] .. offsets[r + 1]).
struct prefix_match {
  std::vector<std::uint64_t> offsets;
  std::vector<block_id> blocks;
};

class block_table {
  // The index holds at most one key per block; an eighth full, nearly every window keeps an empty
  // slot, so probes end in their first window and erases empty their slot instead of leaving a
  // tombstone. At a quarter full a cache-like workload (every step evicts and commits) left a
  // tombstone in one erase of four; they filled another quarter of the slots, walks grew and the
  // table rehashed itself every few hundred steps: erases and inserts cost twice as much (one
  // request of 128 blocks: 10 us of index work per step, against 5 at an eighth). It costs 8
  // slots (256 bytes) per block, against the megabytes of KV data a block stands for.
  static constexpr double index_load = 0.125;
  // Host lookups of fewer first-chunk hashes than this walk on the calling thread: below it a
  // bulk call would not enter OpenMP either.
  static constexpr std::uint64_t host_walk_max_keys = WARP_HOST_MIN_PARALLEL_ITEMS;
  // Host inserts and erases of fewer keys than this go through the index's mutable ref one key at
  // a time: a bulk call's fixed cost (its array views and staged loop, about 30 ns on the
  // development VM) was more than two or three keys' work, and a step of one short request at
  // B = 512 made two such calls for four blocks.
  static constexpr std::size_t host_scalar_max_keys = 16;

 public:
  explicit block_table(block_table_options o, backend where = default_backend())
      : options_{checked(o)},
        index_{sizing{o.num_blocks, index_load}, empty_key<block_hash>{detail::empty_hash()}, empty_value<block_id>{no_block},
               erased_key<block_hash>{detail::erased_hash()}, where},
        resident_{o.resident_pool || where == backend::cuda} {
    options_.resident_pool = resident_;
    if (resident_) {
      pool_ = std::make_unique<detail::resident_pool>(o.num_blocks, o.block_size, o.verify_tokens, where);
      return;
    }
    blocks_.resize(o.num_blocks);
    for (block_id b = 0; b < o.num_blocks; ++b) { push_free(b); }
    if (o.verify_tokens) { tokens_.assign(std::size_t{o.num_blocks} * o.block_size, 0); }
  }

  [[nodiscard]] block_table_options const& options() const noexcept { return options_; }
  [[nodiscard]] block_table_stats const& stats() const noexcept { return stats_; }
  [[nodiscard]] std::uint32_t num_free() const noexcept { return resident_ ? pool_->num_free() : free_count_; }
  [[nodiscard]] std::uint32_t ref_count(block_id b) const {
    return resident_ ? resident_block(b, "ref_count").refs : block(b, "ref_count").refs;
  }
  [[nodiscard]] bool holds_hash(block_id b) const {
    return resident_ ? resident_block(b, "holds_hash").cached != 0 : block(b, "holds_hash").cached;
  }
  [[nodiscard]] std::size_t cached_hashes() const { return index_.size(); }
  /// A lookup-only view of the index for scheduler kernels (CUDA backend) or host threads. It
  /// sees the state of the last mutating call and is valid until the next one (which may rehash
  /// the index into new memory to clear its tombstones): take a fresh ref each step.
  [[nodiscard]] block_table_ref ref() const noexcept { return block_table_ref{index_.ref()}; }

  /// The leading cached blocks of every request, stopping at its first miss, written into `m`
  /// (its arrays are reused). `tokens`, when the table verifies, gives each request's tokens (the
  /// ones `hashes` were made from; host memory, or the backend's on a resident pool) and a hash
  /// hit counts only if some block holding that hash holds these tokens. Read-only apart from
  /// the statistics.
  void match_prefixes(block_hashes const& hashes, prefix_match& m, token_requests const* tokens = nullptr) {
    std::size_t const requests = hashes.block_offsets.empty() ? 0 : hashes.block_offsets.size() - 1;
    if (requests != 0 && hashes.block_offsets[requests] != hashes.hashes.size()) {
      throw invalid_argument("kvcache::block_table::match_prefixes: block offsets end at " +
                             std::to_string(hashes.block_offsets[requests]) + ", but there are " +
                             std::to_string(hashes.hashes.size()) + " hashes");
    }
    match_prefixes(hashes.view(), m, tokens);
  }

  /// The same for hashes in caller memory (a resident pool reads them in its backend's memory:
  /// on a GPU, where hash_blocks can leave them; the host pool needs them in host memory).
  void match_prefixes(block_hashes_view hashes, prefix_match& m, token_requests const* tokens = nullptr) {
    std::size_t const requests = hashes.requests;
    if (options_.verify_tokens && tokens == nullptr) {
      throw invalid_argument("kvcache::block_table::match_prefixes: the table verifies tokens, but none were given");
    }
    if (tokens != nullptr && tokens->count != requests) {
      throw invalid_argument("kvcache::block_table::match_prefixes: tokens for " + std::to_string(tokens->count) +
                             " requests, hashes for " + std::to_string(requests));
    }
    if (requests != 0 && hashes.block_offsets == nullptr) {
      throw invalid_argument("kvcache::block_table::match_prefixes: null block offsets");
    }
    stats_.queried_blocks += hashes.blocks();
    if (resident_) {
      detail::resident_pool::counts c;
      pool_->match(index_, hashes, options_.verify_tokens ? tokens : nullptr, m.offsets, m.blocks, c);
      stats_.hit_blocks += c.hit_blocks;
      stats_.verification_misses += c.verification_misses;
    } else {
      match_on_host(hashes, m, tokens);
    }
    stats_.queried_tokens = stats_.queried_blocks * options_.block_size;
    stats_.hit_tokens = stats_.hit_blocks * options_.block_size;
  }

  /// The same, returning new arrays.
  prefix_match match_prefixes(block_hashes const& hashes, token_requests const* tokens = nullptr) {
    prefix_match m;
    match_prefixes(hashes, m, tokens);
    return m;
  }

  /// Takes one reference on each block (a block listed twice gets two). A free block leaves the
  /// free list and keeps its hash.
  void acquire(block_id const* ids, std::size_t n) {
    if (resident_) {
      pool_->acquire("acquire", ids, n);
      return;
    }
    for (std::size_t i = 0; i < n; ++i) {
      pool_block& p = block(ids[i], "acquire");
      if (p.refs == 0) { unlink_free(ids[i]); }
      ++p.refs;
    }
  }

  /// Allocates n blocks with one reference each, taking the least recently released free blocks
  /// and evicting the hashes they held. When fewer than n blocks are free, allocates nothing,
  /// counts the refusal and returns false (the pool is full: the caller must release or wait).
  bool allocate(std::size_t n, std::vector<block_id>& out) {
    if (n > num_free()) {
      ++stats_.refused_allocations;
      return false;
    }
    if (resident_) {
      detail::resident_pool::counts c;
      pool_->allocate(index_, n, out, c);
      stats_.evictions += c.evictions;
      note_tombstones(pool_->take_tombstones());
      return true;
    }
    begin_forgetting(n);
    for (std::size_t i = 0; i < n; ++i) {
      block_id const b = free_head_;
      unlink_free(b);
      pool_block& p = blocks_[b];
      if (p.cached) {
        forget(b);
        ++stats_.evictions;
      }
      p.refs = 1;
      out.push_back(b);
    }
    apply();
    return true;
  }

  /// Records that blocks[i] holds the KV of hashes[i] (and, when the table verifies, of
  /// tokens + i * block_size). A block that held another hash forgets it; one hash may map to
  /// several blocks (counted in stats().duplicates), listed in commit order. A block listed twice
  /// in one call is an error (nothing is changed).
  void commit(block_hash const* hashes, block_id const* ids, std::size_t n, std::uint32_t const* tokens = nullptr) {
    if (options_.verify_tokens && tokens == nullptr && n != 0) {
      throw invalid_argument("kvcache::block_table::commit: the table verifies tokens, but none were given");
    }
    if (resident_) {
      detail::resident_pool::counts c;
      pool_->commit(index_, hashes, ids, n, options_.verify_tokens ? tokens : nullptr, c);
      stats_.duplicates += c.duplicates;
      note_tombstones(pool_->take_tombstones());
      return;
    }
    if (++commit_epoch_ == 0) {  // the marks wrapped: clear them
      for (pool_block& p : blocks_) { p.commit_mark = 0; }
      commit_epoch_ = 1;
    }
    for (std::size_t i = 0; i < n; ++i) {  // all checked before any change
      pool_block& p = block(ids[i], "commit");
      if (p.commit_mark == commit_epoch_) {
        throw invalid_argument("kvcache::block_table::commit: block " + std::to_string(ids[i]) + " is listed twice");
      }
      p.commit_mark = commit_epoch_;
    }
    // 1. Blocks that held another hash forget it (index heads written back in bulk).
    begin_forgetting(n);
    for (std::size_t i = 0; i < n; ++i) {
      pool_block const& p = blocks_[ids[i]];
      if (p.cached && p.hash != detail::table_key(hashes[i])) { forget(ids[i]); }
    }
    apply();
    // 2. Every block new to its hash goes into the index in one bulk insert. A hash that was
    //    present already, or that this call lists more than once, comes back already_present
    //    for all of its blocks but at most one (which one is the backend's choice); only those
    //    hashes are settled afterwards, so a call without them costs no more than its insert.
    keys_.clear();
    firsts_.clear();
    for (std::size_t i = 0; i < n; ++i) {
      block_id const b = ids[i];
      pool_block& p = blocks_[b];
      if (p.cached) { continue; }  // already holds this hash (step 1 made it forget any other)
      if (options_.verify_tokens) {
        std::memcpy(&tokens_[std::size_t{b} * options_.block_size], tokens + i * options_.block_size,
                    options_.block_size * sizeof(std::uint32_t));
      }
      p.hash = detail::table_key(hashes[i]);
      p.cached = true;
      p.prev_same = p.next_same = no_block;
      keys_.push_back(p.hash);
      firsts_.push_back(b);
    }
    if (keys_.empty()) { return; }
    outcomes_.resize(keys_.size());
    std::size_t inserted = 0;
    if (scalar(keys_.size())) {
      auto const index = index_.mutable_ref();
      for (std::size_t j = 0; j < keys_.size(); ++j) {
        outcomes_[j] = index.insert(keys_[j], firsts_[j]);
        inserted += outcomes_[j] == insert_outcome::inserted ? 1 : 0;
      }
    } else {
      inserted = index_.insert(keys_.begin(), keys_.end(), firsts_.begin(), outcomes_.data());
    }
    if (inserted != keys_.size()) { link_shared_hashes(); }
  }

  /// Commits each request's blocks after its cached prefix (m: match_prefixes of these hashes)
  /// to ids[0 .. n), request after request, as a scheduler does once their KV is written: the
  /// same as commit() over those hashes (and, when the table verifies, their tokens, from
  /// `tokens`: the requests' tokens), but a resident pool gathers them where they are (on a GPU,
  /// no copy to the host). Throws, before any change, when n is not the number of such blocks.
  void commit_misses(block_hashes_view hashes, prefix_match const& m, block_id const* ids, std::size_t n,
                     token_requests const* tokens = nullptr) {
    std::size_t const requests = hashes.requests;
    if (m.offsets.size() != requests + 1) {
      throw invalid_argument("kvcache::block_table::commit_misses: a match of " +
                             std::to_string(m.offsets.empty() ? 0 : m.offsets.size() - 1) + " requests for hashes of " +
                             std::to_string(requests));
    }
    if (options_.verify_tokens && tokens == nullptr && n != 0) {
      throw invalid_argument("kvcache::block_table::commit_misses: the table verifies tokens, but none were given");
    }
    if (tokens != nullptr && tokens->count != requests) {
      throw invalid_argument("kvcache::block_table::commit_misses: tokens for " + std::to_string(tokens->count) +
                             " requests, hashes for " + std::to_string(requests));
    }
    runs_.resize(requests);
    std::uint64_t total = 0;
    for (std::size_t r = 0; r < requests; ++r) {
      std::uint64_t const blocks = hashes.block_offsets[r + 1] - hashes.block_offsets[r];
      std::uint64_t const hits = m.offsets[r + 1] - m.offsets[r];
      if (hits > blocks) {
        throw invalid_argument("kvcache::block_table::commit_misses: request " + std::to_string(r) + " has " +
                               std::to_string(blocks) + " blocks but the match gives it " + std::to_string(hits));
      }
      runs_[r] = {hashes.block_offsets[r] + hits, total, blocks - hits};
      total += blocks - hits;
    }
    if (total != n) {
      throw invalid_argument("kvcache::block_table::commit_misses: " + std::to_string(total) +
                             " blocks follow the cached prefixes, but " + std::to_string(n) + " ids were given");
    }
    token_requests const* kept = options_.verify_tokens ? tokens : nullptr;
    if (resident_) {
      detail::resident_pool::counts c;
      pool_->commit_runs(index_, hashes, runs_, ids, n, kept, c);
      stats_.duplicates += c.duplicates;
      note_tombstones(pool_->take_tombstones());
      return;
    }
    run_hashes_.resize(n);
    run_tokens_.resize(kept != nullptr ? n * options_.block_size : 0);
    for (std::size_t r = 0; r < requests; ++r) {
      detail::miss_run const& run = runs_[r];
      std::copy(hashes.hashes + run.from, hashes.hashes + run.from + run.count, run_hashes_.begin() + static_cast<std::ptrdiff_t>(run.to));
      if (kept == nullptr) { continue; }
      std::uint32_t const* t = kept->tokens + kept->offsets[r] + (run.from - hashes.block_offsets[r]) * options_.block_size;
      std::copy(t, t + run.count * options_.block_size, run_tokens_.begin() + static_cast<std::ptrdiff_t>(run.to * options_.block_size));
    }
    commit(run_hashes_.data(), ids, n, kept != nullptr ? run_tokens_.data() : nullptr);
  }

  /// Removes the pair (hash, block). Returns false when the block does not hold that hash.
  bool remove(block_hash hash, block_id b) {
    if (resident_) {
      detail::resident_block const p = resident_block(b, "remove");
      if (p.cached == 0 || p.hash != detail::table_key(hash)) { return false; }
      pool_->remove(index_, b);
      note_tombstones(pool_->take_tombstones());
      return true;
    }
    pool_block& p = block(b, "remove");
    if (!p.cached || p.hash != detail::table_key(hash)) { return false; }
    begin_forgetting(1);
    forget(b);
    apply();
    return true;
  }

  /// Drops one reference on each block, in the order given; a block reaching zero joins the
  /// free list's tail with its hash (evictable, still a hit until evicted). Releasing a block
  /// without references is an error (nothing is changed).
  void release(block_id const* ids, std::size_t n) {
    if (resident_) {
      pool_->release(ids, n);
      return;
    }
    // Checked before any change, listing by listing: a block listed more often than it has
    // references is refused at the listing that would take its count below zero (a check of
    // each listing against the count before the call let such a release wrap the count).
    for (std::size_t i = 0; i < n; ++i) {
      pool_block& p = block(ids[i], "release");
      if (p.released == p.refs) {
        for (std::size_t k = 0; k < i; ++k) { blocks_[ids[k]].released = 0; }
        throw invalid_argument("kvcache::block_table::release: block " + std::to_string(ids[i]) + " has no references");
      }
      ++p.released;
    }
    for (std::size_t i = 0; i < n; ++i) {
      pool_block& p = blocks_[ids[i]];
      p.released = 0;
      if (--p.refs == 0) { push_free(ids[i]); }
    }
  }

 private:
  struct pool_block {
    std::uint32_t refs = 0;
    bool cached = false;
    block_hash hash{};
    block_id prev_same = no_block, next_same = no_block;  // other blocks holding `hash`
    block_id prev_free = no_block, next_free = no_block;  // the LRU free list
    std::uint32_t commit_mark = 0;                        // the last commit call that listed it
    std::uint32_t released = 0;                           // release: the call's listings so far
  };

  static block_table_options checked(block_table_options o) {
    if (o.num_blocks == 0 || o.num_blocks > (1u << 31)) {
      throw invalid_argument("kvcache::block_table: num_blocks " + std::to_string(o.num_blocks) + " is outside 1..2^31");
    }
    if (o.block_size == 0 || o.block_size > max_block_size) {
      throw invalid_argument("kvcache::block_table: block size " + std::to_string(o.block_size) + " is outside 1.." +
                             std::to_string(max_block_size));
    }
    if (o.verify_tokens && std::uint64_t{o.num_blocks} * o.block_size > (std::uint64_t{1} << 36)) {
      throw invalid_argument("kvcache::block_table: verifying " + std::to_string(o.num_blocks) + " blocks of " +
                             std::to_string(o.block_size) + " tokens needs more than 256 GiB of token copies");
    }
    return o;
  }

  pool_block& block(block_id b, char const* who) {
    if (b >= blocks_.size()) { throw detail::block_outside_pool(who, b, blocks_.size()); }
    return blocks_[b];
  }
  pool_block const& block(block_id b, char const* who) const { return const_cast<block_table*>(this)->block(b, who); }
  detail::resident_block resident_block(block_id b, char const* who) const {
    if (b >= options_.num_blocks) { throw detail::block_outside_pool(who, b, options_.num_blocks); }
    return pool_->read(b);
  }

  block_id holder_with_tokens(block_id b, std::uint32_t const* want) {
    for (; b != no_block; b = blocks_[b].next_same) {
      if (std::memcmp(&tokens_[std::size_t{b} * options_.block_size], want, options_.block_size * sizeof(std::uint32_t)) == 0) {
        return b;
      }
      ++stats_.verification_misses;
    }
    return no_block;
  }

  // ---- the host pool ----------------------------------------------------------------------------

  void match_on_host(block_hashes_view hashes, prefix_match& m, token_requests const* tokens) {
    std::size_t const requests = hashes.requests;
    find_leading_heads(hashes);
    m.offsets.assign(requests + 1, 0);
    m.blocks.clear();
    for (std::size_t r = 0; r < requests; ++r) {
      std::uint64_t const first = hashes.block_offsets[r], last = hashes.block_offsets[r + 1];
      for (std::uint64_t i = first; i < last; ++i) {
        block_id b = heads_[i];
        if (b != no_block && options_.verify_tokens) {
          std::uint32_t const* want = tokens->tokens + tokens->offsets[r] + (i - first) * options_.block_size;
          b = holder_with_tokens(b, want);
        }
        if (b == no_block) { break; }
        m.blocks.push_back(b);
        ++stats_.hit_blocks;
      }
      m.offsets[r + 1] = m.blocks.size();
    }
  }


  // After commit's insert: the hashes that came back already_present (keys_[j] for block
  // firsts_[j], in call order). Each one's blocks of this call join its list in call order: after
  // the blocks that held it before the call, or, for a hash new to the index, behind the first of
  // them, which becomes the head (the insert may have stored another one of them).
  void link_shared_hashes() {
    constexpr block_id unsettled = no_block - 1;  // block ids stay below 2^31
    changes_.reset(keys_.size());
    present_keys_.clear();
    for (std::size_t j = 0; j < keys_.size(); ++j) {
      if (outcomes_[j] == insert_outcome::already_present) {
        if (changes_.find(keys_[j]) == nullptr) {
          changes_.set(keys_[j], unsettled);
          present_keys_.push_back(keys_[j]);
        }
      } else if (outcomes_[j] != insert_outcome::inserted) {
        throw error(std::string("kvcache::block_table::commit: the hash index refused a hash (") + to_string(outcomes_[j]) +
                    "); the table is inconsistent");
      }
    }
    // A hash one of this call's blocks was inserted with starts its list afresh (no_block: the
    // next block of it in call order becomes the head); any other was held before the call, and
    // this call's blocks follow the tail of its list.
    for (std::size_t j = 0; j < keys_.size(); ++j) {
      if (outcomes_[j] == insert_outcome::inserted && changes_.find(keys_[j]) != nullptr) { changes_.set(keys_[j], no_block); }
    }
    heads_.assign(present_keys_.size(), no_block);
    index_.find(present_keys_.begin(), present_keys_.end(), heads_.data());
    for (std::size_t q = 0; q < present_keys_.size(); ++q) {
      if (*changes_.find(present_keys_[q]) != unsettled) { continue; }
      block_id tail = heads_[q];
      while (blocks_[tail].next_same != no_block) { tail = blocks_[tail].next_same; }
      changes_.set(present_keys_[q], tail);
    }
    present_keys_.clear();  // now: hashes whose head moves to the first of this call's blocks
    present_.clear();
    for (std::size_t j = 0; j < keys_.size(); ++j) {
      std::uint32_t const* last = changes_.find(keys_[j]);
      if (last == nullptr) { continue; }
      block_id const b = firsts_[j];
      if (*last == no_block) {
        if (outcomes_[j] != insert_outcome::inserted) {
          present_keys_.push_back(keys_[j]);
          present_.push_back(b);
        }
      } else {
        blocks_[*last].next_same = b;
        blocks_[b].prev_same = *last;
        ++stats_.duplicates;
      }
      changes_.set(keys_[j], b);
    }
    if (!present_keys_.empty()) { index_.insert_or_assign(present_keys_.begin(), present_keys_.end(), present_.begin()); }
  }

  // heads_[i] = the first block holding hashes[i] (no_block: none), for every block up to and
  // including each request's first miss; blocks after it may be left no_block unprobed. On the
  // host, requests are probed in rounds of chunks that double (32, 64, ... blocks) and a request
  // leaves after a chunk with a miss, so a long prompt with a short cached prefix costs about
  // twice its hits in probes, not its length. On a GPU one bulk lookup of every block is cheaper
  // than a launch per round.
  void find_leading_heads(block_hashes_view hashes) {
    std::size_t const requests = hashes.requests;
    std::size_t const n = hashes.blocks();
    heads_.assign(n, no_block);
    cursor_.assign(hashes.block_offsets, hashes.block_offsets + requests);
    active_.clear();
    // A small batch walks each request's first chunk one hash at a time and stops at its first
    // miss: a bulk call would run on this thread anyway, and would probe the whole chunk (the
    // misses after the first one walk the furthest). One 2,048-token request at B = 64: 0.3 us
    // instead of 1.2.
    std::uint64_t const first_chunk = 32;
    std::uint64_t first_round = 0;
    for (std::size_t r = 0; r < requests; ++r) {
      first_round += std::min(first_chunk, hashes.block_offsets[r + 1] - hashes.block_offsets[r]);
    }
    bool const walk_first = first_round < host_walk_max_keys;
    block_table_ref const walker = ref();
    for (std::size_t r = 0; r < requests; ++r) {
      std::uint64_t const first = hashes.block_offsets[r], last = hashes.block_offsets[r + 1];
      if (last == first) { continue; }
      if (walk_first) {
        auto const len = static_cast<std::uint32_t>(std::min(last - first, first_chunk));
        // heads_ holds no_block already, so the first miss (if any) stays recorded as one.
        std::uint32_t const hits = walker.match_prefix(hashes.hashes + first, len, heads_.data() + first);
        cursor_[r] = first + len;
        if (hits < len || cursor_[r] == last) { continue; }  // settled: a miss, or every block hit
      }
      active_.push_back(r);
    }
    for (std::uint64_t chunk = walk_first ? 2 * first_chunk : first_chunk; !active_.empty(); chunk *= 2) {
      keys_.clear();
      for (std::size_t const r : active_) {
        std::uint64_t const last = std::min(hashes.block_offsets[r + 1], cursor_[r] + chunk);
        for (std::uint64_t i = cursor_[r]; i < last; ++i) { keys_.push_back(detail::table_key(hashes.hashes[i])); }
      }
      probed_.assign(keys_.size(), no_block);
      index_.find(keys_.begin(), keys_.end(), probed_.data());
      std::size_t k = 0, still = 0;
      for (std::size_t const r : active_) {
        std::uint64_t const last = std::min(hashes.block_offsets[r + 1], cursor_[r] + chunk);
        bool missed = false;
        for (std::uint64_t i = cursor_[r]; i < last; ++i, ++k) {
          heads_[i] = probed_[k];
          missed = missed || probed_[k] == no_block;
        }
        cursor_[r] = last;
        if (!missed && last < hashes.block_offsets[r + 1]) { active_[still++] = r; }
      }
      active_.resize(still);
    }
  }

  void begin_forgetting(std::size_t n) {
    changes_.reset(n);
    gone_.clear();
  }

  // Drops block b's hash: out of the list of blocks sharing it; when b was the list's head, the
  // next block (if any) becomes the head, recorded in `changes_`. The hash of a block that held
  // it alone (nearly every eviction) goes straight to `gone_`: no block can take it up again
  // before apply(), which erases `gone_` after writing the recorded heads back (a hash whose head
  // moved to a block forgotten later in the same call is recorded, then erased).
  void forget(block_id b) {
    pool_block& p = blocks_[b];
    if (p.prev_same == no_block && p.next_same == no_block) {
      gone_.push_back(p.hash);
      p.cached = false;
      return;
    }
    if (p.prev_same != no_block) {
      blocks_[p.prev_same].next_same = p.next_same;
      if (p.next_same != no_block) { blocks_[p.next_same].prev_same = p.prev_same; }
    } else {
      if (p.next_same != no_block) { blocks_[p.next_same].prev_same = no_block; }
      changes_.set(p.hash, p.next_same);
    }
    p.cached = false;
    p.prev_same = p.next_same = no_block;
  }

  // Writes the recorded heads back: one insert_or_assign for the moved heads, then erases for the
  // keys that went.
  void apply() {
    keys_.clear();
    heads_.clear();
    for (detail::head_changes::entry const& e : changes_.entries()) {
      if (e.head == no_block) {
        gone_.push_back(e.key);
      } else {
        keys_.push_back(e.key);
        heads_.push_back(e.head);
      }
    }
    if (!keys_.empty()) {
      if (scalar(keys_.size())) {
        auto const index = index_.mutable_ref();
        for (std::size_t j = 0; j < keys_.size(); ++j) { require_stored(index.insert_or_assign(keys_[j], heads_[j])); }
      } else {
        index_.insert_or_assign(keys_.begin(), keys_.end(), heads_.begin());
      }
    }
    if (gone_.empty()) { return; }
    if (!scalar(gone_.size())) {
      index_.erase(gone_.begin(), gone_.end());
      return;
    }
    auto const index = index_.mutable_ref();
    std::size_t left = 0;
    for (block_hash const& k : gone_) {
      if (index.erase_reporting(k) == erase_outcome::tombstone) { ++left; }
    }
    note_tombstones(left);
  }

  // Tombstones that the table's own erases through the index's ref left: the index's bulk erase
  // does not see them, so the table keeps its rule. When the tombstones left (an estimate:
  // inserts reuse some) reach a quarter of the capacity, count them, rehash if they are that
  // many, and count again only a sixteenth of the capacity later.
  void note_tombstones(std::size_t left) {
    tombstones_left_ += left;
    if (tombstones_left_ >= index_.capacity() / 4 && tombstones_left_ - tombstones_counted_ >= index_.capacity() / 16) {
      tombstones_left_ = tombstones_counted_ = index_.tombstones();
      if (tombstones_left_ >= index_.capacity() / 4) {
        index_.rehash();
        tombstones_left_ = tombstones_counted_ = 0;
      }
    }
  }

  [[nodiscard]] bool scalar(std::size_t keys) const noexcept {
    return index_.where() == backend::host && keys < host_scalar_max_keys;
  }
  static void require_stored(insert_outcome o) {
    if (o != insert_outcome::inserted && o != insert_outcome::already_present) {
      throw error(std::string("kvcache::block_table: the hash index refused a hash (") + to_string(o) +
                  "); the table is inconsistent");
    }
  }

  void push_free(block_id b) {
    pool_block& p = blocks_[b];
    p.prev_free = free_tail_;
    p.next_free = no_block;
    if (free_tail_ != no_block) {
      blocks_[free_tail_].next_free = b;
    } else {
      free_head_ = b;
    }
    free_tail_ = b;
    ++free_count_;
  }
  void unlink_free(block_id b) {
    pool_block& p = blocks_[b];
    if (p.prev_free != no_block) {
      blocks_[p.prev_free].next_free = p.next_free;
    } else {
      free_head_ = p.next_free;
    }
    if (p.next_free != no_block) {
      blocks_[p.next_free].prev_free = p.prev_free;
    } else {
      free_tail_ = p.prev_free;
    }
    p.prev_free = p.next_free = no_block;
    --free_count_;
  }

  block_table_options options_;
  single_value_map<block_hash, block_id, detail::index_probing> index_;
  bool resident_;
  std::unique_ptr<detail::resident_pool> pool_;  // the pool, when resident
  std::vector<pool_block> blocks_;
  std::vector<std::uint32_t> tokens_;  // block_size per block, when verifying
  block_id free_head_ = no_block, free_tail_ = no_block;
  std::uint32_t free_count_ = 0;
  block_table_stats stats_;
  // Scratch reused by every call (a scheduler step makes no allocation once they have grown).
  detail::head_changes changes_;
  std::vector<block_hash> keys_, gone_, present_keys_;
  std::vector<block_id> heads_, probed_, firsts_, present_;
  std::vector<insert_outcome> outcomes_;
  std::uint32_t commit_epoch_ = 0;
  // Tombstones the table's own erases left in the index (an upper estimate), and the exact count
  // when it was last taken.
  std::size_t tombstones_left_ = 0, tombstones_counted_ = 0;
  std::vector<std::uint64_t> cursor_;  // per request: its next unprobed block (host lookups)
  std::vector<std::size_t> active_;    // requests still matching (host lookups)
  std::vector<detail::miss_run> runs_;  // commit_misses: each request's blocks after its prefix
  std::vector<block_hash> run_hashes_;  // ... gathered (host pool)
  std::vector<std::uint32_t> run_tokens_;
};

}  // namespace warp::kvcache
