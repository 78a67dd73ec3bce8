// LSH benchmarks (Google Benchmark JSON):
//   lsh/signatures/<backend>/<mode>/<width>/chars:<n>/k:<k>   GB/s of text, and on CUDA the ratio
//       to the device copy bandwidth measured in this run (text bytes/s over copied bytes/s)
//   lsh/dedup/<backend>/docs:<n>   signatures -> bands -> pairs -> components end to end: seconds,
//       GB/s, recall of the planted near-duplicates, peak memory; on the host also the speed-up over
//       a straightforward single-thread C++ reference (std::unordered_map banding) run in the same
//       process on the same documents.
// Sizes: WARP_BENCH_LSH_LOG2_DOCS (signatures; default 17 on CUDA, 131,072 documents, 11 on the host) and
// WARP_BENCH_LSH_DEDUP_DOCS (end to end; default 1000000 on CUDA, 20000 on the host; give 10000000
// for the 10^7 point). Progress goes to stderr.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <benchmark/benchmark.h>

#include <warp/lsh/lsh.cuh>

#include "bench_common.hpp"
#include "lsh_corpus.hpp"

namespace {

using warp::lsh::permutation;

/// Counts the bytes a run holds at its peak (wraps the backend's default resource).
class peak_memory final : public warp::memory_resource {
 public:
  explicit peak_memory(warp::backend b) : inner_{warp::default_memory_resource(b)} {}
  void* allocate(std::size_t bytes, cuda::stream_ref s) override {
    void* p = inner_.allocate(bytes, s);
    std::size_t const now = current_ += bytes;
    std::size_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {}
    return p;
  }
  void deallocate(void* p, std::size_t bytes, cuda::stream_ref s) noexcept override {
    current_ -= bytes;
    inner_.deallocate(p, bytes, s);
  }
  [[nodiscard]] warp::backend where() const noexcept override { return inner_.where(); }
  [[nodiscard]] std::size_t peak() const noexcept { return peak_; }

