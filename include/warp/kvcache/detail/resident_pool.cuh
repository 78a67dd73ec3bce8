// warp/kvcache/detail/resident_pool.cuh: block_table's pool kept in its backend's memory (the
// GPU's on the CUDA backend), every mutating call run there as a few bulk passes
// (resident_passes.cuh) with no per-block trip to the host. The semantics are the host pool's
// (block_table.cuh), and the tests check them against it on random call sequences, on the host
// backend, where the same passes run as host loops.
//
// The LRU free list is a queue with lazy deletion: a release appends the blocks that reach zero
// references to the tail, in call order, and records in each block its entry's position; a block
// taken off the list (acquired while free, or allocated) forgets its position, so its entry goes
// stale. The valid entries are then exactly the free blocks, in the order of their last release,
// the host list's order; allocate takes the first n valid entries from the head. The queue holds
// two entries per block and is compacted when a release would overflow it.
//
// Hash lists (several blocks holding one hash) change in parallel only where a hash has a single
// block, the common case (an eviction erases its hash, a commit inserts a new one); the rest is
// settled by one item walking the call in order, exactly as the host pool does.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>
#include <warp/detail/scan.cuh>
#include <warp/kvcache/block_hash.cuh>
#include <warp/kvcache/detail/resident_passes.cuh>
#include <warp/single_value_map.cuh>

namespace warp::kvcache::detail {

class resident_pool {
 public:
  using index_type = single_value_map<block_hash, block_id, index_probing>;

  /// What one call changed that the table counts.
  struct counts {
    std::uint64_t hit_blocks = 0, evictions = 0, duplicates = 0, verification_misses = 0;
  };

  resident_pool(std::uint32_t num_blocks, std::uint32_t block_size, bool verify, backend where)
      : where_{where},
        num_blocks_{num_blocks},
        block_size_{block_size},
        queue_capacity_{2 * std::uint64_t{num_blocks}},
        blocks_{where, num_blocks, stream()},
        queue_{where, queue_capacity_, stream()} {
    if (verify) { copies_ = warp::detail::buffer<std::uint32_t>{where, std::size_t{num_blocks} * block_size, stream()}; }
    warp::detail::for_each_item<1>(ex(), num_blocks, init_blocks_fn{blocks_.data(), queue_.data()});
    tail_ = num_blocks;
    free_count_ = num_blocks;
    warp::detail::synchronize(where_, stream());
  }

  [[nodiscard]] std::uint32_t num_free() const noexcept { return free_count_; }

  /// Block b's state, read back from the backend.
  [[nodiscard]] resident_block read(block_id b) const {
    resident_block p;
    warp::detail::copy_bytes(where_, &p, blocks_.data() + b, sizeof(p), stream());
    warp::detail::synchronize(where_, stream());
    return p;
  }

  /// Tombstones that this pool's own index erases left since the last call (the table watches them).
  std::size_t take_tombstones() noexcept { return std::exchange(tombstones_, 0); }

  void acquire(char const* who, block_id const* ids, std::size_t n) {
    if (n == 0) { return; }
    auto const dev = stage(ids, n, "ids");
    check_range(who, dev.get(), ids, n);
    free_count_ -= static_cast<std::uint32_t>(warp::detail::count_items<1>(ex(), n, acquire_fn{{blocks_.data(), dev.get()}}));
  }

  void release(block_id const* ids, std::size_t n) {
    if (n == 0) { return; }
    require_small_call("release", n);
    auto const dev = stage(ids, n, "ids");
    check_range("release", dev.get(), ids, n);
    warp::detail::for_each_item<1>(ex(), n, release_count_fn{{blocks_.data(), dev.get()}});
    if (warp::detail::count_items<1>(ex(), n, release_check_fn{{blocks_.data(), dev.get()}}) != 0) {
      warp::detail::for_each_item<1>(ex(), n, release_undo_fn{{blocks_.data(), dev.get()}});
      throw invalid_argument("kvcache::block_table::release: block " + std::to_string(first_overdrawn(ids, n)) +
                             " has no references");
    }
    std::uint64_t* flags = grow(flags_, n + 1);
    std::uint64_t* pos = grow(pos_, n + 1);
    std::uint64_t const zeros = warp::detail::count_items<1>(ex(), n, release_apply_fn{{blocks_.data(), dev.get()}, flags});
    if (zeros == 0) { return; }
    warp::detail::exclusive_scan(where_, flags, pos, n, stream());
    if (tail_ - head_ + zeros > queue_capacity_) { compact(); }
    warp::detail::for_each_item<1>(ex(), n, release_push_fn{blocks_.data(), dev.get(), flags, pos, queue_.data(), tail_,
                                                           queue_capacity_});
    warp::detail::synchronize(where_, stream());
    tail_ += zeros;
    free_count_ += static_cast<std::uint32_t>(zeros);
  }

