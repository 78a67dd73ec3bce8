// single_value_map: every bulk operation, on every configuration of the type matrix and backend.
#include "map_configs.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

using namespace warp_test;

namespace {

template <class C>
class MapBasic : public ::testing::Test {
 protected:
  using K = typename C::key;
  using V = typename C::value;
  void SetUp() override { WARP_SKIP_UNLESS_AVAILABLE(C::backend); }

  static std::vector<K> distinct_keys(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng{seed};
    std::vector<K> keys;
    std::unordered_set<K, std_hash> seen;
    while (keys.size() < n) {
      K const k = make_key<K>(rng());
      if (seen.insert(k).second) { keys.push_back(k); }
    }
    return keys;
  }
  /// Keys drawn with `seed`, values derived from them with salt seed + 1.
  struct pairs {
    std::vector<K> keys;
    std::vector<V> values;
  };
  static pairs draw(std::size_t n, std::uint64_t seed) {
    auto keys = distinct_keys(n, seed);
    auto values = values_for(keys, seed + 1);
    return {std::move(keys), std::move(values)};
  }
  /// Draws n pairs and inserts them into `map`.
  template <class Map>
  static pairs fill(Map& map, std::size_t n, std::uint64_t seed) {
    pairs p = draw(n, seed);
    map.insert(p.keys.begin(), p.keys.end(), p.values.begin());
    return p;
  }

  static std::vector<V> values_for(std::vector<K> const& keys, std::uint64_t salt) {
    std::vector<V> v(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) { v[i] = make_value<V>(std_hash{}(keys[i]) ^ salt); }
    return v;
  }
};
TYPED_TEST_SUITE(MapBasic, all_map_configs, config_names);

TYPED_TEST(MapBasic, InsertFindContainsAtLoad099WithOddCapacity) {
  using K = typename TypeParam::key;
  using V = typename TypeParam::value;
  auto map = TypeParam::make(12345);
  ASSERT_GE(map.capacity(), 12345u);
  std::size_t const n = map.capacity() * 99 / 100;
  auto const keys = this->distinct_keys(n + 1000, 1);
  std::vector<K> present(keys.begin(), keys.begin() + n), absent(keys.begin() + n, keys.end());
  auto const values = this->values_for(present, 0);
  EXPECT_EQ(map.insert(present.begin(), present.end(), values.begin()), n);
  EXPECT_TRUE(map.status().ok());
  EXPECT_EQ(map.size(), n);
  EXPECT_NEAR(map.load_factor(), 0.99, 0.01);

  std::vector<V> found(n);
  EXPECT_EQ(map.find(present.data(), present.data() + n, found.data()), n);
  for (std::size_t i = 0; i < n; ++i) { ASSERT_EQ(found[i], values[i]) << "key index " << i; }
  std::vector<V> missing(absent.size());
  EXPECT_EQ(map.find(absent.data(), absent.data() + absent.size(), missing.data()), 0u);
  for (V const& v : missing) { ASSERT_EQ(v, TypeParam::missing()); }
  std::unique_ptr<bool[]> flags{new bool[absent.size()]};
  EXPECT_EQ(map.contains(absent.data(), absent.data() + absent.size(), flags.get()), 0u);
  std::unique_ptr<bool[]> hits{new bool[n]};
  EXPECT_EQ(map.contains(present.data(), present.data() + n, hits.get()), n);
  for (std::size_t i = 0; i < n; ++i) { ASSERT_TRUE(hits[i]); }
}

TYPED_TEST(MapBasic, DuplicatesWithHighMultiplicityLeaveOneEntryEach) {
  using K = typename TypeParam::key;
  auto map = TypeParam::make(4096);
  auto const distinct = this->distinct_keys(500, 2);
  std::vector<K> keys;
  for (int rep = 0; rep < 64; ++rep) { keys.insert(keys.end(), distinct.begin(), distinct.end()); }
  std::shuffle(keys.begin(), keys.end(), std::mt19937_64{3});
  auto const values = this->values_for(keys, 0);  // equal keys carry equal values
  std::vector<warp::insert_outcome> outcomes(keys.size());
  EXPECT_EQ(map.insert(keys.begin(), keys.end(), values.begin(), outcomes.data()), distinct.size());
  std::map<warp::insert_outcome, std::size_t> tally;
  for (auto o : outcomes) { ++tally[o]; }
  EXPECT_EQ(tally[warp::insert_outcome::inserted], distinct.size());
  EXPECT_EQ(tally[warp::insert_outcome::already_present], keys.size() - distinct.size());
  EXPECT_EQ(map.size(), distinct.size());
  std::vector<K> all_keys(map.size());
  std::vector<typename TypeParam::value> all_values(map.size());
  ASSERT_EQ(map.retrieve_all(all_keys.data(), all_values.data()), distinct.size());
  std::unordered_set<K, std_hash> unique(all_keys.begin(), all_keys.end());
  EXPECT_EQ(unique.size(), distinct.size());
}

TYPED_TEST(MapBasic, FullTableReportsNoRoomAndLosesNothing) {
  using K = typename TypeParam::key;
  using V = typename TypeParam::value;
  auto map = TypeParam::make(100);
  std::size_t const cap = map.capacity();
  auto const [keys, values] = this->draw(3 * cap, 4);
  std::vector<warp::insert_outcome> outcomes(keys.size());
  EXPECT_EQ(map.insert(keys.begin(), keys.end(), values.begin(), outcomes.data()), cap);
  EXPECT_TRUE(map.status().no_room());
  EXPECT_EQ(map.size(), cap);
  std::vector<V> found(keys.size());
  map.find(keys.data(), keys.data() + keys.size(), found.data());
  std::size_t inserted = 0, refused = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (outcomes[i] == warp::insert_outcome::inserted) {
      ++inserted;
      ASSERT_EQ(found[i], values[i]) << "an acknowledged insert was lost";
    } else {
      ASSERT_EQ(outcomes[i], warp::insert_outcome::no_room);
      ASSERT_EQ(found[i], TypeParam::missing());
      ++refused;
    }
  }
  EXPECT_EQ(inserted, cap);
  EXPECT_EQ(refused, keys.size() - cap);
  // Growing makes room; the sticky status stays until cleared.
  map.rehash(4 * cap);
  EXPECT_TRUE(map.status().no_room());
  map.clear_status();
  EXPECT_TRUE(map.status().ok());
  EXPECT_EQ(map.insert(keys.begin(), keys.end(), values.begin()), keys.size() - cap);
  EXPECT_EQ(map.size(), keys.size());
}

