// Bad input as a user would give it: impossible sizes, altered and truncated files, a directory
// for a file, concurrent saves, out-of-range grid configurations and non-finite points. Every one
// must be a clear warp::error naming what was wrong, before any large allocation or any work.
// Each of these failed (wrong result, undefined behaviour or a crash) before its fix.
#include "test_common.hpp"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>

using namespace warp_test;

namespace {


bool contains(std::string const& text, std::string const& part) { return text.find(part) != std::string::npos; }

using filter_t = warp::bloom_filter<std::uint64_t, 64>;

// ---- Bloom filter sizes -----------------------------------------------------------------------

TEST(BloomSizes, ImpossibleBitCountsThrowWithTheNumbers) {
  std::string const e = error_message([] { filter_t f{std::numeric_limits<std::size_t>::max(), 3, warp::backend::host}; });
  EXPECT_TRUE(contains(e, "18446744073709551615 bits")) << e;
  EXPECT_TRUE(contains(e, "more than the supported")) << e;
}

TEST(BloomSizes, HugeKeyCountsThrowInsteadOfOverflowing) {
  for (std::size_t keys : {std::numeric_limits<std::size_t>::max(), std::size_t{1} << 60}) {
    std::string const e = error_message([&] { filter_t f{warp::bloom_sizing{keys, 0.01}, warp::backend::host}; });
    EXPECT_TRUE(contains(e, std::to_string(keys) + " keys")) << e;
    EXPECT_TRUE(contains(e, "more than the supported")) << e;
  }
}

// ---- Bloom filter files -----------------------------------------------------------------------

/// A saved filter's bytes, and a way to write altered copies with a consistent header checksum.
struct saved_filter {
  // One file per test: ctest runs the cases of this binary as concurrent processes.
  std::string path = ::testing::TempDir() + "warp_hardening_" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".bloom";
  std::vector<char> bytes;
  saved_filter() {
    filter_t f{1 << 14, 4, warp::backend::host};
    std::vector<std::uint64_t> keys(100);
    std::iota(keys.begin(), keys.end(), 1ull);
    f.add(keys.begin(), keys.end());
    f.save(path);
    std::ifstream in{path, std::ios::binary};
    bytes.assign(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
  }
  ~saved_filter() { std::remove(path.c_str()); }
  /// Writes the file with header fields changed (and the header checksum made consistent again).
  std::string with_header(std::uint64_t num_blocks, std::uint64_t payload_bytes, std::size_t keep_bytes) const {
    std::vector<char> b(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep_bytes));
    std::memcpy(b.data() + 32, &num_blocks, 8);
    std::memcpy(b.data() + 40, &payload_bytes, 8);
    std::uint64_t zero = 0;
    std::memcpy(b.data() + 56, &zero, 8);
    std::uint64_t const sum = warp::hash::xxh3_64(b.data(), 64, 0);
    std::memcpy(b.data() + 56, &sum, 8);
    std::string const out = path + ".altered";
    std::ofstream{out, std::ios::binary}.write(b.data(), static_cast<std::streamsize>(b.size()));
    return out;
  }
};

TEST(BloomFiles, BlockCountThatWrapsIsRejected) {
  saved_filter const s;
  // 2^58 + 1 blocks of 64 bytes: the byte count wraps to 64 in 64-bit arithmetic.
  std::uint64_t const blocks = (std::uint64_t{1} << 58) + 1;
  std::string const bad = s.with_header(blocks, blocks * 64, s.bytes.size());
  std::string const e = error_message([&] { (void)filter_t::load(bad, warp::backend::host); });
  EXPECT_TRUE(contains(e, bad)) << e;
  EXPECT_TRUE(contains(e, "inconsistent header")) << e;
  std::remove(bad.c_str());
}

TEST(BloomFiles, SizesClaimedByTheHeaderAreCheckedAgainstTheFileFirst) {
  saved_filter const s;
  for (std::uint64_t claimed : {std::uint64_t{1} << 30, std::uint64_t{64} << 40}) {  // 1 GiB, 64 TiB
    std::string const bad = s.with_header(claimed / 64, claimed, 64);          // a 64-byte file
    std::string const e = error_message([&] { (void)filter_t::load(bad, warp::backend::host); });
    EXPECT_TRUE(contains(e, "promises " + std::to_string(claimed) + " bytes")) << e;
    EXPECT_TRUE(contains(e, "truncated")) << e;
    std::remove(bad.c_str());
  }
}

TEST(BloomFiles, LoadingADirectorySaysSo) {
  std::string const dir = ::testing::TempDir() + "warp_hardening_dir.bloom";
  ::mkdir(dir.c_str(), 0755);
  std::string const e = error_message([&] { (void)filter_t::load(dir, warp::backend::host); });
  EXPECT_TRUE(contains(e, dir + " is a directory")) << e;
  ::rmdir(dir.c_str());
}

TEST(BloomFiles, ConcurrentSavesToOnePathAlwaysLeaveAWholeFilter) {
  std::string const path = ::testing::TempDir() + "warp_hardening_concurrent.bloom";
  filter_t a{1 << 20, 3, warp::backend::host}, b{1 << 20, 3, warp::backend::host};
  std::vector<std::uint64_t> keys(5000);
  std::iota(keys.begin(), keys.end(), 1ull);
  a.add(keys.begin(), keys.end());
  std::iota(keys.begin(), keys.end(), 1ull << 40);
  b.add(keys.begin(), keys.end());
  auto const words_a = a.copy_words(), words_b = b.copy_words();
  std::vector<std::thread> savers;
  std::atomic<int> failures{0};
  for (filter_t const* f : {&a, &b}) {
    savers.emplace_back([&, f] {
      for (int i = 0; i < 20; ++i) {
        try {
          f->save(path);
        } catch (...) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : savers) { t.join(); }
  EXPECT_EQ(failures.load(), 0);
  auto const loaded = filter_t::load(path, warp::backend::host).copy_words();
  EXPECT_TRUE(loaded == words_a || loaded == words_b) << "the file is one of the two filters, whole";
  std::remove(path.c_str());
}

// ---- Grid encoding configurations ---------------------------------------------------------------

namespace enc = warp::encoding;

TEST(GridConfig, LevelsWhoseResolutionOverflowsAreRejectedNamingTheLevel) {
  enc::grid_config c;
  c.dims = 2;
  c.levels = 32;
  c.per_level_scale = 2.0;
  c.base_resolution = 16;
  std::string const e = error_message([&] { c.validate(); });
  EXPECT_TRUE(contains(e, "level 21 would have scale")) << e;
}

TEST(GridConfig, NonFiniteAndHugeNumbersAreRejected) {
  double const inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  auto check = [](enc::grid_config const& c, std::string const& field) {
    std::string const e = error_message([&] { c.validate(); });
    EXPECT_TRUE(contains(e, field)) << e;
  };
  for (double v : {inf, nan, 1e30}) {
    enc::grid_config c;
    c.base_resolution = v;
    check(c, "base_resolution");
    c = {};
    c.per_level_scale = v;
    check(c, "per_level_scale");
    c = {};
    c.finest_resolution = v;
    check(c, "finest_resolution");
  }
  enc::grid_config c;
  c.dims = 2;
  c.rotation = enc::rotation_kind::golden;
  c.angle = nan;
  check(c, "angle");
  c = {};
  c.dims = 2;
  c.levels = 2;
  c.rotation = enc::rotation_kind::user;
  c.matrices = {{1, 0, 0, 1}, {nan, 0, 0, 1}};
  check(c, "rotation matrix 1 entry 0 is nan");
}

template <class B>
class GridBadPoints : public on_backend<B> {};
TYPED_TEST_SUITE(GridBadPoints, both_backends, backend_names);

// Was: NaN, infinite or huge points were undefined behaviour in the float -> int conversion.
// Now coordinates are clamped to [-1, 2] (NaN to -1): finite features, zero input gradient.
TYPED_TEST(GridBadPoints, NanInfiniteAndHugePointsGiveDefinedFeatures) {
  float const inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> const points{nan, 0.5f, inf, -inf, 1e30f, -1e30f, 2.0f, -1.0f, 0.25f, 0.75f};
  std::size_t const n = points.size() / 2;
  for (auto rotation : {enc::rotation_kind::none, enc::rotation_kind::golden}) {
    enc::grid_config c;
    c.dims = 2;
    c.levels = 4;
    c.rotation = rotation;
    enc::grid_encoding<> e{c, TypeParam::value};
    e.initialize_uniform(1e-2f, 3);
    std::size_t const width = static_cast<std::size_t>(c.levels * c.features);
    std::vector<float> y(n * width), dy_dx(n * width * 2);
    e.forward(points.data(), n, y.data(), dy_dx.data());
    for (float v : y) { EXPECT_TRUE(std::isfinite(v)); }
    for (float v : dy_dx) { EXPECT_TRUE(std::isfinite(v)); }
    if (rotation != enc::rotation_kind::none) { continue; }
    // Clamping is what it says: +inf and 1e30 encode like 2, -inf and -1e30 like -1, NaN like -1,
    // and a clamped coordinate has no gradient.
    std::vector<float> const clamped{-1.0f, 0.5f, 2.0f, -1.0f, 2.0f, -1.0f, 2.0f, -1.0f, 0.25f, 0.75f};
    std::vector<float> y_clamped(n * width);
    e.forward(clamped.data(), n, y_clamped.data());
    EXPECT_EQ(y, y_clamped);
    for (std::size_t f = 0; f < width; ++f) { EXPECT_EQ(dy_dx[f * 2 + 0], 0.0f) << "d(feature " << f << ")/dx of NaN"; }
  }
}

}  // namespace
