// bucket_list_map and its frozen CSR form on both backends: differential tests against
// std::unordered_multimap on Zipf-skewed inputs with multiplicities up to 10^5, over several insert
// calls (the pool grows between them), bucket options, freeze(), and a full key table.
#include "test_common.hpp"

#include <algorithm>
#include <random>
#include <unordered_map>
#include <vector>

using namespace warp_test;

namespace {

template <class K, class V, class P, class B>
using bucket_config = container_config<K, V, P, B>;

template <class C>
class BucketList : public ::testing::Test {
 protected:
  using K = typename C::key;
  using V = typename C::value;
  using map_t = warp::bucket_list_map<K, V, typename C::probing>;
  void SetUp() override { WARP_SKIP_UNLESS_AVAILABLE(C::backend); }

  static void skewed_pairs(std::size_t draws, std::size_t distinct, std::uint64_t seed, std::vector<K>& keys,
                           std::vector<V>& values) {
    std::mt19937_64 rng{seed};
    for (std::uint64_t r : zipf_ranks(draws, distinct, seed)) {
      keys.push_back(make_key<K>(r * 104729 + 11));
      values.push_back(static_cast<V>(rng() % 1000000007));
    }
  }

  /// Checks count and retrieve of `map` (a bucket_list_map or its frozen form) against `reference`.
  template <class Map>
  static std::uint64_t expect_matches(Map const& map, std::unordered_multimap<K, V, std_hash> const& reference,
                             std::vector<K> const& queries) {
    std::vector<std::uint64_t> counts(queries.size());
    std::uint64_t const total = map.count(queries.begin(), queries.end(), counts.data());
    std::uint64_t expected_total = 0;
    for (std::size_t i = 0; i < queries.size(); ++i) {
      EXPECT_EQ(counts[i], reference.count(queries[i])) << "query " << i;
      expected_total += counts[i];
    }
    EXPECT_EQ(total, expected_total);
    std::vector<std::uint64_t> offsets(queries.size() + 1);
    std::vector<V> out(total);
    EXPECT_EQ(map.retrieve(queries.begin(), queries.end(), offsets.data(), out.data(), out.size()), total);
    for (std::size_t i = 0; i < queries.size(); ++i) {
      std::vector<V> got(out.begin() + static_cast<std::ptrdiff_t>(offsets[i]), out.begin() + static_cast<std::ptrdiff_t>(offsets[i + 1]));
      std::vector<V> want;
      auto const range = reference.equal_range(queries[i]);
      for (auto it = range.first; it != range.second; ++it) { want.push_back(it->second); }
      std::sort(got.begin(), got.end());
      std::sort(want.begin(), want.end());
      EXPECT_EQ(got, want) << "query " << i;
      if (got != want) { break; }
    }
    return total;
  }

