// bloom_filter on both backends: no false negatives, the measured false-positive rate against the
// predicted one (a binomial tolerance), add_and_test, union and intersection, raw bits, and the
// file format (round trip, and clear errors for foreign, truncated, corrupt and mismatched files).
#include "test_common.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <vector>

using namespace warp_test;

namespace {

template <class K, int Bytes, class B>
struct bloom_config {
  using key = K;
  static constexpr int block_bytes = Bytes;
  static constexpr warp::backend backend = B::value;
};

template <class C>
class Bloom : public ::testing::Test {
 protected:
  using K = typename C::key;
  using filter_t = warp::bloom_filter<K, C::block_bytes>;
  void SetUp() override { WARP_SKIP_UNLESS_AVAILABLE(C::backend); }
  static std::vector<K> distinct_keys(std::size_t n, std::uint64_t offset) {
    std::vector<K> keys(n);
    for (std::size_t i = 0; i < n; ++i) { keys[i] = make_key<K>(offset + i); }
    return keys;
  }
  static std::string temp_path(char const* tag) {
    return ::testing::TempDir() + "warp_bloom_" + tag + "_" + std::to_string(C::block_bytes) + "_" +
           warp::to_string(C::backend) + ".bin";
  }
};

#define WARP_BLOOM_CONFIGS(B) \
  bloom_config<std::uint64_t, 32, B>, bloom_config<std::uint64_t, 64, B>, bloom_config<std::uint32_t, 128, B>, bloom_config<key128, 64, B>
using bloom_configs = ::testing::Types<WARP_BLOOM_CONFIGS(host_backend), WARP_BLOOM_CONFIGS(cuda_backend)>;
struct bloom_names {
  template <class C>
  static std::string GetName(int) {
    return type_name<typename C::key>() + "_block" + std::to_string(C::block_bytes) + "_" + warp::to_string(C::backend);
  }
};
TYPED_TEST_SUITE(Bloom, bloom_configs, bloom_names);

TYPED_TEST(Bloom, NoFalseNegativesAndMeasuredRateMatchesPrediction) {
  using K = typename TestFixture::K;
  std::size_t const n = 200000;
  for (int hashes : {3, 7, 12}) {  // 12: more positions than one 64-bit hash word yields
    typename TestFixture::filter_t filter{n * 10, hashes, TypeParam::backend};  // 10 bits per key
    auto const keys = TestFixture::distinct_keys(n, 1);
    filter.add(keys.begin(), keys.end());
    std::vector<char> hit(keys.size());
    ASSERT_EQ(filter.contains(keys.begin(), keys.end(), reinterpret_cast<bool*>(hit.data())), n)
        << "a Bloom filter has no false negatives";
    std::size_t const m = 1000000;
    auto const absent = TestFixture::distinct_keys(m, 3000000000ull);
    std::vector<char> fp(m);
    double const measured = static_cast<double>(filter.contains(absent.begin(), absent.end(), reinterpret_cast<bool*>(fp.data()))) / m;
    double const predicted = filter.predicted_false_positive_rate(n);
    double const sigma = std::sqrt(predicted * (1 - predicted) / m);
    EXPECT_NEAR(measured, predicted, 5 * sigma + 0.0002)
        << "hashes " << hashes << ": measured " << measured << ", predicted " << predicted;
    EXPECT_GT(predicted, 0.0);
    EXPECT_LT(predicted, 0.2);
  }
}

TYPED_TEST(Bloom, SizingMeetsTheTargetRate) {
  using K = typename TestFixture::K;
  std::size_t const n = 100000;
  typename TestFixture::filter_t filter{warp::bloom_sizing{n, 0.01}, TypeParam::backend};
  EXPECT_LE(filter.predicted_false_positive_rate(n), 0.01);
  EXPECT_GT(filter.predicted_false_positive_rate(n), 0.001) << "the filter should not be far larger than needed";
  auto const keys = TestFixture::distinct_keys(n, 5);
  filter.add(keys.begin(), keys.end());
  auto const absent = TestFixture::distinct_keys(400000, 3500000000ull);
  std::vector<char> fp(absent.size());
  double const measured = static_cast<double>(filter.contains(absent.begin(), absent.end(), reinterpret_cast<bool*>(fp.data()))) / absent.size();
  EXPECT_LT(measured, 0.0115);
  EXPECT_THROW((typename TestFixture::filter_t{warp::bloom_sizing{n, 1.5}, TypeParam::backend}), warp::invalid_argument);
  EXPECT_THROW((typename TestFixture::filter_t{warp::bloom_sizing{0, 0.01}, TypeParam::backend}), warp::invalid_argument);
  EXPECT_THROW((typename TestFixture::filter_t{1000, 0, TypeParam::backend}), warp::invalid_argument);
  EXPECT_THROW((typename TestFixture::filter_t{0, 3, TypeParam::backend}), warp::invalid_argument);
}

TYPED_TEST(Bloom, AddAndTestUnionIntersectionAndRawBits) {
  using K = typename TestFixture::K;
  auto const b = TypeParam::backend;
  typename TestFixture::filter_t a{1 << 18, 6, b}, c{1 << 18, 6, b};
  auto const first = TestFixture::distinct_keys(5000, 100);
  auto const second = TestFixture::distinct_keys(5000, 1000000);
  std::vector<char> was(first.size());
  std::size_t const before = a.add_and_test(first.begin(), first.end(), reinterpret_cast<bool*>(was.data()));
  EXPECT_LT(before, 50u) << "an almost empty filter reports few keys as present";
  EXPECT_EQ(a.add_and_test(first.begin(), first.end(), reinterpret_cast<bool*>(was.data())), first.size())
      << "after adding, every key tests as present";
  for (char w : was) { ASSERT_TRUE(w); }
  c.add(second.begin(), second.end());

  std::vector<std::uint64_t> const bits_a = a.copy_words(), bits_c = c.copy_words();
  typename TestFixture::filter_t both{1 << 18, 6, b};
  both.assign_words(bits_a);
  both.merge_union(c);
  std::vector<std::uint64_t> const unioned = both.copy_words();
  std::size_t expected_pop = 0;
  for (std::size_t i = 0; i < unioned.size(); ++i) {
    ASSERT_EQ(unioned[i], bits_a[i] | bits_c[i]);
    expected_pop += static_cast<std::size_t>(__builtin_popcountll(unioned[i]));
  }
  EXPECT_EQ(both.popcount(), expected_pop);
  std::vector<char> hit(second.size());
  EXPECT_EQ(both.contains(second.begin(), second.end(), reinterpret_cast<bool*>(hit.data())), second.size());

  both.merge_intersection(a);
  std::vector<std::uint64_t> const inter = both.copy_words();
  for (std::size_t i = 0; i < inter.size(); ++i) { ASSERT_EQ(inter[i], (bits_a[i] | bits_c[i]) & bits_a[i]); }
  EXPECT_EQ(both.contains(first.begin(), first.end(), reinterpret_cast<bool*>(hit.data())), first.size());

  typename TestFixture::filter_t other{1 << 19, 6, b};
  EXPECT_THROW(a.merge_union(other), warp::invalid_argument);
  EXPECT_THROW(a.assign_words(std::vector<std::uint64_t>(3)), warp::invalid_argument);
  a.clear();
  EXPECT_EQ(a.popcount(), 0u);
}

TYPED_TEST(Bloom, SaveLoadRoundTripAndBadFiles) {
  using K = typename TestFixture::K;
  auto const b = TypeParam::backend;
  typename TestFixture::filter_t filter{1 << 16, 5, b};
  auto const keys = TestFixture::distinct_keys(3000, 77);
  filter.add(keys.begin(), keys.end());
  std::string const path = TestFixture::temp_path("roundtrip");
  filter.save(path);
  auto const loaded = TestFixture::filter_t::load(path, b);
  EXPECT_EQ(loaded.num_bits(), filter.num_bits());
  EXPECT_EQ(loaded.hashes(), filter.hashes());
  EXPECT_EQ(loaded.copy_words(), filter.copy_words());
  std::vector<char> hit(keys.size());
  EXPECT_EQ(loaded.contains(keys.begin(), keys.end(), reinterpret_cast<bool*>(hit.data())), keys.size());

  auto read_all = [](std::string const& p) {
    std::ifstream in(p, std::ios::binary);
    return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  auto write_all = [](std::string const& p, std::vector<char> const& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  };
  auto load_error = [&](std::string const& p) -> std::string {
    try {
      (void)TestFixture::filter_t::load(p, b);
    } catch (warp::error const& e) {
      return e.what();
    }
    return "no error";
  };
  std::vector<char> const good = read_all(path);
  ASSERT_EQ(good.size(), 64 + filter.num_bits() / 8);

  std::string const bad = TestFixture::temp_path("bad");
  auto truncated = good;
  truncated.resize(good.size() - 100);
  write_all(bad, truncated);
  EXPECT_NE(load_error(bad).find("truncated"), std::string::npos) << load_error(bad);

  auto foreign = good;
  foreign[0] = 'X';
  write_all(bad, foreign);
  EXPECT_NE(load_error(bad).find("not a warp Bloom filter"), std::string::npos) << load_error(bad);

  auto corrupt = good;
  corrupt[64 + 10] ^= 0x40;
  write_all(bad, corrupt);
  EXPECT_NE(load_error(bad).find("checksum"), std::string::npos) << load_error(bad);

  auto newer = good;
  newer[8] = 9;  // version
  write_all(bad, newer);
  EXPECT_NE(load_error(bad).find("unsupported format version 9"), std::string::npos) << load_error(bad);

  write_all(bad, std::vector<char>(good.begin(), good.begin() + 20));
  EXPECT_NE(load_error(bad).find("truncated header"), std::string::npos) << load_error(bad);

  // A filter of another block size.
  warp::bloom_filter<K, TypeParam::block_bytes == 32 ? 64 : 32> different{1 << 12, 3, b};
  different.save(bad);
  EXPECT_NE(load_error(bad).find("-byte blocks"), std::string::npos) << load_error(bad);

  EXPECT_NE(load_error(TestFixture::temp_path("missing_never_written")).find("cannot open"), std::string::npos);
  EXPECT_THROW(filter.save("/nonexistent-directory/x.bloom"), warp::error);
  std::remove(path.c_str());
  std::remove(bad.c_str());
}

/// Adds keys[i] through the device ref with a tile of the filter's width.
template <class Ref, class K>
struct ref_add {
  Ref filter;
  K const* keys;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    filter.add(tile, keys[i]);
    return filter.contains(tile, keys[i]) ? 1u : 0u;
  }
};

TYPED_TEST(Bloom, DeviceRefTileAndScalarFormsAgree) {
  using K = typename TestFixture::K;
  constexpr auto where = TypeParam::backend;
  typename TestFixture::filter_t tiled{1 << 17, 7, where}, scalar{1 << 17, 7, where};
  auto const keys = TestFixture::distinct_keys(10000, 3);
  auto const stream = warp::default_stream();
  warp::detail::buffer<K> device_keys{where, keys.size(), stream};
  warp::detail::copy_bytes(where, device_keys.data(), keys.data(), keys.size() * sizeof(K), stream);
  using ref_t = typename TestFixture::filter_t::mutable_ref_type;
  auto const seen = warp::detail::count_items<ref_t::tile_size>(warp::detail::executor{where, stream}, keys.size(),
                                                                 ref_add<ref_t, K>{tiled.mutable_ref(), device_keys.data()});
  EXPECT_EQ(seen, keys.size());
  auto const seen_scalar = warp::detail::count_items<1>(warp::detail::executor{where, stream}, keys.size(),
                                                         ref_add<ref_t, K>{scalar.mutable_ref(), device_keys.data()});
  EXPECT_EQ(seen_scalar, keys.size());
  EXPECT_EQ(tiled.copy_words(), scalar.copy_words()) << "the tile and scalar forms set the same bits";
}

}  // namespace
