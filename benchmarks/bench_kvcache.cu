// KV-cache block hashing benchmarks (Google Benchmark JSON):
//   kv/hash/<backend>/<keyed128|compat64>/B:<block>   tokens/s of warp::kvcache::hash_blocks over
//       a batch of requests (WARP_BENCH_KV_REQUESTS, default 256 on CUDA and 64 on the host, of
//       WARP_BENCH_KV_TOKENS tokens each, default 8192), tokens already in the backend's memory;
//       on the host also the ratio to a straightforward single-thread chain in the same run
//       (libxxhash over parent hash + the block's tokens copied into one buffer, per block).
//   kv/step/<backend>/B:<block>/requests:<n>/tokens:<t>   one scheduler step end to end (hash the batch's prompts,
//       look up their cached prefixes, acquire, allocate and commit the rest, release the previous
//       step's blocks; the misses committed with commit_misses) on warp::kvcache::block_table: p50
//       and p99 over the steps, and the same for a
//       single-thread C++ baseline with vLLM's block-pool semantics (std::unordered_map from hash to
//       blocks, an intrusive LRU list) in the same run, as ratios: `baseline` computes the same
//       keys per block (block_hasher::next), `one_call_baseline` one libxxhash XXH3-128 call per
//       block over the parent hash and the tokens (no tags, salts or separate token digest). Prompts of
//       WARP_BENCH_KV_STEP_TOKENS tokens (default 2048) for 1 to 4096 requests and of 131,072
//       tokens for 1 and 16, half of each one of 8 shared prefixes. On the CUDA backend the table
//       (its resident pool) and the hashing are on the GPU, the prompts' tokens already in device
//       memory, the hashes left there, and each step includes the read-back of its matches and
//       allocations (host arrays); also 256 requests x 8k tokens.
//   kv/step/host_resident/...   the same on the host with block_table_options::resident_pool
//       (the CUDA backend's bulk passes as host loops), for B 16 and 512 and 1, 256, 4096 requests.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <benchmark/benchmark.h>

#include <warp/kvcache/block_hash.cuh>
#include <warp/kvcache/block_table.cuh>

#include "bench_common.hpp"

