// single_value_map against std::unordered_map on random operation sequences: insert, assign,
// apply (sum), erase, find and rehash, with keys drawn from a small universe so that operations
// collide, on every configuration of the type matrix and backend (the sequences are in
// differential_models.hpp, shared with the sharded maps' tests).
#include "differential_models.hpp"
#include "map_configs.hpp"

#include <algorithm>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

using namespace warp_test;

namespace {

template <class C>
class MapDifferential : public ::testing::Test {
 protected:
  void SetUp() override { WARP_SKIP_UNLESS_AVAILABLE(C::backend); }
};
// The type matrix, and linear probing whose erases read the next window (one-slot windows, where
// every erase is in a full window, and the KV-cache index's shape).
#define WARP_NEXT_WINDOW_CONFIGS(B)                                                                       \
  map_config<std::uint32_t, std::uint32_t, warp::linear_probing<1, 1, void, true>, B>,                    \
      map_config<key128, std::uint32_t, warp::linear_probing<2, 1, void, true>, B>
// And the host miss filter. CUDA tables have none (test_miss_filter checks that they allocate
// nothing): one CUDA configuration shows that a filtered scheme's device code compiles and answers
// as the plain one; more would only add to the CUDA build's time.
#define WARP_MISS_FILTER_CONFIGS(B)                                                                       \
  map_config<std::uint32_t, std::uint32_t, warp::with_miss_filter<warp::linear_probing<1, 1>>, B>,       \
      map_config<std::uint64_t, std::uint64_t, warp::with_miss_filter<warp::linear_probing<4, 2>>, B>,   \
      map_config<key128, std::uint32_t, warp::with_miss_filter<warp::double_hashing<2, 1>>, B>
using differential_configs =
    ::testing::Types<WARP_MAP_CONFIGS(host_backend), WARP_NEXT_WINDOW_CONFIGS(host_backend),
                     WARP_MISS_FILTER_CONFIGS(host_backend), WARP_MAP_CONFIGS(cuda_backend),
                     WARP_NEXT_WINDOW_CONFIGS(cuda_backend),
                     map_config<std::uint32_t, std::uint32_t, warp::with_miss_filter<warp::linear_probing<1, 1>>,
                                cuda_backend>>;
TYPED_TEST_SUITE(MapDifferential, differential_configs, config_names);

TYPED_TEST(MapDifferential, RandomOperationSequencesMatchStdUnorderedMap) {
  auto map = TypeParam::make(1024);
  single_map_target<typename TypeParam::map> target{map};
  run_map_sequence<typename TypeParam::key, typename TypeParam::value>(target, TypeParam::missing());
}

// Long probe walks: a table filled to 97 % with tombstones between its keys, looked up with
// mostly absent keys in batches larger than one host chunk, so that walks wrap around the end of
// the table and leave their prefetched lines (the host loop parks and resumes such lookups).
TYPED_TEST(MapDifferential, LookupsAtHighLoadWithTombstonesMatchStdUnorderedMap) {
  using K = typename TypeParam::key;
  using V = typename TypeParam::value;
  auto map = TypeParam::make(8192);
  std::size_t const capacity = map.capacity();
  std::size_t const stored = capacity * 97 / 100;
  std::vector<K> keys(stored);
  std::vector<V> values(stored);
  std::unordered_map<K, V, std_hash> drawn;  // distinct keys (32-bit draws may collide)
  for (std::uint64_t r = 1000003; drawn.size() < stored; ++r) {
    K const k = make_key<K>(warp::hash::fmix64(r));
    if (drawn.emplace(k, V{}).second) {
      keys[drawn.size() - 1] = k;
      values[drawn.size() - 1] = make_value<V>(warp::hash::fmix64(r) >> 3);
    }
  }
  ASSERT_EQ(map.insert(keys.begin(), keys.end(), values.begin()), stored);
  // Every fifth key erased: the walks step over tombstones.
  std::unordered_map<K, V, std_hash> reference;
  std::vector<K> erased;
  for (std::size_t i = 0; i < stored; ++i) {
    if (i % 5 == 0) {
      erased.push_back(keys[i]);
    } else {
      reference.emplace(keys[i], values[i]);
    }
  }
  ASSERT_EQ(map.erase(erased.begin(), erased.end()), erased.size());
  // Queries: every stored and erased key plus three times as many never-inserted keys, shuffled.
  std::vector<K> queries(keys);
  for (std::size_t i = 0; i < 3 * stored; ++i) { queries.push_back(make_key<K>(warp::hash::fmix64(i + 7777777777ull))); }
  std::shuffle(queries.begin(), queries.end(), std::mt19937_64{99});
  std::vector<V> found(queries.size());
  std::unique_ptr<bool[]> present(new bool[queries.size()]);
  std::size_t const hits = map.find(queries.data(), queries.data() + queries.size(), found.data());
  std::size_t const contained = map.contains(queries.data(), queries.data() + queries.size(), present.get());
  std::size_t expected_hits = 0;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    auto it = reference.find(queries[i]);
    bool const expected = it != reference.end();
    expected_hits += expected;
    ASSERT_EQ(present[i], expected) << "query " << i;
    ASSERT_EQ(found[i], expected ? it->second : TypeParam::missing()) << "query " << i;
  }
  EXPECT_EQ(hits, expected_hits);
  EXPECT_EQ(contained, expected_hits);
}

}  // namespace
