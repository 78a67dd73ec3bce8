// multi_value_map on both backends: differential tests against std::unordered_multimap on random
// and Zipf-skewed inputs (multiplicities 1 to 10^5), the two-pass retrieve (including outputs
// larger than the input), identical-pair dropping, the per-key cap, and the error paths.
#include "differential_models.hpp"
#include "test_common.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <unordered_map>
#include <vector>

using namespace warp_test;

namespace {

template <class K, class V, class P, class B>
using multi_config = container_config<K, V, P, B>;

template <class C>
class MultiValue : public ::testing::Test {
 protected:
  using K = typename C::key;
  using V = typename C::value;
  using map_t = warp::multi_value_map<K, V, typename C::probing>;
  void SetUp() override { WARP_SKIP_UNLESS_AVAILABLE(C::backend); }

  /// Pairs whose keys are Zipf(1)-distributed over `distinct` keys, plus one key with `heavy` values.
  static void skewed_pairs(std::size_t draws, std::size_t distinct, std::size_t heavy, std::uint64_t seed,
                           std::vector<K>& keys, std::vector<V>& values) {
    std::mt19937_64 rng{seed};
    for (std::uint64_t r : zipf_ranks(draws, distinct, seed)) {
      keys.push_back(make_key<K>(r * 7919 + 3));
      values.push_back(static_cast<V>(rng() % 1000000));
    }
    for (std::size_t i = 0; i < heavy; ++i) {
      keys.push_back(make_key<K>(0xbeefull));
      values.push_back(static_cast<V>(i));
    }
  }
};

#define WARP_MULTI_CONFIGS(B)                                                           \
  multi_config<std::uint32_t, std::uint32_t, warp::linear_probing<4, 2>, B>,           \
      multi_config<std::uint64_t, std::uint64_t, warp::double_hashing<8, 1>, B>,       \
      multi_config<std::uint32_t, std::uint32_t, warp::linear_probing<1, 1>, B>
using multi_configs = ::testing::Types<WARP_MULTI_CONFIGS(host_backend), WARP_MULTI_CONFIGS(cuda_backend)>;
TYPED_TEST_SUITE(MultiValue, multi_configs, container_names);

TYPED_TEST(MultiValue, ZipfRetrieveMatchesUnorderedMultimap) {
  using K = typename TestFixture::K;
  using V = typename TestFixture::V;
  std::vector<K> keys;
  std::vector<V> values;
  // Open addressing stores every value in its own slot, so a key with m values costs O(m^2) probes to
  // insert; 10^5 is tested once (u32, 8-slot windows), 2 * 10^4 elsewhere (host time), and
  // everywhere in the AddressSanitizer build (the memory checks need no more, and 10^5 takes minutes there).
#if defined(__SANITIZE_ADDRESS__)
  constexpr bool sanitized = true;
#else
  constexpr bool sanitized = false;
#endif
  std::size_t const heavy = !sanitized && TypeParam::probing::window_size >= 8 && sizeof(K) == 4 ? 100000 : 20000;
  TestFixture::skewed_pairs(150000, 20000, heavy, 5, keys, values);
  typename TestFixture::map_t map{warp::sizing{keys.size(), 0.7}, warp::empty_key<K>{sentinels<K>::empty()}, {},
                                  TypeParam::backend};
  // Queries: distinct present keys, absent keys, and the heavy key (10^5 values) a few times, so
  // that the output is larger than the input.
  std::vector<K> queries;
  {
    std::unordered_map<K, int, std_hash> once;
    for (std::size_t i = 0; i < keys.size(); i += 13) {
      if (once.emplace(keys[i], 1).second) { queries.push_back(keys[i]); }
    }
  }
  for (std::size_t i = 0; i < 500; ++i) { queries.push_back(make_key<K>(0xabc00000ull + i)); }
  for (int i = 0; i < 3; ++i) { queries.push_back(make_key<K>(0xbeefull)); }
  single_multimap_target<typename TestFixture::map_t> target{map};
  ASSERT_NO_FATAL_FAILURE(check_multimap(target, keys, values, queries));
  EXPECT_TRUE(map.status().ok());
  ASSERT_GT(map.count(queries.begin(), queries.end()), keys.size()) << "the output is larger than the input";

  std::vector<K> all_keys(map.size());
  std::vector<V> all_values(all_keys.size());
  ASSERT_EQ(map.retrieve_all(all_keys.data(), all_values.data()), keys.size());
  std::multimap<std::pair<std::uint64_t, std::uint64_t>, int> seen;
  std::vector<std::pair<std::uint64_t, V>> a, b;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    a.emplace_back(std_hash{}(all_keys[i]) ^ static_cast<std::uint64_t>(all_values[i]) * 31, all_values[i]);
    b.emplace_back(std_hash{}(keys[i]) ^ static_cast<std::uint64_t>(values[i]) * 31, values[i]);
  }
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b) << "retrieve_all returns every pair once";
}

