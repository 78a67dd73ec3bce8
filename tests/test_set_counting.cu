// hash_set and counting_map on both backends: differential tests against std::unordered_set and a
// counting std::unordered_map (random and Zipf-skewed inputs, multiplicities up to 10^5), per-key
// outcomes, sentinels, full tables, saturation, device refs (run through the library's executor,
// so the same test drives a CUDA kernel or the OpenMP loop).
#include "test_common.hpp"

#include <algorithm>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <vector>

using namespace warp_test;

namespace {

template <class K, class P, class B>
using set_config = container_config<K, void, P, B>;

template <class C>
class HashSet : public ::testing::Test {
 protected:
  using K = typename C::key;
  using set_t = warp::hash_set<K, typename C::probing>;
  void SetUp() override { WARP_SKIP_UNLESS_AVAILABLE(C::backend); }
  set_t make(std::size_t capacity) const {
    return set_t{capacity, warp::empty_key<K>{sentinels<K>::empty()}, warp::erased_key<K>{sentinels<K>::erased()}, C::backend};
  }
};

#define WARP_SET_CONFIGS(B)                                                                                    \
  set_config<std::uint32_t, warp::linear_probing<1, 1>, B>, set_config<std::uint64_t, warp::linear_probing<4, 2>, B>, \
      set_config<std::uint32_t, warp::double_hashing<8, 1>, B>, set_config<key128, warp::linear_probing<2, 2>, B>
using set_configs = ::testing::Types<WARP_SET_CONFIGS(host_backend), WARP_SET_CONFIGS(cuda_backend)>;
TYPED_TEST_SUITE(HashSet, set_configs, container_names);

TYPED_TEST(HashSet, RandomOperationSequencesMatchStdUnorderedSet) {
  using K = typename TestFixture::K;
  auto set = this->make(3000);
  std::unordered_set<K, std_hash> reference;
  std::mt19937_64 rng{7};
  for (int round = 0; round < 12; ++round) {
    std::vector<K> batch(500);
    for (auto& k : batch) { k = make_key<K>(rng() % 2000); }  // many repeats within and across batches
    std::size_t expected_new = 0;
    for (K k : batch) { expected_new += reference.insert(k).second ? 1 : 0; }
    ASSERT_EQ(set.insert(batch.begin(), batch.end()), expected_new) << "round " << round;

    std::vector<K> doomed(150);
    for (auto& k : doomed) { k = make_key<K>(rng() % 2000); }
    std::size_t expected_erased = 0;
    for (K k : doomed) { expected_erased += reference.erase(k); }
    ASSERT_EQ(set.erase(doomed.begin(), doomed.end()), expected_erased) << "round " << round;

    std::vector<K> queries(400);
    for (auto& k : queries) { k = make_key<K>(rng() % 2500); }
    std::vector<char> found(queries.size());
    set.contains(queries.begin(), queries.end(), reinterpret_cast<bool*>(found.data()));
    for (std::size_t i = 0; i < queries.size(); ++i) {
      ASSERT_EQ(found[i] != 0, reference.count(queries[i]) == 1) << "round " << round << " query " << i;
    }
    ASSERT_EQ(set.size(), reference.size());
  }
  std::vector<K> all(set.size());
  ASSERT_EQ(set.retrieve_all(all.data()), reference.size());
  std::unordered_set<K, std_hash> const retrieved(all.begin(), all.end());
  EXPECT_EQ(retrieved.size(), all.size()) << "a key was retrieved twice";
  EXPECT_TRUE(retrieved == reference);
}

TYPED_TEST(HashSet, OutcomesSentinelsAndFullSet) {
  using K = typename TestFixture::K;
  auto set = this->make(64);
  std::size_t const capacity = set.capacity();
  std::vector<K> keys;
  for (std::size_t i = 0; i < capacity + 40; ++i) { keys.push_back(make_key<K>(1000 + i)); }
  keys.push_back(keys[3]);                // already present
  keys.push_back(sentinels<K>::empty());  // invalid
  keys.push_back(sentinels<K>::erased());
  std::vector<warp::insert_outcome> outcomes(keys.size());
  std::size_t const added = set.insert(keys.begin(), keys.end(), outcomes.data());
  EXPECT_EQ(added, capacity) << "a full set must still take exactly its capacity";
  std::size_t no_room = 0, invalid = 0, present = 0;
  for (auto o : outcomes) {
    no_room += o == warp::insert_outcome::no_room;
    invalid += o == warp::insert_outcome::invalid_key;
    present += o == warp::insert_outcome::already_present;
  }
  EXPECT_GE(no_room, 40u) << "every key that did not fit is reported";
  EXPECT_EQ(no_room + present, keys.size() - capacity - 2);
  EXPECT_EQ(invalid, 2u);
  EXPECT_TRUE(set.status().no_room());
  EXPECT_TRUE(set.status().invalid_key());
  // Nothing inserted is lost: every key whose outcome is `inserted` is found.
  std::vector<K> inserted;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (outcomes[i] == warp::insert_outcome::inserted) { inserted.push_back(keys[i]); }
  }
  std::vector<char> found(inserted.size());
  EXPECT_EQ(set.contains(inserted.begin(), inserted.end(), reinterpret_cast<bool*>(found.data())), inserted.size());
  EXPECT_EQ(set.memory_bytes(), set.capacity() * sizeof(K) + sizeof(std::uint32_t)) << "slots are key-only";
}

