// Targets of differential_models.hpp for the sharded containers: each batch split among the ranks
// (cut points drawn from the batch size, so that every process of an MPI run draws the same), each
// rank's slice passed to its container. A "runner" says which ranks this process drives: all of
// them on threads (in_process_runner) or its own one (own_rank_runner, one MPI process per rank).
#pragma once

#include "differential_models.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include <warp/distributed/in_process.cuh>
#include <warp/distributed/sharded_map.cuh>
#include <warp/distributed/sharded_multimap.cuh>

namespace warp_test {

/// Drives every rank of an in-process group, each on its own thread.
struct in_process_runner {
  warp::distributed::in_process_group group;
  explicit in_process_runner(int ranks, warp::backend where = warp::backend::host) : group{ranks, where} {}
  [[nodiscard]] int ranks() const { return group.size(); }
  [[nodiscard]] std::vector<int> driven() const {
    std::vector<int> r(static_cast<std::size_t>(group.size()));
    for (int i = 0; i < group.size(); ++i) { r[static_cast<std::size_t>(i)] = i; }
    return r;
  }
  warp::distributed::communicator& comm(int r) { return group.at(r); }
  /// results[r] = f(r) for every rank, run concurrently (the calls are collective).
  template <class F>
  std::vector<std::uint64_t> each(F&& f) {
    std::vector<std::uint64_t> out(static_cast<std::size_t>(group.size()));
    warp::distributed::run_ranks(group, [&](warp::distributed::communicator& c) {
      out[static_cast<std::size_t>(c.rank())] = f(c.rank());
    });
    return out;
  }
};

/// Drives this process's rank of a communicator that spans processes (MPI).
struct own_rank_runner {
  warp::distributed::communicator& c;
  [[nodiscard]] int ranks() const { return c.size(); }
  [[nodiscard]] std::vector<int> driven() const { return {c.rank()}; }
  warp::distributed::communicator& comm(int) { return c; }
  template <class F>
  std::vector<std::uint64_t> each(F&& f) {
    return {static_cast<std::uint64_t>(f(c.rank()))};
  }
};

/// Rank r's slice of a batch of n: [cuts[r], cuts[r + 1]); random cuts (empty slices included),
/// the same in every process.
inline std::vector<std::size_t> slice_cuts(std::size_t n, int ranks) {
  std::mt19937_64 rng{n * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(ranks)};
  std::vector<std::size_t> cuts{0, n};
  for (int r = 1; r < ranks; ++r) { cuts.push_back(static_cast<std::size_t>(rng() % (n + 1))); }
  std::sort(cuts.begin(), cuts.end());
  return cuts;
}

template <class Runner>
std::pair<std::size_t, std::size_t> driven_range(Runner const& runner, std::size_t n) {
  auto const cuts = slice_cuts(n, runner.ranks());
  auto const d = runner.driven();
  return {cuts[static_cast<std::size_t>(d.front())], cuts[static_cast<std::size_t>(d.back()) + 1]};
}

/// Every driven rank reports the same global count (mutations): return it.
inline std::size_t agreed(std::vector<std::uint64_t> const& per_rank) {
  for (auto v : per_rank) { EXPECT_EQ(v, per_rank.front()) << "ranks disagree on a global count"; }
  return static_cast<std::size_t>(per_rank.front());
}
inline std::size_t summed(std::vector<std::uint64_t> const& per_rank) {
  std::uint64_t s = 0;
  for (auto v : per_rank) { s += v; }
  return static_cast<std::size_t>(s);
}

template <class K, class V, class Probing, class Runner>
struct sharded_map_target {
  using map_t = warp::distributed::sharded_map<K, V, Probing>;
  Runner& runner;
  std::vector<std::unique_ptr<map_t>> maps;  // indexed by rank (null for ranks another process drives)
  std::size_t shard_capacity;

  sharded_map_target(Runner& r, std::size_t capacity, K empty, V missing, K erased) : runner{r}, shard_capacity{capacity} {
    maps.resize(static_cast<std::size_t>(runner.ranks()));
    for (int rank : runner.driven()) {
      maps[static_cast<std::size_t>(rank)] = std::make_unique<map_t>(
          runner.comm(rank), capacity, warp::empty_key{empty}, warp::empty_value{missing}, warp::erased_key{erased});
    }
  }
  map_t& at(int rank) { return *maps[static_cast<std::size_t>(rank)]; }

  std::pair<std::size_t, std::size_t> mine(std::size_t n) const { return driven_range(runner, n); }

