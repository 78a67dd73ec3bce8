// warp/kvcache/detail/resident_passes.cuh: the per-item passes of the resident block pool
// (resident_pool.cuh), each a functor that the executor runs over a call's blocks on the pool's
// backend: a CUDA kernel, or a loop on the host. Fields that several items may touch at once go
// through atomics; a pass that must see the whole call in order (a hash shared by several blocks)
// is one item that walks the call's list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <warp/core/config.cuh>
#include <warp/core/error.cuh>
#include <warp/core/outcome.cuh>
#include <warp/detail/atomic.cuh>
#include <warp/kvcache/block_hash.cuh>
#include <warp/kvcache/block_table_ref.cuh>
#include <warp/single_value_map_ref.cuh>

namespace warp::kvcache::detail {

inline constexpr std::uint64_t no_position = ~std::uint64_t{0};

/// The error of a call (`who`) that names block b of a pool of n blocks, b >= n.
inline invalid_argument block_outside_pool(char const* who, block_id b, std::uint64_t n) {
  return invalid_argument(std::string("kvcache::block_table::") + who + ": block " + std::to_string(b) +
                          " is outside the pool of " + std::to_string(n));
}

/// One block of the pool, in the backend's memory.
struct resident_block {
  block_hash hash{};                   // the hash it holds, while `cached`
  std::uint64_t free_pos = no_position;  // its entry in the free queue, while free
  std::uint32_t refs = 0;
  std::uint32_t cached = 0;
  block_id prev_same = no_block, next_same = no_block;  // other blocks holding `hash`, in commit order
  std::uint32_t commit_mark = 0;      // the last commit call that listed it
  std::uint32_t entry_mark = 0;       // the commit call whose index insert listed it, as entry `entry`
  std::uint32_t entry = 0;
  std::uint32_t tail_mark = 0;        // as a hash's first block: the commit call that last linked a
  block_id call_tail = no_block;      //   block behind it, and that block
  std::uint32_t release_count = 0;    // release: its listings in the call (0 between calls)
  std::uint32_t release_last = 0;     // release: 1 + the index of its last listing (0 between calls)
};

using index_lookup = single_value_map_ref<block_hash, block_id, index_probing>;
using index_mutation = single_value_map_mutable_ref<block_hash, block_id, index_probing>;

struct init_blocks_fn {
  resident_block* blocks;
  block_id* queue;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t b) const {
    blocks[b] = resident_block{};
    blocks[b].free_pos = b;
    queue[b] = static_cast<block_id>(b);
    return 0;
  }
};

/// Forgets every call's marks (when the call counter wraps).
struct clear_marks_fn {
  resident_block* blocks;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t b) const {
    blocks[b].commit_mark = blocks[b].entry_mark = blocks[b].tail_mark = 0;
    return 0;
  }
};

/// 1 for each id outside the pool.
struct out_of_range_fn {
  block_id const* ids;
  std::uint32_t blocks;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t i) const {
    return ids[i] >= blocks ? 1 : 0;
  }
};

/// What the passes over a call's listed blocks share: the pool and the call's ids.
struct listed_blocks {
  resident_block* blocks;
  block_id const* ids;
  [[nodiscard]] WARP_HD resident_block& at(std::size_t i) const { return blocks[ids[i]]; }
};

/// A reference per listing; 1 for each block that was free (it leaves the queue: its entry goes stale).
struct acquire_fn : listed_blocks {
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t i) const {
    resident_block& p = at(i);
    if (warp::detail::atomic_add(&p.refs, 1u) != 0) { return 0; }
    p.free_pos = no_position;
    return 1;
  }
};

// ---- release: count each block's listings, check them against its references, then drop them
// at its last listing (where the host pool's sequential drops reach zero).

struct release_count_fn : listed_blocks {
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t i) const {
    resident_block& p = at(i);
    warp::detail::atomic_add(&p.release_count, 1u);
    warp::detail::atomic_max(&p.release_last, static_cast<std::uint32_t>(i + 1));
    return 0;
  }
};

/// 1 for each block listed more often than it has references.
struct release_check_fn : listed_blocks {
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t i) const {
    resident_block const& p = at(i);
    if (p.release_last != i + 1) { return 0; }
    return p.release_count > p.refs ? 1 : 0;
  }
};

/// Forgets the counts of a refused call.
struct release_undo_fn : listed_blocks {
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t i) const {
    resident_block& p = at(i);
    warp::detail::atomic_store(&p.release_count, 0u);
    warp::detail::atomic_store(&p.release_last, 0u);
    return 0;
  }
};