  /// Takes n free blocks, least recently released first, into `out` (host), evicting their
  /// hashes. The caller checked that n blocks are free.
  void allocate(index_type& index, std::size_t n, std::vector<block_id>& out, counts& c) {
    if (n == 0) { return; }
    block_id* taken = grow(ids_, n);
    std::uint64_t* last = grow(last_, 1);
    std::uint64_t done = 0;
    std::uint64_t start = head_;
    while (done < n) {
      std::uint64_t const need = n - done;
      std::uint64_t const window = std::min<std::uint64_t>(tail_ - start, std::max<std::uint64_t>(2 * need, 4096));
      if (window == 0) {  // the free count promised blocks the queue does not hold: never loop on it
        throw error("kvcache::block_table::allocate: the free queue holds fewer free blocks than counted; the table is inconsistent");
      }
      std::uint64_t* flags = grow(flags_, window + 1);
      std::uint64_t* pos = grow(pos_, window + 1);
      std::uint64_t const valid = warp::detail::count_items<1>(
          ex(), window, queue_valid_fn{blocks_.data(), queue_.data(), start, queue_capacity_, flags});
      if (valid == 0) {
        start += window;
        continue;
      }
      warp::detail::exclusive_scan(where_, flags, pos, window, stream());
      c.evictions += warp::detail::count_items<1>(ex(), window, queue_take_fn{blocks_.data(), queue_.data(), start, queue_capacity_,
                                                                               flags, pos, need, taken + done, last});
      if (valid >= need) {
        std::uint64_t j = 0;
        warp::detail::copy_bytes(where_, &j, last, sizeof(j), stream());
        warp::detail::synchronize(where_, stream());
        start += j + 1;
        done = n;
      } else {
        start += window;
        done += valid;
      }
    }
    head_ = start;
    free_count_ -= static_cast<std::uint32_t>(n);
    forget(index, taken, n, nullptr);
    std::size_t const before = out.size();
    out.resize(before + n);
    warp::detail::copy_bytes(where_, out.data() + before, taken, n * sizeof(block_id), stream());
    warp::detail::synchronize(where_, stream());
  }

