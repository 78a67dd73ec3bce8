// Regression tests for correctness defects found by differential testing against the std
// containers. Each of them failed before its fix; the comment above each says what it caught.
#include "test_common.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <random>
#include <vector>

#include <omp.h>

using namespace warp_test;

namespace {

template <class B>
class Defects : public on_backend<B> {};
TYPED_TEST_SUITE(Defects, both_backends, backend_names);

std::vector<key128> wide_keys(std::size_t n, std::uint64_t seed) {
  std::vector<key128> keys(n);
  for (std::size_t i = 0; i < n; ++i) { keys[i] = make_key<key128>(seed + i); }
  return keys;
}

// Was: a 16-byte key stored with a value equal to empty_value was invisible to find/contains
// while size(), retrieve_all() and a second insert said it was there.
TYPED_TEST(Defects, WideKeyStoredWithTheEmptyValueIsFound) {
  constexpr auto where = TestFixture::where;
  warp::single_value_map<key128, std::uint32_t> map{100, warp::empty_key{sentinels<key128>::empty()},
                                                    warp::empty_value{0u}, where};
  auto const keys = wide_keys(3, 11);
  std::vector<std::uint32_t> const values{0, 5, 0};
  ASSERT_EQ(map.insert(keys.begin(), keys.end(), values.begin()), 3u);
  ASSERT_EQ(map.size(), 3u);
  std::vector<char> present(3);
  EXPECT_EQ(map.contains(keys.begin(), keys.end(), reinterpret_cast<bool*>(present.data())), 3u);
  EXPECT_EQ(present, (std::vector<char>{1, 1, 1}));
  std::vector<std::uint32_t> found(3, 99);
  EXPECT_EQ(map.find(keys.begin(), keys.end(), found.data()), 3u);
  EXPECT_EQ(found, values);
  std::vector<warp::insert_outcome> again(1);
  map.insert(keys.begin(), keys.begin() + 1, values.begin(), again.data());
  EXPECT_EQ(again[0], warp::insert_outcome::already_present);

  // The same for a counting map whose count is 0 (a key added with amount 0).
  warp::counting_map<key128> counts{100, warp::empty_key{sentinels<key128>::empty()}, where};
  std::vector<std::uint32_t> const zeros(3, 0);
  ASSERT_EQ(counts.add(keys.begin(), keys.end(), zeros.begin()), 3u);
  std::vector<std::uint32_t> got(3, 7);
  EXPECT_EQ(counts.count(keys.begin(), keys.end(), got.data()), 3u) << "every added key is present";
  EXPECT_EQ(got, zeros);
}

// Was: counting_map over 16-byte keys (key CAS, then value store) lost increments that arrived
// between another thread's key CAS and its value store (8 threads, 200k keys x 8 repeats: short
// counts).
TYPED_TEST(Defects, ConcurrentIncrementsOfWideKeysAllCount) {
  constexpr auto where = TestFixture::where;
  std::size_t const distinct = 200000, repeats = 8;
  auto const keys = wide_keys(distinct, 1);
  std::vector<key128> input;
  input.reserve(distinct * repeats);
  for (std::size_t r = 0; r < repeats; ++r) { input.insert(input.end(), keys.begin(), keys.end()); }
  // Interleave the repeats so that several threads hit a fresh key at once.
  std::mt19937_64 rng{5};
  for (std::size_t i = 0; i + 1 < input.size(); i += 2) {
    if (rng() & 1) { std::swap(input[i], input[i + 1]); }
  }
  int const threads_before = omp_get_max_threads();
  omp_set_num_threads(8);
  for (bool saturating : {false, true}) {
    std::vector<std::uint32_t> const ones(input.size(), 1);
    auto make = [&] {
      return saturating ? warp::counting_map<key128>{warp::sizing{distinct, 0.5}, warp::empty_key{sentinels<key128>::empty()},
                                                     warp::max_count{1000u}, where}
                        : warp::counting_map<key128>{warp::sizing{distinct, 0.5},
                                                     warp::empty_key{sentinels<key128>::empty()}, where};
    };
    auto counts = make();
    EXPECT_EQ(counts.add(input.begin(), input.end(), ones.begin()), distinct);
    std::vector<std::uint32_t> got(distinct);
    counts.count(keys.begin(), keys.end(), got.data());
    std::size_t short_counts = 0;
    for (auto c : got) { short_counts += c != repeats; }
    EXPECT_EQ(short_counts, 0u) << (saturating ? "saturating" : "plain") << " counts lost increments";
  }
  omp_set_num_threads(threads_before);
}

// Was: a Bloom filter with a 32-bit hasher (the library's xxhash_32) put every key in block 0
// (block index = mulhi64 of a hash below 2^32): false-positive rate 1.0 against 0.0096 predicted.
TYPED_TEST(Defects, BloomFilterWith32BitHasherSpreadsKeysOverBlocks) {
  constexpr auto where = TestFixture::where;
  using filter_t = warp::bloom_filter<std::uint32_t, 64, warp::hash::xxhash_32<std::uint32_t>>;
  std::size_t const n = 20000;
  filter_t filter{warp::bloom_sizing{n, 0.01}, where};
  std::vector<std::uint32_t> keys(n), probes(100000);
  std::iota(keys.begin(), keys.end(), 1u);
  std::iota(probes.begin(), probes.end(), 1u << 24);
  filter.add(keys.begin(), keys.end());
  std::vector<char> hit(probes.size());
  double const fpr = static_cast<double>(filter.contains(probes.begin(), probes.end(), reinterpret_cast<bool*>(hit.data()))) /
                     static_cast<double>(probes.size());
  double const predicted = filter.predicted_false_positive_rate(n);
  EXPECT_LT(predicted, 0.012);
  EXPECT_LT(fpr, 2 * predicted) << "measured " << fpr << " against " << predicted << " predicted";
}

// Was: bloom_filter::load accepted a file whose `hashes` or `hash_seed` header field was altered
// (the checksum covered only the bits), and the loaded filter then had false negatives.
TYPED_TEST(Defects, BloomFileWithAnAlteredHeaderFieldIsRejected) {
  constexpr auto where = TestFixture::where;
  using filter_t = warp::bloom_filter<std::uint64_t, 64, warp::hash::xxhash_64<std::uint64_t>>;
  filter_t filter{1 << 16, 5, where, warp::default_stream(), warp::hash::xxhash_64<std::uint64_t>{42}};
  std::vector<std::uint64_t> keys(1000);
  std::iota(keys.begin(), keys.end(), 7ull);
  filter.add(keys.begin(), keys.end());
  std::string const path = ::testing::TempDir() + "warp_defects_header_" + TypeParam::name + ".bloom";
  filter.save(path);
  EXPECT_NO_THROW((void)filter_t::load(path, where));
  std::ifstream in{path, std::ios::binary};
  std::vector<char> bytes{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  in.close();
  // Header offsets: magic 0, version 8, block_bytes 12, hashes 16, key_bytes 20, hash_seed 24.
  for (std::size_t offset : {16u, 24u}) {
    std::vector<char> altered = bytes;
    altered[offset] = static_cast<char>(altered[offset] ^ 0x01);
    std::string const bad = path + ".altered";
    std::ofstream{bad, std::ios::binary}.write(altered.data(), static_cast<std::streamsize>(altered.size()));
    EXPECT_THROW((void)filter_t::load(bad, where), warp::error) << "byte " << offset;
    std::remove(bad.c_str());
  }
  std::remove(path.c_str());
}

// Was: bulk calls over empty std::vector ranges dereferenced begin() (undefined behaviour that
// -fsanitize=undefined reports). Empty ranges of any iterator type are a no-op.
TYPED_TEST(Defects, EmptyRangesAreNoOps) {
  constexpr auto where = TestFixture::where;
  std::vector<std::uint32_t> none, values;
  std::vector<std::uint32_t> out;
  std::vector<std::uint64_t> offsets(1, 99);
  warp::single_value_map<std::uint32_t, std::uint32_t> map{64, warp::empty_key{~0u}, warp::empty_value{0u},
                                                           warp::erased_key{~0u - 1}, where};
  EXPECT_EQ(map.insert(none.begin(), none.end(), values.begin()), 0u);
  EXPECT_EQ(map.insert_or_assign(none.begin(), none.end(), values.begin()), 0u);
  EXPECT_EQ(map.insert_or_apply(none.begin(), none.end(), values.begin(), warp::op::plus{}), 0u);
  EXPECT_EQ(map.find(none.begin(), none.end(), out.data()), 0u);
  EXPECT_EQ(map.contains(none.begin(), none.end(), nullptr), 0u);
  EXPECT_EQ(map.erase(none.begin(), none.end()), 0u);
  warp::hash_set<std::uint32_t> set{64, warp::empty_key{~0u}, where};
  EXPECT_EQ(set.insert(none.begin(), none.end()), 0u);
  EXPECT_EQ(set.contains(none.begin(), none.end(), nullptr), 0u);
  warp::counting_map<std::uint32_t> counts{64, warp::empty_key{~0u}, where};
  EXPECT_EQ(counts.increment(none.begin(), none.end()), 0u);
  EXPECT_EQ(counts.add(none.begin(), none.end(), values.begin()), 0u);
  EXPECT_EQ(counts.count(none.begin(), none.end(), out.data()), 0u);
  warp::multi_value_map<std::uint32_t, std::uint32_t> multi{64, warp::empty_key{~0u}, {}, where};
  EXPECT_EQ(multi.insert(none.begin(), none.end(), values.begin()), 0u);
  EXPECT_EQ(multi.count(none.begin(), none.end()), 0u);
  EXPECT_EQ(multi.retrieve(none.begin(), none.end(), offsets.data(), out.data(), 0), 0u);
  EXPECT_EQ(offsets[0], 0u);
  warp::bucket_list_map<std::uint32_t, std::uint32_t> lists{64, warp::empty_key{~0u}, {}, where};
  EXPECT_EQ(lists.insert(none.begin(), none.end(), values.begin()), 0u);
  EXPECT_EQ(lists.count(none.begin(), none.end()), 0u);
  std::vector<std::uint64_t> wide_none;
  warp::bloom_filter<std::uint64_t> bloom{1024, 3, where};
  EXPECT_EQ(bloom.add(wide_none.begin(), wide_none.end()), 0u);
  EXPECT_EQ(bloom.contains(wide_none.begin(), wide_none.end(), nullptr), 0u);
  EXPECT_TRUE(map.empty() && set.empty() && counts.empty() && multi.empty() && lists.empty());
}

// Was: in a full multi_value_map, a pair beyond its key's cap was reported no_room (and not
// counted in dropped_values) instead of over_cap. The first applicable cause is reported.
TYPED_TEST(Defects, FullMultiValueMapReportsOverCapBeforeNoRoom) {
  constexpr auto where = TestFixture::where;
  using map_t = warp::multi_value_map<std::uint32_t, std::uint32_t, warp::linear_probing<1, 1>>;
  warp::multi_options options;
  options.max_values_per_key = 2;
  map_t map{8, warp::empty_key{~0u}, options, where};
  std::vector<std::uint32_t> const keys{1, 1, 2, 3, 4, 5, 6, 7};
  std::vector<std::uint32_t> const values{10, 11, 20, 30, 40, 50, 60, 70};
  ASSERT_EQ(map.insert(keys.begin(), keys.end(), values.begin()), 8u);
  ASSERT_EQ(map.size(), map.capacity()) << "the table is full";
  std::vector<std::uint32_t> const more_keys{1, 9};
  std::vector<std::uint32_t> const more_values{12, 90};
  std::vector<warp::insert_outcome> outcomes(2);
  EXPECT_EQ(map.insert(more_keys.begin(), more_keys.end(), more_values.begin(), outcomes.data()), 0u);
  EXPECT_EQ(outcomes[0], warp::insert_outcome::over_cap) << "key 1 holds its cap of 2 values";
  EXPECT_EQ(outcomes[1], warp::insert_outcome::no_room);
  EXPECT_EQ(map.dropped_values(), 1u);
  EXPECT_TRUE(map.status().over_cap());
  EXPECT_TRUE(map.status().no_room());
}

// A multi-value rehash keeps every duplicate (a rehash that merged equal keys would lose them).
TYPED_TEST(Defects, MultiValueRehashKeepsEveryDuplicate) {
  constexpr auto where = TestFixture::where;
  warp::multi_value_map<std::uint32_t, std::uint32_t> map{1000, warp::empty_key{~0u}, {}, where};
  std::vector<std::uint32_t> keys, values;
  for (std::uint32_t i = 0; i < 600; ++i) {
    keys.push_back(i % 50);
    values.push_back(i);
  }
  ASSERT_EQ(map.insert(keys.begin(), keys.end(), values.begin()), keys.size());
  map.rehash(5000);
  EXPECT_GE(map.capacity(), 5000u);
  EXPECT_EQ(map.size(), keys.size());
  std::vector<std::uint32_t> queries(50);
  std::iota(queries.begin(), queries.end(), 0u);
  std::vector<std::uint64_t> counts(50);
  EXPECT_EQ(map.count(queries.begin(), queries.end(), counts.data()), keys.size());
  for (auto c : counts) { EXPECT_EQ(c, 12u); }
  std::vector<std::uint32_t> all_keys(map.size()), all_values(map.size());
  map.retrieve_all(all_keys.data(), all_values.data(), all_keys.size());
  std::sort(all_values.begin(), all_values.end());
  EXPECT_EQ(all_values, values);
}

}  // namespace
