// Backend selection and host-API error reporting.
#include "test_common.hpp"

#include <cstdlib>
#include <vector>

using namespace warp_test;

namespace {

struct env_guard {
  explicit env_guard(char const* value) {
    if (char const* old = std::getenv("WARP_BACKEND")) { saved = old; had = true; }
    if (value) { setenv("WARP_BACKEND", value, 1); } else { unsetenv("WARP_BACKEND"); }
  }
  ~env_guard() {
    if (had) { setenv("WARP_BACKEND", saved.c_str(), 1); } else { unsetenv("WARP_BACKEND"); }
  }
  std::string saved;
  bool had = false;
};

TEST(Backend, DefaultIsCudaExactlyWhenADeviceIsUsable) {
  env_guard g{nullptr};
  EXPECT_EQ(warp::default_backend(), warp::cuda_available() ? warp::backend::cuda : warp::backend::host);
  EXPECT_EQ(warp::cuda_available(), warp::cuda_unavailable_reason().empty());
}

TEST(Backend, EnvironmentSelectsHost) {
  env_guard g{"host"};
  EXPECT_EQ(warp::default_backend(), warp::backend::host);
}

TEST(Backend, EnvironmentAskingForCudaWithoutDeviceIsAClearError) {
  env_guard g{"cuda"};
  if (warp::cuda_available()) {
    EXPECT_EQ(warp::default_backend(), warp::backend::cuda);
  } else {
    try {
      (void)warp::default_backend();
      FAIL() << "expected backend_unavailable";
    } catch (warp::backend_unavailable const& e) {
      EXPECT_NE(std::string(e.what()).find("cuda backend was requested"), std::string::npos) << e.what();
    }
  }
}

TEST(Backend, ContainersFollowTheEnvironment) {
  env_guard g{"host"};
  warp::single_value_map<int, int> map{16, warp::empty_key{-1}, warp::empty_value{0}};
  EXPECT_EQ(map.where(), warp::backend::host);
}

TEST(Backend, BadEnvironmentValueIsRejected) {
  env_guard g{"gpu"};
  EXPECT_THROW((void)warp::default_backend(), warp::invalid_argument);
}

TEST(Backend, ExplicitCudaWithoutDeviceThrows) {
  if (warp::cuda_available()) { GTEST_SKIP() << "a device is present"; }
  using map_t = warp::single_value_map<int, int>;
  EXPECT_THROW((map_t{16, warp::empty_key{-1}, warp::empty_value{0}, warp::backend::cuda}), warp::backend_unavailable);
}

using map_t = warp::single_value_map<std::uint32_t, std::uint32_t>;

std::string message_of(std::function<void()> const& f) {
  try {
    f();
  } catch (warp::error const& e) {
    return e.what();
  }
  return "no exception";
}

TEST(Errors, ZeroCapacity) {
  auto const m = message_of([] { map_t{0, warp::empty_key{~0u}, warp::empty_value{0u}, warp::backend::host}; });
  EXPECT_NE(m.find("capacity must be positive, got 0"), std::string::npos) << m;
}

TEST(Errors, AbsurdCapacity) {
  auto const m = message_of([] {
    map_t{std::size_t{1} << 50, warp::empty_key{~0u}, warp::empty_value{0u}, warp::backend::host};
  });
  EXPECT_NE(m.find("exceeds the supported maximum"), std::string::npos) << m;
}

TEST(Errors, LoadFactorOutsideUnitInterval) {
  for (double lf : {0.0, -0.5, 1.5, std::nan("")}) {
    auto const m = message_of([lf] { map_t{warp::sizing{100, lf}, warp::empty_key{~0u}, warp::empty_value{0u}, warp::backend::host}; });
    EXPECT_NE(m.find("load factor must be in (0, 1]"), std::string::npos) << m;
  }
  EXPECT_NO_THROW((map_t{warp::sizing{100, 1.0}, warp::empty_key{~0u}, warp::empty_value{0u}, warp::backend::host}));
}

TEST(Errors, OutOfMemoryNamesTheBytes) {
  using big_t = warp::single_value_map<std::uint64_t, std::uint64_t>;
  try {
    big_t m{std::size_t{1} << 40, warp::empty_key{~0ull}, warp::empty_value{0ull}, warp::backend::host};
    FAIL() << "a 16 TiB table was allocated";
  } catch (warp::out_of_memory const& e) {
    EXPECT_EQ(e.requested_bytes, (std::size_t{1} << 40) * 16);
    EXPECT_NE(std::string(e.what()).find("bytes free"), std::string::npos) << e.what();
  }
}

TEST(Errors, EqualSentinels) {
  auto const m = message_of([] {
    map_t{16, warp::empty_key{7u}, warp::empty_value{0u}, warp::erased_key{7u}, warp::backend::host};
  });
  EXPECT_NE(m.find("must differ"), std::string::npos) << m;
}

TEST(Errors, EraseWithoutErasedSentinel) {
  map_t map{16, warp::empty_key{~0u}, warp::empty_value{0u}, warp::backend::host};
  std::uint32_t k = 1;
  EXPECT_THROW(map.erase(&k, &k + 1), warp::logic_error);
}

TEST(Errors, NullPointers) {
  map_t map{16, warp::empty_key{~0u}, warp::empty_value{0u}, warp::backend::host};
  std::uint32_t* null = nullptr;
  std::uint32_t v[4] = {};
  auto const m = message_of([&] { map.insert(null, null + 4, v); });
  EXPECT_NE(m.find("insert: keys is a null pointer"), std::string::npos) << m;
  std::uint32_t k[4] = {1, 2, 3, 4};
  auto const m2 = message_of([&] { map.find(k, k + 4, null); });
  EXPECT_NE(m2.find("find: output is a null pointer"), std::string::npos) << m2;
}

TEST(Errors, SizesThatDisagree) {
  map_t map{16, warp::empty_key{~0u}, warp::empty_value{0u}, warp::backend::host};
  std::uint32_t k[4] = {1, 2, 3, 4};
  auto const m = message_of([&] { map.find(k + 4, k, k); });
  EXPECT_NE(m.find("negative length"), std::string::npos) << m;
}

TEST(Errors, RehashBelowSize) {
  map_t map{64, warp::empty_key{~0u}, warp::empty_value{0u}, warp::backend::host};
  std::vector<std::uint32_t> k(40);
  for (std::uint32_t i = 0; i < 40; ++i) { k[i] = i; }
  map.insert(k.begin(), k.end(), k.begin());
  auto const m = message_of([&] { map.rehash(10); });
  EXPECT_NE(m.find("new capacity 10 is below the 40 keys stored"), std::string::npos) << m;
  EXPECT_EQ(map.size(), 40u);  // unchanged
}

}  // namespace
