// warp::distributed on the in-process communicator: P = 1, 2, 3, 4, 7 shards give the results of
// one table on the single-value and multi-value maps' differential sequences, and a sharded Bloom
// filter the answers of one plain filter per owner; key placement; full
// shards; gathering; a failing or missing rank fails its peers instead of hanging them. (One NCCL
// rank on a GPU: test_distributed_nccl.cu.)
#include "sharded_targets.hpp"

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <memory>
#include <thread>
#include <unordered_set>

#include <warp/distributed/distributed.cuh>

using namespace warp_test;
namespace wd = warp::distributed;

namespace {

class Sharded : public ::testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Ranks, Sharded, ::testing::Values(1, 2, 3, 4, 7),
                         [](auto const& info) { return "P" + std::to_string(info.param); });

TEST_P(Sharded, SingleValueSequencesMatchStdUnorderedMap) {
  in_process_runner runner{GetParam()};
  sharded_map_target<std::uint64_t, std::uint64_t, warp::linear_probing<4, 2>, in_process_runner> target{
      runner, 1024, sentinels<std::uint64_t>::empty(), 123456, sentinels<std::uint64_t>::erased()};
  run_map_sequence<std::uint64_t, std::uint64_t>(target, 123456, 424242, 40);
}

TEST_P(Sharded, SingleValueSequencesMatchWithWideKeysAndOneSlotWindows) {
  in_process_runner runner{GetParam()};
  sharded_map_target<key128, std::uint32_t, warp::linear_probing<1, 1>, in_process_runner> target{
      runner, 1024, sentinels<key128>::empty(), 123456u, sentinels<key128>::erased()};
  run_map_sequence<key128, std::uint32_t>(target, 123456u, 77, 25);
}

TEST_P(Sharded, MultiValueRetrieveMatchesUnorderedMultimap) {
  in_process_runner runner{GetParam()};
  std::vector<std::uint32_t> keys, values;
  std::mt19937_64 rng{11};
  for (std::uint64_t r : zipf_ranks(30000, 4000, 3)) {
    keys.push_back(make_key<std::uint32_t>(r * 7919 + 3));
    values.push_back(static_cast<std::uint32_t>(rng() % 1000000));
  }
  for (std::uint32_t i = 0; i < 2000; ++i) {  // one heavy key: all its values on one rank
    keys.push_back(0xbeefu);
    values.push_back(i);
  }
  std::vector<std::uint32_t> queries;
  for (std::size_t i = 0; i < keys.size(); i += 11) { queries.push_back(keys[i]); }
  for (std::uint32_t i = 0; i < 300; ++i) { queries.push_back(0xabc00000u + i); }
  sharded_multimap_target<std::uint32_t, std::uint32_t, warp::linear_probing<4, 2>, in_process_runner> target{
      runner, keys.size() * 2 / static_cast<std::size_t>(GetParam()) + 4096, sentinels<std::uint32_t>::empty()};
  ASSERT_NO_FATAL_FAILURE(check_multimap(target, keys, values, queries));
}