/// At each block's last listing: drops its listings' references; flags[i] = 1 where it reached zero.
struct release_apply_fn : listed_blocks {
  std::uint64_t* flags;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t i) const {
    resident_block& p = at(i);
    std::uint64_t zero = 0;
    if (warp::detail::atomic_load(&p.release_last) == i + 1) {
      p.refs -= p.release_count;
      zero = p.refs == 0 ? 1 : 0;
      p.release_count = 0;
      warp::detail::atomic_store(&p.release_last, 0u);
    }
    flags[i] = zero;
    return zero;
  }
};

/// The blocks that reached zero join the queue's tail in call order (pos: the scan of the flags).
struct release_push_fn {
  resident_block* blocks;
  block_id const* ids;
  std::uint64_t const* flags;
  std::uint64_t const* pos;
  block_id* queue;
  std::uint64_t tail;
  std::uint64_t capacity;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t i) const {
    if (flags[i] == 0) { return 0; }
    std::uint64_t const at = tail + pos[i];
    queue[at % capacity] = ids[i];
    blocks[ids[i]].free_pos = at;
    return 0;
  }
};

// ---- the free queue

/// flags[j] = 1 when queue entry start + j is its block's current one (the block is free).
struct queue_valid_fn {
  resident_block const* blocks;
  block_id const* queue;
  std::uint64_t start;
  std::uint64_t capacity;
  std::uint64_t* flags;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t j) const {
    std::uint64_t const at = start + j;
    flags[j] = blocks[queue[at % capacity]].free_pos == at ? 1 : 0;
    return flags[j];
  }
};

/// The valid entries, in order, to the front of a fresh queue.
struct queue_compact_fn {
  resident_block* blocks;
  block_id const* queue;
  std::uint64_t start;
  std::uint64_t capacity;
  std::uint64_t const* flags;
  std::uint64_t const* pos;
  block_id* fresh;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t j) const {
    if (flags[j] == 0) { return 0; }
    block_id const b = queue[(start + j) % capacity];
    fresh[pos[j]] = b;
    blocks[b].free_pos = pos[j];
    return 0;
  }
};

/// Allocation: the first `need` valid entries of the window become out[0 .. need) with one
/// reference each; *last = the window index of the need-th. Returns how many held a hash.
struct queue_take_fn {
  resident_block* blocks;
  block_id const* queue;
  std::uint64_t start;
  std::uint64_t capacity;
  std::uint64_t const* flags;
  std::uint64_t const* pos;
  std::uint64_t need;
  block_id* out;
  std::uint64_t* last;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t j) const {
    if (flags[j] == 0 || pos[j] >= need) { return 0; }
    block_id const b = queue[(start + j) % capacity];
    resident_block& p = blocks[b];
    out[pos[j]] = b;
    p.free_pos = no_position;
    p.refs = 1;
    if (pos[j] == need - 1) { *last = j; }
    return p.cached;
  }
};

/// list[pos[i]] = i for every flagged i (the flagged indices, in order).
struct compact_indices_fn {
  std::uint64_t const* flags;
  std::uint64_t const* pos;
  std::uint64_t* list;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t i) const {
    if (flags[i] != 0) { list[pos[i]] = i; }
    return 0;
  }
};

// ---- blocks dropping their hash (evicted, recommitted with another hash, or removed)

/// Block ids[i] drops its hash when it holds one (and, with new_hashes, another than new_hashes[i]).
/// A hash it held alone goes to gone[i] for a bulk erase (else gone[i] is the empty sentinel,
/// which erase skips); a hash it shares is flagged for forget_shared_fn. Returns the sole
/// holders plus 2^32 per shared one.
struct forget_classify_fn {
  resident_block* blocks;
  block_id const* ids;
  block_hash const* new_hashes;  // null: every held hash goes
  block_hash* gone;
  std::uint64_t* shared;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t i) const {
    resident_block& p = blocks[ids[i]];
    gone[i] = empty_hash();
    shared[i] = 0;
    if (p.cached == 0 || (new_hashes != nullptr && p.hash == table_key(new_hashes[i]))) { return 0; }
    if (p.prev_same == no_block && p.next_same == no_block) {
      gone[i] = p.hash;
      p.cached = 0;
      return 1;
    }
    shared[i] = 1;
    return std::uint64_t{1} << 32;
  }
};

