// warp::distributed over MPI, one process per rank (run by CTest as mpirun -np 2 and -np 4): the
// same differential sequences as the in-process tests, each process checking its own rank's
// slice of every batch, and the global counts on every rank. A failed check aborts the whole job
// (MPI_Abort) so that no rank is left waiting in a collective; CTest's timeout catches the rest.
#include "sharded_targets.hpp"

#include <cmath>
#include <cstdio>
#include <memory>

#include <warp/distributed/mpi.cuh>
#include <warp/distributed/sharded_bloom_filter.cuh>

using namespace warp_test;
namespace wd = warp::distributed;

namespace {

wd::communicator* world = nullptr;

// A failure on one rank ends every rank: its peers would otherwise wait for it forever.
class abort_on_failure : public ::testing::EmptyTestEventListener {
  void OnTestPartResult(::testing::TestPartResult const& result) override {
    if (!result.failed()) { return; }
    std::fprintf(stderr, "rank %d: %s:%d: %s\n", world->rank(), result.file_name() ? result.file_name() : "?",
                 result.line_number(), result.summary());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
};

TEST(ShardedOverMpi, SingleValueSequencesMatchStdUnorderedMap) {
  own_rank_runner runner{*world};
  sharded_map_target<std::uint64_t, std::uint64_t, warp::linear_probing<4, 2>, own_rank_runner> target{
      runner, 1024, sentinels<std::uint64_t>::empty(), 123456, sentinels<std::uint64_t>::erased()};
  run_map_sequence<std::uint64_t, std::uint64_t>(target, 123456, 424242, 40);
}

TEST(ShardedOverMpi, MultiValueRetrieveMatchesUnorderedMultimap) {
  own_rank_runner runner{*world};
  std::vector<std::uint32_t> keys, values;
  std::mt19937_64 rng{11};
  for (std::uint64_t r : zipf_ranks(30000, 4000, 3)) {
    keys.push_back(make_key<std::uint32_t>(r * 7919 + 3));
    values.push_back(static_cast<std::uint32_t>(rng() % 1000000));
  }
  std::vector<std::uint32_t> queries;
  for (std::size_t i = 0; i < keys.size(); i += 11) { queries.push_back(keys[i]); }
  for (std::uint32_t i = 0; i < 300; ++i) { queries.push_back(0xabc00000u + i); }
  sharded_multimap_target<std::uint32_t, std::uint32_t, warp::linear_probing<4, 2>, own_rank_runner> target{
      runner, keys.size() * 2 / static_cast<std::size_t>(world->size()) + 4096, sentinels<std::uint32_t>::empty()};
  ASSERT_NO_FATAL_FAILURE(check_multimap(target, keys, values, queries));
}

TEST(ShardedOverMpi, StatusAndLoadsAgreeOnEveryRank) {
  wd::sharded_map<std::uint64_t, std::uint64_t> map{*world, 128, warp::empty_key{~0ull}, warp::empty_value{0ull}};
  std::vector<std::uint64_t> keys(300);  // 300 per rank into 128 slots per rank: some shard fills
  for (std::size_t i = 0; i < keys.size(); ++i) {
    keys[i] = warp::hash::fmix64(static_cast<std::uint64_t>(world->rank()) * 1000 + i + 1) >> 1;
  }
  std::vector<warp::insert_outcome> outcomes(keys.size());
  std::size_t const inserted = map.insert(keys.begin(), keys.end(), keys.begin(), outcomes.data());
  EXPECT_TRUE(map.status().no_room());
  EXPECT_EQ(map.size(), inserted);
  auto const loads = map.load_factors();
  ASSERT_EQ(loads.size(), static_cast<std::size_t>(world->size()));
  EXPECT_DOUBLE_EQ(loads[static_cast<std::size_t>(world->rank())],
                   static_cast<double>(map.shard().size()) / map.shard().capacity());
  std::size_t refused = 0;
  for (auto o : outcomes) { refused += o == warp::insert_outcome::no_room; }
  EXPECT_EQ(wd::all_reduce_sum(*world, keys.size() - refused), inserted) << "every key inserted or reported";
}

// Keys added on one process are found from every process; absent keys come back positive at
// about the predicted rate.
TEST(ShardedOverMpi, BloomFilterHasNoFalseNegativesAcrossProcesses) {
  constexpr std::size_t n = 20000;
  std::size_t const ranks = static_cast<std::size_t>(world->size()), rank = static_cast<std::size_t>(world->rank());
  wd::sharded_bloom_filter<std::uint64_t> filter{*world, (std::size_t{1} << 18) / ranks, 6};
  std::vector<std::uint64_t> keys(n), absent(n);
  for (std::size_t i = 0; i < n; ++i) {
    keys[i] = warp::hash::fmix64(i + 1);
    absent[i] = warp::hash::fmix64(i + 1 + n);
  }
  std::size_t const lo = n * rank / ranks, hi = n * (rank + 1) / ranks;
  filter.add(keys.begin() + static_cast<std::ptrdiff_t>(lo), keys.begin() + static_cast<std::ptrdiff_t>(hi));
  std::unique_ptr<bool[]> out{new bool[n]};
  EXPECT_EQ(filter.contains(keys.begin(), keys.end(), out.get()), n) << "every key, whichever process added it";
  for (std::size_t i = 0; i < n; ++i) { ASSERT_TRUE(out[i]) << "key " << i; }
  double const predicted = filter.predicted_false_positive_rate(n);
  double const measured = static_cast<double>(filter.contains(absent.begin(), absent.end(), out.get())) / n;
  EXPECT_NEAR(measured, predicted, 4 * std::sqrt(predicted / n) + 0.2 * predicted);
}

}  // namespace

int main(int argc, char** argv) {
  wd::mpi_session mpi{argc, argv};
  ::testing::InitGoogleTest(&argc, argv);
  wd::mpi_communicator comm;
  world = &comm;
  ::testing::UnitTest::GetInstance()->listeners().Append(new abort_on_failure);
  if (comm.rank() != 0) {  // one rank prints the report
    delete ::testing::UnitTest::GetInstance()->listeners().Release(
        ::testing::UnitTest::GetInstance()->listeners().default_result_printer());
  }
  int const failed = RUN_ALL_TESTS();
  world = nullptr;
  return failed;
}