/// Adds every visited key's low word to a counter on the set's backend.
template <class K>
struct sum_keys {
  unsigned long long* total;
  WARP_HD void operator()(K const& k) const {
    std::uint64_t word = 0;
    std::memcpy(&word, &k, sizeof(word) < sizeof(K) ? sizeof(word) : sizeof(K));
    cuda::atomic_ref<unsigned long long, cuda::thread_scope_device>{*total}.fetch_add(word & 0xffffffffull);
  }
};

/// Inserts keys[i] through the device ref, with a tile of the set's width.
template <class Ref, class K>
struct ref_insert {
  Ref set;
  K const* keys;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    return set.insert(tile, keys[i]) == warp::insert_outcome::inserted ? 1u : 0u;
  }
};

TYPED_TEST(HashSet, DeviceRefForEachAndRehash) {
  using K = typename TestFixture::K;
  constexpr auto where = TypeParam::backend;
  auto set = this->make(5000);
  std::vector<K> keys;
  std::unordered_set<K, std_hash> reference;
  for (std::uint64_t i = 0; i < 3000; ++i) {
    keys.push_back(make_key<K>(i * 7919 % 2000));
    reference.insert(keys.back());
  }
  auto const stream = warp::default_stream();
  warp::detail::buffer<K> device_keys{where, keys.size(), stream};
  warp::detail::copy_bytes(where, device_keys.data(), keys.data(), keys.size() * sizeof(K), stream);
  using ref_t = typename TestFixture::set_t::mutable_ref_type;
  auto const added = warp::detail::count_items<ref_t::tile_size>(warp::detail::executor{where, stream}, keys.size(),
                                                                  ref_insert<ref_t, K>{set.mutable_ref(), device_keys.data()});
  EXPECT_EQ(added, reference.size());
  EXPECT_EQ(set.size(), reference.size());

  warp::detail::buffer<unsigned long long> total{where, 1, stream};
  unsigned long long const zero = 0;
  warp::detail::copy_bytes(where, total.data(), &zero, sizeof(zero), stream);
  EXPECT_EQ(set.for_each(sum_keys<K>{total.data()}), reference.size());
  unsigned long long got = 0;
  warp::detail::copy_bytes(where, &got, total.data(), sizeof(got), stream);
  warp::detail::synchronize(where, stream);
  unsigned long long expected = 0;
  for (K k : reference) {
    std::uint64_t word = 0;
    std::memcpy(&word, &k, sizeof(word) < sizeof(K) ? sizeof(word) : sizeof(K));
    expected += word & 0xffffffffull;
  }
  EXPECT_EQ(got, expected);

  set.rehash(20000);
  EXPECT_GE(set.capacity(), 20000u);
  std::vector<char> found(keys.size());
  EXPECT_EQ(set.contains(keys.begin(), keys.end(), reinterpret_cast<bool*>(found.data())), keys.size());
}