  /// The host pool's commit (see block_table::commit), over `ids` and `hashes` (host or backend memory).
  void commit(index_type& index, block_hash const* hashes, block_id const* ids, std::size_t n, std::uint32_t const* tokens,
              counts& c) {
    if (n == 0) { return; }
    require_small_call("commit", n);
    auto const dev = stage(ids, n, "ids");
    auto const keys_in = warp::detail::input_view<block_hash const*>{where_, hashes, n, "kvcache::block_table::commit hashes",
                                                                       stream()};
    std::size_t const token_count = tokens != nullptr ? n * block_size_ : 0;
    auto const tokens_in = warp::detail::input_view<std::uint32_t const*>{where_, tokens, token_count,
                                                                            "kvcache::block_table::commit tokens", stream()};
    check_range("commit", dev.get(), ids, n);
    if (++epoch_ == 0) {  // the marks wrapped: start them afresh
      warp::detail::for_each_item<1>(ex(), num_blocks_, clear_marks_fn{blocks_.data()});
      epoch_ = 1;
    }
    if (warp::detail::count_items<1>(ex(), n, commit_mark_fn{{blocks_.data(), dev.get()}, epoch_}) != 0) {
      throw invalid_argument("kvcache::block_table::commit: block " + std::to_string(first_repeated(ids, n)) +
                             " is listed twice");
    }
    // 1. Blocks that held another hash forget it.
    forget(index, dev.get(), n, keys_in.get());
    // 2. The blocks new to their hash go into the index in one bulk insert.
    std::uint64_t* flags = grow(flags_, n + 1);
    std::uint64_t const fresh = warp::detail::count_items<1>(
        ex(), n, commit_new_fn{blocks_.data(), dev.get(), keys_in.get(), tokens != nullptr ? tokens_in.get() : nullptr,
                               copies_.data(), block_size_, flags});
    if (fresh == 0) { return; }
    std::uint64_t const* pos = nullptr;
    if (fresh != n) {
      pos = grow(pos_, n + 1);
      warp::detail::exclusive_scan(where_, flags, pos_.data(), n, stream());
    }
    block_hash* keys = grow(keys_, fresh);
    block_id* values = grow(values_, fresh);
    insert_outcome* outcomes = grow(outcomes_, fresh);
    warp::detail::for_each_item<1>(
        ex(), n, commit_entries_fn{blocks_.data(), dev.get(), keys_in.get(), flags, pos, epoch_, keys, values});
    std::size_t const inserted = index.insert(keys, keys + fresh, values, outcomes);
    if (inserted == fresh) { return; }
    // 3. Hashes that came back already present (held before, or listed twice): linked in call order.
    if (warp::detail::count_items<1>(ex(), fresh, refused_fn{outcomes}) != 0) {
      throw error("kvcache::block_table::commit: the hash index refused a hash; the table is inconsistent");
    }
    std::uint64_t* involved = grow(flags_, fresh + 1);
    warp::detail::fill_zero(where_, involved, (fresh + 1) * sizeof(std::uint64_t), stream());
    warp::detail::for_each_item<1>(ex(), fresh, involve_fn{blocks_.data(), keys, outcomes, index.ref(), epoch_, involved});
    std::uint64_t* list = listed(involved, fresh);
    c.duplicates += warp::detail::count_items<1>(
        ex(), 1, link_shared_fn{blocks_.data(), keys, values, outcomes, list, list_count_, index.mutable_ref(), epoch_});
  }

  /// Each request's run of blocks after its cached prefix, gathered where the hashes are (the
  /// runs on the host), then committed to ids[0 .. n).
  void commit_runs(index_type& index, block_hashes_view hashes, std::vector<miss_run> const& runs, block_id const* ids,
                   std::size_t n, token_requests const* tokens, counts& c) {
    if (n == 0) { return; }
    std::size_t const requests = hashes.requests;
    auto const in = warp::detail::input_view<block_hash const*>{where_, hashes.hashes, hashes.blocks(),
                                                                  "kvcache::block_table::commit_misses hashes", stream()};
    auto const run_view = warp::detail::input_view<miss_run const*>{where_, runs.data(), requests,
                                                                      "kvcache::block_table::commit_misses runs", stream()};
    auto const boff = warp::detail::input_view<std::uint64_t const*>{where_, hashes.block_offsets, requests + 1,
                                                                       "kvcache::block_table::commit_misses offsets", stream()};
    staged_tokens const tok{where_, tokens, requests};
    block_hash* gathered = grow(gathered_, n);
    std::uint32_t* gathered_tokens = tokens != nullptr ? grow(gathered_tokens_, n * block_size_) : nullptr;
    warp::detail::for_each_item<1>(ex(), requests,
                                   gather_runs_fn{run_view.get(), in.get(), tok.tokens(), tok.offsets(), boff.get(), block_size_,
                                                  gathered, gathered_tokens});
    commit(index, gathered, ids, n, gathered_tokens, c);
  }

  /// Block b drops its hash (the caller checked that it holds one).
  void remove(index_type& index, block_id b) {
    block_id* one = grow(ids_, 1);
    warp::detail::copy_bytes(where_, one, &b, sizeof(b), stream());
    forget(index, one, 1, nullptr);
  }

