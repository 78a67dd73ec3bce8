// The member set every container shares, with the same names and meaning everywhere: size, empty,
// capacity, load_factor, clear / clear_async, status / clear_status, rehash, memory_bytes, where,
// device; the checked retrieve forms that name both sizes; `_async` counts written to caller memory;
// caller-supplied memory resources; and the multi-value rehash that keeps every duplicate.
#include "test_common.hpp"

#include <algorithm>
#include <atomic>
#include <numeric>
#include <string>
#include <vector>

using namespace warp_test;

namespace {

// One adapter per container: how to make one with room for `capacity` keys and how to add keys.
struct single_kind {
  using type = warp::single_value_map<std::uint32_t, std::uint32_t>;
  static constexpr char const* name = "single_value_map";
  static type make(std::size_t capacity, warp::backend b, warp::memory_resource* mr = nullptr) {
    return type{capacity, warp::empty_key{~0u}, warp::empty_value{0u}, warp::erased_key{~0u - 1}, b,
                warp::default_stream(), {}, mr};
  }
  static std::size_t add(type& c, std::vector<std::uint32_t> const& keys) { return c.insert(keys.begin(), keys.end(), keys.begin()); }
};
struct set_kind {
  using type = warp::hash_set<std::uint32_t>;
  static constexpr char const* name = "hash_set";
  static type make(std::size_t capacity, warp::backend b, warp::memory_resource* mr = nullptr) {
    return type{capacity, warp::empty_key{~0u}, warp::erased_key{~0u - 1}, b, warp::default_stream(), {}, mr};
  }
  static std::size_t add(type& c, std::vector<std::uint32_t> const& keys) { return c.insert(keys.begin(), keys.end()); }
};
struct counting_kind {
  using type = warp::counting_map<std::uint32_t>;
  static constexpr char const* name = "counting_map";
  static type make(std::size_t capacity, warp::backend b, warp::memory_resource* mr = nullptr) {
    return type{capacity, warp::empty_key{~0u}, warp::erased_key{~0u - 1}, b, warp::default_stream(), {}, mr};
  }
  static std::size_t add(type& c, std::vector<std::uint32_t> const& keys) { return c.increment(keys.begin(), keys.end()); }
};
struct multi_kind {
  using type = warp::multi_value_map<std::uint32_t, std::uint32_t>;
  static constexpr char const* name = "multi_value_map";
  static type make(std::size_t capacity, warp::backend b, warp::memory_resource* mr = nullptr) {
    return type{capacity, warp::empty_key{~0u}, {}, b, warp::default_stream(), {}, mr};
  }
  static std::size_t add(type& c, std::vector<std::uint32_t> const& keys) { return c.insert(keys.begin(), keys.end(), keys.begin()); }
};
struct bucket_kind {
  using type = warp::bucket_list_map<std::uint32_t, std::uint32_t>;
  static constexpr char const* name = "bucket_list_map";
  static type make(std::size_t capacity, warp::backend b, warp::memory_resource* mr = nullptr) {
    return type{capacity, warp::empty_key{~0u}, {}, b, warp::default_stream(), {}, mr};
  }
  static std::size_t add(type& c, std::vector<std::uint32_t> const& keys) { return c.insert(keys.begin(), keys.end(), keys.begin()); }
};

template <class Kind, class B>
struct member_config {
  using kind = Kind;
  static constexpr warp::backend backend = B::value;
};

template <class C>
class Members : public ::testing::Test {
 protected:
  void SetUp() override { WARP_SKIP_UNLESS_AVAILABLE(C::backend); }
};
#define WARP_MEMBER_CONFIGS(B)                                                                                   \
  member_config<single_kind, B>, member_config<set_kind, B>, member_config<counting_kind, B>,                 \
      member_config<multi_kind, B>, member_config<bucket_kind, B>
using member_configs = ::testing::Types<WARP_MEMBER_CONFIGS(host_backend), WARP_MEMBER_CONFIGS(cuda_backend)>;
struct member_names {
  template <class C>
  static std::string GetName(int) { return std::string(C::kind::name) + "_" + warp::to_string(C::backend); }
};
TYPED_TEST_SUITE(Members, member_configs, member_names);

std::vector<std::uint32_t> distinct(std::size_t n, std::uint32_t first = 1) {
  std::vector<std::uint32_t> keys(n);
  std::iota(keys.begin(), keys.end(), first);
  return keys;
}

TYPED_TEST(Members, TheSharedMemberSetMeansTheSameEverywhere) {
  using kind = typename TypeParam::kind;
  constexpr auto where = TypeParam::backend;
  auto c = kind::make(1000, where);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.size(), 0u);
  EXPECT_GE(c.capacity(), 1000u);
  EXPECT_EQ(c.where(), where);
  EXPECT_EQ(c.device() >= 0, where == warp::backend::cuda);
  EXPECT_GE(c.memory_bytes(), c.capacity() * sizeof(std::uint32_t));
  auto const keys = distinct(300);
  EXPECT_EQ(kind::add(c, keys), 300u);
  EXPECT_FALSE(c.empty());
  EXPECT_EQ(c.size(), 300u);
  EXPECT_TRUE(c.status().ok());