/// One item, in call order: the blocks of ids[list[0 .. count)] drop a hash other blocks hold
/// too. The next block becomes the head when the head goes; the last one to go erases the hash.
/// Returns the tombstones its erases left.
struct forget_shared_fn {
  resident_block* blocks;
  block_id const* ids;
  std::uint64_t const* list;
  std::uint64_t count;
  index_mutation index;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t) const {
    std::uint64_t tombstones = 0;
    for (std::uint64_t k = 0; k < count; ++k) {
      resident_block& p = blocks[ids[list[k]]];
      if (p.prev_same != no_block) {
        blocks[p.prev_same].next_same = p.next_same;
        if (p.next_same != no_block) { blocks[p.next_same].prev_same = p.prev_same; }
      } else if (p.next_same != no_block) {
        blocks[p.next_same].prev_same = no_block;
        (void)index.insert_or_assign(p.hash, p.next_same);
      } else if (index.erase_reporting(p.hash) == erase_outcome::tombstone) {
        ++tombstones;
      }
      p.cached = 0;
      p.prev_same = p.next_same = no_block;
    }
    return tombstones;
  }
};

// ---- commit

/// 1 for each block this call lists a second time (its mark already holds the call's epoch).
struct commit_mark_fn : listed_blocks {
  std::uint32_t epoch;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t i) const {
    return warp::detail::atomic_max(&at(i).commit_mark, epoch) == epoch ? 1 : 0;
  }
};

/// A block without a hash now holds hashes[i] (and its tokens, when the pool keeps copies);
/// flags[i] = 1 for those, which go to the index. A block still cached holds this hash already.
struct commit_new_fn {
  resident_block* blocks;
  block_id const* ids;
  block_hash const* hashes;
  std::uint32_t const* tokens;  // the call's, block_size per listing; null: no copies
  std::uint32_t* copies;
  std::uint32_t block_size;
  std::uint64_t* flags;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t i) const {
    block_id const b = ids[i];
    resident_block& p = blocks[b];
    flags[i] = 0;
    if (p.cached != 0) { return 0; }
    p.hash = table_key(hashes[i]);
    p.cached = 1;
    p.prev_same = p.next_same = no_block;
    if (tokens != nullptr) {
      for (std::uint32_t t = 0; t < block_size; ++t) {
        copies[std::size_t{b} * block_size + t] = tokens[i * block_size + t];
      }
    }
    flags[i] = 1;
    return 1;
  }
};

/// The index inserts of the flagged blocks, at pos[i] (null pos: every block is flagged, at i).
struct commit_entries_fn {
  resident_block* blocks;
  block_id const* ids;
  block_hash const* hashes;
  std::uint64_t const* flags;
  std::uint64_t const* pos;
  std::uint32_t epoch;
  block_hash* keys;
  block_id* values;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t i) const {
    if (flags[i] == 0) { return 0; }
    std::uint64_t const j = pos != nullptr ? pos[i] : i;
    keys[j] = table_key(hashes[i]);
    values[j] = ids[i];
    blocks[ids[i]].entry_mark = epoch;
    blocks[ids[i]].entry = static_cast<std::uint32_t>(j);
    return 0;
  }
};

/// 1 for each insert the index refused (neither inserted nor already present).
struct refused_fn {
  insert_outcome const* outcomes;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t j) const {
    return outcomes[j] != insert_outcome::inserted && outcomes[j] != insert_outcome::already_present ? 1 : 0;
  }
};

/// Flags (in a zeroed array) the inserts to link by hand: each one that came back already
/// present, and the one of this call that the index took for the same hash, if any.
struct involve_fn {
  resident_block const* blocks;
  block_hash const* keys;
  insert_outcome const* outcomes;
  index_lookup index;
  std::uint32_t epoch;
  std::uint64_t* involved;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t j) const {
    if (outcomes[j] != insert_outcome::already_present) { return 0; }
    warp::detail::atomic_store(&involved[j], std::uint64_t{1});
    block_id const head = index.find(keys[j]);
    if (head == no_block) { return 0; }
    resident_block const& q = blocks[head];
    if (q.entry_mark == epoch && outcomes[q.entry] == insert_outcome::inserted) {
      warp::detail::atomic_store(&involved[q.entry], std::uint64_t{1});
    }
    return 0;
  }
};

