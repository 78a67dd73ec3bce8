// The differential tests of the single-value and multi-value maps, written once against a
// "target" so that the same sequences check one map, P in-process shards and P MPI processes.
//
// A target applies whole batches. Mutations return the count for the whole batch (a sharded
// target sums its ranks'); lookups fill results only for the positions target.mine(n) returns
// (all of them, except in an MPI process, which sees its own rank's slice) and return the hits
// there. Single-value targets provide:
//   std::pair<size_t, size_t> mine(size_t n)
//   size_t insert(K const*, V const*, size_t n), insert_or_assign(...),
//   size_t insert_or_apply_plus(K const*, V const*, size_t n, insert_outcome* out)
//   size_t erase(K const*, size_t n);  size_t find(K const*, size_t n, V* out)
//   size_t size();  bool room_for(size_t pairs);  void rehash(size_t pairs);  bool ok()
// Multi-value targets provide mine, insert, size, and
//   uint64_t count(K const*, size_t n, uint64_t* counts)                 (counts for mine)
//   uint64_t retrieve(K const*, size_t n, uint64_t* offsets, std::vector<V>& out)
//     offsets[lo .. hi] for mine = [lo, hi), offsets[lo] = 0; out sized by the target
#pragma once

#include "test_common.hpp"

#include <algorithm>
#include <random>
#include <unordered_map>
#include <utility>
#include <vector>