// ---- counting_map ---------------------------------------------------------------------------------

template <class K, class C, class P, class B>
using counting_config = container_config<K, C, P, B>;

template <class C>
class CountingMap : public ::testing::Test {
 protected:
  using K = typename C::key;
  using N = typename C::value;  // the count type
  using map_t = warp::counting_map<K, N, typename C::probing>;
  void SetUp() override { WARP_SKIP_UNLESS_AVAILABLE(C::backend); }

  /// Zipf(s = 1) draws over `distinct` keys, plus one key repeated `heavy` times.
  static std::vector<K> skewed(std::size_t draws, std::size_t distinct, std::size_t heavy, std::uint64_t seed) {
    std::vector<K> out;
    for (std::uint64_t r : zipf_ranks(draws, distinct, seed)) { out.push_back(make_key<K>(r * 2654435761ull + 1)); }
    out.insert(out.end(), heavy, make_key<K>(0xfeedull));
    std::shuffle(out.begin(), out.end(), std::mt19937_64{seed});
    return out;
  }
};

#define WARP_COUNTING_CONFIGS(B)                                                         \
  counting_config<std::uint32_t, std::uint32_t, warp::linear_probing<4, 2>, B>,         \
      counting_config<std::uint64_t, std::uint64_t, warp::double_hashing<8, 1>, B>,     \
      counting_config<key128, std::uint32_t, warp::linear_probing<1, 1>, B>
using counting_configs = ::testing::Types<WARP_COUNTING_CONFIGS(host_backend), WARP_COUNTING_CONFIGS(cuda_backend)>;
TYPED_TEST_SUITE(CountingMap, counting_configs, container_names);

TYPED_TEST(CountingMap, ZipfCountsMatchACountingUnorderedMap) {
  using K = typename TestFixture::K;
  using N = typename TestFixture::N;
  auto const input = TestFixture::skewed(200000, 30000, 100000, 11);
  std::unordered_map<K, N, std_hash> reference;
  for (K k : input) { ++reference[k]; }
  typename TestFixture::map_t counts{warp::sizing{reference.size(), 0.8}, warp::empty_key<K>{sentinels<K>::empty()},
                                     TypeParam::backend};
  // Two halves, so that the second call increments keys the first one created.
  std::size_t const half = input.size() / 2;
  std::size_t const created = counts.increment(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(half)) +
                              counts.increment(input.begin() + static_cast<std::ptrdiff_t>(half), input.end());
  EXPECT_EQ(created, reference.size());
  EXPECT_EQ(counts.size(), reference.size());
  EXPECT_TRUE(counts.status().ok());

  std::vector<K> keys;
  std::vector<N> expected;
  for (auto const& [k, c] : reference) { keys.push_back(k); expected.push_back(c); }
  keys.push_back(make_key<K>(0xabcdef12345ull));  // never seen: count 0
  expected.push_back(0);
  std::vector<N> got(keys.size());
  EXPECT_EQ(counts.count(keys.begin(), keys.end(), got.data()), reference.size());
  EXPECT_EQ(got, expected);
  EXPECT_GE(reference.at(make_key<K>(0xfeedull)), N{100000}) << "the input has a key of multiplicity 10^5";

  for (N k : {N{1}, N{2}, N{10}, N{1000}, N{50000}}) {
    std::size_t expected_at_least = 0;
    for (auto const& [key, c] : reference) { expected_at_least += c >= k; }
    ASSERT_EQ(counts.count_at_least(k), expected_at_least) << "k = " << k;
    std::vector<K> frequent(expected_at_least);
    std::vector<N> frequent_counts(expected_at_least);
    ASSERT_EQ(counts.retrieve_at_least(k, frequent.data(), frequent_counts.data()), expected_at_least);
    for (std::size_t i = 0; i < frequent.size(); ++i) {
      ASSERT_EQ(reference.at(frequent[i]), frequent_counts[i]);
      ASSERT_GE(frequent_counts[i], k);
    }
  }
}