  template <class Call>
  std::vector<std::uint64_t> sliced(std::size_t n, Call call) {
    auto const cuts = slice_cuts(n, runner.ranks());
    return runner.each([&](int r) -> std::uint64_t {
      std::size_t const lo = cuts[static_cast<std::size_t>(r)], hi = cuts[static_cast<std::size_t>(r) + 1];
      return call(at(r), lo, hi);
    });
  }
  std::size_t insert(K const* k, V const* v, std::size_t n) {
    return agreed(sliced(n, [&](map_t& m, std::size_t lo, std::size_t hi) { return m.insert(k + lo, k + hi, v + lo); }));
  }
  std::size_t insert_or_assign(K const* k, V const* v, std::size_t n) {
    return agreed(sliced(n, [&](map_t& m, std::size_t lo, std::size_t hi) {
      return m.insert_or_assign(k + lo, k + hi, v + lo);
    }));
  }
  std::size_t insert_or_apply_plus(K const* k, V const* v, std::size_t n, warp::insert_outcome* out) {
    return agreed(sliced(n, [&](map_t& m, std::size_t lo, std::size_t hi) {
      return m.insert_or_apply(k + lo, k + hi, v + lo, warp::op::plus{}, out + lo);
    }));
  }
  std::size_t erase(K const* k, std::size_t n) {
    return agreed(sliced(n, [&](map_t& m, std::size_t lo, std::size_t hi) { return m.erase(k + lo, k + hi); }));
  }
  std::size_t find(K const* k, std::size_t n, V* out) {
    return summed(sliced(n, [&](map_t& m, std::size_t lo, std::size_t hi) { return m.find(k + lo, k + hi, out + lo); }));
  }
  std::size_t size() {
    return agreed(runner.each([&](int r) -> std::uint64_t { return at(r).size(); }));
  }
  // A shard must not overflow: leave room for the imbalance of a few thousand keys over P shards.
  bool room_for(std::size_t pairs) const {
    return pairs * 10 <= shard_capacity * static_cast<std::size_t>(runner.ranks()) * 6;
  }
  void rehash(std::size_t pairs) {  // local on every rank
    shard_capacity = pairs * 3 / (2 * static_cast<std::size_t>(runner.ranks())) + 64;
    for (int r : runner.driven()) { at(r).rehash(shard_capacity); }
  }
  bool ok() {
    return agreed(runner.each([&](int r) -> std::uint64_t { return at(r).status().ok() ? 1 : 0; })) == 1;
  }
};

template <class K, class V, class Probing, class Runner>
struct sharded_multimap_target {
  using map_t = warp::distributed::sharded_multimap<K, V, Probing>;
  Runner& runner;
  std::vector<std::unique_ptr<map_t>> maps;

  sharded_multimap_target(Runner& r, std::size_t capacity, K empty) : runner{r} {
    maps.resize(static_cast<std::size_t>(runner.ranks()));
    for (int rank : runner.driven()) {
      maps[static_cast<std::size_t>(rank)] = std::make_unique<map_t>(runner.comm(rank), capacity, warp::empty_key{empty});
    }
  }
  map_t& at(int rank) { return *maps[static_cast<std::size_t>(rank)]; }
  std::pair<std::size_t, std::size_t> mine(std::size_t n) const { return driven_range(runner, n); }

  std::size_t insert(K const* k, V const* v, std::size_t n) {
    auto const cuts = slice_cuts(n, runner.ranks());
    return agreed(runner.each([&](int r) -> std::uint64_t {
      return at(r).insert(k + cuts[static_cast<std::size_t>(r)], k + cuts[static_cast<std::size_t>(r) + 1],
                          v + cuts[static_cast<std::size_t>(r)]);
    }));
  }
  std::size_t size() {
    return agreed(runner.each([&](int r) -> std::uint64_t { return at(r).size(); }));
  }
  std::uint64_t count(K const* k, std::size_t n, std::uint64_t* counts) {
    auto const cuts = slice_cuts(n, runner.ranks());
    return summed(runner.each([&](int r) -> std::uint64_t {
      std::size_t const lo = cuts[static_cast<std::size_t>(r)], hi = cuts[static_cast<std::size_t>(r) + 1];
      return at(r).count(k + lo, k + hi, counts + lo);
    }));
  }
  // Each rank retrieves its slice; the slices' outputs are concatenated in rank order, offsets shifted.
  std::uint64_t retrieve(K const* k, std::size_t n, std::uint64_t* offsets, std::vector<V>& out) {
    auto const cuts = slice_cuts(n, runner.ranks());
    std::size_t const ranks = static_cast<std::size_t>(runner.ranks());
    std::vector<std::vector<V>> values(ranks);
    std::vector<std::vector<std::uint64_t>> local_offsets(ranks);
    auto const totals = runner.each([&](int r) -> std::uint64_t {
      std::size_t const lo = cuts[static_cast<std::size_t>(r)], hi = cuts[static_cast<std::size_t>(r) + 1];
      auto& vals = values[static_cast<std::size_t>(r)];
      auto& offs = local_offsets[static_cast<std::size_t>(r)];
      vals.resize(at(r).count(k + lo, k + hi));
      offs.resize(hi - lo + 1);
      return at(r).retrieve(k + lo, k + hi, offs.data(), vals.data(), vals.size());
    });
    out.clear();
    for (int r : runner.driven()) {
      std::size_t const lo = cuts[static_cast<std::size_t>(r)], hi = cuts[static_cast<std::size_t>(r) + 1];
      std::uint64_t const base = out.size();
      for (std::size_t i = lo; i <= hi; ++i) { offsets[i] = base + local_offsets[static_cast<std::size_t>(r)][i - lo]; }
      out.insert(out.end(), values[static_cast<std::size_t>(r)].begin(), values[static_cast<std::size_t>(r)].end());
    }
    return summed(totals);
  }
};

}  // namespace warp_test