  /// find_rows of a frozen table against `reference`: each present key's row holds exactly its
  /// values (read from the CSR arrays), each absent key gets no_row.
  template <class Frozen>
  static void expect_rows_match(Frozen const& frozen, std::unordered_multimap<K, V, std_hash> const& reference,
                                std::vector<K> const& queries) {
    std::vector<std::uint64_t> rows(queries.size());
    std::size_t const found = frozen.find_rows(queries.begin(), queries.end(), rows.data());
    std::vector<std::uint64_t> offsets(frozen.num_keys() + 1);
    std::vector<V> values(frozen.size());
    warp::detail::copy_bytes(frozen.where(), offsets.data(), frozen.row_offsets(), offsets.size() * sizeof(std::uint64_t),
                             warp::default_stream());
    warp::detail::copy_bytes(frozen.where(), values.data(), frozen.values(), values.size() * sizeof(V), warp::default_stream());
    warp::detail::synchronize(frozen.where(), warp::default_stream());
    std::size_t expected_found = 0;
    for (std::size_t i = 0; i < queries.size(); ++i) {
      auto const range = reference.equal_range(queries[i]);
      std::vector<V> want;
      for (auto it = range.first; it != range.second; ++it) { want.push_back(it->second); }
      if (want.empty()) {
        EXPECT_EQ(rows[i], Frozen::no_row) << "query " << i;
        continue;
      }
      ++expected_found;
      ASSERT_LT(rows[i], frozen.num_keys()) << "query " << i;
      std::vector<V> got(values.begin() + static_cast<std::ptrdiff_t>(offsets[rows[i]]),
                         values.begin() + static_cast<std::ptrdiff_t>(offsets[rows[i] + 1]));
      std::sort(got.begin(), got.end());
      std::sort(want.begin(), want.end());
      ASSERT_EQ(got, want) << "query " << i;
    }
    EXPECT_EQ(found, expected_found);
  }
};

#define WARP_BUCKET_CONFIGS(B)                                                     \
  bucket_config<std::uint32_t, std::uint32_t, warp::linear_probing<4, 2>, B>,     \
      bucket_config<std::uint64_t, std::uint64_t, warp::double_hashing<8, 1>, B>, \
      bucket_config<key128, std::uint32_t, warp::linear_probing<1, 1>, B>
using bucket_configs = ::testing::Types<WARP_BUCKET_CONFIGS(host_backend), WARP_BUCKET_CONFIGS(cuda_backend)>;
TYPED_TEST_SUITE(BucketList, bucket_configs, container_names);

TYPED_TEST(BucketList, ZipfPairsOverSeveralInsertsMatchUnorderedMultimap) {
  using K = typename TestFixture::K;
  using V = typename TestFixture::V;
  std::vector<K> keys;
  std::vector<V> values;
  TestFixture::skewed_pairs(300000, 5000, 21, keys, values);
  for (int i = 0; i < 100000; ++i) {  // one key with 10^5 values
    keys.push_back(make_key<K>(7));
    values.push_back(static_cast<V>(i));
  }
  std::unordered_multimap<K, V, std_hash> reference;
  for (std::size_t i = 0; i < keys.size(); ++i) { reference.emplace(keys[i], values[i]); }
  std::size_t distinct = 0;
  {
    std::unordered_map<K, int, std_hash> d;
    for (K k : keys) { d[k] = 1; }
    distinct = d.size();
  }
  for (auto options : {warp::bucket_options{}, warp::bucket_options{1, 1.5, 8}}) {
    typename TestFixture::map_t map{warp::sizing{distinct, 0.8}, warp::empty_key<K>{sentinels<K>::empty()}, options,
                                    TypeParam::backend};
    // Three calls of different sizes: later calls extend the keys' bucket lists and grow the pool.
    std::size_t const cuts[] = {0, 1000, 150000, keys.size()};
    std::size_t stored = 0;
    for (int c = 0; c < 3; ++c) {
      stored += map.insert(keys.begin() + static_cast<std::ptrdiff_t>(cuts[c]), keys.begin() + static_cast<std::ptrdiff_t>(cuts[c + 1]),
                           values.begin() + static_cast<std::ptrdiff_t>(cuts[c]));
    }
    EXPECT_EQ(stored, keys.size());
    EXPECT_EQ(map.size(), keys.size());
    EXPECT_EQ(map.num_keys(), distinct);
    EXPECT_TRUE(map.status().ok());
    EXPECT_GE(map.pool_capacity(), keys.size());

    // Every distinct key once, absent keys, and the 10^5-value key four more times: the output
    // (about 800k values) is larger than the input.
    std::vector<K> queries;
    {
      std::unordered_map<K, int, std_hash> once;
      for (K k : keys) {
        if (once.emplace(k, 1).second) { queries.push_back(k); }
      }
    }
    for (std::size_t i = 0; i < 300; ++i) { queries.push_back(make_key<K>(0x5a5a0000ull + i)); }  // absent
    for (int i = 0; i < 4; ++i) { queries.push_back(make_key<K>(7)); }
    EXPECT_GT(TestFixture::expect_matches(map, reference, queries), keys.size()) << "the output is larger than the input";

    auto const frozen = map.freeze();
    EXPECT_EQ(frozen.num_keys(), distinct);
    EXPECT_EQ(frozen.size(), keys.size());
    TestFixture::expect_matches(frozen, reference, queries);
    TestFixture::expect_rows_match(frozen, reference, queries);

    // The same table from CSR arrays (what a saved database holds), and its checks.
    std::vector<K> csr_keys;
    std::vector<std::uint64_t> csr_offsets{0};
    std::vector<V> csr_values;
    for (auto it = reference.begin(); it != reference.end();) {
      auto const range = reference.equal_range(it->first);
      csr_keys.push_back(it->first);
      for (auto v = range.first; v != range.second; ++v) { csr_values.push_back(v->second); }
      csr_offsets.push_back(csr_values.size());
      it = range.second;
    }
    using frozen_t = typename TestFixture::map_t::frozen_type;
    auto const from_csr = frozen_t::from_csr(csr_keys.data(), csr_keys.size(), csr_offsets.data(), csr_values.data(),
                                             warp::empty_key<K>{sentinels<K>::empty()}, TypeParam::backend);
    EXPECT_EQ(from_csr.num_keys(), csr_keys.size());
    TestFixture::expect_matches(from_csr, reference, queries);
    TestFixture::expect_rows_match(from_csr, reference, queries);
    auto duplicated = csr_keys;
    duplicated[1] = duplicated[0];
    EXPECT_NE(warp_test::error_message([&] {
                (void)frozen_t::from_csr(duplicated.data(), duplicated.size(), csr_offsets.data(), csr_values.data(),
                                         warp::empty_key<K>{sentinels<K>::empty()}, TypeParam::backend);
              }).find("distinct"),
              std::string::npos);
    auto decreasing = csr_offsets;
    std::swap(decreasing[1], decreasing[2]);
    if (decreasing[1] != decreasing[2]) {
      EXPECT_NE(warp_test::error_message([&] {
                  (void)frozen_t::from_csr(csr_keys.data(), csr_keys.size(), decreasing.data(), csr_values.data(),
                                           warp::empty_key<K>{sentinels<K>::empty()}, TypeParam::backend);
                }).find("is below offsets[1]"),
                std::string::npos);
    }
  }
}

TYPED_TEST(BucketList, OptionsAndFullKeyTable) {
  using K = typename TestFixture::K;
  using V = typename TestFixture::V;
  auto const b = TypeParam::backend;
  EXPECT_THROW((typename TestFixture::map_t{16, warp::empty_key<K>{sentinels<K>::empty()}, warp::bucket_options{0, 2.0, 8}, b}),
               warp::invalid_argument);
  EXPECT_THROW((typename TestFixture::map_t{16, warp::empty_key<K>{sentinels<K>::empty()}, warp::bucket_options{8, 2.0, 4}, b}),
               warp::invalid_argument);
  EXPECT_THROW((typename TestFixture::map_t{16, warp::empty_key<K>{sentinels<K>::empty()}, warp::bucket_options{2, 0.5, 8}, b}),
               warp::invalid_argument);

  typename TestFixture::map_t map{16, warp::empty_key<K>{sentinels<K>::empty()}, {}, b};
  std::vector<K> keys;
  std::vector<V> values;
  for (int i = 0; i < 400; ++i) {
    keys.push_back(make_key<K>(static_cast<std::uint64_t>(i % 40)));
    values.push_back(static_cast<V>(i));
  }
  keys.push_back(sentinels<K>::empty());
  values.push_back(0);
  std::vector<warp::insert_outcome> outcomes(keys.size());
  std::size_t const stored = map.insert(keys.begin(), keys.end(), values.begin(), outcomes.data());
  EXPECT_TRUE(map.status().no_room());
  EXPECT_TRUE(map.status().invalid_key());
  EXPECT_EQ(outcomes.back(), warp::insert_outcome::invalid_key);
  EXPECT_EQ(map.num_keys(), map.capacity());
  // The pairs reported stored are exactly those retrievable.
  std::unordered_multimap<K, V, std_hash> reference;
  std::size_t reported = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (outcomes[i] == warp::insert_outcome::inserted) {
      reference.emplace(keys[i], values[i]);
      ++reported;
    }
  }
  EXPECT_EQ(stored, reported);
  std::vector<K> queries;
  for (int i = 0; i < 40; ++i) { queries.push_back(make_key<K>(static_cast<std::uint64_t>(i))); }
  TestFixture::expect_matches(map, reference, queries);
}

TYPED_TEST(BucketList, DeviceRefLooksUpKeys) {
  using K = typename TestFixture::K;
  using V = typename TestFixture::V;
  constexpr auto where = TypeParam::backend;
  std::vector<K> keys;
  std::vector<V> values;
  std::unordered_map<K, std::pair<std::uint64_t, std::uint64_t>, std_hash> expected;  // count, sum
  for (std::uint64_t i = 0; i < 30000; ++i) {
    keys.push_back(make_key<K>(i % 1009));
    values.push_back(static_cast<V>(i));
    auto& e = expected[keys.back()];
    e.first += 1;
    e.second += i;
  }
  typename TestFixture::map_t map{warp::sizing{expected.size(), 0.7}, warp::empty_key<K>{sentinels<K>::empty()},
                                  warp::bucket_options{2, 1.5, 16}, where};
  map.insert(keys.begin(), keys.end(), values.begin());
  EXPECT_EQ(check_keys_through_ref<V>(where, map.ref(), expected, make_key<K>(0x777777ull)), expected.size() + 1);
}

}  // namespace
