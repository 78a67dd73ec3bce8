// warp::kvcache::block_table and replay against a plain C++ simulator of the same semantics
// (std containers, keyed by block content, not by hash), on synthetic multi-tenant token traces
// and on the Mooncake production trace; the pool's semantics one by one (LRU order of eviction,
// several blocks per hash, removal of one pair, reference counts, a full pool, token
// verification); and bad input.
#include "test_common.hpp"

#include <warp/kvcache/block_table.cuh>
#include <warp/kvcache/replay.cuh>

#include <algorithm>
#include <deque>
#include <fstream>
#include <list>
#include <map>
#include <random>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <unistd.h>

#include "kv_replay/trace.hpp"

using namespace warp_test;
namespace kv = warp::kvcache;

namespace {

std::string temp_path(std::string const& name) {
  return "/tmp/warp_kvcache_" + std::to_string(::getpid()) + "_" + name;
}

// ---- the reference simulator ----

// Exact block identities: a block is (its parent's identity, its tokens), interned; the root of a
// request is its (salt, adapter). No hashing, so no collisions and no cross-tenant sharing by
// construction.
class content_keys {
 public:
  std::vector<std::uint64_t> chain(kv_replay::trace_request const& r, std::uint32_t block) {
    std::uint64_t parent = intern_root(r.salt, r.lora_id);
    std::vector<std::uint64_t> out;
    for (std::size_t b = 0; (b + 1) * block <= r.tokens.size(); ++b) {
      std::vector<std::uint32_t> const t(r.tokens.begin() + static_cast<std::ptrdiff_t>(b * block),
                                         r.tokens.begin() + static_cast<std::ptrdiff_t>((b + 1) * block));
      auto const [it, added] = blocks_.emplace(std::make_pair(parent, t), next_);
      if (added) { ++next_; }
      parent = it->second;
      out.push_back(parent);
    }
    return out;
  }

 private:
  std::uint64_t intern_root(std::string const& salt, std::uint64_t lora) {
    auto const [it, added] = roots_.emplace(std::make_pair(salt, lora), next_);
    if (added) { ++next_; }
    return it->second;
  }
  std::map<std::pair<std::string, std::uint64_t>, std::uint64_t> roots_;
  std::map<std::pair<std::uint64_t, std::vector<std::uint32_t>>, std::uint64_t> blocks_;
  std::uint64_t next_ = 1;
};

// vLLM's block pool, written plainly: holders per key in commit order, an LRU list of free blocks.
class reference_pool {
 public:
  explicit reference_pool(std::size_t capacity) : key_(capacity, 0), cached_(capacity, false), refs_(capacity, 0) {
    for (std::size_t b = 0; b < capacity; ++b) { where_.push_back(free_.insert(free_.end(), static_cast<int>(b))); }
  }
  std::size_t request(std::vector<std::uint64_t> const& chain) {
    std::vector<int> held;
    std::size_t k = 0;
    while (k < chain.size()) {
      auto it = holders_.find(chain[k]);
      if (it == holders_.end() || it->second.empty()) { break; }
      held.push_back(it->second.front());
      ++k;
    }
    for (int b : held) {
      if (refs_[b]++ == 0) { free_.erase(where_[b]); }
    }
    if (chain.size() - k <= free_.size()) {
      for (std::size_t i = k; i < chain.size(); ++i) {
        int const b = free_.front();
        free_.pop_front();
        if (cached_[b]) {
          auto& d = holders_[key_[b]];
          d.erase(std::find(d.begin(), d.end(), b));
          if (d.empty()) { holders_.erase(key_[b]); }
          ++evictions;
        }
        key_[b] = chain[i];
        cached_[b] = true;
        holders_[chain[i]].push_back(b);
        refs_[b] = 1;
        held.push_back(b);
      }
    }
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
      if (--refs_[*it] == 0) { where_[*it] = free_.insert(free_.end(), *it); }
    }
    return k;
  }
  std::uint64_t evictions = 0;

 private:
  std::unordered_map<std::uint64_t, std::deque<int>> holders_;
  std::vector<std::uint64_t> key_;
  std::vector<bool> cached_;
  std::vector<int> refs_;
  std::list<int> free_;
  std::vector<std::list<int>::iterator> where_;
};

kv::block_hasher test_hasher() {
  unsigned char key[32];
  for (int i = 0; i < 32; ++i) { key[i] = static_cast<unsigned char>(i * 37 + 11); }
  return kv::block_hasher::keyed(key, sizeof(key));
}

template <class B>
class KvReplay : public on_backend<B> {};
TYPED_TEST_SUITE(KvReplay, both_backends, backend_names);

