// The map's ref used from user code: inside a user kernel with scalar and tile calls (CUDA), and
// from many host threads at once (host backend), including concurrent inserts of the same keys
// and finds racing with assigns.
#include "map_configs.hpp"

#include <atomic>
#include <random>
#include <type_traits>
#include <thread>
#include <unordered_set>
#include <vector>

#if WARP_CUDA_ENABLED
#include <cooperative_groups.h>
#endif

using namespace warp_test;

namespace {

using map_t = warp::single_value_map<std::uint64_t, std::uint64_t, warp::linear_probing<4, 2>>;

map_t make_map(std::size_t capacity, warp::backend b) {
  return map_t{capacity, warp::empty_key{~0ull}, warp::empty_value{~0ull}, warp::erased_key{~0ull - 1}, b};
}

// What a ref may do is in its type: the lookup ref of map.ref() (also on a const map) has no
// mutating member, so calling one does not compile; mutable_ref() has them all.
template <class Ref, class = void>
struct can_erase : std::false_type {};
template <class Ref>
struct can_erase<Ref, std::void_t<decltype(std::declval<Ref const&>().erase(std::uint64_t{}))>> : std::true_type {};
template <class Ref, class = void>
struct can_insert : std::false_type {};
template <class Ref>
struct can_insert<Ref, std::void_t<decltype(std::declval<Ref const&>().insert(std::uint64_t{}, std::uint64_t{}))>>
    : std::true_type {};
static_assert(!can_erase<map_t::ref_type>::value && !can_insert<map_t::ref_type>::value, "lookup refs only look up");
static_assert(can_erase<map_t::mutable_ref_type>::value && can_insert<map_t::mutable_ref_type>::value);
static_assert(std::is_same_v<decltype(std::declval<map_t const&>().ref()), map_t::ref_type>);
static_assert(!can_erase<warp::hash_set<std::uint64_t>::ref_type>::value);
static_assert(!can_erase<warp::counting_map<std::uint64_t>::ref_type>::value);
static_assert(std::is_trivially_copyable_v<map_t::ref_type> && std::is_trivially_copyable_v<map_t::mutable_ref_type>);

TEST(MapRefHost, LookupRefSeesWhatTheMutableRefInserted) {
  auto map = make_map(100, warp::backend::host);
  map_t const& view = map;
  auto lookup = view.ref();
  EXPECT_EQ(map.mutable_ref().insert(5, 50), warp::insert_outcome::inserted);
  EXPECT_TRUE(lookup.contains(5));
  EXPECT_EQ(lookup.find(5), 50u);
  EXPECT_EQ(lookup.find(6), ~0ull);
}

TEST(MapRefHost, ManyThreadsInsertingTheSameKeysLeaveOneEntryEach) {
  auto map = make_map(10000, warp::backend::host);
  auto ref = map.mutable_ref();
  std::atomic<std::size_t> inserted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t k = 0; k < 5000; ++k) {
        std::uint64_t const key = (k * 7919 + static_cast<std::uint64_t>(t)) % 5000;
        if (ref.insert(key, key * 3) == warp::insert_outcome::inserted) { ++inserted; }
      }
    });
  }
  for (auto& th : threads) { th.join(); }
  EXPECT_EQ(inserted.load(), 5000u);
  EXPECT_EQ(map.size(), 5000u);
  for (std::uint64_t k = 0; k < 5000; ++k) { ASSERT_EQ(ref.find(k), k * 3); }
}

TEST(MapRefHost, ConcurrentFindSeesAbsentOrACompleteValue) {
  auto map = make_map(4096, warp::backend::host);
  auto ref = map.mutable_ref();
  std::atomic<bool> done{false};
  std::atomic<std::size_t> torn{0}, seen{0};
  // The reader makes at least one pass after the writers finish: on two cores it may not be
  // scheduled before they are done (seen was then 0, a spurious failure).
  std::thread reader([&] {
    bool last = false;
    do {
      last = done.load();
      for (std::uint64_t k = 0; k < 2000; ++k) {
        std::uint64_t const v = ref.find(k);
        if (v == ~0ull) { continue; }
        ++seen;
        // Every value written is (round << 32 | round) ^ key: both halves agree.
        std::uint64_t const x = v ^ k;
        if ((x >> 32) != (x & 0xffffffffull)) { ++torn; }
      }
    } while (!last);
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (std::uint64_t round = 1; round < 40; ++round) {
        for (std::uint64_t k = static_cast<std::uint64_t>(t); k < 2000; k += 4) {
          ref.insert_or_assign(k, ((round << 32) | round) ^ k);
        }
      }
    });
  }
  for (auto& w : writers) { w.join(); }
  done = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_GT(seen.load(), 0u);
  EXPECT_EQ(map.size(), 2000u);
}

TEST(MapRefHost, ApplyFromManyThreadsSumsExactly) {
  auto map = make_map(1000, warp::backend::host);
  auto ref = map.mutable_ref();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) { ref.insert_or_apply(static_cast<std::uint64_t>(i % 100), 1ull, warp::op::plus{}); }
    });
  }
  for (auto& th : threads) { th.join(); }
  for (std::uint64_t k = 0; k < 100; ++k) { ASSERT_EQ(ref.find(k), 800u); }
  EXPECT_TRUE(ref.erase(5));
  EXPECT_FALSE(ref.contains(5));
  EXPECT_FALSE(ref.erase(5));
}

