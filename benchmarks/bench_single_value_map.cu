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

#include "bench_common.hpp"

namespace {

using namespace warp_bench;

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

/// `keys` builds the table; `queries` (the same keys in another order) are looked up and erased.
template <class Table, class K>
double baseline_seconds(op what, std::vector<K> const& keys, std::vector<K> const& queries, std::vector<K> const& misses) {
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
      case op::find_hit: for (K k : queries) { auto it = table.find(k); sink += it == table.end() ? 0 : it->second; } break;
      case op::find_miss: for (K k : misses) { auto it = table.find(k); sink += it == table.end() ? 0 : it->second; } break;
      case op::erase: for (K k : queries) { sink += table.erase(k); } break;
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  benchmark::DoNotOptimize(sink);
  return best;
}

template <class K, class V, class Probing>
void bench_map(benchmark::State& state, warp::backend where, op what, double load) {
  if (skip_without_device(state, where)) { return; }
  std::size_t const n = problem_size(where);
  using map_t = warp::single_value_map<K, V, Probing>;
  cuda::stream_ref const stream = warp::default_stream();
  auto const& host_keys = shuffled_keys<K>(n, 0);
  auto const& host_misses = shuffled_keys<K>(n, n);
  auto const& host_queries = requeried_keys<K>(n);
  auto& keys = backend_copy<K>(where, role::keys, host_keys, stream);
  auto& queries = backend_copy<K>(where, role::keys, host_queries, stream);
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
      case op::find_hit: map.find_async(queries.data(), queries.data() + n, values.data(), stream); break;
      case op::find_miss: map.find_async(misses.data(), misses.data() + n, values.data(), stream); break;
      case op::erase: map.erase_async(queries.data(), queries.data() + n, stream); break;
    }
  };
  double const best_seconds = timed_iterations(state, where, stream, prepare, body);
  if (where == warp::backend::host) {
    // > 1 means this library's host backend is faster than the baseline on the same work.
    double const absl_s = baseline_seconds<absl::flat_hash_map<K, V>>(what, host_keys, host_queries, host_misses);
    double const std_s = baseline_seconds<std::unordered_map<K, V>>(what, host_keys, host_queries, host_misses);
    state.counters["absl_Gkeys_per_s"] = static_cast<double>(n) * 1e-9 / absl_s;
    state.counters["ratio_vs_absl"] = absl_s / best_seconds;
    state.counters["ratio_vs_std"] = std_s / best_seconds;
  }
  if (!map.status().ok() && what != op::find_miss) { state.SkipWithError("table reported no_room or invalid keys"); }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["keys"] = static_cast<double>(n);
  state.counters["load"] = static_cast<double>(n) / static_cast<double>(map.capacity());  // actual, after rounding
  state.counters["tile"] = Probing::tile_size;
  state.counters["slots_per_lane"] = Probing::slots_per_lane;
  add_rate_counters(state, where, static_cast<double>(n));
}

template <class K, class V, class Probing>
void register_map(std::string const& type_name) {
  double const loads[] = {0.5, 0.8, 0.9, 0.95, 0.99};
  op const ops[] = {op::insert, op::find_hit, op::find_miss, op::erase, op::apply};
  constexpr bool filtered = warp::detail::has_miss_filter<Probing>::value;
  std::string const scheme = std::string(Probing::name) + "_t" + std::to_string(Probing::tile_size) + "_b" +
                             std::to_string(Probing::slots_per_lane) + (filtered ? "_mf" : "");
  for (warp::backend where : {warp::backend::cuda, warp::backend::host}) {
    if (filtered && where == warp::backend::cuda) { continue; }  // CUDA tables have no miss filter
    for (op o : ops) {
      for (double load : loads) {
        if (where == warp::backend::host && load != 0.5 && load != 0.9) { continue; }  // keep host runs short
        // Linear probing is not offered above load 0.95 (one-slot windows: above 0.9): measured on
        // an H100 it falls to 0.01-0.9 G/s there (docs/benchmarks.md), and its long runs would take
        // most of a device session. Double hashing covers the highest loads.
        if (std::string(Probing::name) == "linear" && (load > 0.951 || (Probing::window_size == 1 && load > 0.91))) { continue; }
        std::string const name = std::string("svm/") + warp::to_string(where) + "/" + type_name + "/" + scheme + "/" +
                                 op_name(o) + "/load:" + load_name(load);
        register_timed(name, where, [=](benchmark::State& s) { bench_map<K, V, Probing>(s, where, o, load); });
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
  // The host miss filter (with_miss_filter, host only) on the schemes the host tables compare.
  register_map<std::uint32_t, std::uint32_t, warp::with_miss_filter<warp::linear_probing<1, 1>>>("u32_u32");
  register_map<std::uint32_t, std::uint32_t, warp::with_miss_filter<warp::linear_probing<4, 2>>>("u32_u32");
  register_map<std::uint32_t, std::uint32_t, warp::with_miss_filter<warp::double_hashing<8, 1>>>("u32_u32");
  register_map<std::uint64_t, std::uint64_t, warp::with_miss_filter<warp::linear_probing<1, 1>>>("u64_u64");
  register_map<std::uint64_t, std::uint64_t, warp::with_miss_filter<warp::linear_probing<4, 2>>>("u64_u64");
  register_map<std::uint64_t, std::uint64_t, warp::with_miss_filter<warp::double_hashing<8, 1>>>("u64_u64");
  add_roofline_context();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