TYPED_TEST(KvReplay, SyntheticMultiTenantTracesMatchTheContentSimulator) {
  std::uint32_t const block = 16;
  auto const t = kv_replay::synthetic_trace(400, 3, 2026);
  auto const chains = kv_replay::chains(t, block, test_hasher(), TypeParam::value);
  content_keys ids;
  std::vector<std::vector<std::uint64_t>> exact;
  std::size_t blocks = 0;
  for (auto const& r : t.requests) {
    exact.push_back(ids.chain(r, block));
    blocks += exact.back().size();
  }
  for (std::uint32_t capacity : {64u, 512u, 4096u, 0u}) {
    auto const got = kv::replay(chains, capacity, block, TypeParam::value);
    reference_pool ref{capacity == 0 ? blocks : capacity};
    std::uint64_t hits = 0;
    for (std::size_t i = 0; i < exact.size(); ++i) {
      std::size_t const want = ref.request(exact[i]);
      hits += want;
      ASSERT_EQ(got.hit_blocks[i], want) << "request " << i << " capacity " << capacity;
    }
    EXPECT_EQ(got.stats.hit_blocks, hits);
    EXPECT_EQ(got.stats.evictions, ref.evictions) << "capacity " << capacity;
    EXPECT_EQ(got.stats.hit_tokens, hits * block);
    if (capacity == 0) { EXPECT_GT(hits, blocks / 5) << "the synthetic trace shares prefixes"; }
  }
}

TYPED_TEST(KvReplay, MooncakeTraceMatchesTheSimulatorAndTheUnboundedFigure) {
  std::string const path = std::string(WARP_TEST_DATA_DIR) + "/kvcache/mooncake_conversation_trace.jsonl";
  auto const t = kv_replay::read_trace(path);
  ASSERT_EQ(t.requests.size(), 12031u);
  auto const chains = kv_replay::chains(t, 512, test_hasher(), TypeParam::value);
  std::vector<std::vector<std::uint64_t>> keys;
  std::size_t blocks = 0;
  for (auto const& r : t.requests) {
    std::vector<std::uint64_t> k;
    for (std::size_t i = 0; i < r.hash_ids.size(); ++i) { k.push_back(r.hash_ids[i] * 4096 + i); }
    blocks += k.size();
    keys.push_back(std::move(k));
  }
  ASSERT_EQ(blocks, 288500u);
  // Unbounded: the data set's documented 36.6 % of blocks (105,710 of 288,500).
  auto const unbounded = kv::replay(chains, 0, 512, TypeParam::value);
  EXPECT_EQ(unbounded.stats.hit_blocks, 105710u);
  EXPECT_EQ(unbounded.stats.evictions, 0u);
  // Bounded, on the first 2,000 requests (sized for a 2-core CI machine).
  std::vector<std::vector<kv::block_hash>> head(chains.begin(), chains.begin() + 2000);
  for (std::uint32_t capacity : {200u, 2000u}) {
    auto const got = kv::replay(head, capacity, 512, TypeParam::value);
    reference_pool ref{capacity};
    for (std::size_t i = 0; i < head.size(); ++i) {
      ASSERT_EQ(got.hit_blocks[i], ref.request(keys[i])) << "request " << i << " capacity " << capacity;
    }
    EXPECT_EQ(got.stats.evictions, ref.evictions);
    EXPECT_GT(got.stats.evictions, 0u) << "capacity " << capacity << " should evict";
  }
}

// ---- the pool's semantics, one by one ----

kv::block_hash h(std::uint64_t i) { return {i * 0x9E3779B97F4A7C15ull + 1, i}; }

kv::block_hashes one_request(std::vector<kv::block_hash> const& chain) { return {{0, chain.size()}, chain}; }

// Long prompts whose cached prefix ends anywhere: before, at and after the host's probe chunks
// (32, 64, 128 blocks), with several requests in one call; every block still counts as queried.
template <class B>
class KvPrefixMatch : public on_backend<B> {};
TYPED_TEST_SUITE(KvPrefixMatch, both_backends, backend_names);

TYPED_TEST(KvPrefixMatch, LongPromptsMatchExactlyUpToTheirFirstMiss) {
  constexpr std::size_t length = 300;
  kv::block_table t{{1024, 16, false}, TypeParam::value};
  std::vector<kv::block_hash> chain(length);
  for (std::size_t i = 0; i < length; ++i) { chain[i] = h(1000 + i); }
  std::vector<kv::block_id> ids;
  ASSERT_TRUE(t.allocate(length, ids));
  t.commit(chain.data(), ids.data(), length);
  std::vector<std::size_t> const cached{0, 1, 31, 32, 33, 95, 96, 97, 224, 299, 300};
  kv::block_hashes batch;
  batch.block_offsets.push_back(0);
  for (std::size_t c : cached) {
    for (std::size_t i = 0; i < length; ++i) { batch.hashes.push_back(i < c ? chain[i] : h(5000 + 1000 * c + i)); }
    batch.block_offsets.push_back(batch.hashes.size());
  }
  kv::prefix_match m;
  t.match_prefixes(batch, m);
  ASSERT_EQ(m.offsets.size(), cached.size() + 1);
  for (std::size_t r = 0; r < cached.size(); ++r) {
    ASSERT_EQ(m.offsets[r + 1] - m.offsets[r], cached[r]) << "request " << r;
    for (std::size_t i = 0; i < cached[r]; ++i) { ASSERT_EQ(m.blocks[m.offsets[r] + i], ids[i]); }
  }
  EXPECT_EQ(t.stats().queried_blocks, cached.size() * length);
  std::size_t hits = 0;
  for (std::size_t c : cached) { hits += c; }
  EXPECT_EQ(t.stats().hit_blocks, hits);
  // The same table queried again with the reused result: the same answer.
  t.match_prefixes(batch, m);
  EXPECT_EQ(m.offsets.back(), hits);
}