// LSH blocking with the band keys partitioned across ranks: the same candidate pairs, bucket,
// raw-pair and purge counts as one find_candidates over all documents, dirty and clean-clean.
TEST_P(Sharded, LshCandidatesMatchOneRank) {
  int const ranks = GetParam();
  constexpr std::uint32_t bands = 8;
  constexpr std::size_t docs = 3000;
  std::vector<std::uint64_t> keys(docs * bands);
  for (std::size_t d = 0; d < docs; ++d) {
    for (std::uint32_t j = 0; j < bands; ++j) {  // about 600 values per band: buckets of a few documents
      std::uint64_t const value = warp::hash::fmix64(d * 31 + j) % (j == 0 ? 40 : 600);
      keys[d * bands + j] = warp::hash::fmix64(static_cast<std::uint64_t>(j) << 40 | value);
    }
  }
  warp::lsh::candidate_options o;
  o.layout = {bands, 4};
  o.max_bucket_size = 60;  // band 0's buckets (about 75 documents) are purged
  auto const single = warp::lsh::find_candidates(keys, docs, o, warp::backend::host);
  ASSERT_GT(single.pairs.size(), 1000u);
  ASSERT_GT(single.purged_buckets, 0u);
  in_process_runner runner{ranks};
  auto const cuts = slice_cuts(docs, ranks);
  std::vector<warp::lsh::candidate_pairs> got(static_cast<std::size_t>(ranks));
  int const root = ranks - 1;
  runner.each([&](int r) -> std::uint64_t {
    std::size_t const lo = cuts[static_cast<std::size_t>(r)], hi = cuts[static_cast<std::size_t>(r) + 1];
    got[static_cast<std::size_t>(r)] =
        wd::find_candidates(runner.comm(r), keys.data() + lo * bands, hi - lo, o, root);
    return 0;
  });
  for (int r = 0; r < ranks; ++r) {
    auto const& c = got[static_cast<std::size_t>(r)];
    EXPECT_EQ(c.buckets, single.buckets) << "rank " << r;
    EXPECT_EQ(c.raw_pairs, single.raw_pairs) << "rank " << r;
    EXPECT_EQ(c.purged_buckets, single.purged_buckets) << "rank " << r;
    EXPECT_EQ(c.purged_pairs, single.purged_pairs) << "rank " << r;
    if (r != root) { EXPECT_TRUE(c.pairs.empty()) << "rank " << r; }
  }
  EXPECT_EQ(got[static_cast<std::size_t>(root)].pairs, single.pairs);

  // Clean-clean: the first 1,800 documents are table A, the rest table B; each rank holds a share of both.
  std::size_t const docs_a = 1800, docs_b = docs - docs_a;
  std::vector<std::uint64_t> keys_a(keys.begin(), keys.begin() + docs_a * bands), keys_b(keys.begin() + docs_a * bands, keys.end());
  auto const clean = warp::lsh::find_candidates(keys_a, docs_a, keys_b, docs_b, o, warp::backend::host);
  ASSERT_GT(clean.pairs.size(), 100u);
  auto const cuts_a = slice_cuts(docs_a, ranks), cuts_b = slice_cuts(docs_b + 1, ranks);
  std::vector<warp::lsh::candidate_pairs> clean_got(static_cast<std::size_t>(ranks));
  runner.each([&](int r) -> std::uint64_t {
    std::size_t const a0 = cuts_a[static_cast<std::size_t>(r)], a1 = cuts_a[static_cast<std::size_t>(r) + 1];
    std::size_t const b0 = std::min(cuts_b[static_cast<std::size_t>(r)], docs_b);
    std::size_t const b1 = std::min(cuts_b[static_cast<std::size_t>(r) + 1], docs_b);
    clean_got[static_cast<std::size_t>(r)] = wd::find_candidates(runner.comm(r), keys_a.data() + a0 * bands, a1 - a0,
                                                                 keys_b.data() + b0 * bands, b1 - b0, o, 0);
    return 0;
  });
  EXPECT_EQ(clean_got[0].pairs, clean.pairs);
  EXPECT_EQ(clean_got[0].raw_pairs, clean.raw_pairs);
  EXPECT_EQ(clean_got[0].purged_buckets, clean.purged_buckets);
}

