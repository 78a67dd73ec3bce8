// Hash functions against the reference libxxhash (header-only, XXH_INLINE_ALL) and a reference
// MurmurHash3_x86_32, on every input length 0..1024 with random seeds and a keyed secret, on each
// backend; the secret derivation against XXH3_generateSecret for every key length 0..400.
#include "test_common.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstring>
#include <vector>

using namespace warp_test;

namespace {

// Past 1024 bytes: long inputs scramble their accumulators after each 1024-byte block, so the
// lengths reach a few blocks, stripe by stripe.
constexpr std::size_t max_length = 3200;
constexpr int seeds_per_length = 3;

struct hash_case {
  std::size_t length;
  std::uint64_t seed;
};

struct hash_results {
  std::uint32_t x32;
  std::uint64_t x64;
  std::uint64_t x3_64;
  warp::hash::xxh3_128_result x3_128;
  warp::hash::xxh3_128_result x3_128_keyed;
  std::uint32_t m3;
};

// The same per-case function runs on either backend.
struct compute_hashes {
  unsigned char const* data;
  hash_case const* cases;
  hash_results* out;
  warp::hash::xxh3_secret secret;  // the keyed XXH3-128's secret
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    hash_case const c = cases[i];
    unsigned char const* p = data + (i % 7);  // unaligned starts
    out[i] = hash_results{warp::hash::xxhash32(p, c.length, static_cast<std::uint32_t>(c.seed)),
                          warp::hash::xxhash64(p, c.length, c.seed), warp::hash::xxh3_64(p, c.length, c.seed),
                          warp::hash::xxh3_128(p, c.length, c.seed), warp::hash::xxh3_128(p, c.length, secret),
                          warp::hash::murmur3_32(p, c.length, static_cast<std::uint32_t>(c.seed))};
    return 0;
  }
};

// Straightforward MurmurHash3_x86_32 written independently of the library's version.
std::uint32_t reference_murmur3_32(unsigned char const* data, std::size_t len, std::uint32_t seed) {
  auto rotl = [](std::uint32_t x, int r) { return (x << r) | (x >> (32 - r)); };
  std::uint32_t h = seed;
  std::size_t i = 0;
  for (; i + 4 <= len; i += 4) {
    std::uint32_t k = static_cast<std::uint32_t>(data[i]) | (static_cast<std::uint32_t>(data[i + 1]) << 8) |
                      (static_cast<std::uint32_t>(data[i + 2]) << 16) | (static_cast<std::uint32_t>(data[i + 3]) << 24);
    k *= 0xcc9e2d51u;
    k = rotl(k, 15);
    k *= 0x1b873593u;
    h ^= k;
    h = rotl(h, 13) * 5 + 0xe6546b64u;
  }
  std::uint32_t k = 0;
  for (std::size_t j = len - i; j > 0; --j) { k = (k << 8) | data[i + j - 1]; }
  if (len > i) {
    k *= 0xcc9e2d51u;
    k = rotl(k, 15);
    k *= 0x1b873593u;
    h ^= k;
  }
  h ^= static_cast<std::uint32_t>(len);
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

template <class B>
class HashTest : public ::testing::Test {};
using backends = ::testing::Types<host_backend, cuda_backend>;
TYPED_TEST_SUITE(HashTest, backends);

TYPED_TEST(HashTest, MatchesReferenceForEveryLength) {
  constexpr warp::backend b = TypeParam::value;
  WARP_SKIP_UNLESS_AVAILABLE(b);
  std::mt19937_64 rng{2026};
  std::vector<unsigned char> data(max_length + 8);
  for (auto& c : data) { c = static_cast<unsigned char>(rng()); }
  std::vector<hash_case> cases;
  for (std::size_t len = 0; len <= max_length; ++len) {
    cases.push_back({len, 0});
    for (int s = 1; s < seeds_per_length; ++s) { cases.push_back({len, rng()}); }
  }
  cuda::stream_ref const stream = warp::default_stream();
  warp::detail::buffer<unsigned char> d_data{b, data.size(), stream};
  warp::detail::buffer<hash_case> d_cases{b, cases.size(), stream};
  warp::detail::buffer<hash_results> d_out{b, cases.size(), stream};
  warp::detail::copy_bytes(b, d_data.data(), data.data(), data.size(), stream);
  warp::detail::copy_bytes(b, d_cases.data(), cases.data(), cases.size() * sizeof(hash_case), stream);
  unsigned char key[37];
  for (auto& c : key) { c = static_cast<unsigned char>(rng()); }
  warp::hash::xxh3_secret const secret = warp::hash::xxh3_secret_from_key(key, sizeof(key));
  warp::detail::for_each_item<1>(warp::detail::executor{b, stream}, cases.size(),
                                 compute_hashes{d_data.data(), d_cases.data(), d_out.data(), secret});
  std::vector<hash_results> out(cases.size());
  warp::detail::copy_bytes(b, out.data(), d_out.data(), out.size() * sizeof(hash_results), stream);
  warp::detail::synchronize(b, stream);

  for (std::size_t i = 0; i < cases.size(); ++i) {
    unsigned char const* p = data.data() + (i % 7);
    std::size_t const len = cases[i].length;
    std::uint64_t const seed = cases[i].seed;
    ASSERT_EQ(out[i].x32, XXH32(p, len, static_cast<XXH32_hash_t>(seed))) << "XXH32 length " << len;
    ASSERT_EQ(out[i].x64, XXH64(p, len, seed)) << "XXH64 length " << len;
    ASSERT_EQ(out[i].x3_64, XXH3_64bits_withSeed(p, len, seed)) << "XXH3-64 length " << len;
    XXH128_hash_t const r = XXH3_128bits_withSeed(p, len, seed);
    ASSERT_EQ(out[i].x3_128.low, r.low64) << "XXH3-128 low, length " << len;
    ASSERT_EQ(out[i].x3_128.high, r.high64) << "XXH3-128 high, length " << len;
    XXH128_hash_t const k = XXH3_128bits_withSecret(p, len, secret.bytes, sizeof(secret.bytes));
    ASSERT_EQ(out[i].x3_128_keyed.low, k.low64) << "keyed XXH3-128 low, length " << len;
    ASSERT_EQ(out[i].x3_128_keyed.high, k.high64) << "keyed XXH3-128 high, length " << len;
    ASSERT_EQ(out[i].m3, reference_murmur3_32(p, len, static_cast<std::uint32_t>(seed))) << "murmur3 length " << len;
  }
}

TEST(Xxh3Secret, MatchesGenerateSecretForEveryKeyLength) {
  std::mt19937_64 rng{77};
  std::vector<unsigned char> key(400);
  for (auto& c : key) { c = static_cast<unsigned char>(rng()); }
  for (std::size_t n = 0; n <= key.size(); ++n) {
    unsigned char want[192];
    ASSERT_EQ(XXH3_generateSecret(want, sizeof(want), key.data(), n), XXH_OK);
    warp::hash::xxh3_secret const got = warp::hash::xxh3_secret_from_key(key.data(), n);
    ASSERT_EQ(0, std::memcmp(got.bytes, want, sizeof(want))) << "key of " << n << " bytes";
  }
  // Different keys give different secrets, so different hashes of the same bytes.
  unsigned char const a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 5};
  auto const ha = warp::hash::xxh3_128("block", 5, warp::hash::xxh3_secret_from_key(a, 4));
  auto const hb = warp::hash::xxh3_128("block", 5, warp::hash::xxh3_secret_from_key(b, 4));
  EXPECT_TRUE(ha.low != hb.low || ha.high != hb.high);
}