#if WARP_CUDA_ENABLED
// A scheduler kernel: one thread per request hashes its blocks on the device (root, then next()
// per block) and looks up its cached prefix through the ref.
__global__ void schedule_kernel(kv::block_hasher hasher, kv::block_table_ref cache, std::uint32_t const* tokens,
                                std::int64_t const* offsets, std::uint32_t requests, std::uint32_t block,
                                kv::block_hash* scratch, std::uint32_t max_blocks, std::uint32_t* cached,
                                kv::block_id* ids) {
  std::uint32_t const r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= requests) { return; }
  auto const blocks = static_cast<std::uint32_t>((offsets[r + 1] - offsets[r]) / block);
  kv::block_hash* hashes = scratch + std::size_t{r} * max_blocks;
  kv::block_hash h = hasher.root({}, 0);
  for (std::uint32_t b = 0; b < blocks; ++b) { hashes[b] = h = hasher.next(h, tokens + offsets[r] + b * block, block); }
  cached[r] = cache.match_prefix(hashes, blocks, ids + std::size_t{r} * max_blocks);
}
#endif

// Through the ref (a host loop, or the kernel above on a GPU), hashing included: the same
// prefixes as match_prefixes.
TYPED_TEST(KvPrefixMatch, TheRefFindsTheSamePrefixesInAKernelOrOnTheHost) {
  constexpr std::uint32_t block = 16;
  auto const hasher = test_hasher();
  std::mt19937_64 rng{77};
  std::vector<std::uint32_t> shared(40 * block);
  for (auto& x : shared) { x = static_cast<std::uint32_t>(rng() % 152000); }
  std::vector<std::vector<std::uint32_t>> prompts;
  for (std::size_t cut : {0u, 3u, 17u, 40u}) {
    std::vector<std::uint32_t> p(shared.begin(), shared.begin() + static_cast<std::ptrdiff_t>(cut * block));
    while (p.size() < 40 * block + 5) { p.push_back(static_cast<std::uint32_t>(rng() % 152000)); }
    prompts.push_back(p);
  }
  auto const batch = kv::token_batch::from(prompts);
  kv::block_table t{{256, block, false}, TypeParam::value};
  {  // the shared prompt is cached
    kv::token_batch one;
    one.push_back(shared);
    auto const h = kv::hash_blocks(hasher, one.view(), {}, block, TypeParam::value);
    std::vector<kv::block_id> ids;
    ASSERT_TRUE(t.allocate(h.hashes.size(), ids));
    t.commit(h.hashes.data(), ids.data(), ids.size());
  }
  auto const h = kv::hash_blocks(hasher, batch.view(), {}, block, TypeParam::value);
  auto const want = t.match_prefixes(h);
  kv::block_table_ref const ref = t.ref();
  static_assert(std::is_trivially_copyable_v<kv::block_table_ref>);
  constexpr std::uint32_t max_blocks = 41;
  std::vector<std::uint32_t> cached(prompts.size());
  std::vector<kv::block_id> ids(prompts.size() * max_blocks, kv::no_block);
  if (TypeParam::value == warp::backend::host) {
    for (std::size_t r = 0; r < prompts.size(); ++r) {
      auto const n = static_cast<std::uint32_t>(h.block_offsets[r + 1] - h.block_offsets[r]);
      cached[r] = ref.match_prefix(h.hashes.data() + h.block_offsets[r], n, ids.data() + r * max_blocks);
    }
  } else {
#if WARP_CUDA_ENABLED
    cuda::stream_ref const stream = warp::default_stream();
    warp::detail::buffer<std::uint32_t> d_tokens{warp::backend::cuda, batch.tokens.size(), stream};
    warp::detail::buffer<std::int64_t> d_offsets{warp::backend::cuda, batch.offsets.size(), stream};
    warp::detail::buffer<kv::block_hash> d_scratch{warp::backend::cuda, prompts.size() * max_blocks, stream};
    warp::detail::buffer<std::uint32_t> d_cached{warp::backend::cuda, prompts.size(), stream};
    warp::detail::buffer<kv::block_id> d_ids{warp::backend::cuda, ids.size(), stream};
    warp::detail::copy_bytes(warp::backend::cuda, d_tokens.data(), batch.tokens.data(), batch.tokens.size() * 4, stream);
    warp::detail::copy_bytes(warp::backend::cuda, d_offsets.data(), batch.offsets.data(), batch.offsets.size() * 8, stream);
    warp::detail::copy_bytes(warp::backend::cuda, d_ids.data(), ids.data(), ids.size() * sizeof(kv::block_id), stream);
    schedule_kernel<<<1, 32>>>(hasher, ref, d_tokens.data(), d_offsets.data(), static_cast<std::uint32_t>(prompts.size()),
                               block, d_scratch.data(), max_blocks, d_cached.data(), d_ids.data());
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    warp::detail::copy_bytes(warp::backend::cuda, cached.data(), d_cached.data(), cached.size() * 4, stream);
    warp::detail::copy_bytes(warp::backend::cuda, ids.data(), d_ids.data(), ids.size() * sizeof(kv::block_id), stream);
    warp::detail::synchronize(warp::backend::cuda, stream);
#endif
  }
  std::vector<std::uint32_t> const expected_cuts{0, 3, 17, 40};
  for (std::size_t r = 0; r < prompts.size(); ++r) {
    ASSERT_EQ(cached[r], want.offsets[r + 1] - want.offsets[r]) << "request " << r;
    ASSERT_EQ(cached[r], expected_cuts[r]) << "request " << r;
    for (std::uint32_t i = 0; i < cached[r]; ++i) { ASSERT_EQ(ids[r * max_blocks + i], want.blocks[want.offsets[r] + i]); }
  }
}

