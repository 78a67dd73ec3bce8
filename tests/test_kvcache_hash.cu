// warp::kvcache block hashes against a reference written here with libxxhash (the documented
// messages built byte by byte, XXH3_generateSecret + XXH3_128bits_withSecret, XXH3_64bits_withSeed),
// on both backends; the properties the scheme promises (shared prefixes share blocks, salts,
// adapters, keys and images separate them); and the errors for bad input.
#include "test_common.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <warp/kvcache/block_hash.cuh>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace warp_test;
namespace kv = warp::kvcache;

namespace {

// ---- the reference ----

struct reference {
  bool keyed;
  unsigned char secret[192];
  std::uint64_t seed;

  kv::block_hash digest(void const* p, std::size_t n) const {
    if (!keyed) { return {XXH3_64bits_withSeed(p, n, seed), 0}; }
    XXH128_hash_t const h = XXH3_128bits_withSecret(p, n, secret, sizeof(secret));
    return {h.low64, h.high64};
  }
  static void field(std::vector<unsigned char>& m, unsigned char tag, void const* p, std::uint32_t n) {
    m.push_back(tag);
    for (int i = 0; i < 4; ++i) { m.push_back(static_cast<unsigned char>(n >> (8 * i))); }
    auto const* b = static_cast<unsigned char const*>(p);
    m.insert(m.end(), b, b + n);
  }
  std::vector<kv::block_hash> chain(std::vector<std::uint32_t> const& tokens, kv::request_keys const& k,
                                    std::uint32_t block) const {
    kv::block_hash const salt = k.salt.empty() ? kv::block_hash{} : digest(k.salt.data(), k.salt.size());
    std::vector<unsigned char> m;
    unsigned char const version = 1;
    field(m, 'R', &version, 1);
    field(m, 'S', &salt, 16);
    field(m, 'L', &k.lora_id, 8);
    kv::block_hash h = digest(m.data(), m.size());
    std::vector<kv::block_hash> out;
    for (std::size_t b = 0; (b + 1) * block <= tokens.size(); ++b) {
      kv::block_hash const t = digest(tokens.data() + b * block, block * 4);
      std::vector<kv::media_item> items;
      for (auto const& it : k.media) {
        if (it.first_token / block == b) { items.push_back(it); }
      }
      std::sort(items.begin(), items.end(), [](kv::media_item const& x, kv::media_item const& y) {
        if (x.first_token != y.first_token) { return x.first_token < y.first_token; }
        if (x.content.high != y.content.high) { return x.content.high < y.content.high; }
        return x.content.low < y.content.low;
      });
      kv::block_hash const media = items.empty() ? kv::block_hash{} : digest(items.data(), items.size() * sizeof(kv::media_item));
      m.clear();
      field(m, 'B', &h, 16);
      field(m, 'B', &t, 16);
      field(m, 'B', &block, 4);
      field(m, 'M', &media, 16);
      h = digest(m.data(), m.size());
      out.push_back(h);
    }
    return out;
  }
};

reference keyed_reference(std::vector<unsigned char> const& key) {
  reference r{true, {}, 0};
  EXPECT_EQ(XXH3_generateSecret(r.secret, sizeof(r.secret), key.data(), key.size()), XXH_OK);
  return r;
}

std::vector<unsigned char> random_key(std::uint64_t seed) {
  std::mt19937_64 rng{seed};
  std::vector<unsigned char> key(32);
  for (auto& c : key) { c = static_cast<unsigned char>(rng()); }
  return key;
}

std::vector<std::uint32_t> random_tokens(std::mt19937_64& rng, std::size_t n) {
  std::vector<std::uint32_t> t(n);
  for (auto& x : t) { x = static_cast<std::uint32_t>(rng() % 152000); }
  return t;
}

template <class B>
class KvBlockHash : public on_backend<B> {};
TYPED_TEST_SUITE(KvBlockHash, both_backends, backend_names);

TYPED_TEST(KvBlockHash, EveryBlockMatchesTheReferenceInBothModes) {
  std::mt19937_64 rng{11};
  // Two batch shapes: many requests of mixed length (the host hashes each in one pass) and two
  // long ones, over 32k tokens together (the host digests runs of blocks in parallel first, then
  // chains).
  std::vector<std::vector<std::vector<std::uint32_t>>> shapes(2);
  std::vector<std::vector<kv::request_keys>> shape_keys(2);
  for (int r = 0; r < 60; ++r) {
    shapes[0].push_back(random_tokens(rng, rng() % 700));  // empty, partial and many blocks
    kv::request_keys k;
    if (r % 3 == 0) { k.salt = "tenant-" + std::to_string(r % 7); }
    if (r % 4 == 1) { k.lora_id = 1 + rng() % 5; }
    if (r % 5 == 2) {
      for (int m = 0; m < 3; ++m) { k.media.push_back({{rng(), rng()}, rng() % 700}); }
      k.media.push_back(k.media.front());  // the same image twice, at one place
    }
    shape_keys[0].push_back(k);
  }
  for (int r = 0; r < 2; ++r) {
    shapes[1].push_back(random_tokens(rng, 17000 + 7 * r));
    kv::request_keys k;
    k.salt = "long-" + std::to_string(r);
    k.media.push_back({{rng(), rng()}, 1500});
    shape_keys[1].push_back(k);
  }
  auto const key = random_key(5);
  kv::block_hashes got;  // reused by every call, as a scheduler would
  for (std::size_t shape = 0; shape < shapes.size(); ++shape) {
    auto const& prompts = shapes[shape];
    auto const& keys = shape_keys[shape];
    auto const batch = kv::token_batch::from(prompts);
    for (std::uint32_t block : {1u, 16u, 64u, 512u}) {
      for (bool keyed : {true, false}) {
        kv::block_hasher const hasher = keyed ? kv::block_hasher::keyed(key.data(), key.size()) : kv::block_hasher::compat64(99);
        reference const ref = keyed ? keyed_reference(key) : reference{false, {}, 99};
        kv::hash_blocks(hasher, batch.view(), keys, block, got, TypeParam::value);
        ASSERT_EQ(got.block_offsets.size(), prompts.size() + 1);
        ASSERT_EQ(got.hashes.size(), got.block_offsets.back());
        for (std::size_t r = 0; r < prompts.size(); ++r) {
          auto const want = ref.chain(prompts[r], keys[r], block);
          ASSERT_EQ(got.block_offsets[r + 1] - got.block_offsets[r], want.size()) << "request " << r << " B " << block;
          for (std::size_t b = 0; b < want.size(); ++b) {
            ASSERT_EQ(got.hashes[got.block_offsets[r] + b], want[b])
                << "shape " << shape << " request " << r << " block " << b << " B " << block << (keyed ? " keyed" : " 64-bit");
          }
        }
      }
    }
  }
}

TEST(KvBlockHash, PrefixesSaltsAdaptersKeysAndImages) {
  std::mt19937_64 rng{3};
  auto const shared = random_tokens(rng, 16 * 10);
  auto a = shared;
  auto b = shared;
  auto const tail_a = random_tokens(rng, 16 * 3), tail_b = random_tokens(rng, 16 * 3 + 5);
  a.insert(a.end(), tail_a.begin(), tail_a.end());
  b.insert(b.end(), tail_b.begin(), tail_b.end());
  auto const key = random_key(8);
  auto const hasher = kv::block_hasher::keyed(key.data(), key.size());
  auto hash = [&](std::vector<std::uint32_t> const& t, kv::request_keys const& k, kv::block_hasher const& h) {
    auto const batch = kv::token_batch::from(std::vector<std::vector<std::uint32_t>>{t});
    return kv::hash_blocks(h, batch.view(), {k}, 16, warp::backend::host).hashes;
  };
  auto const ha = hash(a, {}, hasher), hb = hash(b, {}, hasher);
  ASSERT_EQ(ha.size(), 13u);
  ASSERT_EQ(hb.size(), 13u);  // the 5 tokens past the last full block are not hashed
  for (std::size_t i = 0; i < 10; ++i) { EXPECT_EQ(ha[i], hb[i]) << "shared block " << i; }
  for (std::size_t i = 10; i < 13; ++i) { EXPECT_NE(ha[i], hb[i]) << "diverged block " << i; }

  // Salts, adapters and deployment keys change every block, so nothing is shared across them.
  kv::request_keys salted;
  salted.salt = "tenant-a";
  kv::request_keys other_salt;
  other_salt.salt = "tenant-b";
  kv::request_keys adapter;
  adapter.lora_id = 7;
  auto const other_key = random_key(9);
  for (auto const& variant : {hash(a, salted, hasher), hash(a, other_salt, hasher), hash(a, adapter, hasher),
                              hash(a, {}, kv::block_hasher::keyed(other_key.data(), other_key.size()))}) {
    ASSERT_EQ(variant.size(), ha.size());
    for (std::size_t i = 0; i < ha.size(); ++i) { EXPECT_NE(variant[i], ha[i]) << i; }
  }
  auto const s1 = hash(a, salted, hasher), s2 = hash(a, other_salt, hasher);
  for (std::size_t i = 0; i < ha.size(); ++i) { EXPECT_NE(s1[i], s2[i]) << "two tenants share block " << i; }

  // An image whose placeholder starts in block 4 leaves blocks 0-3 as they were.
  kv::request_keys image;
  image.media.push_back({{0x1234, 0x5678}, 4 * 16 + 3});
  auto const hi = hash(a, image, hasher);
  for (std::size_t i = 0; i < 4; ++i) { EXPECT_EQ(hi[i], ha[i]) << i; }
  for (std::size_t i = 4; i < ha.size(); ++i) { EXPECT_NE(hi[i], ha[i]) << i; }
  kv::request_keys other_image = image;
  other_image.media[0].content.low ^= 1;
  EXPECT_NE(hash(a, other_image, hasher)[4], hi[4]);
}

// Hashes into a caller's array (on a GPU, device memory) equal the block_hashes form, and an
// array too small is refused before any work, naming both sizes.
TYPED_TEST(KvBlockHash, IntoACallersArrayAsIntoBlockHashes) {
  warp::backend const where = TypeParam::value;
  kv::token_batch batch;
  for (std::uint32_t r = 0; r < 5; ++r) {
    std::vector<std::uint32_t> t(17 * r + 3);
    for (std::uint32_t i = 0; i < t.size(); ++i) { t[i] = i * 7 + r; }
    batch.push_back(t);
  }
  unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
  auto const hasher = kv::block_hasher::keyed(key, sizeof(key));
  auto const want = kv::hash_blocks(hasher, batch.view(), {}, 4, where);
  warp::detail::buffer<kv::block_hash> out{where, want.hashes.size(), warp::default_stream()};
  std::vector<std::uint64_t> offsets;
  kv::hash_blocks(hasher, batch.view(), {}, 4, offsets, out.data(), want.hashes.size(), where);
  std::vector<kv::block_hash> got(want.hashes.size());
  warp::detail::copy_bytes(where, got.data(), out.data(), got.size() * sizeof(kv::block_hash), warp::default_stream());
  warp::detail::synchronize(where, warp::default_stream());
  EXPECT_EQ(offsets, want.block_offsets);
  EXPECT_TRUE(got == want.hashes);
  std::string const e = error_message([&] {
    kv::hash_blocks(hasher, batch.view(), {}, 4, offsets, out.data(), want.hashes.size() - 1, where);
  });
  EXPECT_NE(e.find("has " + std::to_string(want.hashes.size()) + " full blocks but the output holds " +
                   std::to_string(want.hashes.size() - 1)),
            std::string::npos)
      << e;
}

TEST(KvBlockHash, BadInputIsRejectedBeforeAnyWork) {
  auto const key = random_key(1);
  EXPECT_NE(error_message([&] { (void)kv::block_hasher::keyed(key.data(), 8); }).find("at least 16"), std::string::npos);
  EXPECT_NE(error_message([&] { (void)kv::block_hasher::keyed(nullptr, 32); }).find("at least 16"), std::string::npos);
  auto const hasher = kv::block_hasher::keyed(key.data(), key.size());
  auto const batch = kv::token_batch::from(std::vector<std::vector<std::uint32_t>>{{1, 2, 3}, {4}});
  for (std::uint32_t bad : {0u, 513u}) {
    EXPECT_NE(error_message([&] { (void)kv::hash_blocks(hasher, batch.view(), {}, bad, warp::backend::host); })
                  .find("block size " + std::to_string(bad)),
              std::string::npos);
  }
  EXPECT_NE(error_message([&] { (void)kv::hash_blocks(hasher, batch.view(), {kv::request_keys{}}, 2, warp::backend::host); })
                .find("1 request keys for 2 requests"),
            std::string::npos);
  std::vector<std::int64_t> decreasing{0, 3, 1};
  kv::token_requests const bad{batch.tokens.data(), decreasing.data(), 2};
  EXPECT_NE(error_message([&] { (void)kv::hash_blocks(hasher, bad, {}, 2, warp::backend::host); }).find("offsets[2] = 1"),
            std::string::npos);
}

}  // namespace