TYPED_TEST(MapBasic, SentinelKeysAsDataAreInvalid) {
  using K = typename TypeParam::key;
  using V = typename TypeParam::value;
  auto map = TypeParam::make(256);
  auto keys = this->distinct_keys(50, 6);
  keys.push_back(sentinels<K>::empty());
  keys.push_back(sentinels<K>::erased());
  auto const values = this->values_for(keys, 7);
  std::vector<warp::insert_outcome> outcomes(keys.size());
  EXPECT_EQ(map.insert(keys.begin(), keys.end(), values.begin(), outcomes.data()), 50u);
  EXPECT_EQ(outcomes[50], warp::insert_outcome::invalid_key);
  EXPECT_EQ(outcomes[51], warp::insert_outcome::invalid_key);
  EXPECT_TRUE(map.status().invalid_key());
  EXPECT_FALSE(map.status().no_room());
  EXPECT_EQ(map.size(), 50u);
  std::vector<V> found(keys.size());
  EXPECT_EQ(map.find(keys.data(), keys.data() + keys.size(), found.data()), 50u);
  EXPECT_EQ(found[50], TypeParam::missing());
  EXPECT_EQ(map.erase(keys.end() - 2, keys.end()), 0u);
  map.clear();
  EXPECT_TRUE(map.status().ok());
  EXPECT_EQ(map.size(), 0u);
}

TYPED_TEST(MapBasic, EraseThenReinsertAndTombstonesStayBounded) {
  using K = typename TypeParam::key;
  using V = typename TypeParam::value;
  auto map = TypeParam::make(2000);
  auto const [keys, values] = this->fill(map, 1500, 8);
  std::vector<K> gone(keys.begin(), keys.begin() + 700), kept(keys.begin() + 700, keys.end());
  EXPECT_EQ(map.erase(gone.begin(), gone.end()), gone.size());
  EXPECT_EQ(map.erase(gone.begin(), gone.end()), 0u);  // already erased
  EXPECT_EQ(map.size(), kept.size());
  std::unique_ptr<bool[]> flags{new bool[keys.size()]};
  EXPECT_EQ(map.contains(keys.data(), keys.data() + keys.size(), flags.get()), kept.size());
  for (std::size_t i = 0; i < keys.size(); ++i) { ASSERT_EQ(flags[i], i >= 700) << i; }
  // Reinsert the erased keys with new values: they must be found with the new values, once.
  auto const new_values = this->values_for(gone, 10);
  EXPECT_EQ(map.insert(gone.begin(), gone.end(), new_values.begin()), gone.size());
  EXPECT_EQ(map.size(), keys.size());
  std::vector<V> found(gone.size());
  map.find(gone.data(), gone.data() + gone.size(), found.data());
  for (std::size_t i = 0; i < gone.size(); ++i) { ASSERT_EQ(found[i], new_values[i]); }
  // Many erase/insert cycles: tombstones never exceed a quarter of the table, plus the sixteenth
  // that erases may add between two counts, plus one batch.
  for (int cycle = 0; cycle < 10; ++cycle) {
    auto const fresh = this->fill(map, 300, 100 + cycle).keys;
    map.erase(fresh.begin(), fresh.end());
    EXPECT_LE(map.tombstones(), map.capacity() / 4 + map.capacity() / 16 + fresh.size());
  }
  EXPECT_EQ(map.size(), keys.size());
  map.rehash();
  EXPECT_EQ(map.tombstones(), 0u);
  EXPECT_EQ(map.size(), keys.size());
}

