// Benchmarks of warp::single_value_map: insert, find (all hits), find (all misses), erase and
// insert_or_apply, for u32/u32 and u64/u64, load factors 0.5 .. 0.99, several probing schemes and
// tile sizes. CUDA throughputs are timed with CUDA events and reported with their ratio to the
// roofline kernels measured in the same run; the host backend is compared, on the same keys and
// one thread, against absl::flat_hash_map and std::unordered_map doing the same work
// (counters ratio_vs_absl and ratio_vs_std: baseline time / warp time, best of the runs).
//
//   bench_single_value_map --benchmark_out=svm.json --benchmark_out_format=json
// Environment: WARP_BENCH_LOG2_KEYS (default 27 on CUDA), WARP_BENCH_HOST_LOG2_KEYS (default 22).
#include <warp/warp.cuh>

#include <absl/container/flat_hash_map.h>
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "roofline.hpp"

namespace {

std::size_t env_log2(char const* name, std::size_t fallback) {
  char const* v = std::getenv(name);
  return v ? static_cast<std::size_t>(std::atoi(v)) : fallback;
}

// Keys 1..n shuffled (as ANCHORS.md); misses are n+1..2n. Shuffling 2^27 keys takes seconds, so
// each (type, n, offset) is generated once per process and shared by every benchmark.
template <class K>
std::vector<K> const& shuffled_keys(std::size_t n, std::size_t offset) {
  static std::map<std::pair<std::size_t, std::size_t>, std::vector<K>> cache;
  auto [it, fresh] = cache.try_emplace({n, offset});
  if (fresh) {
    it->second.resize(n);
    std::iota(it->second.begin(), it->second.end(), static_cast<K>(offset + 1));
    std::shuffle(it->second.begin(), it->second.end(), std::mt19937_64{n + offset});
  }
  return it->second;
}

// The keys (and values) in the backend's memory, copied once per process: copying 2^27 keys for
// every benchmark would cost more device time than the benchmarks themselves.
// `role` keeps apart buffers made from the same host keys (the keys, and the values that finds
// overwrite).
enum class role { keys, values };
template <class T, class K>
warp::detail::buffer<T>& backend_copy(warp::backend where, role r, std::vector<K> const& host, cuda::stream_ref stream) {
  // Leaked on purpose: freeing device memory from a static destructor races CUDA's own teardown.
  static auto& cache = *new std::map<std::tuple<int, int, K const*>, warp::detail::buffer<T>>;
  auto const id = std::tuple{static_cast<int>(where), static_cast<int>(r), host.data()};
  auto it = cache.find(id);
  if (it == cache.end()) {
    it = cache.emplace(id, warp::detail::buffer<T>{where, host.size(), stream}).first;
    std::vector<T> converted(host.begin(), host.end());
    warp::detail::copy_bytes(where, it->second.data(), converted.data(), host.size() * sizeof(T), stream);
    warp::detail::synchronize(where, stream);
  }
  return it->second;
}

enum class op { insert, find_hit, find_miss, erase, apply };
char const* op_name(op o) {
  switch (o) {
    case op::insert: return "insert";
    case op::find_hit: return "find_hit";
    case op::find_miss: return "find_miss";
    case op::erase: return "erase";
    case op::apply: return "insert_or_apply";
  }
  return "";
}

// ---- host baselines: the same operation on the same keys, one thread ---------------------------

template <class Table, class K>
double baseline_seconds(op what, std::vector<K> const& keys, std::vector<K> const& misses) {
  double best = 1e30;
  std::uint64_t sink = 0;
  for (int rep = 0; rep < 3; ++rep) {
    Table table;
    table.reserve(keys.size());
    if (what != op::insert && what != op::apply) {
      for (K k : keys) { table.emplace(k, k); }
    }
    auto const t0 = std::chrono::steady_clock::now();
    switch (what) {
      case op::insert: for (K k : keys) { table.emplace(k, k); } break;
      case op::apply: for (K k : keys) { table[k] += k; } break;
      case op::find_hit: for (K k : keys) { auto it = table.find(k); sink += it == table.end() ? 0 : it->second; } break;
      case op::find_miss: for (K k : misses) { auto it = table.find(k); sink += it == table.end() ? 0 : it->second; } break;
      case op::erase: for (K k : keys) { sink += table.erase(k); } break;
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  benchmark::DoNotOptimize(sink);
  return best;
}

template <class K, class V, class Probing>
void bench_map(benchmark::State& state, warp::backend where, op what, double load) {
  if (where == warp::backend::cuda && !warp::cuda_available()) {
    state.SkipWithError(("no CUDA device: " + warp::cuda_unavailable_reason()).c_str());
    return;
  }
  std::size_t const n = std::size_t{1} << (where == warp::backend::cuda ? env_log2("WARP_BENCH_LOG2_KEYS", 27)
                                                                        : env_log2("WARP_BENCH_HOST_LOG2_KEYS", 22));
  using map_t = warp::single_value_map<K, V, Probing>;
  cuda::stream_ref const stream = warp::default_stream();
  auto const& host_keys = shuffled_keys<K>(n, 0);
  auto const& host_misses = shuffled_keys<K>(n, n);
  auto& keys = backend_copy<K>(where, role::keys, host_keys, stream);
  auto& misses = backend_copy<K>(where, role::keys, host_misses, stream);
  auto& values = backend_copy<V>(where, role::values, host_keys, stream);  // value = key

  map_t map{static_cast<std::size_t>(static_cast<double>(n) / load), warp::empty_key<K>{K{0}},
            warp::empty_value<V>{V{0}}, warp::erased_key<K>{static_cast<K>(~K{0})}, where, stream};
  // Lookups leave the table as it is, so it is built once; inserts and erases start afresh.
  bool const read_only = what == op::find_hit || what == op::find_miss;
  bool built = false;
  auto prepare = [&] {
    if (read_only && built) { return; }
    map.clear(stream);
    if (what != op::insert && what != op::apply) { map.insert(keys.data(), keys.data() + n, values.data(), nullptr, stream); }
    built = true;
  };
  auto body = [&] {
    switch (what) {
      case op::insert: map.insert_async(keys.data(), keys.data() + n, values.data(), nullptr, stream); break;
      case op::apply: map.insert_or_apply_async(keys.data(), keys.data() + n, values.data(), warp::op::plus{}, nullptr, stream); break;
      case op::find_hit: map.find_async(keys.data(), keys.data() + n, values.data(), stream); break;
      case op::find_miss: map.find_async(misses.data(), misses.data() + n, values.data(), stream); break;
      case op::erase: map.erase_async(keys.data(), keys.data() + n, stream); break;
    }
  };
  double best_seconds = 1e30;
  for (auto _ : state) {
    prepare();
    double seconds = 0;
#if WARP_CUDA_ENABLED
    if (where == warp::backend::cuda) {
      cudaEvent_t start, stop;
      cudaEventCreate(&start);
      cudaEventCreate(&stop);
      cudaEventRecord(start, stream.get());
      body();
      cudaEventRecord(stop, stream.get());
      cudaEventSynchronize(stop);
      float ms = 0;
      cudaEventElapsedTime(&ms, start, stop);
      cudaEventDestroy(start);
      cudaEventDestroy(stop);
      seconds = ms * 1e-3;
    }
#endif
    if (where == warp::backend::host) {
      auto const t0 = std::chrono::steady_clock::now();
      body();
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    state.SetIterationTime(seconds);
    best_seconds = std::min(best_seconds, seconds);
  }
  if (where == warp::backend::host) {
    // > 1 means this library's host backend is faster than the baseline on the same work.
    double const absl_s = baseline_seconds<absl::flat_hash_map<K, V>>(what, host_keys, host_misses);
    double const std_s = baseline_seconds<std::unordered_map<K, V>>(what, host_keys, host_misses);
    state.counters["absl_Gkeys_per_s"] = static_cast<double>(n) * 1e-9 / absl_s;
    state.counters["ratio_vs_absl"] = absl_s / best_seconds;
    state.counters["ratio_vs_std"] = std_s / best_seconds;
  }
  if (!map.status().ok() && what != op::find_miss) { state.SkipWithError("table reported no_room or invalid keys"); }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["keys"] = static_cast<double>(n);
  state.counters["load"] = static_cast<double>(n) / static_cast<double>(map.capacity());  // actual, after rounding
  state.counters["tile"] = Probing::tile_size;
  state.counters["bucket"] = Probing::bucket_size;
  state.counters["Gkeys_per_s"] = benchmark::Counter(static_cast<double>(n) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
#if WARP_CUDA_ENABLED
  if (where == warp::backend::cuda) {
    auto const& roof = warp_bench::device_roofline();
    // Ratios are filled in as rates: keys/s divided by the roofline's operations/s.
    state.counters["ratio_to_gather"] = benchmark::Counter(static_cast<double>(n) / roof.gather_per_s, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["ratio_to_cas"] = benchmark::Counter(static_cast<double>(n) / roof.cas_per_s, benchmark::Counter::kIsIterationInvariantRate);
  }
#endif
}

template <class K, class V, class Probing>
void register_map(std::string const& type_name) {
  double const loads[] = {0.5, 0.8, 0.9, 0.95, 0.99};
  op const ops[] = {op::insert, op::find_hit, op::find_miss, op::erase, op::apply};
  std::string const scheme = std::string(Probing::name) + "_t" + std::to_string(Probing::tile_size) + "_b" +
                             std::to_string(Probing::bucket_size);
  for (warp::backend where : {warp::backend::cuda, warp::backend::host}) {
    for (op o : ops) {
      for (double load : loads) {
        if (where == warp::backend::host && load != 0.5 && load != 0.9) { continue; }  // keep host runs short
        // Linear probing is not offered above load 0.95 (one-slot windows: above 0.9): measured on
        // an H100 it falls to 0.01-0.9 G/s there (docs/benchmarks.md), and its long runs would take
        // most of a device session. Double hashing covers the highest loads.
        if (std::string(Probing::name) == "linear" && (load > 0.951 || (Probing::window_size == 1 && load > 0.91))) { continue; }
        std::string const name = std::string("svm/") + warp::to_string(where) + "/" + type_name + "/" + scheme + "/" +
                                 op_name(o) + "/load:" + std::to_string(load).substr(0, 4);
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) { bench_map<K, V, Probing>(s, where, o, load); })
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond)
            ->Iterations(where == warp::backend::cuda ? 5 : 3);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Host-backend figures are per thread, to compare with the single-threaded baselines.
  if (std::getenv("OMP_NUM_THREADS") == nullptr) { omp_set_num_threads(1); }
  register_map<std::uint32_t, std::uint32_t, warp::linear_probing<1, 1>>("u32_u32");
  register_map<std::uint32_t, std::uint32_t, warp::linear_probing<4, 2>>("u32_u32");
  register_map<std::uint32_t, std::uint32_t, warp::linear_probing<2, 2>>("u32_u32");  // one 32-byte sector
  register_map<std::uint32_t, std::uint32_t, warp::double_hashing<8, 1>>("u32_u32");
  register_map<std::uint64_t, std::uint64_t, warp::linear_probing<1, 1>>("u64_u64");
  register_map<std::uint64_t, std::uint64_t, warp::linear_probing<4, 2>>("u64_u64");
  register_map<std::uint64_t, std::uint64_t, warp::linear_probing<1, 2>>("u64_u64");  // one 32-byte sector
  register_map<std::uint64_t, std::uint64_t, warp::linear_probing<2, 1>>("u64_u64");
  register_map<std::uint64_t, std::uint64_t, warp::double_hashing<8, 1>>("u64_u64");
#if WARP_CUDA_ENABLED
  if (warp::cuda_available()) {
    auto const& r = warp_bench::device_roofline();
    benchmark::AddCustomContext("roofline_copy_GBps", std::to_string(r.copy_bytes_per_s * 1e-9));
    benchmark::AddCustomContext("roofline_gather_Gps", std::to_string(r.gather_per_s * 1e-9));
    benchmark::AddCustomContext("roofline_cas_Gps", std::to_string(r.cas_per_s * 1e-9));
  }
#endif
  benchmark::AddCustomContext("warp_backend_default", warp::to_string(warp::default_backend()));
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