// erase_reporting says what each erase did: counting its `tombstone` results gives the map's exact
// tombstone count (what a caller erasing through refs needs to decide on a rehash), through a
// table filled to 0.9 so that many windows are full and many erases must leave one.
TEST(MapRefHost, EraseReportingCountsEveryTombstoneItLeaves) {
  auto map = make_map(4096, warp::backend::host);
  auto ref = map.mutable_ref();
  std::size_t const n = map.capacity() * 9 / 10;
  std::mt19937_64 rng{5};
  std::vector<std::uint64_t> keys(n);
  for (auto& k : keys) {
    k = rng() >> 2;
    ASSERT_EQ(ref.insert(k, k + 1), warp::insert_outcome::inserted);
  }
  std::size_t tombstones = 0, emptied = 0;
  for (std::size_t i = 0; i < n; i += 2) {
    warp::erase_outcome const o = ref.erase_reporting(keys[i]);
    ASSERT_NE(o, warp::erase_outcome::absent) << i;
    (o == warp::erase_outcome::tombstone ? tombstones : emptied) += 1;
  }
  EXPECT_EQ(ref.erase_reporting(keys[0]), warp::erase_outcome::absent);
  EXPECT_GT(tombstones, 0u);
  EXPECT_GT(emptied, 0u);
  EXPECT_EQ(map.tombstones(), tombstones);
  for (std::size_t i = 0; i < n; ++i) { ASSERT_EQ(ref.contains(keys[i]), i % 2 == 1) << i; }
}

// A user-chosen hash functor (32-bit XXH32 with a seed) travels through the probing scheme and the
// constructor, on every backend this machine has.
TEST(MapCustomHash, SeededXxhash32) {
  using hash_t = warp::hash::xxhash_32<std::uint32_t>;
  using custom_t = warp::single_value_map<std::uint32_t, std::uint32_t, warp::linear_probing<2, 1, hash_t>>;
  for (warp::backend b : {warp::backend::host, warp::backend::cuda}) {
    if (b == warp::backend::cuda && !warp::cuda_available()) { continue; }
    custom_t map{20000, warp::empty_key{~0u}, warp::empty_value{0u}, b, warp::default_stream(), hash_t{7}};
    std::vector<std::uint32_t> keys(15000), found(15000);
    for (std::uint32_t i = 0; i < keys.size(); ++i) { keys[i] = i * 2654435761u; }
    EXPECT_EQ(map.insert(keys.begin(), keys.end(), keys.begin()), keys.size()) << warp::to_string(b);
    EXPECT_EQ(map.find(keys.begin(), keys.end(), found.data()), keys.size()) << warp::to_string(b);
    EXPECT_EQ(found, keys) << warp::to_string(b);
    EXPECT_EQ(map.hash_function().seed, 7u);
  }
}

#if WARP_CUDA_ENABLED
__global__ void user_kernel(map_t::mutable_ref_type map, std::uint64_t n, unsigned long long* counts) {
  namespace cg = cooperative_groups;
  auto const tile = cg::tiled_partition<map_t::tile_size>(cg::this_thread_block());
  std::uint64_t const tile_id = (blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x) / map_t::tile_size;
  if (tile_id < n) {
    // Tile insert of key tile_id, tile apply of key tile_id % 64.
    if (map.insert(tile, tile_id, tile_id + 1) == warp::insert_outcome::inserted && tile.thread_rank() == 0) {
      atomicAdd(counts, 1ull);
    }
    map.insert_or_apply(tile, (1ull << 40) + tile_id % 64, 1ull, warp::op::plus{});
  }
  std::uint64_t const thread_id = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x;
  if (thread_id < 64) {
    // Scalar calls on the same table must agree with the tile calls.
    map.insert_or_apply((1ull << 41) + thread_id, thread_id, warp::op::plus{});
  }
}

__global__ void check_kernel(map_t::ref_type map, std::uint64_t n, unsigned long long* errors) {
  std::uint64_t const i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x;
  if (i < n && map.find(i) != i + 1) { atomicAdd(errors, 1ull); }
  if (i < n && map.contains(n + i)) { atomicAdd(errors, 1ull); }
}

TEST(MapRefDevice, UserKernelWithTileAndScalarCalls) {
  WARP_SKIP_UNLESS_AVAILABLE(warp::backend::cuda);
  constexpr std::uint64_t n = 100000;
  auto map = make_map(2 * n, warp::backend::cuda);
  warp::detail::buffer<unsigned long long> counters{warp::backend::cuda, 2, warp::default_stream()};
  ASSERT_EQ(cudaMemset(counters.data(), 0, 2 * sizeof(unsigned long long)), cudaSuccess);
  unsigned const blocks = static_cast<unsigned>((n * map_t::tile_size + 255) / 256);
  user_kernel<<<blocks, 256>>>(map.mutable_ref(), n, counters.data());
  check_kernel<<<static_cast<unsigned>((n + 255) / 256), 256>>>(map.ref(), n, counters.data() + 1);
  unsigned long long host[2] = {};
  ASSERT_EQ(cudaMemcpy(host, counters.data(), sizeof(host), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(host[0], n);
  EXPECT_EQ(host[1], 0u);
  EXPECT_EQ(map.size(), n + 64 + 64);
  std::vector<std::uint64_t> keys(64), sums(64);
  for (std::uint64_t k = 0; k < 64; ++k) { keys[k] = (1ull << 40) + k; }
  map.find(keys.data(), keys.data() + 64, sums.data());
  std::uint64_t total = 0;
  for (auto s : sums) { total += s; }
  EXPECT_EQ(total, n);  // every tile added 1 to one of the 64 counters
}
#endif

}  // namespace