TYPED_TEST(MapBasic, RehashGrowthKeepsEverything) {
  using V = typename TypeParam::value;
  auto map = TypeParam::make(1000);
  auto const [keys, values] = this->fill(map, map.capacity() * 9 / 10, 12);
  std::size_t const old_capacity = map.capacity();
  map.rehash(3 * old_capacity + 7);
  EXPECT_GE(map.capacity(), 3 * old_capacity + 7);
  EXPECT_EQ(map.size(), keys.size());
  std::vector<V> found(keys.size());
  EXPECT_EQ(map.find(keys.data(), keys.data() + keys.size(), found.data()), keys.size());
  EXPECT_EQ(found, values);
}

template <class V>
struct sum_values {
  unsigned long long* total;
  template <class K>
  WARP_HD void operator()(K const&, V const& v) const {
    cuda::atomic_ref<unsigned long long, cuda::thread_scope_device> ref{*total};
    ref.fetch_add(static_cast<unsigned long long>(static_cast<long long>(v)), cuda::std::memory_order_relaxed);
  }
};

TYPED_TEST(MapBasic, RetrieveAllAndForEachVisitEveryPairOnce) {
  using K = typename TypeParam::key;
  using V = typename TypeParam::value;
  auto map = TypeParam::make(3000);
  auto const [keys, values] = this->fill(map, 2000, 14);
  std::vector<K> out_keys(map.size());
  std::vector<V> out_values(map.size());
  ASSERT_EQ(map.retrieve_all(out_keys.data(), out_values.data()), keys.size());
  std::unordered_map<K, V, std_hash> expected;
  unsigned long long expected_sum = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    expected[keys[i]] = values[i];
    expected_sum += static_cast<unsigned long long>(static_cast<long long>(values[i]));
  }
  for (std::size_t i = 0; i < out_keys.size(); ++i) {
    auto it = expected.find(out_keys[i]);
    ASSERT_NE(it, expected.end());
    ASSERT_EQ(it->second, out_values[i]);
    expected.erase(it);
  }
  EXPECT_TRUE(expected.empty());

  warp::detail::buffer<unsigned long long> total{TypeParam::backend, 1, warp::default_stream()};
  unsigned long long zero = 0;
  warp::detail::copy_bytes(TypeParam::backend, total.data(), &zero, sizeof(zero), warp::default_stream());
  EXPECT_EQ(map.for_each(sum_values<V>{total.data()}), keys.size());
  unsigned long long got = 0;
  warp::detail::copy_bytes(TypeParam::backend, &got, total.data(), sizeof(got), warp::default_stream());
  warp::detail::synchronize(TypeParam::backend, warp::default_stream());
  EXPECT_EQ(got, expected_sum);
}

TYPED_TEST(MapBasic, AsyncTwinsBackendArraysAndIterators) {
  using K = typename TypeParam::key;
  using V = typename TypeParam::value;
  auto map = TypeParam::make(5000);
  constexpr std::size_t n = 3000;
  generated_keys<K> const first{0};
  // Values live in the backend's own memory (device memory on CUDA).
  cuda::stream_ref const stream = warp::default_stream();
  std::vector<V> host_values(n);
  for (std::size_t i = 0; i < n; ++i) { host_values[i] = make_value<V>(i * 31); }
  warp::detail::buffer<V> values{TypeParam::backend, n, stream};
  warp::detail::copy_bytes(TypeParam::backend, values.data(), host_values.data(), n * sizeof(V), stream);
  map.insert_async(first, first + n, values.data(), nullptr, stream);
  warp::detail::buffer<V> found{TypeParam::backend, n, stream};
  map.find_async(first, first + n, found.data(), stream);
  std::vector<V> got(n);
  warp::detail::copy_bytes(TypeParam::backend, got.data(), found.data(), n * sizeof(V), stream);
  warp::detail::synchronize(TypeParam::backend, stream);
  EXPECT_EQ(got, host_values);
  map.insert_or_assign_async(first, first + n, values.data(), nullptr, stream);
  map.erase_async(first, first + n / 2, stream);
  EXPECT_EQ(map.size(stream), n - n / 2);
  map.clear_async(stream);
  EXPECT_EQ(map.size(stream), 0u);
}

