// Benchmarks of the container family: hash_set, counting_map, multi_value_map and bloom_filter,
// on the CUDA backend (2^27 keys by default, ratios to the rooflines measured in the same run) and
// on the host backend (2^22 keys, one thread, against abseil doing the same work: ratio_vs_absl =
// abseil time / warp time, above 1 means warp is faster).
//
//   bench_containers --benchmark_out=containers.json --benchmark_out_format=json
//   names: set/<backend>/<key>/<scheme>/<insert|contains|contains_miss|erase>/load:x
//          count/<backend>/u32/m:<m|zipf>/<count|lookup>/load:x
//          mvm/<backend>/<key>/m:<m>/<insert|retrieve>/load:x   (uniform multiplicities: a Zipf key with
//              millions of copies costs O(m^2) probes in one-slot-per-value open addressing; that
//              case is bucket_list_map's)
//          blm/<backend>/<key>/m:<m|zipf>/<insert|retrieve|frozen_retrieve>/load:x
//          bloom/<backend>/u64/block:<bytes>/k:<k>/<add|contains>
// Environment: WARP_BENCH_LOG2_KEYS (27), WARP_BENCH_HOST_LOG2_KEYS (22).
#include <warp/warp.cuh>

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

using namespace warp_bench;

template <class F>
double host_seconds(F&& f) {
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    auto const t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

/// n keys drawn with multiplicity m (n / m distinct keys, each m times, shuffled); m = 0: Zipf
/// (s = 1) over n / 8 distinct keys. Cached per process.
template <class K>
std::vector<K> const& repeated_keys(std::size_t n, std::size_t m) {
  static std::map<std::pair<std::size_t, std::size_t>, std::vector<K>> cache;
  auto [it, fresh] = cache.try_emplace({n, m});
  if (fresh) {
    auto& out = it->second;
    out.resize(n);
    std::mt19937_64 rng{n * 31 + m};
    if (m > 0) {
      for (std::size_t i = 0; i < n; ++i) { out[i] = static_cast<K>(i / m + 1); }
    } else {
      std::size_t const distinct = std::max<std::size_t>(n / 8, 1);
      std::vector<double> cdf(distinct);
      double sum = 0;
      for (std::size_t r = 0; r < distinct; ++r) { cdf[r] = (sum += 1.0 / static_cast<double>(r + 1)); }
      std::uniform_real_distribution<double> u(0.0, sum);
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<K>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin() + 1);
      }
    }
    std::shuffle(out.begin(), out.end(), rng);
  }
  return it->second;
}

/// The distinct keys of repeated_keys(n, m), shuffled (queried in a hash set's own iteration
/// order, lookups would walk that table sequentially and flatter it). Cached per process: the
/// arrays must outlive the benchmark, since backend_copy caches by the host array's address.
template <class K>
std::vector<K> const& distinct_keys(std::size_t n, std::size_t m) {
  static std::map<std::pair<std::size_t, std::size_t>, std::vector<K>> cache;
  auto [it, fresh] = cache.try_emplace({n, m});
  if (fresh) {
    auto const& keys = repeated_keys<K>(n, m);
    absl::flat_hash_set<K> seen(keys.begin(), keys.end());
    it->second.assign(seen.begin(), seen.end());
    std::shuffle(it->second.begin(), it->second.end(), std::mt19937_64{it->second.size()});
  }
  return it->second;
}

// ---- hash_set -----------------------------------------------------------------------------------

enum class set_op { insert, contains_hit, contains_miss, erase };
char const* set_op_name(set_op o) {
  switch (o) {
    case set_op::insert: return "insert";
    case set_op::contains_hit: return "contains";
    case set_op::contains_miss: return "contains_miss";
    case set_op::erase: return "erase";
  }
  return "";
}