namespace {

namespace kv = warp::kvcache;

std::size_t env_size(char const* name, std::size_t fallback) {
  char const* v = std::getenv(name);
  return v ? static_cast<std::size_t>(std::strtoull(v, nullptr, 10)) : fallback;
}

// The direct way: per block, parent hash and tokens into one buffer, one keyed XXH3-128 call.
double single_thread_chain_seconds(kv::token_batch const& batch, std::uint32_t block, unsigned char const* secret,
                                   bool keyed) {
  auto const start = std::chrono::steady_clock::now();
  std::vector<unsigned char> buffer(16 + block * 4);
  std::uint64_t sink = 0;
  for (std::size_t r = 0; r < batch.size(); ++r) {
    XXH128_hash_t h{0, 0};
    std::int64_t const n = batch.offsets[r + 1] - batch.offsets[r];
    for (std::int64_t b = 0; (b + 1) * block <= n; ++b) {
      std::memcpy(buffer.data(), &h, 16);
      std::memcpy(buffer.data() + 16, batch.tokens.data() + batch.offsets[r] + b * block, block * 4);
      if (keyed) {
        h = XXH3_128bits_withSecret(buffer.data(), buffer.size(), secret, 192);
      } else {
        h.low64 = XXH3_64bits_withSeed(buffer.data(), buffer.size(), 7);
      }
      sink += h.low64;
    }
  }
  benchmark::DoNotOptimize(sink);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void bench_hash(benchmark::State& state, warp::backend where, bool keyed, std::uint32_t block) {
  if (warp_bench::skip_without_device(state, where)) { return; }
  std::size_t const requests = env_size("WARP_BENCH_KV_REQUESTS", where == warp::backend::cuda ? 256 : 64);
  std::size_t const tokens = env_size("WARP_BENCH_KV_TOKENS", 8192);
  std::mt19937_64 rng{42};
  kv::token_batch batch;
  for (std::size_t r = 0; r < requests; ++r) {
    std::vector<std::uint32_t> t(tokens);
    for (auto& x : t) { x = static_cast<std::uint32_t>(rng() % 152000); }
    batch.push_back(t);
  }
  unsigned char key[32];
  for (auto& c : key) { c = static_cast<unsigned char>(rng()); }
  kv::block_hasher const hasher = keyed ? kv::block_hasher::keyed(key, sizeof(key)) : kv::block_hasher::compat64(7);
  cuda::stream_ref const stream = warp::default_stream();
  warp::detail::buffer<std::uint32_t> resident{where, batch.tokens.size(), stream};
  warp::detail::copy_bytes(where, resident.data(), batch.tokens.data(), batch.tokens.size() * 4, stream);
  warp::detail::synchronize(where, stream);
  kv::token_requests const view{resident.data(), batch.offsets.data(), batch.size()};
  double best = 1e30;
  for (auto _ : state) {
    double const s = warp_bench::time_seconds(where, stream, [&] {
      auto const h = kv::hash_blocks(hasher, view, {}, block, where, stream);
      benchmark::DoNotOptimize(h.hashes.data());
    });
    state.SetIterationTime(s);
    best = std::min(best, s);
  }
  double const n = static_cast<double>(batch.tokens.size());
  state.counters["Gtokens_per_s"] = n * 1e-9 / best;
  state.counters["tokens"] = n;
  if (where == warp::backend::host) {
    warp::hash::xxh3_secret const secret = warp::hash::xxh3_secret_from_key(key, sizeof(key));
    double const base = single_thread_chain_seconds(batch, block, secret.bytes, keyed);
    state.counters["single_thread_Gtokens_per_s"] = n * 1e-9 / base;
    state.counters["ratio_vs_single_thread"] = base / best;
  }
}

// ---- scheduler steps ----

struct key_hash {
  std::size_t operator()(XXH128_hash_t const& h) const noexcept { return static_cast<std::size_t>(h.low64 ^ (h.high64 * 31)); }
};
struct key_equal {
  bool operator()(XXH128_hash_t const& a, XXH128_hash_t const& b) const noexcept {
    return a.low64 == b.low64 && a.high64 == b.high64;
  }
};

// The baseline's block hashes, two ways. same_keys: the keys warp's table gets (the keyed,
// domain-separated chain of block_hash.cuh), computed per block as a single-thread scheduler
// would; so the two pools are compared on the same keys. one_call: one XXH3-128 call per block
// over the parent hash and the tokens (no tags, salts or second digest), the cheapest chain.
struct same_keys {
  kv::block_hasher hasher;
  XXH128_hash_t start() const {
    kv::block_hash const r = hasher.root({}, 0);
    return {r.low, r.high};
  }
  XXH128_hash_t operator()(XXH128_hash_t parent, std::uint32_t const* tokens, std::uint32_t block) {
    kv::block_hash const h = hasher.next({parent.low64, parent.high64}, tokens, block);
    return {h.low, h.high};
  }
};
struct one_call {
  unsigned char const* secret;
  std::vector<unsigned char> buffer;
  XXH128_hash_t start() const { return {0, 0}; }
  XXH128_hash_t operator()(XXH128_hash_t parent, std::uint32_t const* tokens, std::uint32_t block) {
    buffer.resize(16 + std::size_t{block} * 4);
    std::memcpy(buffer.data(), &parent, 16);
    std::memcpy(buffer.data() + 16, tokens, std::size_t{block} * 4);
    return XXH3_128bits_withSecret(buffer.data(), buffer.size(), secret, 192);
  }
};

// vLLM's block pool in plain single-thread C++: hash -> blocks, reference counts, LRU free list.
class baseline_pool {
 public:
  explicit baseline_pool(std::uint32_t n) : blocks_(n) {
    for (std::uint32_t b = 0; b < n; ++b) { push_free(static_cast<int>(b)); }
  }
  // One request: hash its blocks, take its cached prefix, allocate and cache the rest; the blocks
  // it holds are appended to `held`. Returns its hit blocks.
  template <class Hash>
  std::size_t admit(std::uint32_t const* tokens, std::size_t n, std::uint32_t block, Hash& next, std::vector<int>& held) {
    XXH128_hash_t h = next.start();
    bool matching = true;
    std::size_t hits = 0;
    for (std::size_t b = 0; (b + 1) * block <= n; ++b) {
      h = next(h, tokens + b * block, block);
      if (matching) {
        auto it = cached_.find(h);
        if (it != cached_.end() && !it->second.empty()) {
          int const id = it->second.front();
          if (blocks_[id].refs++ == 0) { unlink_free(id); }
          held.push_back(id);
          ++hits;
          continue;
        }
        matching = false;
      }
      if (free_head_ < 0) { return hits; }  // pool full: the rest is not cached
      int const id = free_head_;
      unlink_free(id);
      if (blocks_[id].cached) {
        auto& v = cached_[blocks_[id].key];
        v.erase(std::find(v.begin(), v.end(), id));
        if (v.empty()) { cached_.erase(blocks_[id].key); }
      }
      blocks_[id].key = h;
      blocks_[id].cached = true;
      blocks_[id].refs = 1;
      cached_[h].push_back(id);
      held.push_back(id);
    }
    return hits;
  }
  void release(std::vector<int> const& held) {
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
      if (--blocks_[*it].refs == 0) { push_free(*it); }
    }
  }

 private:
  struct blk {
    std::uint32_t refs = 0;
    bool cached = false;
    XXH128_hash_t key{0, 0};
    int prev = -1, next = -1;
  };
  void push_free(int b) {
    blocks_[b].prev = free_tail_;
    blocks_[b].next = -1;
    if (free_tail_ >= 0) {
      blocks_[free_tail_].next = b;
    } else {
      free_head_ = b;
    }
    free_tail_ = b;
  }
  void unlink_free(int b) {
    blk& x = blocks_[b];
    (x.prev >= 0 ? blocks_[x.prev].next : free_head_) = x.next;
    (x.next >= 0 ? blocks_[x.next].prev : free_tail_) = x.prev;
    x.prev = x.next = -1;
  }
  std::vector<blk> blocks_;
  std::unordered_map<XXH128_hash_t, std::vector<int>, key_hash, key_equal> cached_;
  int free_head_ = -1, free_tail_ = -1;
};

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

void bench_step(benchmark::State& state, warp::backend where, bool resident_pool, std::uint32_t block, std::size_t requests,
                std::size_t tokens) {
  if (warp_bench::skip_without_device(state, where)) { return; }
  constexpr int steps = 30;
  std::mt19937_64 rng{9};
  std::vector<std::vector<std::uint32_t>> shared(8);
  for (auto& p : shared) {
    p.resize(tokens / 2);
    for (auto& x : p) { x = static_cast<std::uint32_t>(rng() % 152000); }
  }
  // Every step's batch, made up front.
  std::vector<kv::token_batch> batches(steps);
  for (auto& b : batches) {
    for (std::size_t r = 0; r < requests; ++r) {
      std::vector<std::uint32_t> t = shared[rng() % shared.size()];
      while (t.size() < tokens) { t.push_back(static_cast<std::uint32_t>(rng() % 152000)); }
      b.push_back(t);
    }
  }
  // On a GPU the prompts' tokens are already in device memory (as a serving engine has them).
  cuda::stream_ref const stream = warp::default_stream();
  std::vector<warp::detail::buffer<std::uint32_t>> resident;
  resident.reserve(batches.size());
  for (auto const& b : batches) {
    resident.emplace_back(where, b.tokens.size(), stream);
    warp::detail::copy_bytes(where, resident.back().data(), b.tokens.data(), b.tokens.size() * 4, stream);
  }
  warp::detail::synchronize(where, stream);
  std::uint64_t const per_step = requests * (tokens / block);
  auto const capacity = static_cast<std::uint32_t>(std::min<std::uint64_t>(3 * per_step + 64, 1u << 30));
  unsigned char key[32];
  for (auto& c : key) { c = static_cast<unsigned char>(rng()); }
  auto const hasher = kv::block_hasher::keyed(key, sizeof(key));
  warp::hash::xxh3_secret const secret = warp::hash::xxh3_secret_from_key(key, sizeof(key));
  std::vector<double> warp_s, base_s, fast_s;
  for (auto _ : state) {
    kv::block_table table{{capacity, block, false, resident_pool}, where};
    baseline_pool base{capacity}, fast{capacity};
    same_keys base_hash{hasher};
    one_call fast_hash{secret.bytes, {}};
    // What a scheduler keeps from step to step (the table's calls reuse their arrays).
    std::vector<kv::block_id> previous, held, fresh;
    kv::block_hashes h;
    std::vector<std::uint64_t> device_offsets;
    warp::detail::buffer<kv::block_hash> device_hashes{where, where == warp::backend::cuda ? per_step : 0, stream};
    kv::prefix_match m;
    std::vector<int> base_previous, fast_previous, base_held, fast_held;
    warp_s.clear();
    base_s.clear();
    fast_s.clear();
    // Each run starts with the batch's tokens in cache, as the one before it left them: the
    // prompts were just tokenized, and no run pays for being first to read them (warp ran first
    // and warmed them for the baselines until 2026-12-02 23:00).
    std::uint64_t warm_sink = 0;
    auto warm = [&](std::uint32_t const* tokens, std::size_t n) {
      if (where != warp::backend::host) { return; }
      for (std::size_t i = 0; i < n; ++i) { warm_sink += tokens[i]; }
    };
    for (int s = 0; s < steps; ++s) {
      auto const& batch = batches[static_cast<std::size_t>(s)];
      warm(resident[static_cast<std::size_t>(s)].data(), batch.tokens.size());  // the copy warp reads
      auto const t0 = std::chrono::steady_clock::now();
      kv::token_requests const view{resident[static_cast<std::size_t>(s)].data(), batch.offsets.data(), batch.size()};
      kv::block_hashes_view hashes;
      if (where == warp::backend::cuda) {  // the hashes stay in device memory for the table's calls
        kv::hash_blocks(hasher, view, {}, block, device_offsets, device_hashes.data(), device_hashes.size(), where);
        hashes = {device_hashes.data(), device_offsets.data(), batch.size()};
      } else {
        kv::hash_blocks(hasher, view, {}, block, h, where);
        hashes = h.view();
      }
      table.match_prefixes(hashes, m);
      table.acquire(m.blocks.data(), m.blocks.size());
      held.assign(m.blocks.begin(), m.blocks.end());
      fresh.clear();
      std::size_t const missing = hashes.blocks() - m.blocks.size();
      if (table.allocate(missing, fresh)) {
        table.commit_misses(hashes, m, fresh.data(), fresh.size());
        held.insert(held.end(), fresh.begin(), fresh.end());
      }
      std::reverse(previous.begin(), previous.end());
      table.release(previous.data(), previous.size());
      previous.swap(held);
      auto const t1 = std::chrono::steady_clock::now();
      // The baselines run one after the other on the same batch, each with its own pool.
      auto run_baseline = [&](baseline_pool& pool, auto& hash, std::vector<int>& held_now, std::vector<int>& held_before) {
        held_now.clear();
        for (std::size_t r = 0; r < batch.size(); ++r) {
          (void)pool.admit(batch.tokens.data() + batch.offsets[r],
                           static_cast<std::size_t>(batch.offsets[r + 1] - batch.offsets[r]), block, hash, held_now);
        }
        pool.release(held_before);
        held_before.swap(held_now);
      };
      warm(batch.tokens.data(), batch.tokens.size());
      auto const b0 = std::chrono::steady_clock::now();
      run_baseline(base, base_hash, base_held, base_previous);
      auto const b1 = std::chrono::steady_clock::now();
      warm(batch.tokens.data(), batch.tokens.size());
      auto const f0 = std::chrono::steady_clock::now();
      run_baseline(fast, fast_hash, fast_held, fast_previous);
      auto const f1 = std::chrono::steady_clock::now();
      if (s >= 5) {  // the first steps fill the cache
        warp_s.push_back(std::chrono::duration<double>(t1 - t0).count());
        base_s.push_back(std::chrono::duration<double>(b1 - b0).count());
        fast_s.push_back(std::chrono::duration<double>(f1 - f0).count());
      }
    }
    benchmark::DoNotOptimize(warm_sink);
    state.SetIterationTime(std::accumulate(warp_s.begin(), warp_s.end(), 0.0));
  }
  state.counters["p50_us"] = percentile(warp_s, 0.5) * 1e6;
  state.counters["p99_us"] = percentile(warp_s, 0.99) * 1e6;
  state.counters["baseline_p50_us"] = percentile(base_s, 0.5) * 1e6;
  state.counters["baseline_p99_us"] = percentile(base_s, 0.99) * 1e6;
  state.counters["ratio_p50_vs_baseline"] = percentile(base_s, 0.5) / percentile(warp_s, 0.5);
  state.counters["ratio_p99_vs_baseline"] = percentile(base_s, 0.99) / percentile(warp_s, 0.99);
  state.counters["one_call_baseline_p50_us"] = percentile(fast_s, 0.5) * 1e6;
  state.counters["one_call_baseline_p99_us"] = percentile(fast_s, 0.99) * 1e6;
  state.counters["ratio_p50_vs_one_call_baseline"] = percentile(fast_s, 0.5) / percentile(warp_s, 0.5);
  state.counters["ratio_p99_vs_one_call_baseline"] = percentile(fast_s, 0.99) / percentile(warp_s, 0.99);
  state.counters["tokens_per_step"] = static_cast<double>(requests * tokens);
}

void register_all() {
  std::size_t const tokens = env_size("WARP_BENCH_KV_STEP_TOKENS", 2048);
  for (auto where : {warp::backend::host, warp::backend::cuda}) {
    char const* const backend_name = where == warp::backend::cuda ? "cuda" : "host";
    for (std::uint32_t block : {16u, 64u, 256u, 512u}) {
      // Prompts of `tokens` for every batch size, 128k-token prompts for small batches, and (on a
      // GPU) the issue's target shape, 256 requests of 8k tokens.
      std::vector<std::pair<std::size_t, std::size_t>> shapes{{1, tokens}, {16, tokens}, {256, tokens}, {4096, tokens},
                                                              {1, 131072}, {16, 131072}};
      if (where == warp::backend::cuda) { shapes.emplace_back(256, 8192); }
      for (auto const& shape : shapes) {
        std::size_t const requests = shape.first, length = shape.second;  // (a lambda cannot capture bindings in C++17)
        std::string const name = std::string("kv/step/") + backend_name + "/B:" + std::to_string(block) +
                                 "/requests:" + std::to_string(requests) + "/tokens:" + std::to_string(length);
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) { bench_step(s, where, false, block, requests, length); })
            ->UseManualTime()
            ->Iterations(1)
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  // The resident pool's bulk passes (the CUDA backend's code) run on the host, against the same
  // baselines: what the passes cost without a GPU.
  for (std::uint32_t block : {16u, 512u}) {
    for (std::size_t requests : {std::size_t{1}, std::size_t{256}, std::size_t{4096}}) {
      std::string const name = "kv/step/host_resident/B:" + std::to_string(block) + "/requests:" + std::to_string(requests) +
                               "/tokens:" + std::to_string(tokens);
      benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) {
        bench_step(s, warp::backend::host, true, block, requests, tokens);
      })->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
    }
  }
  for (auto where : {warp::backend::host, warp::backend::cuda}) {
    for (bool keyed : {true, false}) {
      for (std::uint32_t block : {16u, 64u, 256u, 512u}) {
        std::string const name = std::string("kv/hash/") + (where == warp::backend::cuda ? "cuda" : "host") + "/" +
                                 (keyed ? "keyed128" : "compat64") + "/B:" + std::to_string(block);
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) { bench_hash(s, where, keyed, block); })
            ->UseManualTime()
            ->Iterations(5)
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