// A sharded Bloom filter answers exactly as P plain filters of the shard's geometry, each given
// the keys its rank owns (the reference builds them directly, without routing), and its measured
// false-positive rate is the one predicted for P times the bits.
TEST_P(Sharded, BloomFilterAnswersAsOnePlainFilterPerOwner) {
  int const ranks = GetParam();
  constexpr std::size_t n = 40000;
  std::size_t const shard_bits = (std::size_t{1} << 19) / static_cast<std::size_t>(ranks);  // the same bits in all
  std::vector<std::uint64_t> keys(n), queries(n);
  std::mt19937_64 rng{99};
  for (auto& k : keys) { k = rng(); }
  for (std::size_t i = 0; i < n; ++i) { queries[i] = i % 2 ? keys[(i * 7919) % n] : rng(); }  // half added
  in_process_runner runner{ranks};
  std::vector<std::unique_ptr<wd::sharded_bloom_filter<std::uint64_t>>> filters;
  for (int r = 0; r < ranks; ++r) {
    filters.push_back(std::make_unique<wd::sharded_bloom_filter<std::uint64_t>>(runner.comm(r), shard_bits, 6));
  }
  auto const cuts = slice_cuts(n, ranks);
  std::vector<std::uint64_t> present(static_cast<std::size_t>(ranks));
  runner.each([&](int r) -> std::uint64_t {  // the second half of each slice again: possibly present
    std::size_t const lo = cuts[static_cast<std::size_t>(r)], hi = cuts[static_cast<std::size_t>(r) + 1];
    filters[static_cast<std::size_t>(r)]->add(keys.data() + lo, keys.data() + hi);
    present[static_cast<std::size_t>(r)] =
        filters[static_cast<std::size_t>(r)]->add(keys.data() + (lo + hi) / 2, keys.data() + hi);
    return 0;
  });
  std::vector<std::vector<char>> answers(static_cast<std::size_t>(ranks));
  std::vector<std::size_t> positives(static_cast<std::size_t>(ranks));
  runner.each([&](int r) -> std::uint64_t {
    std::size_t const lo = cuts[static_cast<std::size_t>(r)], hi = cuts[static_cast<std::size_t>(r) + 1];
    std::unique_ptr<bool[]> out{new bool[hi - lo + 1]};
    positives[static_cast<std::size_t>(r)] =
        filters[static_cast<std::size_t>(r)]->contains(queries.data() + lo, queries.data() + hi, out.get());
    answers[static_cast<std::size_t>(r)].assign(out.get(), out.get() + (hi - lo));
    return 0;
  });

  // The reference: one plain filter per rank, fed that rank's owned keys in the same order.
  std::vector<std::unique_ptr<warp::bloom_filter<std::uint64_t>>> plain;
  for (int r = 0; r < ranks; ++r) {
    plain.push_back(std::make_unique<warp::bloom_filter<std::uint64_t>>(shard_bits, 6, warp::backend::host));
  }
  auto const owned_by = [&](std::vector<std::uint64_t> const& batch) {
    std::vector<std::vector<std::uint64_t>> by(static_cast<std::size_t>(ranks));
    for (auto k : batch) { by[static_cast<std::size_t>(filters[0]->owner(k))].push_back(k); }
    return by;
  };
  auto const added = owned_by(keys);
  for (int r = 0; r < ranks; ++r) {
    auto const& mine = added[static_cast<std::size_t>(r)];
    plain[static_cast<std::size_t>(r)]->add(mine.begin(), mine.end());
  }
  std::size_t false_positives = 0, absent = 0, total_positives = 0;
  std::unordered_set<std::uint64_t> const truth(keys.begin(), keys.end());
  for (int r = 0; r < ranks; ++r) {
    std::size_t const lo = cuts[static_cast<std::size_t>(r)];
    auto const& got = answers[static_cast<std::size_t>(r)];
    std::size_t count = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      std::uint64_t const q = queries[lo + i];
      bool want = false;
      plain[static_cast<std::size_t>(filters[0]->owner(q))]->contains(&q, &q + 1, &want);
      ASSERT_EQ(got[i] != 0, want) << "rank " << r << ", query " << lo + i;
      if (truth.count(q) != 0) {
        ASSERT_TRUE(got[i]) << "a false negative: rank " << r << ", query " << lo + i;
      } else {
        ++absent;
        false_positives += got[i] != 0;
      }
      count += got[i] != 0;
    }
    EXPECT_EQ(positives[static_cast<std::size_t>(r)], count) << "rank " << r;
    total_positives += count;
  }
  std::size_t readded = 0;  // the second halves
  for (int r = 0; r < ranks; ++r) {
    std::size_t const lo = cuts[static_cast<std::size_t>(r)], hi = cuts[static_cast<std::size_t>(r) + 1];
    readded += hi - (lo + hi) / 2;
  }
  for (int r = 0; r < ranks; ++r) {
    EXPECT_EQ(present[static_cast<std::size_t>(r)], readded) << "every re-added key was present, counted over all ranks";
  }
  EXPECT_GT(total_positives, n / 2) << "the added half, and some false positives";
  double const predicted = filters[0]->predicted_false_positive_rate(n);
  double const measured = static_cast<double>(false_positives) / static_cast<double>(absent);
  EXPECT_GT(predicted, 0.001) << "a filter loaded enough for the rate to be measurable";
  EXPECT_NEAR(measured, predicted, 4 * std::sqrt(predicted / static_cast<double>(absent)) + 0.2 * predicted)
      << "P " << ranks << ": " << false_positives << " false positives of " << absent;
  auto const bits = runner.each([&](int r) -> std::uint64_t { return filters[static_cast<std::size_t>(r)]->num_bits(); });
  for (auto b : bits) { EXPECT_EQ(b, static_cast<std::uint64_t>(ranks) * plain[0]->num_words() * 64); }
}