  /// Per request, its leading cached blocks (see block_table::match_prefixes): the index heads
  /// of every block in one bulk lookup, then one item per request.
  void match(index_type const& index, block_hashes_view hashes, token_requests const* tokens,
             std::vector<std::uint64_t>& offsets, std::vector<block_id>& blocks, counts& c) {
    std::size_t const requests = hashes.requests;
    std::size_t const n = hashes.blocks();
    offsets.assign(requests + 1, 0);
    blocks.clear();
    if (n == 0) { return; }
    auto const in = warp::detail::input_view<block_hash const*>{where_, hashes.hashes, n,
                                                                  "kvcache::block_table::match_prefixes hashes", stream()};
    block_hash* keys = grow(keys_, n);
    warp::detail::for_each_item<1>(ex(), n, table_keys_fn{in.get(), keys});
    block_id* heads = grow(values_, n);
    index.find(keys, keys + n, heads);
    auto const boff = warp::detail::input_view<std::uint64_t const*>{where_, hashes.block_offsets, requests + 1,
                                                                       "kvcache::block_table::match_prefixes offsets", stream()};
    std::uint32_t const* copies = tokens != nullptr ? copies_.data() : nullptr;
    staged_tokens const tok{where_, tokens, requests};
    std::uint64_t* hit_counts = grow(flags_, requests + 1);
    std::uint64_t* pos = grow(pos_, requests + 1);
    c.verification_misses += warp::detail::count_items<1>(
        ex(), requests,
        settle_fn{heads, boff.get(), blocks_.data(), copies, tok.tokens(), tok.offsets(), block_size_, hit_counts});
    warp::detail::exclusive_scan(where_, hit_counts, pos, requests, stream());
    warp::detail::copy_bytes(where_, offsets.data(), pos, (requests + 1) * sizeof(std::uint64_t), stream());
    warp::detail::synchronize(where_, stream());
    std::uint64_t const hits = offsets[requests];
    c.hit_blocks += hits;
    if (hits == 0) { return; }
    block_id* out = grow(ids_, hits);
    warp::detail::for_each_item<1>(ex(), requests, gather_hits_fn{heads, boff.get(), pos, out});
    blocks.resize(hits);
    warp::detail::copy_bytes(where_, blocks.data(), out, hits * sizeof(block_id), stream());
    warp::detail::synchronize(where_, stream());
  }

 private:
  // A batch's tokens (from its first request's) and token offsets as the backend reads them;
  // null pointers when no tokens are given.
  class staged_tokens {
   public:
    staged_tokens(backend where, token_requests const* t, std::size_t requests)
        : given_{t != nullptr},
          tokens_{where, given_ ? t->tokens + t->offsets[0] : nullptr,
                  given_ ? static_cast<std::size_t>(t->offsets[requests] - t->offsets[0]) : 0, "kvcache::block_table tokens",
                  stream()},
          offsets_{where, given_ ? t->offsets : nullptr, given_ ? requests + 1 : 0, "kvcache::block_table token offsets",
                   stream()} {}
    [[nodiscard]] std::uint32_t const* tokens() const noexcept { return given_ ? tokens_.get() : nullptr; }
    [[nodiscard]] std::int64_t const* offsets() const noexcept { return given_ ? offsets_.get() : nullptr; }

   private:
    bool given_;
    warp::detail::input_view<std::uint32_t const*> tokens_;
    warp::detail::input_view<std::int64_t const*> offsets_;
  };

  static cuda::stream_ref stream() noexcept { return default_stream(); }
  [[nodiscard]] warp::detail::executor ex() const noexcept { return {where_, stream(), nullptr}; }

  template <class T>
  T* grow(warp::detail::buffer<T>& b, std::size_t n) {
    if (b.size() < n) { b = warp::detail::buffer<T>{where_, std::max(n, 2 * b.size()), stream()}; }
    return b.data();
  }

  warp::detail::input_view<block_id const*> stage(block_id const* ids, std::size_t n, char const* what) const {
    return warp::detail::input_view<block_id const*>{where_, ids, n, {"kvcache::block_table: ", what}, stream()};
  }

  static void require_small_call(char const* who, std::size_t n) {
    if (n >= (std::size_t{1} << 32) - 1) {
      throw invalid_argument(std::string("kvcache::block_table::") + who + ": " + std::to_string(n) +
                             " blocks in one call; at most 2^32 - 2");
    }
  }

  // The ids as the host sees them (for error messages: the failure paths only).
  std::vector<block_id> host_ids(block_id const* ids, std::size_t n) const {
    std::vector<block_id> h(n);
    warp::detail::copy_bytes(where_, h.data(), ids, n * sizeof(block_id), stream());
    warp::detail::synchronize(where_, stream());
    return h;
  }

  void check_range(char const* who, block_id const* dev, block_id const* ids, std::size_t n) {
    if (warp::detail::count_items<1>(ex(), n, out_of_range_fn{dev, num_blocks_}) == 0) { return; }
    for (block_id const b : host_ids(ids, n)) {
      if (b >= num_blocks_) { throw block_outside_pool(who, b, num_blocks_); }
    }
  }