  // rehash keeps everything, into at least the asked capacity.
  c.rehash(4000);
  EXPECT_GE(c.capacity(), 4000u);
  EXPECT_EQ(c.size(), 300u);
  EXPECT_GE(c.load_factor(), 0.0);
  EXPECT_LE(c.load_factor(), 300.0 / 4000.0 + 1e-9);

  // A sentinel as data raises the sticky status; clear_status resets it, clear empties.
  std::vector<std::uint32_t> const bad{~0u};
  (void)kind::add(c, bad);
  EXPECT_TRUE(c.status().invalid_key());
  c.clear_status();
  EXPECT_TRUE(c.status().ok());
  (void)kind::add(c, bad);
  c.clear_async();
  c.clear();
  EXPECT_TRUE(c.empty());
  EXPECT_TRUE(c.status().ok()) << "clear resets the status";
  EXPECT_EQ(kind::add(c, keys), 300u) << "usable again after clear";
}

TYPED_TEST(Members, SizeAsyncWritesToCallerMemory) {
  using kind = typename TypeParam::kind;
  constexpr auto where = TypeParam::backend;
  auto c = kind::make(1000, where);
  (void)kind::add(c, distinct(123));
  std::uint64_t size = 0;
  c.size_async(&size);
  warp::detail::synchronize(where, warp::default_stream());
  EXPECT_EQ(size, 123u);
}

/// A memory resource that forwards to the backend's default and counts what passes through.
class counting_resource final : public warp::memory_resource {
 public:
  explicit counting_resource(warp::backend b) : backend_{b} {}
  void* allocate(std::size_t bytes, cuda::stream_ref stream) override {
    ++allocations;
    live += bytes;
    return warp::default_memory_resource(backend_).allocate(bytes, stream);
  }
  void deallocate(void* p, std::size_t bytes, cuda::stream_ref stream) noexcept override {
    ++deallocations;
    live -= bytes;
    warp::default_memory_resource(backend_).deallocate(p, bytes, stream);
  }
  warp::backend where() const noexcept override { return backend_; }
  std::atomic<long> allocations{0}, deallocations{0};
  std::atomic<long long> live{0};

 private:
  warp::backend backend_;
};