// Keys spread evenly over the ranks, and a shard's keys spread evenly over its own slots: the
// owner hash is independent of the shards' hash (with key % P, or the shard hash reused, one
// shard's keys would share hash bits).
TEST(ShardedPlacement, OwnersAreBalancedAndIndependentOfTheShardHash) {
  constexpr int ranks = 4;
  constexpr std::size_t n = 200000;
  wd::in_process_group group{ranks};
  wd::sharded_map<std::uint64_t, std::uint64_t> map{group.at(0), 1024, warp::empty_key{~0ull}, warp::empty_value{0ull}};
  std::vector<std::size_t> per_rank(ranks);
  std::vector<std::size_t> low_bits(64);  // shard 0's keys by the low 6 bits of the shard hash
  warp::hash::default_hash<std::uint64_t> const shard_hash{};
  for (std::uint64_t k = 0; k < n; ++k) {  // consecutive keys: the worst case for key % P
    int const r = map.owner(k);
    ASSERT_GE(r, 0);
    ASSERT_LT(r, ranks);
    ++per_rank[static_cast<std::size_t>(r)];
    if (r == 0) { ++low_bits[shard_hash(k) & 63]; }
  }
  for (auto c : per_rank) { EXPECT_NEAR(static_cast<double>(c), n / ranks, 5 * std::sqrt(n / ranks)); }
  double const expected = static_cast<double>(per_rank[0]) / 64;
  double chi2 = 0;
  for (auto c : low_bits) { chi2 += (c - expected) * (c - expected) / expected; }
  EXPECT_LT(chi2, 120.0) << "63 degrees of freedom: about 63 expected, 120 is p < 1e-5";
}

TEST(ShardedMap, AFullShardReportsNoRoomAndLosesNothing) {
  constexpr int ranks = 3;
  in_process_runner runner{ranks};
  std::vector<std::unique_ptr<wd::sharded_map<std::uint64_t, std::uint64_t>>> maps;
  for (int r = 0; r < ranks; ++r) {
    maps.push_back(std::make_unique<wd::sharded_map<std::uint64_t, std::uint64_t>>(
        runner.comm(r), 256, warp::empty_key{~0ull}, warp::empty_value{0ull}));
  }
  std::size_t const capacity = maps[0]->shard().capacity();
  constexpr std::size_t per_rank = 400;  // 1200 distinct keys for at most 3 x 256 slots
  std::vector<std::vector<warp::insert_outcome>> outcomes(ranks, std::vector<warp::insert_outcome>(per_rank));
  std::vector<std::vector<std::uint64_t>> keys(ranks);
  for (int r = 0; r < ranks; ++r) {
    for (std::size_t i = 0; i < per_rank; ++i) { keys[r].push_back(warp::hash::fmix64(r * per_rank + i + 1) >> 1); }
  }
  auto const inserted = runner.each([&](int r) -> std::uint64_t {
    return maps[r]->insert(keys[r].begin(), keys[r].end(), keys[r].begin(), outcomes[r].data());
  });
  std::size_t reported_inserted = 0, reported_full = 0;
  for (int r = 0; r < ranks; ++r) {
    for (auto o : outcomes[r]) {
      reported_inserted += o == warp::insert_outcome::inserted;
      reported_full += o == warp::insert_outcome::no_room;
    }
  }
  EXPECT_EQ(agreed(inserted), reported_inserted);
  EXPECT_EQ(reported_inserted + reported_full, ranks * per_rank) << "every key is inserted or reported";
  EXPECT_GT(reported_full, 0u);
  EXPECT_LE(reported_inserted, ranks * capacity);
  auto const statuses = runner.each([&](int r) -> std::uint64_t { return maps[r]->status().no_room() ? 1 : 0; });
  EXPECT_EQ(agreed(statuses), 1u) << "every rank sees the full shard in status()";
  // Every key reported inserted is found with its value; every refused one is absent.
  auto const hits = runner.each([&](int r) -> std::uint64_t {
    std::vector<std::uint64_t> found(per_rank);
    std::size_t const h = maps[r]->find(keys[r].begin(), keys[r].end(), found.data());
    for (std::size_t i = 0; i < per_rank; ++i) {
      bool const stored = outcomes[r][i] == warp::insert_outcome::inserted;
      EXPECT_EQ(found[i], stored ? keys[r][i] : 0ull) << "rank " << r << " key " << i;
    }
    return h;
  });
  EXPECT_EQ(summed(hits), reported_inserted);
  // Growing every shard makes room for the refused keys.
  for (auto& m : maps) { m->rehash(1024); }
  auto const again = runner.each([&](int r) -> std::uint64_t {
    return maps[r]->insert(keys[r].begin(), keys[r].end(), keys[r].begin());
  });
  EXPECT_EQ(agreed(again), reported_full);
}