// The pool's semantics, on each pool: the host pool, the resident pool run as host loops (the
// CUDA backend's code), and the resident pool on a GPU when there is one.
struct pool_case {
  warp::backend where;
  bool resident;
};

class KvPool : public ::testing::TestWithParam<pool_case> {
 protected:
  void SetUp() override {
    if (GetParam().where == warp::backend::cuda && !warp::cuda_available()) { GTEST_SKIP() << "no CUDA device"; }
  }
  [[nodiscard]] kv::block_table make(std::uint32_t blocks, std::uint32_t block_size, bool verify) const {
    return kv::block_table{{blocks, block_size, verify, GetParam().resident}, GetParam().where};
  }
};

INSTANTIATE_TEST_SUITE_P(Pools, KvPool,
                         ::testing::Values(pool_case{warp::backend::host, false}, pool_case{warp::backend::host, true},
                                           pool_case{warp::backend::cuda, true}),
                         [](::testing::TestParamInfo<pool_case> const& i) {
                           return i.param.where == warp::backend::cuda ? std::string("cuda")
                                                                       : (i.param.resident ? "host_resident" : "host_pool");
                         });

TEST_P(KvPool, EvictsTheLeastRecentlyReleasedAndKeepsHashesOfFreeBlocks) {
  kv::block_table t = make(4, 16, false);
  std::vector<kv::block_id> a;
  ASSERT_TRUE(t.allocate(4, a));
  EXPECT_EQ(a, (std::vector<kv::block_id>{0, 1, 2, 3}));
  std::vector<kv::block_hash> hs{h(10), h(11), h(12), h(13)};
  t.commit(hs.data(), a.data(), 4);
  EXPECT_EQ(t.num_free(), 0u);
  std::vector<kv::block_id> none;
  EXPECT_FALSE(t.allocate(1, none));  // a full pool is reported, nothing changes
  EXPECT_EQ(t.stats().refused_allocations, 1u);
  std::vector<kv::block_id> order{3, 1, 0, 2};  // released in this order: 3 is the oldest free block
  t.release(order.data(), order.size());
  EXPECT_EQ(t.num_free(), 4u);
  // Free blocks still hit.
  auto const m = t.match_prefixes(one_request({h(10), h(11), h(99)}));
  EXPECT_EQ(m.blocks, (std::vector<kv::block_id>{0, 1}));
  t.acquire(m.blocks.data(), m.blocks.size());  // 0 and 1 leave the free list
  std::vector<kv::block_id> fresh;
  ASSERT_TRUE(t.allocate(2, fresh));
  EXPECT_EQ(fresh, (std::vector<kv::block_id>{3, 2}));  // oldest released first
  EXPECT_EQ(t.stats().evictions, 2u);
  EXPECT_FALSE(t.holds_hash(3));
  EXPECT_TRUE(t.match_prefixes(one_request({h(13)})).blocks.empty());  // evicted lazily, now gone
  EXPECT_EQ(t.ref_count(0), 1u);
  EXPECT_EQ(t.ref_count(3), 1u);
}