TYPED_TEST(MapBasic, WithoutErasedSentinelEverythingButEraseWorks) {
  using V = typename TypeParam::value;
  auto map = TypeParam::make(300, false);
  auto const [keys, values] = this->draw(200, 16);
  EXPECT_EQ(map.insert_or_assign(keys.begin(), keys.end(), values.begin()), 200u);
  std::vector<V> found(200);
  EXPECT_EQ(map.find(keys.data(), keys.data() + 200, found.data()), 200u);
  EXPECT_EQ(found, values);
  EXPECT_THROW(map.erase(keys.begin(), keys.end()), warp::logic_error);
  EXPECT_GE(map.memory_bytes(), map.capacity() * (sizeof(typename TypeParam::key) + sizeof(V)));
}

// A 64-slot u64 table of 8-slot windows, and keys picked by their home window (the table's own
// hasher and window count), for the erase tests.
template <class Probing>
warp::single_value_map<std::uint64_t, std::uint64_t, Probing> small_erase_map() {
  return {warp::sizing{64, 1.0}, warp::empty_key<std::uint64_t>{~0ull}, warp::empty_value<std::uint64_t>{~0ull},
          warp::erased_key<std::uint64_t>{~0ull - 1}, warp::backend::host};
}
constexpr std::size_t erase_map_window = 8;
template <class Map>
std::vector<std::uint64_t> keys_homed_at(Map const& map, std::size_t w, std::size_t n, std::uint64_t from) {
  std::size_t const windows = map.capacity() / erase_map_window;
  auto const hasher = map.hash_function();
  std::vector<std::uint64_t> out;
  for (std::uint64_t k = from; out.size() < n; ++k) {
    if (warp::hash::detail::reduce_to_range(hasher(k), windows) == w) { out.push_back(k); }
  }
  return out;
}

// Erase empties a slot whose window already holds an empty slot, and leaves a tombstone only in a
// full window, whose keys' walks (and those of keys that spilled past it) must go on through it.
// Keys are picked by their home window (the table's own hasher and window count).
TEST(MapErase, EmptiesSlotsInWindowsWithRoomAndTombstonesOnlyFullWindows) {
  auto map = small_erase_map<warp::linear_probing<4, 2>>();
  ASSERT_GE(map.capacity() / erase_map_window, 4u);
  // Window 1 holds 8 of the 11 keys homed there; 3 spill into window 2, which also holds 1 key of its own.
  auto const crowd = keys_homed_at(map, 1, 11, 0);
  auto const own = keys_homed_at(map, 2, 1, 1u << 20);
  std::vector<std::uint64_t> all = crowd;
  all.push_back(own[0]);
  ASSERT_EQ(map.insert_or_assign(all.begin(), all.end(), all.begin()), all.size());
  auto all_found = [&](std::vector<std::uint64_t> const& present) {
    std::vector<std::uint64_t> got(present.size());
    map.find(present.data(), present.data() + present.size(), got.data());
    return got == present;
  };
  // Window 2 has empty slots: its own key's slot becomes empty, no tombstone.
  ASSERT_EQ(map.erase(own.begin(), own.end()), 1u);
  EXPECT_EQ(map.tombstones(), 0u);
  std::vector<std::uint64_t> present = crowd;
  EXPECT_TRUE(all_found(present));
  // Window 1 is full: erasing one of its keys leaves a tombstone, and the spilled keys (walking
  // through window 1) are still found.
  std::uint64_t const first = crowd[0];
  ASSERT_EQ(map.erase(&first, &first + 1), 1u);
  EXPECT_EQ(map.tombstones(), 1u);
  present.erase(present.begin());
  EXPECT_TRUE(all_found(present));
  // A spilled key sits in window 2 (room): emptied.
  std::uint64_t const spilled = crowd.back();
  ASSERT_EQ(map.erase(&spilled, &spilled + 1), 1u);
  EXPECT_EQ(map.tombstones(), 1u);
  present.pop_back();
  EXPECT_TRUE(all_found(present));
  // A new key homed at window 1 takes the tombstone.
  auto const again = keys_homed_at(map, 1, 1, 1u << 24);
  ASSERT_EQ(map.insert_or_assign(again.begin(), again.end(), again.begin()), 1u);
  EXPECT_EQ(map.tombstones(), 0u);
  present.push_back(again[0]);
  EXPECT_TRUE(all_found(present));
  EXPECT_EQ(map.size(), present.size());
}

