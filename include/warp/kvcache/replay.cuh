// warp/kvcache/replay.cuh: replays a request trace against a block_table of C blocks, one request
// at a time as a scheduler would see them if each finished before the next arrived: look up the
// request's cached prefix, take those blocks, allocate the rest (evicting the least recently
// released), commit their hashes, release everything (the last block first, so that a request's
// tail is evicted before its head). Per request it records how many leading blocks were hits.
//
//   std::vector<std::vector<warp::kvcache::block_hash>> requests = ...;  // each request's chain
//   auto r = warp::kvcache::replay(requests, /* capacity */ 4096, /* block size */ 512, where);
//   r.stats.hit_rate()
//
// A request longer than the whole pool cannot be cached: its hits still count, its other blocks
// are not allocated (stats().refused_allocations counts it).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <warp/kvcache/block_table.cuh>

namespace warp::kvcache {

struct replay_result {
  std::vector<std::uint32_t> hit_blocks;  // per request: its leading cached blocks
  block_table_stats stats;
};

/// Called after each request with (requests done, requests in all); for progress output.
using replay_progress = void (*)(std::size_t, std::size_t, void*);

/// Replays `requests` (each the chain of its full blocks' hashes) against a table of `capacity`
/// blocks; capacity 0 means unbounded (as many blocks as the trace has, so nothing is evicted).
inline replay_result replay(std::vector<std::vector<block_hash>> const& requests, std::uint32_t capacity,
                            std::uint32_t block_size, backend where = default_backend(),
                            replay_progress progress = nullptr, void* progress_context = nullptr) {
  if (capacity == 0) {
    std::uint64_t total = 0;
    for (auto const& r : requests) { total += r.size(); }
    if (total > (std::uint64_t{1} << 31)) { throw invalid_argument("kvcache::replay: the trace has more than 2^31 blocks"); }
    capacity = static_cast<std::uint32_t>(std::max<std::uint64_t>(total, 1));
  }
  block_table table{{capacity, block_size, false}, where};
  replay_result out;
  out.hit_blocks.reserve(requests.size());
  block_hashes one;
  std::vector<block_id> fresh;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto const& chain = requests[i];
    one.block_offsets = {0, chain.size()};
    one.hashes = chain;
    prefix_match const m = table.match_prefixes(one);
    std::size_t const hits = m.blocks.size();
    out.hit_blocks.push_back(static_cast<std::uint32_t>(hits));
    table.acquire(m.blocks.data(), hits);
    fresh.clear();
    std::vector<block_id> held = m.blocks;
    if (table.allocate(chain.size() - hits, fresh)) {
      table.commit(chain.data() + hits, fresh.data(), fresh.size());
      held.insert(held.end(), fresh.begin(), fresh.end());
    }
    std::reverse(held.begin(), held.end());
    table.release(held.data(), held.size());
    if (progress != nullptr) { progress(i + 1, requests.size(), progress_context); }
  }
  out.stats = table.stats();
  return out;
}

}  // namespace warp::kvcache