TEST_P(KvPool, SeveralBlocksPerHashAndRemovingOnePair) {
  kv::block_table t = make(8, 16, false);
  std::vector<kv::block_id> b;
  ASSERT_TRUE(t.allocate(3, b));
  std::vector<kv::block_hash> same{h(5), h(5), h(5)};
  t.commit(same.data(), b.data(), 3);
  EXPECT_EQ(t.stats().duplicates, 2u);
  EXPECT_EQ(t.cached_hashes(), 1u);
  EXPECT_EQ(t.match_prefixes(one_request({h(5)})).blocks, (std::vector<kv::block_id>{b[0]}));  // the oldest holder
  EXPECT_FALSE(t.remove(h(6), b[1]));
  EXPECT_TRUE(t.remove(h(5), b[0]));  // the head goes: the next holder answers
  EXPECT_EQ(t.match_prefixes(one_request({h(5)})).blocks, (std::vector<kv::block_id>{b[1]}));
  EXPECT_TRUE(t.remove(h(5), b[2]));
  EXPECT_EQ(t.match_prefixes(one_request({h(5)})).blocks, (std::vector<kv::block_id>{b[1]}));
  EXPECT_TRUE(t.remove(h(5), b[1]));
  EXPECT_TRUE(t.match_prefixes(one_request({h(5)})).blocks.empty());
  EXPECT_EQ(t.cached_hashes(), 0u);
  // A hash held from an earlier call, committed again for two blocks in one call and for a block
  // that held another hash: the list keeps commit order (c[0], then c[1], c[2], then c[3]).
  std::vector<kv::block_id> c;
  ASSERT_TRUE(t.allocate(4, c));
  std::vector<kv::block_hash> first{h(7), h(8)};
  t.commit(first.data(), c.data(), 2);
  std::vector<kv::block_hash> again{h(7), h(7), h(7)};
  std::vector<kv::block_id> later{c[1], c[2], c[3]};  // c[1] held h(8)
  t.commit(again.data(), later.data(), 3);
  EXPECT_TRUE(t.match_prefixes(one_request({h(8)})).blocks.empty());
  for (kv::block_id expected : {c[0], c[1], c[2], c[3]}) {
    EXPECT_EQ(t.match_prefixes(one_request({h(7)})).blocks, (std::vector<kv::block_id>{expected}));
    EXPECT_TRUE(t.remove(h(7), expected));
  }
  EXPECT_EQ(t.cached_hashes(), 0u);
}

// A commit large enough for the host's threads: each shared hash is listed at the end of the
// first half and at the start of the second, so the thread of the second half usually stores
// the later block first. Lookups must still answer with the block listed first.
TEST_P(KvPool, ALargeCommitKeepsCallOrderWhateverBlockTheIndexStoredFirst) {
  constexpr std::uint32_t n = 6000, half = n / 2, shared = 500;
  kv::block_table t = make(n, 16, false);
  std::vector<kv::block_id> b;
  ASSERT_TRUE(t.allocate(n, b));
  std::vector<kv::block_hash> hashes(n);
  for (std::uint32_t i = 0; i < n; ++i) { hashes[i] = h(100000 + i); }
  for (std::uint32_t k = 0; k < shared; ++k) { hashes[half + k] = hashes[half - 1 - k]; }
  t.commit(hashes.data(), b.data(), n);
  EXPECT_EQ(t.stats().duplicates, shared);
  EXPECT_EQ(t.cached_hashes(), std::size_t{n - shared});
  for (std::uint32_t k = 0; k < shared; ++k) {
    kv::block_hash const x = hashes[half - 1 - k];
    ASSERT_EQ(t.match_prefixes(one_request({x})).blocks, (std::vector<kv::block_id>{b[half - 1 - k]})) << "hash " << k;
    EXPECT_TRUE(t.remove(x, b[half - 1 - k]));
    ASSERT_EQ(t.match_prefixes(one_request({x})).blocks, (std::vector<kv::block_id>{b[half + k]})) << "hash " << k;
  }
  EXPECT_EQ(t.match_prefixes(one_request({hashes[0]})).blocks, (std::vector<kv::block_id>{b[0]}));
}

TEST_P(KvPool, VerificationTurnsAForcedCollisionIntoAMiss) {
  // Two different token blocks committed under one hash, as a 64-bit collision would do.
  std::vector<std::uint32_t> mine(16, 7), theirs(16, 9);
  for (bool verify : {false, true}) {
    kv::block_table t = make(4, 16, verify);
    std::vector<kv::block_id> b;
    ASSERT_TRUE(t.allocate(1, b));
    kv::block_hash const colliding = h(42);
    t.commit(&colliding, b.data(), 1, theirs.data());
    kv::token_batch batch;
    batch.push_back(mine);
    auto const view = batch.view();
    auto const m = t.match_prefixes(one_request({colliding}), &view);
    if (verify) {
      EXPECT_TRUE(m.blocks.empty()) << "verification must reject other tokens under the same hash";
      EXPECT_EQ(t.stats().verification_misses, 1u);
    } else {
      EXPECT_EQ(m.blocks.size(), 1u) << "without verification a collision is a (false) hit";
    }
  }
}