/// One item, in call order over the flagged inserts (list[0 .. count)): each block joins its
/// hash's list behind the blocks that held it before the call and this call's earlier ones; for
/// a hash new to the index, the first of this call's blocks in call order becomes the head
/// (the insert may have taken a later one). Returns the blocks linked behind another.
struct link_shared_fn {
  resident_block* blocks;
  block_hash const* keys;
  block_id const* values;
  insert_outcome const* outcomes;
  std::uint64_t const* list;
  std::uint64_t count;
  index_mutation index;
  std::uint32_t epoch;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t) const {
    std::uint64_t linked = 0;
    for (std::uint64_t k = 0; k < count; ++k) {
      std::uint64_t const j = list[k];
      block_id const b = values[j];
      block_id const head = index.find(keys[j]);
      if (head == b || head == no_block) { continue; }  // the first of its hash, already the head
      resident_block& q = blocks[head];
      if (q.entry_mark == epoch && q.entry > j && outcomes[q.entry] == insert_outcome::inserted) {
        // The index took a later block of this call: this one comes first.
        (void)index.insert_or_assign(keys[j], b);
        blocks[b].tail_mark = epoch;
        blocks[b].call_tail = b;
        continue;
      }
      block_id tail = head;
      if (q.tail_mark == epoch) {
        tail = q.call_tail;
      } else {
        while (blocks[tail].next_same != no_block) { tail = blocks[tail].next_same; }
      }
      blocks[tail].next_same = b;
      blocks[b].prev_same = tail;
      q.tail_mark = epoch;
      q.call_tail = b;
      ++linked;
    }
    return linked;
  }
};

// ---- the blocks after each request's cached prefix

/// One request's run of blocks to commit: hashes[from ..) to the call's [to, to + count).
struct miss_run {
  std::uint64_t from, to, count;
};

/// Gathers each request's run (its hashes, and its tokens when `tokens` is given).
struct gather_runs_fn {
  miss_run const* runs;
  block_hash const* hashes;
  std::uint32_t const* tokens;        // the requests' tokens, from token_offsets[0]; null: none
  std::int64_t const* token_offsets;
  std::uint64_t const* block_offsets;
  std::uint32_t block_size;
  block_hash* out;
  std::uint32_t* out_tokens;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t r) const {
    miss_run const run = runs[r];
    for (std::uint64_t k = 0; k < run.count; ++k) {
      out[run.to + k] = hashes[run.from + k];
      if (tokens == nullptr) { continue; }
      std::uint32_t const* t = tokens + (token_offsets[r] - token_offsets[0]) +
                               static_cast<std::int64_t>((run.from + k - block_offsets[r]) * block_size);
      for (std::uint32_t j = 0; j < block_size; ++j) { out_tokens[(run.to + k) * block_size + j] = t[j]; }
    }
    return 0;
  }
};

// ---- prefix matches

/// The index's key of each hash.
struct table_keys_fn {
  block_hash const* hashes;
  block_hash* keys;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t i) const {
    keys[i] = table_key(hashes[i]);
    return 0;
  }
};

/// Per request: its leading blocks found in the index (heads, rewritten with the holder whose
/// tokens match when the pool verifies), up to its first miss; counts[r] = how many. Returns the
/// verification misses (holders whose tokens differed).
struct settle_fn {
  block_id* heads;
  std::uint64_t const* block_offsets;
  resident_block const* blocks;
  std::uint32_t const* copies;        // null: no verification
  std::uint32_t const* tokens;        // the requests' tokens, from token_offsets[0]
  std::int64_t const* token_offsets;
  std::uint32_t block_size;
  std::uint64_t* counts;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t r) const {
    std::uint64_t const first = block_offsets[r], last = block_offsets[r + 1];
    std::uint64_t misses = 0, hits = 0;
    for (std::uint64_t i = first; i < last; ++i) {
      block_id b = heads[i];
      if (b != no_block && copies != nullptr) {
        std::uint32_t const* want =
            tokens + (token_offsets[r] - token_offsets[0]) + static_cast<std::int64_t>((i - first) * block_size);
        for (; b != no_block; b = blocks[b].next_same) {
          std::uint32_t const* have = copies + std::size_t{b} * block_size;
          bool same = true;
          for (std::uint32_t t = 0; t < block_size && same; ++t) { same = have[t] == want[t]; }
          if (same) { break; }
          ++misses;
        }
      }
      if (b == no_block) { break; }
      heads[i] = b;
      ++hits;
    }
    counts[r] = hits;
    return misses;
  }
};

/// out[pos[r] ..) = request r's hits.
struct gather_hits_fn {
  block_id const* heads;
  std::uint64_t const* block_offsets;
  std::uint64_t const* pos;
  block_id* out;
  template <class Tile>
  WARP_HD std::uint64_t operator()(Tile const&, std::size_t r) const {
    std::uint64_t const n = pos[r + 1] - pos[r];
    for (std::uint64_t k = 0; k < n; ++k) { out[pos[r] + k] = heads[block_offsets[r] + k]; }
    return 0;
  }
};

}  // namespace warp::kvcache::detail