// With linear probing that reads the next window on erase, a full window is emptied into when the
// next window holds an empty slot and only its own keys (no walk crosses the full one); with a key
// spilled into it, the erase leaves a tombstone so that the spilled key stays reachable. Without
// the option, the first erase leaves a tombstone too.
TEST(MapErase, FullWindowIsEmptiedIntoWhenNoKeySpilledPastIt) {
  auto map = small_erase_map<warp::linear_probing<4, 2, void, true>>();
  ASSERT_GE(map.capacity() / erase_map_window, 4u);
  auto found = [&](std::vector<std::uint64_t> const& keys) {
    std::vector<std::uint64_t> got(keys.size());
    return map.find(keys.data(), keys.data() + keys.size(), got.data()) == keys.size() && got == keys;
  };
  // Window 1 full of its own keys; window 2 holds one key of its own and empty slots.
  std::vector<std::uint64_t> present = keys_homed_at(map, 1, erase_map_window, 0);
  present.push_back(keys_homed_at(map, 2, 1, 1u << 20)[0]);
  ASSERT_EQ(map.insert(present.begin(), present.end(), present.begin()), present.size());
  ASSERT_EQ(map.erase(present.begin(), present.begin() + 1), 1u);
  EXPECT_EQ(map.tombstones(), 0u);
  {
    auto plain = small_erase_map<warp::linear_probing<4, 2>>();
    ASSERT_EQ(plain.capacity(), map.capacity());  // the same hasher and windows: the same layout
    ASSERT_EQ(plain.insert(present.begin(), present.end(), present.begin()), present.size());
    ASSERT_EQ(plain.erase(present.begin(), present.begin() + 1), 1u);
    EXPECT_EQ(plain.tombstones(), 1u);
  }
  present.erase(present.begin());
  EXPECT_TRUE(found(present));
  // Two more keys homed at window 1: one takes the emptied slot, one spills into window 2.
  auto const more = keys_homed_at(map, 1, 2, 1u << 24);
  ASSERT_EQ(map.insert(more.begin(), more.end(), more.begin()), 2u);
  present.insert(present.end(), more.begin(), more.end());
  ASSERT_EQ(map.erase(present.begin(), present.begin() + 1), 1u);
  EXPECT_EQ(map.tombstones(), 1u);
  present.erase(present.begin());
  EXPECT_TRUE(found(present));
  EXPECT_EQ(map.size(), present.size());
}

// Bulk erase counts what it erased, and the table learns how many tombstones each call left (the
// two counts travel in one 64-bit sum): in a full table every erase leaves one, and the erase that
// brings them to a quarter of the capacity rehashes the table in place.
TEST(MapErase, CountsErasesAndRehashesWhenTombstonesReachAQuarter) {
  auto map = small_erase_map<warp::linear_probing<4, 2>>();
  std::size_t const capacity = map.capacity();
  std::vector<std::uint64_t> keys(capacity);
  for (std::size_t i = 0; i < capacity; ++i) { keys[i] = 1000 + 7 * i; }
  ASSERT_EQ(map.insert(keys.begin(), keys.end(), keys.begin()), capacity);  // every window full
  // One call: three present keys, two absent ones, one present key twice.
  std::vector<std::uint64_t> const first_call{keys[0], 5, keys[1], 6, keys[2], keys[2]};
  EXPECT_EQ(map.erase(first_call.begin(), first_call.end()), 3u);
  EXPECT_EQ(map.tombstones(), 3u);
  std::size_t erased = 3;
  for (; erased + 1 < capacity / 4; ++erased) {
    ASSERT_EQ(map.erase(&keys[erased], &keys[erased] + 1), 1u);
    ASSERT_EQ(map.tombstones(), erased + 1);
  }
  // The tombstone that makes a quarter: rehashed, none left, the rest all there.
  ASSERT_EQ(map.erase(&keys[erased], &keys[erased] + 1), 1u);
  ++erased;
  EXPECT_EQ(map.tombstones(), 0u);
  EXPECT_EQ(map.size(), capacity - erased);
  std::vector<std::uint64_t> rest(keys.begin() + static_cast<std::ptrdiff_t>(erased), keys.end());
  std::vector<std::uint64_t> got(rest.size());
  EXPECT_EQ(map.find(rest.data(), rest.data() + rest.size(), got.data()), rest.size());
  EXPECT_EQ(got, rest);
}

}  // namespace