// A collision found by search, not forced: the 64-bit hashes of 300,000 one-block prompts, cut
// to 32 bits (a table that keeps fewer bits than it hashes, or a birthday search at 2^16 instead
// of the 2^32 that full 64-bit hashes take), until two different blocks share one. Without
// verification the second prompt is served the first one's KV (a false hit); with it, a miss.
TEST_P(KvPool, ASearchedTruncatedCollisionIsAFalseHitUnlessVerified) {
  constexpr std::size_t prompts = 300000;
  constexpr std::uint32_t block = 16;
  kv::token_batch batch;
  std::vector<std::uint32_t> tokens(block);
  for (std::size_t i = 0; i < prompts; ++i) {
    for (std::uint32_t j = 0; j < block; ++j) { tokens[j] = static_cast<std::uint32_t>((i * 7919 + j * 104729) % 152000); }
    tokens[0] = static_cast<std::uint32_t>(i);  // every prompt differs
    batch.push_back(tokens);
  }
  kv::block_hasher const hasher = kv::block_hasher::compat64(0x5eed);
  auto const hashes = kv::hash_blocks(hasher, batch.view(), {}, block, warp::backend::host);
  ASSERT_EQ(hashes.hashes.size(), prompts);
  auto truncated = [&](std::size_t i) { return kv::block_hash{hashes.hashes[i].low & 0xffffffffull, 0}; };
  std::unordered_map<std::uint64_t, std::size_t> seen;
  std::size_t a = prompts, b = prompts;
  for (std::size_t i = 0; i < prompts && a == prompts; ++i) {
    auto const [it, fresh] = seen.emplace(truncated(i).low, i);
    if (!fresh) {
      a = it->second;
      b = i;
    }
  }
  ASSERT_LT(a, prompts) << "no 32-bit collision among " << prompts << " hashes (expected about 10)";
  ASSERT_NE(hashes.hashes[a], hashes.hashes[b]) << "the full 64-bit hashes differ; only the cut ones collide";
  kv::token_batch victim;
  victim.push_back(std::vector<std::uint32_t>(batch.tokens.begin() + static_cast<std::ptrdiff_t>(b * block),
                                              batch.tokens.begin() + static_cast<std::ptrdiff_t>((b + 1) * block)));
  auto const victim_view = victim.view();
  for (bool verify : {false, true}) {
    kv::block_table t = make(4, block, verify);
    std::vector<kv::block_id> ids;
    ASSERT_TRUE(t.allocate(1, ids));
    kv::block_hash const key_a = truncated(a);
    t.commit(&key_a, ids.data(), 1, batch.tokens.data() + a * block);  // prompt a's KV
    auto const m = t.match_prefixes(one_request({truncated(b)}), &victim_view);
    if (verify) {
      EXPECT_TRUE(m.blocks.empty()) << "verification must reject prompt " << a << "'s tokens for prompt " << b;
      EXPECT_EQ(t.stats().verification_misses, 1u);
    } else {
      EXPECT_EQ(m.blocks, ids) << "without verification the colliding prompt is a (false) hit";
    }
  }
}

TEST_P(KvPool, BadInputIsRejected) {
  EXPECT_NE(error_message([&] { kv::block_table t = make(0, 16, false); }).find("num_blocks 0"), std::string::npos);
  EXPECT_NE(error_message([&] { kv::block_table t = make(4, 513, false); }).find("block size 513"),
            std::string::npos);
  kv::block_table t = make(4, 16, false);
  kv::block_id const outside = 9;
  EXPECT_NE(error_message([&] { t.acquire(&outside, 1); }).find("block 9 is outside the pool of 4"), std::string::npos);
  kv::block_id const zero = 0;
  EXPECT_NE(error_message([&] { t.release(&zero, 1); }).find("block 0 has no references"), std::string::npos);
  // A block listed more often than it has references (the host pool used to wrap its count).
  std::vector<kv::block_id> one;
  ASSERT_TRUE(t.allocate(1, one));
  std::vector<kv::block_id> thrice{one[0], one[0], one[0]};
  EXPECT_NE(error_message([&] { t.release(thrice.data(), 3); }).find("has no references"), std::string::npos);
  EXPECT_EQ(t.ref_count(one[0]), 1u);  // nothing changed
  t.release(one.data(), 1);
  EXPECT_EQ(t.ref_count(one[0]), 0u);
  std::vector<kv::block_id> two;
  ASSERT_TRUE(t.allocate(2, two));
  std::vector<kv::block_id> twice{two[0], two[1], two[0]};
  std::vector<kv::block_hash> three{h(1), h(2), h(3)};
  EXPECT_NE(error_message([&] { t.commit(three.data(), twice.data(), 3); }).find("is listed twice"), std::string::npos);
  EXPECT_FALSE(t.holds_hash(two[0]));  // nothing changed
  EXPECT_EQ(t.cached_hashes(), 0u);
  kv::block_hashes torn{{0, 3}, {h(1), h(2)}};  // offsets promise 3 hashes, 2 are there
  EXPECT_NE(error_message([&] { (void)t.match_prefixes(torn); }).find("block offsets end at 3, but there are 2 hashes"),
            std::string::npos);
  kv::block_table v = make(4, 16, true);
  EXPECT_NE(error_message([&] { (void)v.match_prefixes(one_request({h(1)})); }).find("verifies tokens"), std::string::npos);
}

