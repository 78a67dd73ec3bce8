// Shared pieces of the benchmark binaries: problem sizes from the environment, the shuffled keys of
// the anchors in docs/benchmarks.md (cached per process), their copy in the backend's memory (cached too), timing (CUDA
// events on the device, a steady clock on the host), and the roofline ratio counters.
#pragma once

#include <warp/warp.cuh>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "roofline.hpp"

namespace warp_bench {

std::size_t env_log2(char const* name, std::size_t fallback) {
  char const* v = std::getenv(name);
  return v ? static_cast<std::size_t>(std::atoi(v)) : fallback;
}

// Keys 1..n shuffled (as the published benchmarks do; see docs/benchmarks.md); misses are n+1..2n. Shuffling 2^27 keys takes seconds, so
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

// The same keys 1..n in a second, unrelated order: lookups and erases use it, so that no table
// (std::unordered_map's nodes, allocated in insertion order, least of all) is walked in the order
// it was built in.
template <class K>
std::vector<K> const& requeried_keys(std::size_t n) {
  static std::map<std::size_t, std::vector<K>> cache;
  auto [it, fresh] = cache.try_emplace(n);
  if (fresh) {
    it->second.resize(n);
    std::iota(it->second.begin(), it->second.end(), static_cast<K>(1));
    std::shuffle(it->second.begin(), it->second.end(), std::mt19937_64{0x5EED0000ull + n});
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

/// Skips the benchmark (with the reason) when it asks for CUDA and there is no usable device.
inline bool skip_without_device(benchmark::State& state, warp::backend where) {
  if (where == warp::backend::cuda && !warp::cuda_available()) {
    state.SkipWithError(("no CUDA device: " + warp::cuda_unavailable_reason()).c_str());
    return true;
  }
  return false;
}

/// 2^WARP_BENCH_LOG2_KEYS on CUDA (default `cuda_log2`), 2^WARP_BENCH_HOST_LOG2_KEYS on the host.
inline std::size_t problem_size(warp::backend where, std::size_t cuda_log2 = 27, std::size_t host_log2 = 22) {
  return std::size_t{1} << (where == warp::backend::cuda ? env_log2("WARP_BENCH_LOG2_KEYS", cuda_log2)
                                                         : env_log2("WARP_BENCH_HOST_LOG2_KEYS", host_log2));
}

/// Seconds `body` takes: CUDA events around it on the device backend, a steady clock on the host.
template <class Body>
double time_seconds(warp::backend where, cuda::stream_ref stream, Body&& body) {
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
    return ms * 1e-3;
  }
#endif
  (void)stream;
  auto const t0 = std::chrono::steady_clock::now();
  body();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Runs the benchmark's iterations: prepare() untimed, then body() timed. Returns the best time.
template <class Prepare, class Body>
double timed_iterations(benchmark::State& state, warp::backend where, cuda::stream_ref stream, Prepare&& prepare,
                        Body&& body) {
  double best = 1e30;
  for (auto _ : state) {
    prepare();
    double const seconds = time_seconds(where, stream, body);
    state.SetIterationTime(seconds);
    best = std::min(best, seconds);
  }
  return best;
}

/// Registers a manually timed benchmark (5 iterations on CUDA, 3 on the host).
template <class F>
void register_timed(std::string const& name, warp::backend where, F f) {
  benchmark::RegisterBenchmark(name.c_str(), f)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(where == warp::backend::cuda ? 5 : 3);
}

/// "0.50" for 0.5: the load factor as it appears in benchmark names.
inline std::string load_name(double load) { return std::to_string(load).substr(0, 4); }

/// Throughput counters: Gkeys_per_s (items per second, 1e9), and on CUDA its ratio to the random
/// gather and CAS rooflines measured in this process.
inline void add_rate_counters(benchmark::State& state, warp::backend where, double items) {
  state.counters["Gkeys_per_s"] = benchmark::Counter(items * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
#if WARP_CUDA_ENABLED
  if (where == warp::backend::cuda) {
    auto const& roof = device_roofline();
    state.counters["ratio_to_gather"] = benchmark::Counter(items / roof.gather_per_s, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["ratio_to_cas"] = benchmark::Counter(items / roof.cas_per_s, benchmark::Counter::kIsIterationInvariantRate);
  }
#else
  (void)where;
#endif
}

/// Records the roofline in the JSON context (CUDA builds with a device).
inline void add_roofline_context() {
#if WARP_CUDA_ENABLED
  if (warp::cuda_available()) {
    auto const& r = device_roofline();
    benchmark::AddCustomContext("roofline_copy_GBps", std::to_string(r.copy_bytes_per_s * 1e-9));
    benchmark::AddCustomContext("roofline_gather_Gps", std::to_string(r.gather_per_s * 1e-9));
    benchmark::AddCustomContext("roofline_cas_Gps", std::to_string(r.cas_per_s * 1e-9));
  }
#endif
  benchmark::AddCustomContext("warp_backend_default", warp::to_string(warp::default_backend()));
}

}  // namespace warp_bench