  // The first block that the host pool's release, in order, would find without references.
  block_id first_overdrawn(block_id const* ids, std::size_t n) {
    std::vector<block_id> const h = host_ids(ids, n);
    std::vector<std::uint32_t> drawn(num_blocks_, 0);
    for (block_id const b : h) {
      if (++drawn[b] > read(b).refs) { return b; }
    }
    return h.front();
  }

  block_id first_repeated(block_id const* ids, std::size_t n) const {
    std::vector<block_id> const h = host_ids(ids, n);
    std::vector<bool> seen(num_blocks_, false);
    for (block_id const b : h) {
      if (seen[b]) { return b; }
      seen[b] = true;
    }
    return h.front();
  }

  // The flagged indices of [0, n) in order, into list_; their number into list_count_.
  std::uint64_t* listed(std::uint64_t* flags, std::size_t n) {
    std::uint64_t* pos = grow(pos_, n + 1);
    warp::detail::exclusive_scan(where_, flags, pos, n, stream());
    warp::detail::copy_bytes(where_, &list_count_, pos + n, sizeof(list_count_), stream());
    warp::detail::synchronize(where_, stream());
    std::uint64_t* list = grow(list_, list_count_ == 0 ? 1 : list_count_);
    warp::detail::for_each_item<1>(ex(), n, compact_indices_fn{flags, pos, list});
    return list;
  }

  // Blocks ids[0 .. n) (backend memory) drop the hash they hold (with new_hashes: when it is not
  // new_hashes[i]). Sole holders' hashes are erased in one bulk call; shared ones walk in order.
  void forget(index_type& index, block_id const* ids, std::size_t n, block_hash const* new_hashes) {
    block_hash* gone = grow(keys_, n);
    std::uint64_t* shared = grow(shared_, n + 1);
    std::uint64_t const classified =
        warp::detail::count_items<1>(ex(), n, forget_classify_fn{blocks_.data(), ids, new_hashes, gone, shared});
    if ((classified & 0xffffffffull) != 0) { index.erase(gone, gone + n); }
    if ((classified >> 32) == 0) { return; }
    std::uint64_t* list = listed(shared, n);
    tombstones_ += warp::detail::count_items<1>(
        ex(), 1, forget_shared_fn{blocks_.data(), ids, list, list_count_, index.mutable_ref()});
  }

  // Live entries to the front of a fresh queue.
  void compact() {
    std::uint64_t const n = tail_ - head_;
    std::uint64_t* flags = grow(flags_, n + 1);
    std::uint64_t* pos = grow(pos_, n + 1);
    std::uint64_t const valid =
        warp::detail::count_items<1>(ex(), n, queue_valid_fn{blocks_.data(), queue_.data(), head_, queue_capacity_, flags});
    warp::detail::exclusive_scan(where_, flags, pos, n, stream());
    warp::detail::buffer<block_id> fresh{where_, queue_capacity_, stream()};
    warp::detail::for_each_item<1>(
        ex(), n, queue_compact_fn{blocks_.data(), queue_.data(), head_, queue_capacity_, flags, pos, fresh.data()});
    warp::detail::synchronize(where_, stream());
    queue_ = std::move(fresh);
    head_ = 0;
    tail_ = valid;
  }

  backend where_;
  std::uint32_t num_blocks_;
  std::uint32_t block_size_;
  std::uint64_t queue_capacity_;
  warp::detail::buffer<resident_block> blocks_;
  warp::detail::buffer<block_id> queue_;
  warp::detail::buffer<std::uint32_t> copies_;
  std::uint64_t head_ = 0, tail_ = 0;  // the queue's live range (positions; entry p at p % capacity)
  std::uint32_t free_count_ = 0;
  std::uint32_t epoch_ = 0;
  std::size_t tombstones_ = 0;
  // Scratch in the backend's memory, grown to the largest call.
  warp::detail::buffer<std::uint64_t> flags_, pos_, shared_, list_, last_;
  warp::detail::buffer<block_id> ids_, values_;
  warp::detail::buffer<block_hash> keys_, gathered_;
  warp::detail::buffer<std::uint32_t> gathered_tokens_;
  warp::detail::buffer<insert_outcome> outcomes_;
  std::uint64_t list_count_ = 0;
};

}  // namespace warp::kvcache::detail