// The resident pool (the CUDA backend's passes; here as host loops, and on a GPU when there is
// one) against the host pool: random scheduler steps over a small universe of hashes (so that
// prefixes repeat, free blocks are hit, several blocks share a hash within one call and across
// calls, and blocks are recommitted with other hashes), removals, refused calls, and now and then
// a step large enough for the host's threads; every result and every block's state must agree,
// call for call.
void expect_same_pools(warp::backend resident_where, bool verify, std::uint64_t seed) {
  constexpr std::uint32_t blocks = 300, block_size = 4;
  kv::block_table a{{blocks, block_size, verify, false}, warp::backend::host};
  kv::block_table b{{blocks, block_size, verify, true}, resident_where};
  std::mt19937_64 rng{seed};
  // A hash's tokens are its id, except that in one case of eight a request's tokens differ (a
  // forced collision: a block committed from them holds other tokens under the same hash, for
  // verification to catch).
  auto tokens_of = [&](std::uint64_t id, std::vector<std::uint32_t>& out) {
    for (std::uint32_t t = 0; t < block_size; ++t) { out.push_back(static_cast<std::uint32_t>(id * 31 + t)); }
  };
  std::vector<kv::block_id> previous_a;
  auto same = [&](char const* what, int step) {
    ASSERT_EQ(a.num_free(), b.num_free()) << what << " step " << step;
    ASSERT_EQ(a.cached_hashes(), b.cached_hashes()) << what << " step " << step;
    kv::block_table_stats const& x = a.stats();
    kv::block_table_stats const& y = b.stats();
    ASSERT_EQ(x.queried_blocks, y.queried_blocks) << what << " step " << step;
    ASSERT_EQ(x.hit_blocks, y.hit_blocks) << what << " step " << step;
    ASSERT_EQ(x.evictions, y.evictions) << what << " step " << step;
    ASSERT_EQ(x.duplicates, y.duplicates) << what << " step " << step;
    ASSERT_EQ(x.verification_misses, y.verification_misses) << what << " step " << step;
    ASSERT_EQ(x.refused_allocations, y.refused_allocations) << what << " step " << step;
  };
  for (int step = 0; step < 160; ++step) {
    bool const large = step % 40 == 39;
    std::size_t const requests = large ? 40 : 1 + rng() % 4;
    std::uint64_t const universe = large ? 4000 : 60;
    kv::block_hashes hs;
    hs.block_offsets.push_back(0);
    kv::token_batch asked;     // the tokens the requests bring
    std::vector<std::uint64_t> ids;
    for (std::size_t r = 0; r < requests; ++r) {
      std::size_t const len = large ? 60 + rng() % 40 : rng() % 9;
      std::vector<std::uint32_t> t;
      for (std::size_t k = 0; k < len; ++k) {
        std::uint64_t const id = k < 3 && rng() % 2 == 0 ? k : rng() % universe;  // shared starts
        hs.hashes.push_back(h(id));
        ids.push_back(id);
        tokens_of(id, t);
        if (rng() % 8 == 0) { t.back() ^= 1u; }
      }
      hs.block_offsets.push_back(hs.hashes.size());
      asked.push_back(t);
    }
    auto const view = asked.view();
    auto const ma = a.match_prefixes(hs, verify ? &view : nullptr);
    auto const mb = b.match_prefixes(hs, verify ? &view : nullptr);
    ASSERT_EQ(ma.offsets, mb.offsets) << "step " << step;
    ASSERT_EQ(ma.blocks, mb.blocks) << "step " << step;
    a.acquire(ma.blocks.data(), ma.blocks.size());
    b.acquire(mb.blocks.data(), mb.blocks.size());
    std::vector<kv::block_hash> fresh_hashes;
    std::vector<std::uint32_t> fresh_tokens;
    for (std::size_t r = 0; r < requests; ++r) {
      for (std::uint64_t i = hs.block_offsets[r] + (ma.offsets[r + 1] - ma.offsets[r]); i < hs.block_offsets[r + 1]; ++i) {
        fresh_hashes.push_back(hs.hashes[i]);
        // What the block's KV is made of: the request's own tokens.
        auto const from = asked.tokens.begin() + asked.offsets[r] + static_cast<std::ptrdiff_t>((i - hs.block_offsets[r]) * block_size);
        fresh_tokens.insert(fresh_tokens.end(), from, from + block_size);
      }
    }
    std::vector<kv::block_id> fa(ma.blocks), fb(mb.blocks);
    bool const ga = a.allocate(fresh_hashes.size(), fa);
    bool const gb = b.allocate(fresh_hashes.size(), fb);
    ASSERT_EQ(ga, gb) << "step " << step;
    ASSERT_EQ(fa, fb) << "step " << step;
    if (ga) {
      std::vector<kv::block_id> const na(fa.begin() + static_cast<std::ptrdiff_t>(ma.blocks.size()), fa.end());
      a.commit(fresh_hashes.data(), na.data(), na.size(), fresh_tokens.data());
      // b gathers the same blocks itself (where the hashes are), in two ways by turns.
      if (step % 2 == 0) {
        b.commit_misses(hs.view(), mb, na.data(), na.size(), &view);
      } else {
        b.commit(fresh_hashes.data(), na.data(), na.size(), fresh_tokens.data());
      }
    } else {
      fa = ma.blocks;
      fb = mb.blocks;
    }
    same("commit", step);
    if (step % 7 == 3 && !fa.empty()) {
      // A held block recommitted with another hash, then a pair removed.
      kv::block_id const x = fa[rng() % fa.size()];
      kv::block_hash const other = h(rng() % 60);
      std::uint32_t other_tokens[block_size];
      for (std::uint32_t t = 0; t < block_size; ++t) { other_tokens[t] = static_cast<std::uint32_t>(t); }
      a.commit(&other, &x, 1, other_tokens);
      b.commit(&other, &x, 1, other_tokens);
      kv::block_hash const gone = h(rng() % 60);
      kv::block_id const y = static_cast<kv::block_id>(rng() % blocks);
      ASSERT_EQ(a.remove(gone, y), b.remove(gone, y)) << "step " << step;
      ASSERT_EQ(a.remove(other, x), b.remove(other, x)) << "step " << step;
    }
    if (step % 11 == 5) {
      // Refused calls change nothing: a block listed twice, a release beyond its references.
      std::vector<kv::block_id> twice{0, 1, 0};
      std::vector<kv::block_hash> three{h(1), h(2), h(3)};
      std::vector<std::uint32_t> tok(3 * block_size, 0);
      EXPECT_EQ(error_message([&] { a.commit(three.data(), twice.data(), 3, tok.data()); }),
                error_message([&] { b.commit(three.data(), twice.data(), 3, tok.data()); }));
      std::vector<kv::block_id> over(fa);
      over.push_back(fa.empty() ? 0 : fa.front());
      for (std::size_t k = 0; k < 4; ++k) { over.push_back(over.back()); }
      std::vector<kv::block_id> all(previous_a);
      all.insert(all.end(), over.begin(), over.end());
      EXPECT_EQ(error_message([&] { a.release(all.data(), all.size()); }),
                error_message([&] { b.release(all.data(), all.size()); }));
    }
    std::reverse(previous_a.begin(), previous_a.end());
    a.release(previous_a.data(), previous_a.size());
    b.release(previous_a.data(), previous_a.size());
    previous_a.swap(fa);
    same("release", step);
    for (kv::block_id x = 0; x < blocks; ++x) {
      ASSERT_EQ(a.ref_count(x), b.ref_count(x)) << "block " << x << " step " << step;
      ASSERT_EQ(a.holds_hash(x), b.holds_hash(x)) << "block " << x << " step " << step;
    }
  }
}