template <class K, class Probing>
void bench_set(benchmark::State& state, warp::backend where, set_op what, double load) {
  if (skip_without_device(state, where)) { return; }
  std::size_t const n = problem_size(where);
  auto const stream = warp::default_stream();
  auto const& host_keys = shuffled_keys<K>(n, 0);
  auto const& host_misses = shuffled_keys<K>(n, n);
  auto& keys = backend_copy<K>(where, role::keys, host_keys, stream);
  auto& misses = backend_copy<K>(where, role::keys, host_misses, stream);
  warp::detail::buffer<bool> flags{where, n, stream};
  warp::hash_set<K, Probing> set{static_cast<std::size_t>(static_cast<double>(n) / load), warp::empty_key<K>{K{0}},
                                 warp::erased_key<K>{static_cast<K>(~K{0})}, where, stream};
  bool const read_only = what == set_op::contains_hit || what == set_op::contains_miss;
  bool built = false;
  auto prepare = [&] {
    if (read_only && built) { return; }
    set.clear(stream);
    if (what != set_op::insert) { set.insert(keys.data(), keys.data() + n, nullptr, stream); }
    built = true;
  };
  auto body = [&] {
    switch (what) {
      case set_op::insert: set.insert_async(keys.data(), keys.data() + n, nullptr, stream); break;
      case set_op::contains_hit: set.contains_async(keys.data(), keys.data() + n, flags.data(), stream); break;
      case set_op::contains_miss: set.contains_async(misses.data(), misses.data() + n, flags.data(), stream); break;
      case set_op::erase: set.erase_async(keys.data(), keys.data() + n, stream); break;
    }
  };
  double const best = timed_iterations(state, where, stream, prepare, body);
  if (where == warp::backend::host) {
    absl::flat_hash_set<K> baseline;
    baseline.reserve(n);
    std::size_t sink = 0;
    auto const& queries = what == set_op::contains_miss ? host_misses : host_keys;
    double const absl_s = host_seconds([&] {
      if (what == set_op::insert || what == set_op::erase) { baseline.clear(); }
      if (what != set_op::insert && baseline.empty()) { baseline.insert(host_keys.begin(), host_keys.end()); }
      switch (what) {
        case set_op::insert: for (K k : host_keys) { baseline.insert(k); } break;
        case set_op::erase: for (K k : host_keys) { sink += baseline.erase(k); } break;
        default: for (K k : queries) { sink += baseline.contains(k); } break;
      }
    });
    benchmark::DoNotOptimize(sink);
    state.counters["ratio_vs_absl"] = absl_s / best;
  }
  if (!set.status().ok()) { state.SkipWithError("set reported no_room"); }
  state.counters["load"] = static_cast<double>(n) / static_cast<double>(set.capacity());
  add_rate_counters(state, where, static_cast<double>(n));
}

// ---- counting_map -------------------------------------------------------------------------------

template <class K, class Probing>
void bench_count(benchmark::State& state, warp::backend where, std::size_t m, bool lookup, double load) {
  if (skip_without_device(state, where)) { return; }
  std::size_t const n = problem_size(where);
  auto const stream = warp::default_stream();
  auto const& host_keys = repeated_keys<K>(n, m);
  auto const& host_distinct = distinct_keys<K>(n, m);
  auto& keys = backend_copy<K>(where, role::keys, host_keys, stream);
  auto& distinct = backend_copy<K>(where, role::keys, host_distinct, stream);
  warp::detail::buffer<std::uint32_t> counts_out{where, host_distinct.size(), stream};
  warp::counting_map<K, std::uint32_t, Probing> counts{
      static_cast<std::size_t>(static_cast<double>(host_distinct.size()) / load), warp::empty_key<K>{K{0}}, where, stream};
  bool built = false;
  auto prepare = [&] {
    if (!lookup) { counts.clear(stream); }
    if (lookup && !built) { counts.increment(keys.data(), keys.data() + n, nullptr, stream); }
    built = true;
  };
  auto body = [&] {
    if (lookup) {
      counts.count_async(distinct.data(), distinct.data() + host_distinct.size(), counts_out.data(), stream);
    } else {
      counts.increment_async(keys.data(), keys.data() + n, nullptr, stream);
    }
  };
  double const best = timed_iterations(state, where, stream, prepare, body);
  double const items = lookup ? static_cast<double>(host_distinct.size()) : static_cast<double>(n);
  if (where == warp::backend::host) {
    absl::flat_hash_map<K, std::uint32_t> baseline;
    baseline.reserve(host_distinct.size());
    std::uint64_t sink = 0;
    double const absl_s = !lookup ? host_seconds([&] {
      baseline.clear();
      for (K k : host_keys) { ++baseline[k]; }
    })
                                  : host_seconds([&] {
                                      if (baseline.empty()) {
                                        for (K k : host_keys) { ++baseline[k]; }
                                      }
                                      for (K k : host_distinct) { sink += baseline.find(k)->second; }
                                    });
    benchmark::DoNotOptimize(sink);
    state.counters["ratio_vs_absl"] = absl_s / best;
  }
  if (!counts.status().ok()) { state.SkipWithError("counting map reported no_room"); }
  state.counters["distinct"] = static_cast<double>(host_distinct.size());
  add_rate_counters(state, where, items);
}