TYPED_TEST(CountingMap, SaturationClampsAndWeightedAdds) {
  using K = typename TestFixture::K;
  using N = typename TestFixture::N;
  typename TestFixture::map_t counts{1024, warp::empty_key<K>{sentinels<K>::empty()}, warp::max_count<N>{N{1000}},
                                     TypeParam::backend};
  std::vector<K> input(50000, make_key<K>(5));
  for (std::uint64_t i = 0; i < 700; ++i) { input.push_back(make_key<K>(100 + i % 7)); }
  counts.increment(input.begin(), input.end());
  std::vector<K> const keys{make_key<K>(5), make_key<K>(100), make_key<K>(106)};
  std::vector<N> got(keys.size());
  counts.count(keys.begin(), keys.end(), got.data());
  EXPECT_EQ(got, (std::vector<N>{1000, 100, 100}));

  std::vector<N> const amounts{5000, 950, 1};
  counts.add(keys.begin(), keys.end(), amounts.begin());
  counts.count(keys.begin(), keys.end(), got.data());
  EXPECT_EQ(got, (std::vector<N>{1000, 1000, 101})) << "adds clamp at the limit";
  std::vector<K> const fresh{make_key<K>(9999)};
  std::vector<N> const big{123456};
  counts.add(fresh.begin(), fresh.end(), big.begin());
  counts.count(fresh.begin(), fresh.end(), got.data());
  EXPECT_EQ(got[0], N{1000}) << "a new key's first amount is clamped too";
  EXPECT_THROW((typename TestFixture::map_t{16, warp::empty_key<K>{sentinels<K>::empty()}, warp::max_count<N>{N{0}},
                                            TypeParam::backend}),
               warp::invalid_argument);
}

template <class Ref, class K>
struct ref_increment {
  Ref counts;
  K const* keys;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    return counts.increment(tile, keys[i]) == warp::insert_outcome::no_room ? 1u : 0u;
  }
};

TYPED_TEST(CountingMap, DeviceRefIncrementsAndFullMapKeepsCounts) {
  using K = typename TestFixture::K;
  using N = typename TestFixture::N;
  constexpr auto where = TypeParam::backend;
  auto const input = TestFixture::skewed(20000, 500, 3000, 3);
  std::unordered_map<K, N, std_hash> reference;
  for (K k : input) { ++reference[k]; }
  typename TestFixture::map_t counts{warp::sizing{reference.size(), 0.9}, warp::empty_key<K>{sentinels<K>::empty()}, where};
  auto const stream = warp::default_stream();
  warp::detail::buffer<K> device_keys{where, input.size(), stream};
  warp::detail::copy_bytes(where, device_keys.data(), input.data(), input.size() * sizeof(K), stream);
  using ref_t = typename TestFixture::map_t::mutable_ref_type;
  auto const refused = warp::detail::count_items<ref_t::tile_size>(warp::detail::executor{where, stream}, input.size(),
                                                                    ref_increment<ref_t, K>{counts.mutable_ref(), device_keys.data()});
  EXPECT_EQ(refused, 0u);
  std::vector<K> keys(counts.size());
  std::vector<N> got(keys.size());
  ASSERT_EQ(keys.size(), reference.size());
  counts.retrieve_all(keys.data(), got.data());
  for (std::size_t i = 0; i < keys.size(); ++i) { ASSERT_EQ(reference.at(keys[i]), got[i]); }

  // A map too small for the distinct keys: the keys that fit keep exact counts, the others are
  // reported per occurrence and in the status.
  typename TestFixture::map_t small{64, warp::empty_key<K>{sentinels<K>::empty()}, where};
  std::vector<warp::insert_outcome> outcomes(input.size());
  small.increment(input.begin(), input.end(), outcomes.data());
  EXPECT_TRUE(small.status().no_room());
  std::unordered_map<K, N, std_hash> counted;
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (outcomes[i] != warp::insert_outcome::no_room) { ++counted[input[i]]; }
  }
  EXPECT_EQ(small.size(), counted.size());
  std::vector<K> small_keys(small.size());
  std::vector<N> small_counts(small_keys.size());
  small.retrieve_all(small_keys.data(), small_counts.data());
  for (std::size_t i = 0; i < small_keys.size(); ++i) { ASSERT_EQ(counted.at(small_keys[i]), small_counts[i]); }
}

}  // namespace