TYPED_TEST(Members, ContainersTakeTheirMemoryFromTheCallersResource) {
  using kind = typename TypeParam::kind;
  constexpr auto where = TypeParam::backend;
  counting_resource mr{where};
  {
    auto c = kind::make(1000, where, &mr);
    EXPECT_GT(mr.allocations.load(), 0);
    EXPECT_GE(mr.live.load(), static_cast<long long>(c.capacity() * sizeof(std::uint32_t)));
    (void)kind::add(c, distinct(500));
    c.rehash(3000);
    EXPECT_EQ(c.size(), 500u);
  }
  warp::detail::synchronize(where, warp::default_stream());
  EXPECT_EQ(mr.allocations.load(), mr.deallocations.load()) << "everything allocated was returned";
  EXPECT_EQ(mr.live.load(), 0);
  // A resource of the other backend is refused with a clear error.
  counting_resource other{where == warp::backend::host ? warp::backend::cuda : warp::backend::host};
  EXPECT_THROW((void)kind::make(100, where, &other), warp::invalid_argument);
}

template <class B>
class Retrieval : public on_backend<B> {};
TYPED_TEST_SUITE(Retrieval, both_backends, backend_names);

TYPED_TEST(Retrieval, CheckedRetrieveFormsNameBothSizes) {
  constexpr auto where = TestFixture::where;
  auto map = single_kind::make(1000, where);
  (void)single_kind::add(map, distinct(100));
  std::vector<std::uint32_t> keys(99), values(99);
  std::string const e = error_message([&] { map.retrieve_all(keys.data(), values.data(), keys.size()); });
  EXPECT_NE(e.find("needs 100 entries but holds 99"), std::string::npos) << e;
  keys.resize(100);
  values.resize(100);
  EXPECT_EQ(map.retrieve_all(keys.data(), values.data(), keys.size()), 100u);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, distinct(100));

  auto set = set_kind::make(1000, where);
  (void)set_kind::add(set, distinct(10));
  std::vector<std::uint32_t> few(9);
  EXPECT_NE(error_message([&] { set.retrieve_all(few.data(), few.size()); }).find("needs 10 entries but holds 9"),
            std::string::npos);
  auto counts = counting_kind::make(1000, where);
  (void)counting_kind::add(counts, distinct(10));
  std::vector<std::uint32_t> tallies(9);
  EXPECT_NE(error_message([&] { counts.retrieve_at_least(1, few.data(), tallies.data(), few.size()); })
                .find("needs 10 entries but holds 9"),
            std::string::npos);
}

TYPED_TEST(Retrieval, AsyncCountsAreWrittenWithoutASynchronisation) {
  constexpr auto where = TestFixture::where;
  auto map = single_kind::make(1000, where);
  auto const keys = distinct(200);
  std::vector<std::uint32_t> const some(keys.begin(), keys.begin() + 150);
  std::uint64_t inserted = 0, found = 0, erased = 0;
  map.insert_async(keys.begin(), keys.end(), keys.begin(), nullptr, warp::default_stream(), &inserted);
  std::vector<std::uint32_t> out(keys.size());
  std::vector<std::uint32_t> probe = distinct(300);
  std::vector<std::uint32_t> got(probe.size());
  map.find_async(probe.begin(), probe.end(), got.data(), warp::default_stream(), &found);
  map.erase_async(some.begin(), some.end(), warp::default_stream(), &erased);
  warp::detail::synchronize(where, warp::default_stream());
  EXPECT_EQ(inserted, 200u);
  EXPECT_EQ(found, 200u);
  EXPECT_EQ(erased, 150u);
  EXPECT_EQ(map.size(), 50u);

  // The same through a container on the two-pass path and one with a phased insert.
  auto lists = bucket_kind::make(400, where);
  std::uint64_t stored = 0;
  lists.insert_async(keys.begin(), keys.end(), keys.begin(), nullptr, warp::default_stream(), &stored);
  warp::detail::synchronize(where, warp::default_stream());
  EXPECT_EQ(stored, 200u);
  EXPECT_EQ(lists.size(), 200u);
  EXPECT_EQ(lists.count(keys.begin(), keys.end()), 200u);
}