TYPED_TEST(MultiValue, DroppedIdenticalPairsAndCapPerKey) {
  using K = typename TestFixture::K;
  using V = typename TestFixture::V;
  std::vector<K> keys;
  std::vector<V> values;
  std::map<std::pair<std::uint64_t, std::uint64_t>, int> distinct_pairs;
  std::mt19937_64 rng{9};
  for (int i = 0; i < 20000; ++i) {
    std::uint64_t const k = rng() % 300, v = rng() % 40;  // many identical pairs
    keys.push_back(make_key<K>(k));
    values.push_back(static_cast<V>(v));
    distinct_pairs[{k, v}] = 1;
  }
  typename TestFixture::map_t unique{warp::sizing{keys.size(), 0.5}, warp::empty_key<K>{sentinels<K>::empty()},
                                     warp::multi_options{warp::duplicate_pairs::drop}, TypeParam::backend};
  std::vector<warp::insert_outcome> outcomes(keys.size());
  EXPECT_EQ(unique.insert(keys.begin(), keys.end(), values.begin(), outcomes.data()), distinct_pairs.size());
  EXPECT_EQ(unique.size(), distinct_pairs.size());
  EXPECT_EQ(static_cast<std::size_t>(std::count(outcomes.begin(), outcomes.end(), warp::insert_outcome::already_present)),
            keys.size() - distinct_pairs.size());

  // A cap of 25 values per key: each key keeps exactly min(multiplicity, 25) values.
  std::uint64_t const cap = 25;
  typename TestFixture::map_t capped{warp::sizing{keys.size(), 0.5}, warp::empty_key<K>{sentinels<K>::empty()},
                                     warp::multi_options{warp::duplicate_pairs::keep, cap}, TypeParam::backend};
  std::size_t const stored = capped.insert(keys.begin(), keys.end(), values.begin(), outcomes.data());
  std::map<std::uint64_t, std::uint64_t> multiplicity;
  for (int i = 0; i < 20000; ++i) { ++multiplicity[std::uint64_t(keys[static_cast<std::size_t>(i)])]; }
  std::uint64_t expected_stored = 0, expected_dropped = 0;
  for (auto const& [k, m] : multiplicity) {
    expected_stored += std::min(m, cap);
    expected_dropped += m > cap ? m - cap : 0;
  }
  EXPECT_EQ(stored, expected_stored);
  EXPECT_EQ(capped.dropped_values(), expected_dropped) << "dropped values are counted, never silent";
  EXPECT_EQ(static_cast<std::uint64_t>(std::count(outcomes.begin(), outcomes.end(), warp::insert_outcome::over_cap)),
            expected_dropped);
  EXPECT_TRUE(capped.status().over_cap());
  std::vector<K> probe_keys;
  for (auto const& [k, m] : multiplicity) { probe_keys.push_back(make_key<K>(k)); }
  std::vector<std::uint64_t> counts(probe_keys.size());
  capped.count(probe_keys.begin(), probe_keys.end(), counts.data());
  std::size_t i = 0;
  for (auto const& [k, m] : multiplicity) { ASSERT_EQ(counts[i++], std::min(m, cap)) << "key " << k; }
  EXPECT_THROW((typename TestFixture::map_t{16, warp::empty_key<K>{sentinels<K>::empty()},
                                            warp::multi_options{warp::duplicate_pairs::keep, 0}, TypeParam::backend}),
               warp::invalid_argument);
}