// ---- multi_value_map ----------------------------------------------------------------------------

template <class K, class Probing>
void bench_multi(benchmark::State& state, warp::backend where, std::size_t m, bool retrieve, double load) {
  if (skip_without_device(state, where)) { return; }
  std::size_t const n = problem_size(where);
  auto const stream = warp::default_stream();
  auto const& host_keys = repeated_keys<K>(n, m);
  auto const& host_values = shuffled_keys<K>(n, 0);
  auto const& host_distinct = distinct_keys<K>(n, m);
  auto& keys = backend_copy<K>(where, role::keys, host_keys, stream);
  auto& values = backend_copy<K>(where, role::values, host_values, stream);
  auto& queries = backend_copy<K>(where, role::keys, host_distinct, stream);
  warp::detail::buffer<K> out{where, n, stream};
  warp::detail::buffer<std::uint64_t> offsets{where, host_distinct.size() + 1, stream};
  warp::multi_value_map<K, K, Probing> map{static_cast<std::size_t>(static_cast<double>(n) / load), warp::empty_key<K>{K{0}},
                                           {}, where, stream};
  bool built = false;
  auto prepare = [&] {
    if (!retrieve) { map.clear(stream); }
    if (retrieve && !built) { map.insert(keys.data(), keys.data() + n, values.data(), nullptr, stream); }
    built = true;
  };
  std::uint64_t retrieved = 0;
  auto body = [&] {
    if (retrieve) {
      retrieved = map.retrieve(queries.data(), queries.data() + host_distinct.size(), offsets.data(), out.data(), n, stream);
    } else {
      map.insert_async(keys.data(), keys.data() + n, values.data(), nullptr, stream);
    }
  };
  double const best = timed_iterations(state, where, stream, prepare, body);
  if (retrieve && retrieved != n) { state.SkipWithError("retrieve returned the wrong number of values"); }
  if (where == warp::backend::host) {
    absl::flat_hash_map<K, std::vector<K>> baseline;
    std::uint64_t sink = 0;
    double const absl_s = !retrieve ? host_seconds([&] {
      baseline.clear();
      baseline.reserve(host_distinct.size());
      for (std::size_t i = 0; i < n; ++i) { baseline[host_keys[i]].push_back(host_values[i]); }
    })
                                    : host_seconds([&] {
                                        if (baseline.empty()) {
                                          for (std::size_t i = 0; i < n; ++i) { baseline[host_keys[i]].push_back(host_values[i]); }
                                        }
                                        std::vector<K> flat;
                                        flat.reserve(n);
                                        for (K k : host_distinct) {
                                          auto const& v = baseline.find(k)->second;
                                          flat.insert(flat.end(), v.begin(), v.end());
                                        }
                                        sink += flat.size();
                                      });
    benchmark::DoNotOptimize(sink);
    state.counters["ratio_vs_absl"] = absl_s / best;
  }
  if (!map.status().ok()) { state.SkipWithError("multi-value map reported no_room"); }
  add_rate_counters(state, where, static_cast<double>(n));  // pairs inserted, or values retrieved
}

// ---- bucket_list_map ----------------------------------------------------------------------------

enum class bucket_op { insert, retrieve, frozen_retrieve };