TEST(ShardedMap, RetrieveAllGathersEveryPairOnTheRootAndLoadsAreReported) {
  constexpr int ranks = 4;
  in_process_runner runner{ranks};
  std::vector<std::unique_ptr<wd::sharded_map<std::uint32_t, std::uint32_t>>> maps;
  for (int r = 0; r < ranks; ++r) {
    maps.push_back(std::make_unique<wd::sharded_map<std::uint32_t, std::uint32_t>>(
        runner.comm(r), 4096, warp::empty_key{~0u}, warp::empty_value{0u}));
  }
  std::vector<std::uint32_t> all;
  for (std::uint32_t k = 1; k <= 6000; ++k) { all.push_back(k * 2654435761u >> 2); }
  std::vector<std::uint32_t> gathered_keys(all.size()), gathered_values(all.size());
  std::vector<double> loads;
  double imbalance = 0;
  runner.each([&](int r) -> std::uint64_t {
    std::size_t const lo = all.size() * r / ranks, hi = all.size() * (r + 1) / ranks;
    maps[r]->insert(all.begin() + lo, all.begin() + hi, all.begin() + lo);
    std::size_t const got = maps[r]->retrieve_all(r == 2 ? gathered_keys.data() : nullptr,
                                                  r == 2 ? gathered_values.data() : nullptr, r == 2 ? all.size() : 0, 2);
    EXPECT_EQ(got, r == 2 ? all.size() : 0u);
    auto const l = maps[r]->load_factors();
    double const imb = maps[r]->imbalance();
    if (r == 0) {
      loads = l;
      imbalance = imb;
    }
    return 0;
  });
  std::vector<std::uint32_t> sorted_all = all;
  std::sort(sorted_all.begin(), sorted_all.end());
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  for (std::size_t i = 0; i < all.size(); ++i) { pairs.emplace_back(gathered_keys[i], gathered_values[i]); }
  std::sort(pairs.begin(), pairs.end());
  for (std::size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(pairs[i].first, sorted_all[i]);
    ASSERT_EQ(pairs[i].second, sorted_all[i]);
  }
  ASSERT_EQ(loads.size(), static_cast<std::size_t>(ranks));
  double sum = 0;
  for (int r = 0; r < ranks; ++r) {
    EXPECT_DOUBLE_EQ(loads[r], static_cast<double>(maps[r]->shard().size()) / maps[r]->shard().capacity());
    sum += loads[r] * maps[r]->shard().capacity();
  }
  EXPECT_DOUBLE_EQ(sum, static_cast<double>(all.size()));
  EXPECT_GE(imbalance, 1.0);
  EXPECT_LT(imbalance, 1.1);
  // A root with too small an output fails there, after the exchange: no rank is left waiting.
  EXPECT_THROW(runner.each([&](int r) -> std::uint64_t {
    std::vector<std::uint32_t> small(10);
    return maps[r]->retrieve_all(small.data(), small.data(), small.size(), 0);
  }),
               warp::invalid_argument);
}