 private:
  warp::memory_resource& inner_;
  std::atomic<std::size_t> current_{0}, peak_{0};
};

std::size_t env_size(char const* name, std::size_t fallback) {
  char const* v = std::getenv(name);
  return v != nullptr ? static_cast<std::size_t>(std::strtoull(v, nullptr, 10)) : fallback;
}

warp_bench::lsh_corpus const& corpus(std::size_t n, std::size_t min_bytes, std::size_t max_bytes) {
  static std::map<std::tuple<std::size_t, std::size_t, std::size_t>, warp_bench::lsh_corpus> cache;
  auto [it, fresh] = cache.try_emplace({n, min_bytes, max_bytes});
  if (fresh) {
    std::fprintf(stderr, "generating %zu documents of %zu-%zu bytes...\n", n, min_bytes, max_bytes);
    it->second = warp_bench::make_lsh_corpus(n, min_bytes, max_bytes, 0.1, 0.1, n);
  }
  return it->second;
}

/// The documents' bytes and offsets in the backend's memory (device copies on CUDA).
struct resident_documents {
  warp::detail::buffer<char> bytes;
  warp::detail::buffer<std::int64_t> offsets;
  warp::lsh::documents view;
};
resident_documents resident(warp::lsh::document_batch const& docs, warp::backend where, cuda::stream_ref stream) {
  resident_documents r{warp::detail::buffer<char>{where, std::max<std::size_t>(1, docs.bytes.size()), stream},
                       warp::detail::buffer<std::int64_t>{where, docs.offsets.size(), stream},
                       {}};
  warp::detail::copy_bytes(where, r.bytes.data(), docs.bytes.data(), docs.bytes.size(), stream);
  warp::detail::copy_bytes(where, r.offsets.data(), docs.offsets.data(), docs.offsets.size() * sizeof(std::int64_t), stream);
  warp::detail::synchronize(where, stream);
  r.view = {r.bytes.data(), r.offsets.data(), docs.size()};
  return r;
}

template <class T>
void signatures_benchmark(benchmark::State& state, warp::backend where, permutation mode, std::uint32_t n_gram,
                          std::uint32_t k) {
  if (warp_bench::skip_without_device(state, where)) { return; }
  std::size_t const n = std::size_t{1} << warp_bench::env_log2("WARP_BENCH_LSH_LOG2_DOCS", where == warp::backend::cuda ? 17 : 11);
  auto const& c = corpus(n, 200, 20000);
  auto const stream = warp::default_stream();
  auto docs = resident(c.docs, where, stream);
  warp::lsh::minhash_options o;
  o.mode = mode;
  o.shingles = {warp::lsh::shingle_kind::characters, n_gram};
  warp::lsh::minhasher<T> mh{k, o, where, stream};
  warp::detail::buffer<T> out{where, n * k, stream};
  warp_bench::timed_iterations(state, where, stream, [] {}, [&] { mh.signatures(docs.view, out.data(), stream); });
  double const bytes = static_cast<double>(c.docs.bytes.size());
  state.counters["GB_per_s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["documents"] = static_cast<double>(n);
  state.counters["mean_bytes"] = bytes / static_cast<double>(n);
#if WARP_CUDA_ENABLED
  if (where == warp::backend::cuda) {
    state.counters["ratio_to_copy"] =
        benchmark::Counter(bytes / warp_bench::device_roofline().copy_bytes_per_s, benchmark::Counter::kIsIterationInvariantRate);
  }
#endif
}

/// The straightforward single-thread reference: std::unordered_set of 5-byte-window hashes per
/// document, k (a h + b) mod 2^61 - 1 minima, std::unordered_map banding, std::unordered_set of
/// pairs, union-find.
struct reference_output {
  std::size_t pairs = 0;
  std::vector<std::uint32_t> labels;
};
reference_output reference_dedup(warp::lsh::document_batch const& docs, std::uint32_t k, warp::lsh::band_layout bands,
                                 std::vector<std::uint64_t> const& a, std::vector<std::uint64_t> const& b) {
  constexpr std::uint64_t p = warp::lsh::mersenne61_prime;
  std::size_t const n = docs.size();
  std::vector<std::uint64_t> sig(n * k);
  std::unordered_set<std::uint64_t> shingles;
  for (std::size_t d = 0; d < n; ++d) {
    char const* text = docs.bytes.data() + docs.offsets[d];
    auto const len = static_cast<std::size_t>(docs.offsets[d + 1] - docs.offsets[d]);
    shingles.clear();
    for (std::size_t i = 0; i + 5 <= len || (i == 0 && len > 0); ++i) {
      shingles.insert(XXH64(text + i, std::min<std::size_t>(5, len - i), 0) % p);
    }
    for (std::uint32_t j = 0; j < k; ++j) {
      std::uint64_t m = ~0ull;
      for (std::uint64_t h : shingles) {
        m = std::min<std::uint64_t>(m, static_cast<std::uint64_t>((static_cast<unsigned __int128>(a[j]) * h + b[j]) % p));
      }
      sig[d * k + j] = m;
    }
  }
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> buckets;
  for (std::size_t d = 0; d < n; ++d) {
    for (std::uint32_t j = 0; j < bands.bands; ++j) {
      std::uint64_t const key = XXH64(sig.data() + d * k + j * bands.rows, bands.rows * 8, j) ^ (std::uint64_t{j} << 56);
      buckets[key].push_back(static_cast<std::uint32_t>(d));
    }
  }
  std::unordered_set<std::uint64_t> pairs;
  for (auto const& [key, members] : buckets) {
    for (std::size_t x = 0; x < members.size(); ++x) {
      for (std::size_t y = x + 1; y < members.size(); ++y) { pairs.insert(std::uint64_t{members[x]} << 32 | members[y]); }
    }
  }
  reference_output r;
  r.pairs = pairs.size();
  r.labels.resize(n);
  std::iota(r.labels.begin(), r.labels.end(), 0u);
  auto find = [&](std::uint32_t x) {
    while (r.labels[x] != x) { x = r.labels[x] = r.labels[r.labels[x]]; }
    return x;
  };
  for (std::uint64_t pk : pairs) {
    std::uint32_t const u = find(static_cast<std::uint32_t>(pk >> 32)), v = find(static_cast<std::uint32_t>(pk));
    if (u != v) { r.labels[std::max(u, v)] = std::min(u, v); }
  }
  return r;
}

void dedup_benchmark(benchmark::State& state, warp::backend where) {
  if (warp_bench::skip_without_device(state, where)) { return; }
  std::size_t const n = env_size("WARP_BENCH_LSH_DEDUP_DOCS", where == warp::backend::cuda ? 1000000 : 20000);
  auto const& c = corpus(n, 200, 2000);
  auto const stream = warp::default_stream();
  std::uint32_t const k = 128;
  warp::lsh::band_layout const bands{32, 4};  // S-curve midpoint near J = 0.42
  peak_memory memory{where};
  auto docs = resident(c.docs, where, stream);
  warp::lsh::minhash_options o;
  o.shingles = {warp::lsh::shingle_kind::characters, 5};
  warp::lsh::minhasher<std::uint64_t> mh{k, o, where, stream, &memory};
  warp::lsh::candidate_pairs found;
  std::vector<std::uint32_t> labels;
  warp_bench::timed_iterations(state, where, stream, [] {}, [&] {
    warp::detail::buffer<std::uint64_t> sig{where, n * k, stream, &memory};
    mh.signatures(docs.view, sig.data(), stream);
    warp::detail::buffer<std::uint64_t> keys{where, n * bands.bands, stream, &memory};
    warp::lsh::band_keys(sig.data(), n, k, bands, keys.data(), where, stream, &memory);
    found = warp::lsh::find_candidates(keys.data(), n, {bands, 0}, where, stream, &memory);
    labels = warp::lsh::connected_components(n, found.pairs, where, stream, &memory);
  });
  std::size_t recalled = 0;
  for (auto const& [x, y] : c.planted) { recalled += labels[x] == labels[y] ? 1 : 0; }
  double const bytes = static_cast<double>(c.docs.bytes.size());
  state.counters["GB_per_s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["documents"] = static_cast<double>(n);
  state.counters["text_MB"] = bytes * 1e-6;
  state.counters["candidate_pairs"] = static_cast<double>(found.pairs.size());
  state.counters["recall_planted"] = c.planted.empty() ? 0.0 : double(recalled) / double(c.planted.size());
  state.counters["peak_backend_MiB"] = static_cast<double>(memory.peak()) / (1 << 20);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_rss_MiB"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
  if (where == warp::backend::host) {
    std::fprintf(stderr, "running the single-thread reference on %zu documents...\n", n);
    auto const t0 = std::chrono::steady_clock::now();
    auto const ref = reference_dedup(c.docs, k, bands, mh.parameter_a(), mh.parameter_b());
    double const ref_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::size_t ref_recalled = 0;
    for (auto const& [x, y] : c.planted) { ref_recalled += ref.labels[x] == ref.labels[y] ? 1 : 0; }
    state.counters["reference_seconds"] = ref_s;
    state.counters["reference_recall_planted"] = c.planted.empty() ? 0.0 : double(ref_recalled) / double(c.planted.size());
    // reference seconds / warp seconds (a rate counter divides by the measured time).
    state.counters["speedup_vs_reference"] = benchmark::Counter(ref_s, benchmark::Counter::kIsIterationInvariantRate);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  warp_bench::add_roofline_context();
  for (warp::backend where : {warp::backend::cuda, warp::backend::host}) {
    std::string const b = warp::to_string(where);
    for (permutation mode : {permutation::mersenne61, permutation::cudf, permutation::one_permutation}) {
      for (std::uint32_t n_gram : {5u, 24u}) {
        for (std::uint32_t k : {128u, 260u}) {
          std::string const suffix = std::string(warp::lsh::to_string(mode)) + "/";
          std::string const tail = "/chars:" + std::to_string(n_gram) + "/k:" + std::to_string(k);
          warp_bench::register_timed("lsh/signatures/" + b + "/" + suffix + "u32" + tail, where,
                                     [=](benchmark::State& s) { signatures_benchmark<std::uint32_t>(s, where, mode, n_gram, k); });
          warp_bench::register_timed("lsh/signatures/" + b + "/" + suffix + "u64" + tail, where,
                                     [=](benchmark::State& s) { signatures_benchmark<std::uint64_t>(s, where, mode, n_gram, k); });
        }
      }
    }
    std::size_t const n = env_size("WARP_BENCH_LSH_DEDUP_DOCS", where == warp::backend::cuda ? 1000000 : 20000);
    benchmark::RegisterBenchmark(("lsh/dedup/" + b + "/docs:" + std::to_string(n)).c_str(),
                                 [=](benchmark::State& s) { dedup_benchmark(s, where); })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(where == warp::backend::cuda ? 3 : 1);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