TYPED_TEST(Retrieval, BucketListRehashKeepsEveryKeysValues) {
  constexpr auto where = TestFixture::where;
  auto lists = bucket_kind::make(64, where);
  std::vector<std::uint32_t> keys, values;
  for (std::uint32_t i = 0; i < 2000; ++i) {
    keys.push_back(i % 40);
    values.push_back(i);
  }
  ASSERT_EQ(lists.insert(keys.begin(), keys.end(), values.begin()), keys.size());
  lists.rehash(1000);
  EXPECT_GE(lists.capacity(), 1000u);
  EXPECT_EQ(lists.num_keys(), 40u);
  auto const queries = distinct(40, 0);
  std::vector<std::uint64_t> offsets(41);
  std::vector<std::uint32_t> out(keys.size());
  EXPECT_EQ(lists.retrieve(queries.begin(), queries.end(), offsets.data(), out.data(), out.size()), keys.size());
  for (std::uint32_t k = 0; k < 40; ++k) {
    std::vector<std::uint32_t> mine(out.begin() + static_cast<std::ptrdiff_t>(offsets[k]),
                                    out.begin() + static_cast<std::ptrdiff_t>(offsets[k + 1]));
    std::sort(mine.begin(), mine.end());
    ASSERT_EQ(mine.size(), 50u);
    for (std::size_t j = 0; j < mine.size(); ++j) { ASSERT_EQ(mine[j], k + 40 * j); }
  }
  // Inserts after the rehash land in the moved lists.
  std::vector<std::uint32_t> const more{0, 0, 39};
  lists.insert(more.begin(), more.end(), more.begin());
  std::vector<std::uint64_t> counts(40);
  lists.count(queries.begin(), queries.end(), counts.data());
  EXPECT_EQ(counts[0], 52u);
  EXPECT_EQ(counts[39], 51u);
}

TYPED_TEST(Retrieval, CountingMapEraseForgetsCounts) {
  constexpr auto where = TestFixture::where;
  auto counts = counting_kind::make(1000, where);
  std::vector<std::uint32_t> const input{1, 1, 2, 3, 3, 3};
  counts.increment(input.begin(), input.end());
  std::vector<std::uint32_t> const gone{3};
  EXPECT_EQ(counts.erase(gone.begin(), gone.end()), 1u);
  std::vector<std::uint32_t> const keys{1, 2, 3};
  std::vector<std::uint32_t> got(3);
  EXPECT_EQ(counts.count(keys.begin(), keys.end(), got.data()), 2u);
  EXPECT_EQ(got, (std::vector<std::uint32_t>{2, 1, 0}));
  EXPECT_EQ(counts.size(), 2u);
}

#if WARP_CUDA_ENABLED
// Two containers on two devices of one process each run on their own device, whatever device the
// caller has selected. Needs two GPUs.
TEST(Devices, ContainersOnTwoDevicesEachWorkOnTheirOwn) {
  WARP_SKIP_UNLESS_AVAILABLE(warp::backend::cuda);
  int devices = 0;
  ASSERT_EQ(cudaGetDeviceCount(&devices), cudaSuccess);
  if (devices < 2) { GTEST_SKIP() << "needs two CUDA devices, found " << devices; }
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  auto on0 = single_kind::make(1000, warp::backend::cuda);
  ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
  auto on1 = single_kind::make(1000, warp::backend::cuda);
  EXPECT_EQ(on0.device(), 0);
  EXPECT_EQ(on1.device(), 1);
  auto const keys = distinct(500);
  // The caller is on device 1; map 0 still works on device 0, and the caller's device is kept.
  EXPECT_EQ(single_kind::add(on0, keys), 500u);
  int current = -1;
  ASSERT_EQ(cudaGetDevice(&current), cudaSuccess);
  EXPECT_EQ(current, 1);
  EXPECT_EQ(single_kind::add(on1, distinct(100)), 100u);
  EXPECT_EQ(on0.size(), 500u);
  EXPECT_EQ(on1.size(), 100u);
  std::vector<std::uint32_t> got(keys.size());
  EXPECT_EQ(on0.find(keys.begin(), keys.end(), got.data()), 500u);
  EXPECT_EQ(got, keys);
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
}
#endif

}  // namespace