// A rank that throws before a collective call releases its peers with communication_error at once;
// a rank that never joins one fails it after the group's timeout. Neither hangs.
TEST(InProcessGroup, AFailingRankFailsItsPeersInsteadOfHangingThem) {
  wd::in_process_group group{3};
  auto const start = std::chrono::steady_clock::now();
  std::vector<int> peers_failed(3, 0);
  try {
    wd::run_ranks(group, [&](wd::communicator& comm) {
      wd::sharded_map<std::uint64_t, std::uint64_t> map{comm, 256, warp::empty_key{~0ull}, warp::empty_value{0ull}};
      if (comm.rank() == 1) { throw std::runtime_error("rank 1 lost its input"); }
      std::vector<std::uint64_t> keys{1, 2, 3};
      try {
        map.insert(keys.begin(), keys.end(), keys.begin());
      } catch (wd::communication_error const& e) {
        peers_failed[static_cast<std::size_t>(comm.rank())] = 1;
        EXPECT_NE(std::string(e.what()).find("rank 1 failed: rank 1 lost its input"), std::string::npos) << e.what();
        throw;
      }
    });
    FAIL() << "run_ranks did not rethrow";
  } catch (std::runtime_error const& e) {
    EXPECT_STREQ(e.what(), "rank 1 lost its input") << "the first failure is rethrown";
  }
  EXPECT_EQ(peers_failed, (std::vector<int>{1, 0, 1}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{30});
}

// Ranks out of step (one calls find while another calls contains) or built with different
// sharding seeds: every rank gets a clear error naming what differs, before any keys move.
TEST(ShardedMap, RanksOutOfStepOrWithAnotherSeedAreAClearErrorOnEveryRank) {
  for (bool other_seed : {false, true}) {
    wd::in_process_group group{3};
    std::vector<std::string> errors(3);
    auto const start = std::chrono::steady_clock::now();
    EXPECT_THROW(wd::run_ranks(group,
                               [&](wd::communicator& comm) {
                                 wd::sharding s;
                                 if (other_seed && comm.rank() == 2) { s.seed = 12345; }
                                 wd::sharded_map<std::uint64_t, std::uint64_t> map{
                                     comm, 256, warp::empty_key{~0ull}, warp::empty_value{0ull}, s};
                                 std::vector<std::uint64_t> keys{1, 2, 3}, found(3);
                                 std::unique_ptr<bool[]> flags{new bool[3]};
                                 try {
                                   if (!other_seed && comm.rank() == 1) {
                                     map.contains(keys.begin(), keys.end(), flags.get());
                                   } else {
                                     map.find(keys.begin(), keys.end(), found.data());
                                   }
                                 } catch (warp::invalid_argument const& e) {
                                   errors[static_cast<std::size_t>(comm.rank())] = e.what();
                                   throw;
                                 }
                               }),
                 warp::invalid_argument);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{30}) << "no rank waited for its peers";
    for (int r = 0; r < 3; ++r) {
      std::string const& e = errors[static_cast<std::size_t>(r)];
      if (other_seed) {
        EXPECT_NE(e.find("uses another sharding seed"), std::string::npos) << "rank " << r << ": " << e;
      } else {
        EXPECT_NE(e.find("is in another collective call"), std::string::npos) << "rank " << r << ": " << e;
      }
      EXPECT_NE(e.find("sharded_map::"), std::string::npos) << "rank " << r << ": " << e;
    }
  }
}

TEST(InProcessGroup, ARankThatNeverJoinsTimesOut) {
  wd::in_process_group group{2, warp::backend::host, std::chrono::milliseconds{300}};
  EXPECT_THROW(wd::run_ranks(group,
                             [&](wd::communicator& comm) {
                               if (comm.rank() == 0) { (void)wd::all_reduce_sum(comm, 5); }
                             }),
               wd::communication_error);
  EXPECT_TRUE(group.aborted());
}

TEST(InProcessGroup, RejectsBadSizes) {
  EXPECT_THROW(wd::in_process_group{0}, warp::invalid_argument);
  wd::in_process_group group{2};
  EXPECT_THROW((void)group.at(2), warp::invalid_argument);
}

#ifndef WARP_HAVE_MPI
TEST(Transports, MpiWithoutMpiSaysSo) { EXPECT_THROW(wd::mpi_communicator{}, warp::backend_unavailable); }
#endif

}  // namespace