template <class K>
void bench_bucket(benchmark::State& state, warp::backend where, std::size_t m, bucket_op what, double load) {
  if (skip_without_device(state, where)) { return; }
  std::size_t const n = problem_size(where);
  auto const stream = warp::default_stream();
  auto const& host_keys = repeated_keys<K>(n, m);
  auto const& host_values = shuffled_keys<K>(n, 0);
  auto const& host_distinct = distinct_keys<K>(n, m);
  auto& keys = backend_copy<K>(where, role::keys, host_keys, stream);
  auto& values = backend_copy<K>(where, role::values, host_values, stream);
  auto& queries = backend_copy<K>(where, role::keys, host_distinct, stream);
  warp::detail::buffer<K> out{where, n, stream};
  warp::detail::buffer<std::uint64_t> offsets{where, host_distinct.size() + 1, stream};
  using map_t = warp::bucket_list_map<K, K, warp::double_hashing<8, 1>>;
  map_t map{static_cast<std::size_t>(static_cast<double>(host_distinct.size()) / load), warp::empty_key<K>{K{0}}, {}, where, stream};
  std::optional<typename map_t::frozen_type> frozen;
  bool built = false;
  auto prepare = [&] {
    if (what == bucket_op::insert) { map.clear(stream); }
    if (what != bucket_op::insert && !built) {
      map.insert(keys.data(), keys.data() + n, values.data(), nullptr, stream);
      if (what == bucket_op::frozen_retrieve) { frozen.emplace(map.freeze(stream)); }
    }
    built = true;
  };
  std::uint64_t retrieved = 0;
  auto body = [&] {
    auto const q = queries.data(), q_end = queries.data() + host_distinct.size();
    switch (what) {
      case bucket_op::insert: map.insert(keys.data(), keys.data() + n, values.data(), nullptr, stream); break;
      case bucket_op::retrieve: retrieved = map.retrieve(q, q_end, offsets.data(), out.data(), n, stream); break;
      case bucket_op::frozen_retrieve: retrieved = frozen->retrieve(q, q_end, offsets.data(), out.data(), n, stream); break;
    }
  };
  double const best = timed_iterations(state, where, stream, prepare, body);
  if (what != bucket_op::insert && retrieved != n) { state.SkipWithError("retrieve returned the wrong number of values"); }
  if (!map.status().ok()) { state.SkipWithError("bucket-list map reported no_room"); }
  if (where == warp::backend::host && what == bucket_op::insert) {
    absl::flat_hash_map<K, std::vector<K>> baseline;
    double const absl_s = host_seconds([&] {
      baseline.clear();
      for (std::size_t i = 0; i < n; ++i) { baseline[host_keys[i]].push_back(host_values[i]); }
    });
    state.counters["ratio_vs_absl"] = absl_s / best;
  }
  state.counters["distinct"] = static_cast<double>(host_distinct.size());
  add_rate_counters(state, where, static_cast<double>(n));
}

// ---- bloom_filter -------------------------------------------------------------------------------

template <int Block>
void bench_bloom(benchmark::State& state, warp::backend where, int hashes, bool contains) {
  using K = std::uint64_t;
  if (skip_without_device(state, where)) { return; }
  std::size_t const n = problem_size(where);
  auto const stream = warp::default_stream();
  auto const& host_keys = shuffled_keys<K>(n, 0);
  auto const& host_absent = shuffled_keys<K>(n, n);
  // 2n queries, half absent: the present keys followed by as many absent ones.
  static std::map<std::size_t, std::vector<K>> query_cache;
  auto& host_queries = query_cache.try_emplace(n).first->second;
  if (host_queries.empty()) {
    host_queries = host_keys;
    host_queries.insert(host_queries.end(), host_absent.begin(), host_absent.end());
    std::shuffle(host_queries.begin(), host_queries.end(), std::mt19937_64{5});
  }
  auto& keys = backend_copy<K>(where, role::keys, host_keys, stream);
  auto& queries = backend_copy<K>(where, role::keys, host_queries, stream);
  warp::detail::buffer<bool> flags{where, host_queries.size(), stream};
  warp::bloom_filter<K, Block> filter{n * 10, hashes, where, stream};  // 10 bits per key
  bool built = false;
  auto prepare = [&] {
    if (!contains) { filter.clear(stream); }
    if (contains && !built) { filter.add(keys.data(), keys.data() + n, stream); }
    built = true;
  };
  std::size_t positives = 0;
  auto body = [&] {
    if (contains) {
      positives = filter.contains(queries.data(), queries.data() + host_queries.size(), flags.data(), stream);
    } else {
      filter.add_async(keys.data(), keys.data() + n, stream);
    }
  };
  (void)timed_iterations(state, where, stream, prepare, body);
  if (contains) {
    // Every present key is a positive (no false negatives); the rest are false positives.
    state.counters["false_positive_rate"] = static_cast<double>(positives - n) / static_cast<double>(n);
  }
  state.counters["predicted_fpr"] = filter.predicted_false_positive_rate(n);
  state.counters["bits_per_key"] = static_cast<double>(filter.num_bits()) / static_cast<double>(n);
  add_rate_counters(state, where, static_cast<double>(contains ? host_queries.size() : n));
}

// ---- registration -------------------------------------------------------------------------------

template <class K, class Probing>
void register_set(std::string const& key) {
  std::string const scheme = std::string(Probing::name) + "_t" + std::to_string(Probing::tile_size) + "_b" +
                             std::to_string(Probing::slots_per_lane);
  for (auto where : {warp::backend::cuda, warp::backend::host}) {
    for (set_op op : {set_op::insert, set_op::contains_hit, set_op::contains_miss, set_op::erase}) {
      for (double load : {0.5, 0.8, 0.9, 0.95, 0.99}) {
        if (where == warp::backend::host && load != 0.5 && load != 0.8) { continue; }
        // As in bench_single_value_map: linear probing stops at 0.95 (one-slot windows at 0.9).
        if (std::string(Probing::name) == "linear" && (load > 0.951 || (Probing::window_size == 1 && load > 0.91))) { continue; }
        register_timed("set/" + std::string(warp::to_string(where)) + "/" + key + "/" + scheme + "/" + set_op_name(op) +
                           "/load:" + load_name(load),
                       where, [=](benchmark::State& s) { bench_set<K, Probing>(s, where, op, load); });
      }
    }
  }
}

