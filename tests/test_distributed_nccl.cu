// warp::distributed over NCCL: one rank on one GPU (skipped without one). Its own binary, because
// it links libnccl, which the others do not need.
#include "test_common.hpp"

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <warp/bloom_filter.cuh>
#include <warp/distributed/nccl.cuh>
#include <warp/distributed/sharded_bloom_filter.cuh>
#include <warp/distributed/sharded_map.cuh>

using namespace warp_test;
namespace wd = warp::distributed;

namespace {

// One NCCL rank on one GPU: the sharded map's whole path (multisplit kernels, grouped send/recv,
// the local bulk calls, the way back) on the device.
TEST(Transports, NcclSingleRankMatchesAStdUnorderedMap) {
  WARP_SKIP_UNLESS_AVAILABLE(warp::backend::cuda);
#if WARP_NCCL_ENABLED
  auto comms = wd::nccl_communicator::init_all({0});
  ASSERT_EQ(comms.size(), 1u);
  wd::sharded_map<std::uint64_t, std::uint64_t> map{*comms[0], 1 << 16, warp::empty_key{~0ull},
                                                    warp::empty_value{0ull}, warp::erased_key{~0ull - 1}};
  std::vector<std::uint64_t> keys(20000);
  for (std::size_t i = 0; i < keys.size(); ++i) { keys[i] = warp::hash::fmix64(i + 1) >> 2; }
  std::vector<warp::insert_outcome> outcomes(keys.size());
  EXPECT_EQ(map.insert(keys.begin(), keys.end(), keys.begin(), outcomes.data()), keys.size());
  for (auto o : outcomes) { ASSERT_EQ(o, warp::insert_outcome::inserted); }
  std::vector<std::uint64_t> queries(keys.begin(), keys.begin() + 5000);
  for (std::uint64_t i = 0; i < 5000; ++i) { queries.push_back(~0ull - 10 - i); }
  std::vector<std::uint64_t> found(queries.size());
  EXPECT_EQ(map.find(queries.begin(), queries.end(), found.data()), 5000u);
  for (std::size_t i = 0; i < queries.size(); ++i) { ASSERT_EQ(found[i], i < 5000 ? queries[i] : 0ull) << i; }
  EXPECT_EQ(map.erase(keys.begin(), keys.begin() + 100), 100u);
  EXPECT_EQ(map.size(), keys.size() - 100);
#else
  GTEST_SKIP() << "built without NCCL";
#endif
}

// The sharded Bloom filter on one NCCL rank: the device path answers as a plain device filter of
// the same geometry given the same keys.
TEST(Transports, NcclSingleRankBloomFilterMatchesAPlainOne) {
  WARP_SKIP_UNLESS_AVAILABLE(warp::backend::cuda);
#if WARP_NCCL_ENABLED
  auto comms = wd::nccl_communicator::init_all({0});
  wd::sharded_bloom_filter<std::uint64_t> filter{*comms[0], std::size_t{1} << 18, 6};
  warp::bloom_filter<std::uint64_t> plain{std::size_t{1} << 18, 6, warp::backend::cuda};
  std::vector<std::uint64_t> keys(20000), queries(40000);
  for (std::size_t i = 0; i < keys.size(); ++i) { keys[i] = warp::hash::fmix64(i + 1); }
  for (std::size_t i = 0; i < queries.size(); ++i) { queries[i] = warp::hash::fmix64(i + 1); }  // half added
  filter.add(keys.begin(), keys.end());
  plain.add(keys.begin(), keys.end());
  std::unique_ptr<bool[]> got{new bool[queries.size()]}, want{new bool[queries.size()]};
  std::size_t const positives = filter.contains(queries.begin(), queries.end(), got.get());
  EXPECT_EQ(positives, plain.contains(queries.begin(), queries.end(), want.get()));
  for (std::size_t i = 0; i < queries.size(); ++i) { ASSERT_EQ(got[i], want[i]) << i; }
  for (std::size_t i = 0; i < keys.size(); ++i) { ASSERT_TRUE(got[i]) << "a false negative: " << i; }
#else
  GTEST_SKIP() << "built without NCCL";
#endif
}

// One process per GPU, the id through a file: one rank here, so rank 0 writes and reads it.
TEST(Transports, NcclRankFromAnIdFile) {
  WARP_SKIP_UNLESS_AVAILABLE(warp::backend::cuda);
#if WARP_NCCL_ENABLED
  std::string const path = "/tmp/warp_nccl_id_" + std::to_string(::getpid());
  auto const id = wd::nccl_communicator::id_through_file(path, 0);
  wd::nccl_communicator comm{id, 1, 0, 0};
  std::remove(path.c_str());
  EXPECT_EQ(comm.size(), 1);
  EXPECT_EQ(wd::all_reduce_sum(comm, 41) + 1, 42u);
#else
  GTEST_SKIP() << "built without NCCL";
#endif
}

}  // namespace