TYPED_TEST(MultiValue, FullTableAndTooSmallOutputAreReported) {
  using K = typename TestFixture::K;
  using V = typename TestFixture::V;
  typename TestFixture::map_t map{64, warp::empty_key<K>{sentinels<K>::empty()}, {}, TypeParam::backend};
  std::vector<K> keys;
  std::vector<V> values;
  for (int i = 0; i < 200; ++i) {
    keys.push_back(make_key<K>(static_cast<std::uint64_t>(i % 13)));
    values.push_back(static_cast<V>(i));
  }
  keys.push_back(sentinels<K>::empty());
  values.push_back(1);
  std::vector<warp::insert_outcome> outcomes(keys.size());
  std::size_t const stored = map.insert(keys.begin(), keys.end(), values.begin(), outcomes.data());
  EXPECT_EQ(stored, map.capacity());
  EXPECT_TRUE(map.status().no_room());
  EXPECT_TRUE(map.status().invalid_key());
  EXPECT_EQ(outcomes.back(), warp::insert_outcome::invalid_key);
  EXPECT_EQ(static_cast<std::size_t>(std::count(outcomes.begin(), outcomes.end(), warp::insert_outcome::no_room)),
            keys.size() - 1 - map.capacity());
  // Everything stored is retrievable.
  std::vector<K> queries;
  for (int i = 0; i < 13; ++i) { queries.push_back(make_key<K>(static_cast<std::uint64_t>(i))); }
  EXPECT_EQ(map.count(queries.begin(), queries.end()), map.capacity());
  std::vector<V> small(10);
  EXPECT_THROW(map.retrieve(queries.begin(), queries.end(), nullptr, small.data(), small.size()), warp::invalid_argument);
}

template <class Ref, class K, class V>
struct ref_insert_pairs {
  Ref map;
  K const* keys;
  V const* values;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    return map.insert(tile, keys[i], values[i]) == warp::insert_outcome::inserted ? 1u : 0u;
  }
};

TYPED_TEST(MultiValue, DeviceRefInsertsCountsAndRetrieves) {
  using K = typename TestFixture::K;
  using V = typename TestFixture::V;
  constexpr auto where = TypeParam::backend;
  std::vector<K> keys;
  std::vector<V> values;
  std::unordered_map<K, std::pair<std::uint64_t, std::uint64_t>, std_hash> expected;  // count, sum
  for (std::uint64_t i = 0; i < 20000; ++i) {
    keys.push_back(make_key<K>(i % 997));
    values.push_back(static_cast<V>(i));
    auto& e = expected[keys.back()];
    e.first += 1;
    e.second += i;
  }
  typename TestFixture::map_t map{warp::sizing{keys.size(), 0.6}, warp::empty_key<K>{sentinels<K>::empty()}, {}, where};
  auto const d_keys = to_backend(where, keys);
  auto const d_values = to_backend(where, values);
  using ref_t = typename TestFixture::map_t::mutable_ref_type;
  EXPECT_EQ((warp::detail::count_items<ref_t::tile_size>(warp::detail::executor{where, warp::default_stream()}, keys.size(),
                                                         ref_insert_pairs<ref_t, K, V>{map.mutable_ref(), d_keys.data(), d_values.data()})),
            keys.size());
  EXPECT_EQ(check_keys_through_ref<V>(where, map.ref(), expected, make_key<K>(0x777777ull)), expected.size() + 1);
}

}  // namespace