namespace warp_test {

/// Random insert / assign / apply (sum) / erase / rehash sequences over a small key universe (so
/// that operations collide), each round followed by a lookup of the whole universe, against
/// std::unordered_map.
template <class K, class V, class Target>
void run_map_sequence(Target& target, V missing, std::uint64_t seed = 424242, int rounds = 60,
                      std::size_t universe_size = 3000, std::size_t max_batch = 1500) {
  std::mt19937_64 rng{seed};
  std::vector<K> universe(universe_size);
  for (std::size_t i = 0; i < universe.size(); ++i) { universe[i] = make_key<K>(warp::hash::fmix64(i + 17)); }
  std::unordered_map<K, V, std_hash> reference;

  auto check_all = [&](int round) {
    std::vector<V> found(universe.size(), missing);
    std::size_t const hits = target.find(universe.data(), universe.size(), found.data());
    auto const [lo, hi] = target.mine(universe.size());
    std::size_t expected_hits = 0;
    for (std::size_t i = lo; i < hi; ++i) {
      auto it = reference.find(universe[i]);
      V const expected = it == reference.end() ? missing : it->second;
      expected_hits += it != reference.end();
      ASSERT_EQ(found[i], expected) << "round " << round << " key index " << i;
    }
    ASSERT_EQ(hits, expected_hits) << "round " << round;
    ASSERT_EQ(target.size(), reference.size()) << "round " << round;
  };

  for (int round = 0; round < rounds; ++round) {
    std::size_t const batch = 1 + rng() % max_batch;
    std::vector<K> keys(batch);
    std::vector<V> values(batch);
    for (std::size_t i = 0; i < batch; ++i) { keys[i] = universe[rng() % universe.size()]; }
    int const op = static_cast<int>(rng() % 5);
    // Duplicated keys within a batch carry the same value for insert and assign, so that the
    // result does not depend on which thread wins; sums are exact for any order.
    std::uint64_t const salt = rng();
    for (std::size_t i = 0; i < batch; ++i) {
      values[i] = op == 2 ? make_value<V>(rng()) : make_value<V>(std_hash{}(keys[i]) ^ salt);
    }
    // Grow before the table would overflow (as a user of a bounded table does).
    if (op <= 2 && !target.room_for(reference.size() + batch)) { target.rehash(2 * (reference.size() + batch)); }
    std::size_t expected_new = 0;
    switch (op) {
      case 0:  // insert
        for (std::size_t i = 0; i < batch; ++i) { expected_new += reference.emplace(keys[i], values[i]).second; }
        ASSERT_EQ(target.insert(keys.data(), values.data(), batch), expected_new);
        break;
      case 1:  // insert_or_assign
        for (std::size_t i = 0; i < batch; ++i) {
          expected_new += reference.count(keys[i]) == 0;
          reference[keys[i]] = values[i];
        }
        ASSERT_EQ(target.insert_or_assign(keys.data(), values.data(), batch), expected_new);
        break;
      case 2: {  // insert_or_apply with +
        std::vector<warp::insert_outcome> outcomes(batch, warp::insert_outcome::no_room);
        std::vector<bool> first_time(batch);
        for (std::size_t i = 0; i < batch; ++i) {
          auto [it, added] = reference.emplace(keys[i], values[i]);
          if (!added) { it->second = it->second + values[i]; }
          expected_new += added;
        }
        ASSERT_EQ(target.insert_or_apply_plus(keys.data(), values.data(), batch, outcomes.data()), expected_new);
        // Each new key is reported inserted exactly once among its occurrences (seen here, or
        // for a sharded target's MPI process, in its own slice: at most once).
        auto const [lo, hi] = target.mine(batch);
        std::unordered_map<K, int, std_hash> reported;
        for (std::size_t i = lo; i < hi; ++i) {
          ASSERT_TRUE(outcomes[i] == warp::insert_outcome::inserted || outcomes[i] == warp::insert_outcome::already_present)
              << "round " << round << " key " << i;
          reported[keys[i]] += outcomes[i] == warp::insert_outcome::inserted;
        }
        std::size_t reported_new = 0;
        for (auto const& [k, times] : reported) {
          ASSERT_LE(times, 1) << "round " << round;
          reported_new += static_cast<std::size_t>(times);
        }
        if (hi - lo == batch) { ASSERT_EQ(reported_new, expected_new) << "round " << round; }
        break;
      }
      case 3: {  // erase
        std::size_t expected_erased = 0;
        for (std::size_t i = 0; i < batch; ++i) { expected_erased += reference.erase(keys[i]); }
        ASSERT_EQ(target.erase(keys.data(), batch), expected_erased);
        break;
      }
      case 4:  // rehash to a random capacity that still fits
        target.rehash(reference.size() + 1 + rng() % 4000);
        break;
    }
    ASSERT_TRUE(target.ok()) << "round " << round;
    ASSERT_NO_FATAL_FAILURE(check_all(round));
  }
}

/// Inserts the pairs (in two halves), then checks count and retrieve of `queries` against
/// std::unordered_multimap (values compared as sorted lists per key).
template <class K, class V, class Target>
void check_multimap(Target& target, std::vector<K> const& keys, std::vector<V> const& values,
                    std::vector<K> const& queries) {
  std::size_t const half = keys.size() / 2;
  ASSERT_EQ(target.insert(keys.data(), values.data(), half) +
                target.insert(keys.data() + half, values.data() + half, keys.size() - half),
            keys.size());
  ASSERT_EQ(target.size(), keys.size());
  std::unordered_multimap<K, V, std_hash> reference;
  for (std::size_t i = 0; i < keys.size(); ++i) { reference.emplace(keys[i], values[i]); }

  auto const [lo, hi] = target.mine(queries.size());
  std::vector<std::uint64_t> counts(queries.size());
  std::uint64_t const total = target.count(queries.data(), queries.size(), counts.data());
  std::uint64_t expected_total = 0;
  for (std::size_t i = lo; i < hi; ++i) {
    ASSERT_EQ(counts[i], reference.count(queries[i])) << "query " << i;
    expected_total += counts[i];
  }
  ASSERT_EQ(total, expected_total);

  std::vector<std::uint64_t> offsets(queries.size() + 1);
  std::vector<V> out;
  ASSERT_EQ(target.retrieve(queries.data(), queries.size(), offsets.data(), out), total);
  ASSERT_EQ(offsets[lo], 0u);
  ASSERT_EQ(offsets[hi], total);
  for (std::size_t i = lo; i < hi; ++i) {
    std::vector<V> got(out.begin() + static_cast<std::ptrdiff_t>(offsets[i]),
                       out.begin() + static_cast<std::ptrdiff_t>(offsets[i + 1]));
    std::vector<V> want;
    auto const range = reference.equal_range(queries[i]);
    for (auto it = range.first; it != range.second; ++it) { want.push_back(it->second); }
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    ASSERT_EQ(got, want) << "query " << i;
  }
}

/// The single-value target for one map (any container with the single_value_map bulk API).
template <class Map>
struct single_map_target {
  using K = typename Map::key_type;
  using V = typename Map::mapped_type;
  Map& map;
  std::pair<std::size_t, std::size_t> mine(std::size_t n) const { return {0, n}; }
  std::size_t insert(K const* k, V const* v, std::size_t n) { return map.insert(k, k + n, v); }
  std::size_t insert_or_assign(K const* k, V const* v, std::size_t n) { return map.insert_or_assign(k, k + n, v); }
  std::size_t insert_or_apply_plus(K const* k, V const* v, std::size_t n, warp::insert_outcome* out) {
    return map.insert_or_apply(k, k + n, v, warp::op::plus{}, out);
  }
  std::size_t erase(K const* k, std::size_t n) { return map.erase(k, k + n); }
  std::size_t find(K const* k, std::size_t n, V* out) { return map.find(k, k + n, out); }
  std::size_t size() { return map.size(); }
  bool room_for(std::size_t pairs) const { return pairs <= map.capacity() * 9 / 10; }
  void rehash(std::size_t pairs) { map.rehash(pairs); }
  bool ok() { return map.status().ok(); }
};

/// The multi-value target for one multi_value_map.
template <class Map>
struct single_multimap_target {
  using K = typename Map::key_type;
  using V = typename Map::mapped_type;
  Map& map;
  std::pair<std::size_t, std::size_t> mine(std::size_t n) const { return {0, n}; }
  std::size_t insert(K const* k, V const* v, std::size_t n) { return map.insert(k, k + n, v); }
  std::size_t size() { return map.size(); }
  std::uint64_t count(K const* k, std::size_t n, std::uint64_t* counts) { return map.count(k, k + n, counts); }
  std::uint64_t retrieve(K const* k, std::size_t n, std::uint64_t* offsets, std::vector<V>& out) {
    out.resize(map.count(k, k + n));
    return map.retrieve(k, k + n, offsets, out.data(), out.size());
  }
};

}  // namespace warp_test
