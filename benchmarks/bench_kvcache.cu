// KV-cache block hashing benchmarks (Google Benchmark JSON):
//   kv/hash/<backend>/<keyed128|compat64>/B:<block>   tokens/s of warp::kvcache::hash_blocks over
//       a batch of requests (WARP_BENCH_KV_REQUESTS, default 256 on CUDA and 64 on the host, of
//       WARP_BENCH_KV_TOKENS tokens each, default 8192), tokens already in the backend's memory;
//       on the host also the ratio to a straightforward single-thread chain in the same run
//       (libxxhash over parent hash + the block's tokens copied into one buffer, per block).
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <benchmark/benchmark.h>

#include <warp/kvcache/block_hash.cuh>

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

void register_all() {
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