void register_counting() {
  for (auto where : {warp::backend::cuda, warp::backend::host}) {
    for (std::size_t m : {std::size_t{1}, std::size_t{16}, std::size_t{0}}) {
      for (bool lookup : {false, true}) {
        for (double load : {0.5, 0.8, 0.95}) {
          if (where == warp::backend::host && load > 0.9) { continue; }
          register_timed("count/" + std::string(warp::to_string(where)) + "/u32/m:" + (m ? std::to_string(m) : "zipf") + "/" +
                             (lookup ? "lookup" : "count") + "/load:" + load_name(load),
                         where, [=](benchmark::State& s) {
                           bench_count<std::uint32_t, warp::double_hashing<8, 1>>(s, where, m, lookup, load);
                         });
        }
      }
    }
  }
}

template <class K>
void register_multi(std::string const& key) {
  for (auto where : {warp::backend::cuda, warp::backend::host}) {
    for (std::size_t m : {1, 2, 4, 8, 16}) {
      for (bool retrieve : {false, true}) {
        for (double load : {0.5, 0.8, 0.95}) {
          if (where == warp::backend::host && (load > 0.9 || (m != 1 && m != 16))) { continue; }
          register_timed("mvm/" + std::string(warp::to_string(where)) + "/" + key + "/m:" + std::to_string(m) + "/" +
                             (retrieve ? "retrieve" : "insert") + "/load:" + load_name(load),
                         where, [=](benchmark::State& s) {
                           bench_multi<K, warp::double_hashing<8, 1>>(s, where, m, retrieve, load);
                         });
        }
      }
    }
  }
}

template <class K>
void register_bucket(std::string const& key) {
  for (auto where : {warp::backend::cuda, warp::backend::host}) {
    for (std::size_t m : {std::size_t{1}, std::size_t{2}, std::size_t{4}, std::size_t{8}, std::size_t{16}, std::size_t{0}}) {
      for (auto what : {bucket_op::insert, bucket_op::retrieve, bucket_op::frozen_retrieve}) {
        for (double load : {0.5, 0.8, 0.95}) {
          if (where == warp::backend::host && (load != 0.8 || (m != 1 && m != 0))) { continue; }
          char const* op = what == bucket_op::insert ? "insert" : what == bucket_op::retrieve ? "retrieve" : "frozen_retrieve";
          register_timed("blm/" + std::string(warp::to_string(where)) + "/" + key + "/m:" + (m ? std::to_string(m) : "zipf") +
                             "/" + op + "/load:" + load_name(load),
                         where, [=](benchmark::State& s) { bench_bucket<K>(s, where, m, what, load); });
        }
      }
    }
  }
}

template <int Block>
void register_bloom(int hashes) {
  for (auto where : {warp::backend::cuda, warp::backend::host}) {
    for (bool contains : {false, true}) {
      register_timed("bloom/" + std::string(warp::to_string(where)) + "/u64/block:" + std::to_string(Block) + "/k:" +
                         std::to_string(hashes) + "/" + (contains ? "contains" : "add"),
                     where, [=](benchmark::State& s) { bench_bloom<Block>(s, where, hashes, contains); });
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("OMP_NUM_THREADS") == nullptr) { omp_set_num_threads(1); }  // host figures are per thread
  register_set<std::uint32_t, warp::linear_probing<4, 2>>("u32");
  register_set<std::uint32_t, warp::double_hashing<8, 1>>("u32");
  register_set<std::uint64_t, warp::linear_probing<4, 2>>("u64");
  register_set<std::uint64_t, warp::linear_probing<2, 2>>("u64");  // one 32-byte sector
  register_set<std::uint64_t, warp::double_hashing<8, 1>>("u64");
  register_counting();
  register_multi<std::uint32_t>("u32");
  register_multi<std::uint64_t>("u64");
  register_bucket<std::uint32_t>("u32");
  register_bucket<std::uint64_t>("u64");
  register_bloom<32>(6);
  register_bloom<64>(7);
  register_bloom<128>(7);
  add_roofline_context();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