TEST(KvBlockTable, TheResidentPoolMatchesTheHostPoolCallForCall) {
  for (bool verify : {false, true}) {
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      SCOPED_TRACE(::testing::Message() << "verify " << verify << " seed " << seed);
      expect_same_pools(warp::backend::host, verify, seed);
    }
  }
}

TEST(KvBlockTable, TheCudaPoolMatchesTheHostPoolCallForCall) {
  if (!warp::cuda_available()) { GTEST_SKIP() << "no CUDA device"; }
  for (bool verify : {false, true}) {
    SCOPED_TRACE(::testing::Message() << "verify " << verify);
    expect_same_pools(warp::backend::cuda, verify, 7);
  }
}

TEST(KvTrace, MalformedLinesNameTheFileLineAndColumn) {
  auto write = [](std::string const& name, std::string const& text) {
    std::string const p = temp_path(name);
    std::ofstream{p} << text;
    return p;
  };
  auto const bad_id = write("bad_id.jsonl", "{\"hash_ids\": [1, 2]}\n{\"hash_ids\": [1, -2]}\n");
  EXPECT_NE(error_message([&] { (void)kv_replay::read_trace(bad_id); }).find("bad_id.jsonl:2:18: a hash id must be a non-negative integer"),
            std::string::npos);
  auto const mixed = write("mixed.jsonl", "{\"hash_ids\": [1]}\n{\"tokens\": [1, 2]}\n");
  EXPECT_NE(error_message([&] { (void)kv_replay::read_trace(mixed); }).find("mixed.jsonl:2:"), std::string::npos);
  auto const neither = write("neither.jsonl", "{\"timestamp\": 3}\n");
  EXPECT_NE(error_message([&] { (void)kv_replay::read_trace(neither); }).find("exactly one of"), std::string::npos);
  auto const big = write("big.jsonl", "{\"tokens\": [4294967296]}\n");
  EXPECT_NE(error_message([&] { (void)kv_replay::read_trace(big); }).find("larger than 4294967295"), std::string::npos);
  auto const ok = write("ok.jsonl", "{\"timestamp\": 0, \"tokens\": [5, 6, 7], \"salt\": \"a\\\"b\", \"lora_id\": 2, \"x\": [1, [2]]}\n\n");
  auto const t = kv_replay::read_trace(ok);
  ASSERT_EQ(t.requests.size(), 1u);
  EXPECT_TRUE(t.token_level);
  EXPECT_EQ(t.requests[0].tokens, (std::vector<std::uint32_t>{5, 6, 7}));
  EXPECT_EQ(t.requests[0].salt, "a\"b");
  EXPECT_EQ(t.requests[0].lora_id, 2u);
}

}  // namespace