TEST(Murmur3, KnownVectors) {
  // Published MurmurHash3_x86_32 vectors.
  EXPECT_EQ(warp::hash::murmur3_32("", 0, 0), 0u);
  EXPECT_EQ(warp::hash::murmur3_32("", 0, 1), 0x514E28B7u);
  EXPECT_EQ(warp::hash::murmur3_32("The quick brown fox jumps over the lazy dog", 43, 0), 0x2e4ff723u);
}

TEST(Murmur3, FinalizersMatchReference) {
  std::mt19937_64 rng{7};
  for (int i = 0; i < 1000; ++i) {
    std::uint64_t k = rng();
    std::uint64_t r = k;
    r ^= r >> 33;
    r *= 0xff51afd7ed558ccdull;
    r ^= r >> 33;
    r *= 0xc4ceb9fe1a85ec53ull;
    r ^= r >> 33;
    ASSERT_EQ(warp::hash::fmix64(k), r);
    // fmix32 is the tail of MurmurHash3_x86_32: hashing 0 bytes with seed s gives fmix32(s).
    auto const s = static_cast<std::uint32_t>(k);
    ASSERT_EQ(warp::hash::fmix32(s), reference_murmur3_32(nullptr, 0, s));
  }
}

TEST(HashFunctors, FixedSizeKeysHashTheirBytes) {
  std::mt19937_64 rng{11};
  for (int i = 0; i < 1000; ++i) {
    key128 const k{rng(), rng()};
    std::uint32_t const k4 = static_cast<std::uint32_t>(rng());
    std::uint64_t const k8 = rng();
    EXPECT_EQ(warp::hash::xxh3_64_hasher<key128>{5}(k), XXH3_64bits_withSeed(&k, 16, 5));
    EXPECT_EQ(warp::hash::xxhash_64<std::uint64_t>{9}(k8), XXH64(&k8, 8, 9));
    EXPECT_EQ(warp::hash::xxhash_32<std::uint32_t>{3}(k4), XXH32(&k4, 4, 3));
    EXPECT_EQ(warp::hash::default_hash<key128>{}(k), XXH3_64bits_withSeed(&k, 16, 0));
  }
}

}  // namespace
