// warp::lsh: MinHash signatures (cuDF's golden vectors, exact mod 2^61 - 1 arithmetic, the
// estimator's statistics), shingling rules, banding (the S-curve), candidate pairs against a plain
// std::unordered_map banding, and duplicate clusters against a sequential union-find; host and
// CUDA bitwise identical (CUDA cases skip without a device).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <warp/lsh/lsh.cuh>

#include "test_common.hpp"

namespace {

using warp::lsh::document_batch;
using warp::lsh::minhash_options;
using warp::lsh::minhasher;
using warp::lsh::permutation;
using warp::lsh::shingle_kind;
using warp::lsh::shingle_options;
using warp_test::error_message;

std::vector<std::string> const cudf_strings = {"doc 1",
                                               "this is doc 2",
                                               "doc 3",
                                               "d",
                                               "The quick brown fox jump\xc3\xa9" "d over the lazy brown dog.",
                                               "line six",
                                               "line seven",
                                               "line eight",
                                               "line nine",
                                               "line ten"};

template <class T>
std::vector<T> cudf_signatures(std::vector<std::string> const& texts, std::uint64_t first_param, warp::backend where) {
  minhash_options o;
  o.mode = permutation::cudf;
  o.shingles = {shingle_kind::characters, 4};
  o.seed = 0;
  std::vector<std::uint64_t> params{first_param, first_param + 1, first_param + 2};
  minhasher<T> mh{params, params, o, where};
  auto const batch = document_batch::from(texts);
  return mh.signatures(batch.view());
}

template <class B>
class lsh_on : public warp_test::on_backend<B> {};
TYPED_TEST_SUITE(lsh_on, warp_test::both_backends, warp_test::backend_names);

// Golden values from cuDF's tests of nvtext::minhash_permuted / minhash64_permuted (width 4,
// seed 0, a = b = {10, 11, 12}).
TYPED_TEST(lsh_on, cudf_golden_vectors_32_bit) {
  std::vector<std::uint32_t> const expected = {
      1392101586u, 394869177u,  811528444u,  211415830u,  187088503u,  130291444u, 2098117052u, 394869177u,
      799753544u,  2264583304u, 2920538364u, 3576493424u, 253327882u,  41747273u,  302030804u,  2109809594u,
      1017470651u, 326988172u,  1303819864u, 850676747u,  147107852u,  736021564u, 720812292u,  1405158760u,
      902780242u,  134064807u,  1613944636u, 547084870u,  1748895564u, 656501844u};
  EXPECT_EQ(cudf_signatures<std::uint32_t>(cudf_strings, 10, this->where), expected);
}

TYPED_TEST(lsh_on, cudf_golden_vectors_64_bit) {
  std::vector<std::uint64_t> const expected = {
      827364888116975697ull,  1601854279692781452ull, 70500662054893256ull,  18312093741021833ull,
      133793446674258329ull,  21974512489226198ull,   22474244732520567ull,  1638811775655358395ull,
      949306297364502264ull,  1332357434996402861ull, 2157346081260151330ull, 676491718310205848ull,
      65816830624808020ull,   43323600380520789ull,   63511816333816345ull,  629657184954525200ull,
      49741036507643002ull,   97466271004074331ull,   301611977846331113ull, 101188874709594830ull,
      97466271004074331ull,   121498891461700668ull,  171065800427907402ull, 97466271004074331ull,
      54617739511834072ull,   231454301607238929ull,  97466271004074331ull,  576418665851990314ull,
      231454301607238929ull,  97466271004074331ull};
  EXPECT_EQ(cudf_signatures<std::uint64_t>(cudf_strings, 10, this->where), expected);
}

// cuDF's wide-string case: one string below and one far above its per-block threshold.
TYPED_TEST(lsh_on, cudf_golden_vectors_long_documents) {
  std::vector<std::string> const texts = {std::string(2 << 10, 'x'), std::string(2 << 19, 'y')};
  EXPECT_EQ(cudf_signatures<std::uint32_t>(texts, 20, this->where),
            (std::vector<std::uint32_t>{1731998032u, 315359380u, 3193688024u, 1293098788u, 2860992281u, 133918478u}));
  EXPECT_EQ(cudf_signatures<std::uint64_t>(texts, 20, this->where),
            (std::vector<std::uint64_t>{1818322427062143853ull, 641024893347719371ull, 1769570368846988848ull,
                                        1389920339306667795ull, 421787002125838902ull, 1759496674158703968ull}));
}

TEST(lsh_hash, murmur3_x64_128_reference_values) {
  auto const empty = warp::hash::murmur3_x64_128("", 0, 0);
  EXPECT_EQ(empty.low, 0u);
  EXPECT_EQ(empty.high, 0u);
  auto const hello = warp::hash::murmur3_x64_128("hello", 5, 0);  // mmh3.hash64("hello")
  EXPECT_EQ(hello.low, 0xcbd8a7b341bd9b02ull);
  EXPECT_EQ(hello.high, 0x5b1e906a48ae1d19ull);
}

TEST(lsh_arithmetic, affine_mod_mersenne61_matches_128_bit_reference) {
  constexpr std::uint64_t p = warp::lsh::mersenne61_prime;
  std::mt19937_64 rng{7};
  std::vector<std::uint64_t> edge = {0, 1, 2, p - 2, p - 1, (1ull << 60), 0x0123456789abcdefull % p};
  auto check = [&](std::uint64_t a, std::uint64_t h, std::uint64_t b) {
    unsigned __int128 const want = (static_cast<unsigned __int128>(a) * h + b) % p;
    ASSERT_EQ(warp::lsh::detail::affine61(a, h, b), static_cast<std::uint64_t>(want)) << a << " " << h << " " << b;
  };
  for (auto a : edge) {
    for (auto h : edge) {
      for (auto b : edge) { check(a, h, b); }
    }
  }
  for (int i = 0; i < 200000; ++i) { check(rng() % p, rng() % p, rng() % p); }
  // Reduction of any 64-bit hash.
  for (std::uint64_t h : std::vector<std::uint64_t>{~0ull, p, p + 1, 2 * p, 2 * p + 5, 0ull}) {
    EXPECT_EQ(warp::lsh::detail::reduce61(h), h % p) << h;
  }
}

/// Two token documents with exactly `common` shared tokens of `total` distinct ones: J = common / total.
std::pair<std::string, std::string> pair_with_jaccard(int trial, int total, int common) {
  int const only = (total - common) / 2;
  std::string a, b;
  for (int i = 0; i < common; ++i) { a += "c" + std::to_string(trial) + "x" + std::to_string(i) + " "; }
  b = a;
  for (int i = 0; i < only; ++i) { a += "a" + std::to_string(trial) + "x" + std::to_string(i) + " "; }
  for (int i = 0; i < total - common - only; ++i) { b += "b" + std::to_string(trial) + "x" + std::to_string(i) + " "; }
  return {a, b};
}

struct estimate_stats {
  double mean;
  double variance;
};
template <class T>
estimate_stats estimate(permutation mode, std::uint32_t k, double jaccard, int trials) {
  int const total = 200;
  int const common = static_cast<int>(std::lround(jaccard * total));
  document_batch docs;
  for (int t = 0; t < trials; ++t) {
    auto const [a, b] = pair_with_jaccard(t, total, common);
    docs.push_back(a);
    docs.push_back(b);
  }
  minhash_options o;
  o.mode = mode;
  o.shingles = {shingle_kind::words, 1};
  o.seed = 42;
  minhasher<T> mh{k, o, warp::backend::host};
  auto const sig = mh.signatures(docs.view());
  double sum = 0, sum2 = 0;
  for (int t = 0; t < trials; ++t) {
    double const e = warp::lsh::estimate_jaccard(sig.data() + 2 * t * k, sig.data() + (2 * t + 1) * k, k);
    sum += e;
    sum2 += e * e;
  }
  double const mean = sum / trials;
  return {mean, (sum2 - trials * mean * mean) / (trials - 1)};
}

// Mean within 4 sqrt(J (1 - J) / (k trials)) of J; variance near J (1 - J) / k (MinHash).
TEST(lsh_statistics, jaccard_estimate_is_unbiased_with_binomial_variance) {
  std::uint32_t const k = 128;
  int const trials = 300;
  for (double j : {0.2, 0.5, 0.8}) {
    double const exact = std::lround(j * 200) / 200.0;
    double const var = exact * (1 - exact) / k;
    double const tolerance = 4 * std::sqrt(var / trials);
    auto const m61 = estimate<std::uint64_t>(permutation::mersenne61, k, exact, trials);
    EXPECT_NEAR(m61.mean, exact, tolerance) << "mersenne61 J=" << exact;
    EXPECT_NEAR(m61.variance, var, 0.35 * var) << "mersenne61 J=" << exact;
    auto const m32 = estimate<std::uint32_t>(permutation::mersenne61, k, exact, trials);
    EXPECT_NEAR(m32.mean, exact, tolerance) << "mersenne61/32 J=" << exact;
    auto const cudf = estimate<std::uint32_t>(permutation::cudf, k, exact, trials);
    EXPECT_NEAR(cudf.mean, exact, tolerance) << "cudf J=" << exact;
    EXPECT_NEAR(cudf.variance, var, 0.35 * var) << "cudf J=" << exact;
    // One-permutation hashing with densification: unbiased, variance no worse than MinHash's
    // by much (its bins are sampled without replacement).
    auto const oph = estimate<std::uint64_t>(permutation::one_permutation, k, exact, trials);
    EXPECT_NEAR(oph.mean, exact, tolerance) << "one_permutation J=" << exact;
    EXPECT_LT(oph.variance, 1.35 * var) << "one_permutation J=" << exact;
  }
}

// Pairs of Jaccard s share a band key with probability 1 - (1 - s^r)^b.
TEST(lsh_statistics, band_collisions_follow_the_s_curve) {
  warp::lsh::band_layout const bands{10, 5};
  std::uint32_t const k = 52;  // two leftover rows
  int const trials = 400;
  for (double s : {0.3, 0.5, 0.7}) {
    document_batch docs;
    for (int t = 0; t < trials; ++t) {
      auto const [a, b] = pair_with_jaccard(t + 1000, 200, static_cast<int>(std::lround(s * 200)));
      docs.push_back(a);
      docs.push_back(b);
    }
    minhash_options o;
    o.shingles = {shingle_kind::words, 1};
    minhasher<std::uint64_t> mh{k, o, warp::backend::host};
    auto const sig = mh.signatures(docs.view());
    auto const keys = warp::lsh::band_keys(sig, docs.size(), k, bands, warp::backend::host);
    int hits = 0;
    for (int t = 0; t < trials; ++t) {
      bool shared = false;
      for (std::uint32_t j = 0; j < bands.bands; ++j) {
        shared |= keys[(2 * t) * bands.bands + j] == keys[(2 * t + 1) * bands.bands + j];
      }
      hits += shared ? 1 : 0;
    }
    double const p = warp::lsh::collision_probability(std::lround(s * 200) / 200.0, bands);
    double const sigma = std::sqrt(p * (1 - p) / trials);
    EXPECT_NEAR(static_cast<double>(hits) / trials, p, 4 * sigma + 1e-9) << "s=" << s;
  }
}

TEST(lsh_banding, exactly_b_keys_per_document_and_leftover_rows_unused) {
  std::uint32_t const k = 23;
  warp::lsh::band_layout const bands{4, 5};  // rows 20..22 are left over
  std::mt19937_64 rng{3};
  std::vector<std::uint64_t> sig(6 * k);
  for (auto& v : sig) { v = rng(); }
  auto const keys = warp::lsh::band_keys(sig, 6, k, bands, warp::backend::host);
  ASSERT_EQ(keys.size(), 6u * bands.bands);
  for (std::size_t d = 0; d < 6; ++d) {
    for (std::uint32_t j = 0; j < bands.bands; ++j) {
      EXPECT_EQ(keys[d * bands.bands + j] >> 56, j);  // the band index is part of the key
      EXPECT_NE(keys[d * bands.bands + j], ~0ull);
    }
  }
  auto changed = sig;
  for (std::size_t d = 0; d < 6; ++d) {
    for (std::uint32_t i = 20; i < k; ++i) { changed[d * k + i] ^= 0xdeadbeef; }
  }
  EXPECT_EQ(warp::lsh::band_keys(changed, 6, k, bands, warp::backend::host), keys);
  changed[2 * k + 7] ^= 1;  // a value of band 1 of document 2
  auto const other = warp::lsh::band_keys(changed, 6, k, bands, warp::backend::host);
  for (std::size_t i = 0; i < keys.size(); ++i) { EXPECT_EQ(other[i] != keys[i], i == 2 * bands.bands + 1) << i; }
  // Equal values in different bands give different keys.
  std::vector<std::uint64_t> same(k, 5);
  auto const k2 = warp::lsh::band_keys(same, 1, k, bands, warp::backend::host);
  EXPECT_NE(k2[0], k2[1]);
  EXPECT_NE(error_message([&] { (void)warp::lsh::band_keys(sig, 6, k, warp::lsh::band_layout{5, 5}); }).find("k = 23"),
            std::string::npos);
  EXPECT_NE(error_message([&] { (void)warp::lsh::band_keys(sig, 6, 300, warp::lsh::band_layout{256, 1}); })
                .find("1 to 255"),
            std::string::npos);
}

TEST(lsh_banding, choose_bands_minimises_the_weighted_error_area) {
  for (double t : {0.5, 0.8}) {
    std::uint32_t const k = 128;
    auto const c = warp::lsh::choose_bands(t, k);
    ASSERT_LE(c.layout.bands * c.layout.rows, k);
    // An independent trapezoid integration over every layout: none is better by more than rounding.
    auto cost = [&](warp::lsh::band_layout l) {
      int const n = 20000;
      double fp = 0, fn = 0;
      for (int i = 0; i < n; ++i) {
        double const s0 = (i + 0.5) / n;
        double const p = 1 - std::pow(1 - std::pow(s0, l.rows), l.bands);
        (s0 < t ? fp : fn) += (s0 < t ? p : 1 - p) / n;
      }
      return 0.5 * fp + 0.5 * fn;
    };
    double const chosen = cost(c.layout);
    for (std::uint32_t b = 1; b <= k; ++b) {
      for (std::uint32_t r = 1; b * r <= k; ++r) { ASSERT_GE(cost({b, r}) + 1e-4, chosen) << b << "x" << r; }
    }
    // Near the threshold the curve crosses 1/2.
    double const at_t = warp::lsh::collision_probability(t, c.layout);
    EXPECT_GT(at_t, 0.2);
    EXPECT_LT(at_t, 0.8);
  }
  EXPECT_NE(error_message([] { (void)warp::lsh::choose_bands(1.5, 64); }).find("(0, 1)"), std::string::npos);
}

TEST(lsh_shingles, rules_of_each_kind) {
  shingle_options chars{shingle_kind::characters, 3};
  // Characters are code points: "é" is one.
  EXPECT_EQ(warp::lsh::shingle_set("ab\xc3\xa9", chars).size(), 1u);  // "abé" ("bé" runs past the end)
  EXPECT_EQ(warp::lsh::shingle_set("ab\xc3\xa9" "d", chars).size(), 2u);  // "abé", "béd"
  EXPECT_EQ(warp::lsh::shingle_set("ab", chars).size(), 1u);  // shorter than one shingle: hashed whole
  EXPECT_TRUE(warp::lsh::shingle_set("", chars).empty());
  // Words: punctuation and Unicode whitespace separate; lowercasing is optional.
  shingle_options words{shingle_kind::words, 2};
  EXPECT_EQ(warp::lsh::shingle_set("Hello, world!  foo", words), warp::lsh::shingle_set("Hello world foo", words));
  EXPECT_EQ(warp::lsh::shingle_set("a\xe3\x80\x80" "b c", words), warp::lsh::shingle_set("a b c", words));
  EXPECT_NE(warp::lsh::shingle_set("Hello World", words), warp::lsh::shingle_set("hello world", words));
  words.lowercase = true;
  EXPECT_EQ(warp::lsh::shingle_set("Hello World", words), warp::lsh::shingle_set("hello world", words));
  EXPECT_EQ(warp::lsh::shingle_set("one", words).size(), 1u);   // fewer tokens than n: all of them
  EXPECT_EQ(warp::lsh::shingle_set(" ,; ", words).size(), 1u);  // no token: the bytes, hashed whole
  EXPECT_EQ(warp::lsh::shingle_set("a b c d", words).size(), 3u);
  // DNA: canonical k-mers (a sequence and its reverse complement agree), N skipped.
  shingle_options dna{shingle_kind::dna, 4};
  EXPECT_EQ(warp::lsh::shingle_set("ACGTTGCA", dna), warp::lsh::shingle_set("TGCAACGT", dna));
  EXPECT_EQ(warp::lsh::shingle_set("AACCGGTT", dna), warp::lsh::shingle_set("aaccggtt", dna));
  EXPECT_EQ(warp::lsh::shingle_set("ACGTNACGT", dna).size(), 1u);  // ACGT twice; windows with N skipped
  EXPECT_EQ(warp::lsh::shingle_set("ACG", dna).size(), 1u);        // no k-mer: hashed whole
  // Limits.
  EXPECT_NE(error_message([] { warp::lsh::validate(shingle_options{shingle_kind::dna, 33}); }).find("1 to 32"),
            std::string::npos);
  EXPECT_NE(error_message([] { warp::lsh::validate(shingle_options{shingle_kind::words, 0}); }).find("got 0"),
            std::string::npos);
}

TEST(lsh_shingles, exact_jaccard_of_documents) {
  shingle_options words{shingle_kind::words, 1};
  EXPECT_DOUBLE_EQ(warp::lsh::exact_jaccard("a b c d", "c d e f", words), 2.0 / 6.0);
  EXPECT_DOUBLE_EQ(warp::lsh::exact_jaccard("a b", "a b", words), 1.0);
  EXPECT_DOUBLE_EQ(warp::lsh::exact_jaccard("", "", words), 1.0);
  EXPECT_DOUBLE_EQ(warp::lsh::exact_jaccard("a", "", words), 0.0);
}

TYPED_TEST(lsh_on, invalid_utf8_names_the_document_and_byte) {
  std::vector<std::string> const texts = {"fine", "caf\xc3\xa9", "bad \xc3( here", "also bad \xff"};
  auto const docs = document_batch::from(texts);
  minhash_options o;
  minhasher<std::uint64_t> mh{16, o, this->where};
  std::vector<std::uint64_t> out(texts.size() * 16, 7);
  std::string const message = error_message([&] { mh.signatures(docs.view(), out.data()); });
  EXPECT_NE(message.find("document 2"), std::string::npos) << message;
  EXPECT_NE(message.find("byte 4"), std::string::npos) << message;
  EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](std::uint64_t v) { return v == 7; })) << "nothing written";
  o.shingles.utf8 = warp::lsh::utf8_policy::bytes;
  minhasher<std::uint64_t> raw{16, o, this->where};
  EXPECT_EQ(raw.signatures(docs.view()).size(), texts.size() * 16);
  // Overlong forms, surrogates and truncated sequences are invalid too.
  for (std::string bad : {"\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80"}) {
    EXPECT_GE(warp::lsh::detail::first_invalid_utf8(reinterpret_cast<unsigned char const*>(bad.data()), bad.size()), 0)
        << bad.size();
  }
}

TYPED_TEST(lsh_on, bad_offsets_and_parameters_are_rejected) {
  std::vector<char> bytes(10, 'a');
  std::vector<std::int64_t> offsets = {0, 5, 3, 10};
  minhasher<std::uint64_t> mh{8, {}, this->where};
  std::string const m = error_message([&] { (void)mh.signatures(warp::lsh::documents{bytes.data(), offsets.data(), 3}); });
  EXPECT_NE(m.find("document 1"), std::string::npos) << m;
  minhash_options o;
  o.mode = permutation::mersenne61;
  EXPECT_NE(error_message([&] { minhasher<std::uint64_t>({0, 1}, {1, 1}, o, this->where); }).find("a[0] = 0"),
            std::string::npos);
  EXPECT_NE(error_message([&] { minhasher<std::uint64_t>({1, 2}, {1}, o, this->where); }).find("differ in length"),
            std::string::npos);
  EXPECT_NE(error_message([&] { minhasher<std::uint64_t>(0, o, this->where); }).find("k must be"), std::string::npos);
  o.mode = permutation::cudf;
  EXPECT_NE(error_message([&] { minhasher<std::uint32_t>({1ull << 40}, {1}, o, this->where); }).find("32-bit"),
            std::string::npos);
}

/// Random documents with planted near-duplicates: words from a small vocabulary.
std::vector<std::string> random_documents(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng{seed};
  std::vector<std::string> docs;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0 && rng() % 3 == 0) {  // a near copy of an earlier document
      std::string d = docs[rng() % i];
      if (!d.empty()) { d[rng() % d.size()] = 'z'; }
      docs.push_back(d);
      continue;
    }
    std::string d;
    std::size_t const words = rng() % 40;
    for (std::size_t w = 0; w < words; ++w) { d += "w" + std::to_string(rng() % 500) + " "; }
    docs.push_back(d);
  }
  return docs;
}

TYPED_TEST(lsh_on, signatures_do_not_depend_on_the_batch_or_mode_of_input) {
  auto const texts = random_documents(300, 11);
  auto const docs = document_batch::from(texts);
  for (permutation mode : {permutation::cudf, permutation::mersenne61, permutation::one_permutation}) {
    minhash_options o;
    o.mode = mode;
    o.shingles = {shingle_kind::characters, 5};
    minhasher<std::uint64_t> whole{64, o, this->where};
    o.batch_bytes = 97;  // many small batches
    minhasher<std::uint64_t> small{64, o, this->where};
    auto const a = whole.signatures(docs.view());
    EXPECT_EQ(a, small.signatures(docs.view())) << warp::lsh::to_string(mode);
    // A document alone gives the same row as in the batch.
    auto const single = document_batch::from(std::vector<std::string>{texts[17]});
    auto const one = whole.signatures(single.view());
    EXPECT_TRUE(std::equal(one.begin(), one.end(), a.begin() + 17 * 64)) << warp::lsh::to_string(mode);
    // An empty document's signature is zeros.
    auto const empty = document_batch::from(std::vector<std::string>{""});
    auto const z = whole.signatures(empty.view());
    EXPECT_TRUE(std::all_of(z.begin(), z.end(), [](std::uint64_t v) { return v == 0; }));
  }
}

TEST(lsh_backends, cuda_signatures_keys_candidates_and_clusters_equal_the_host_ones) {
  WARP_SKIP_UNLESS_AVAILABLE(warp::backend::cuda);
#if WARP_CUDA_ENABLED
  auto const texts = random_documents(2000, 5);
  auto const docs = document_batch::from(texts);
  for (permutation mode : {permutation::cudf, permutation::mersenne61, permutation::one_permutation}) {
    minhash_options o;
    o.mode = mode;
    o.shingles = {shingle_kind::characters, 5};
    minhasher<std::uint32_t> host{64, o, warp::backend::host};
    minhasher<std::uint32_t> cuda{64, o, warp::backend::cuda};
    auto const hs = host.signatures(docs.view());
    EXPECT_EQ(hs, cuda.signatures(docs.view())) << warp::lsh::to_string(mode);
    o.batch_bytes = 1000;
    minhasher<std::uint32_t> cuda_small{64, o, warp::backend::cuda};
    cudaStream_t stream;
    ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
    EXPECT_EQ(hs, cuda_small.signatures(docs.view(), cuda::stream_ref{stream})) << warp::lsh::to_string(mode);
    warp::lsh::band_layout const bands{16, 4};
    auto const hk = warp::lsh::band_keys(hs, docs.size(), 64, bands, warp::backend::host);
    auto const ck = warp::lsh::band_keys(hs, docs.size(), 64, bands, warp::backend::cuda, cuda::stream_ref{stream});
    EXPECT_EQ(hk, ck);
    warp::lsh::candidate_options co{bands, 8};
    auto const hc = warp::lsh::find_candidates(hk, docs.size(), co, warp::backend::host);
    auto const cc = warp::lsh::find_candidates(hk, docs.size(), co, warp::backend::cuda, cuda::stream_ref{stream});
    EXPECT_TRUE(hc.pairs == cc.pairs);
    EXPECT_EQ(hc.raw_pairs, cc.raw_pairs);
    EXPECT_EQ(hc.purged_buckets, cc.purged_buckets);
    EXPECT_EQ(hc.purged_pairs, cc.purged_pairs);
    EXPECT_EQ(warp::lsh::connected_components(docs.size(), hc.pairs, warp::backend::host),
              warp::lsh::connected_components(docs.size(), hc.pairs, warp::backend::cuda, cuda::stream_ref{stream}));
    cudaStreamDestroy(stream);
  }
#endif
}

/// The plain reference: std::unordered_map from band key to documents, then every pair.
struct reference_candidates {
  std::vector<warp::lsh::document_pair> pairs;
  std::uint64_t raw = 0, buckets = 0, purged_buckets = 0, purged_pairs = 0;
};
reference_candidates reference(std::vector<std::uint64_t> const& keys_a, std::size_t n_a,
                               std::vector<std::uint64_t> const& keys_b, std::size_t n_b, std::uint32_t b, bool clean,
                               std::uint64_t cap) {
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> buckets;
  for (std::size_t i = 0; i < keys_a.size(); ++i) { buckets[keys_a[i]].push_back(static_cast<std::uint32_t>(i / b)); }
  for (std::size_t i = 0; i < keys_b.size(); ++i) {
    buckets[keys_b[i]].push_back(static_cast<std::uint32_t>(n_a + i / b));
  }
  reference_candidates r;
  std::vector<std::uint64_t> keys;
  for (auto const& [key, docs] : buckets) {
    if (docs.size() < 2) { continue; }
    ++r.buckets;
    std::uint64_t pairs = 0;
    std::vector<std::uint64_t> mine;
    for (std::size_t x = 0; x < docs.size(); ++x) {
      for (std::size_t y = x + 1; y < docs.size(); ++y) {
        std::uint32_t u = std::min(docs[x], docs[y]), v = std::max(docs[x], docs[y]);
        if (clean) {
          if (!(u < n_a && v >= n_a)) { continue; }
          v -= static_cast<std::uint32_t>(n_a);
        }
        ++pairs;
        mine.push_back(std::uint64_t{u} << 32 | v);
      }
    }
    if (cap != 0 && docs.size() > cap) {
      ++r.purged_buckets;
      r.purged_pairs += pairs;
      continue;
    }
    r.raw += pairs;
    keys.insert(keys.end(), mine.begin(), mine.end());
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  for (auto k : keys) { r.pairs.push_back({static_cast<std::uint32_t>(k >> 32), static_cast<std::uint32_t>(k)}); }
  (void)n_b;
  return r;
}

TYPED_TEST(lsh_on, candidates_match_a_plain_banding_reference) {
  std::mt19937_64 rng{9};
  std::uint32_t const b = 6;
  for (std::uint64_t cap : {0ull, 4ull}) {
    // Few distinct keys per band so that buckets of all sizes occur.
    auto make_keys = [&](std::size_t n) {
      std::vector<std::uint64_t> keys(n * b);
      for (std::size_t d = 0; d < n; ++d) {
        for (std::uint32_t j = 0; j < b; ++j) { keys[d * b + j] = (std::uint64_t{j} << 56) | (rng() % 60); }
      }
      return keys;
    };
    auto const dirty = make_keys(150);
    auto const got = warp::lsh::find_candidates(dirty, 150, {{b, 1}, cap}, this->where);
    auto const want = reference(dirty, 150, {}, 0, b, false, cap);
    EXPECT_TRUE(got.pairs == want.pairs) << "cap " << cap;
    EXPECT_EQ(got.raw_pairs, want.raw);
    EXPECT_EQ(got.buckets, want.buckets);
    EXPECT_EQ(got.purged_buckets, want.purged_buckets);
    EXPECT_EQ(got.purged_pairs, want.purged_pairs);
    if (cap != 0) { EXPECT_GT(got.purged_buckets, 0u); }
    auto const a = make_keys(90), bb = make_keys(70);
    auto const gc = warp::lsh::find_candidates(a, 90, bb, 70, {{b, 1}, cap}, this->where);
    auto const wc = reference(a, 90, bb, 70, b, true, cap);
    EXPECT_TRUE(gc.pairs == wc.pairs) << "clean, cap " << cap;
    EXPECT_EQ(gc.raw_pairs, wc.raw);
    EXPECT_EQ(gc.purged_pairs, wc.purged_pairs);
    for (auto p : gc.pairs) {
      EXPECT_LT(p.first, 90u);
      EXPECT_LT(p.second, 70u);
    }
  }
  // Empty inputs.
  auto const none = warp::lsh::find_candidates(std::vector<std::uint64_t>{}, 0, {{b, 1}, 0}, this->where);
  EXPECT_TRUE(none.pairs.empty());
  EXPECT_EQ(none.raw_pairs, 0u);
}

std::vector<std::uint32_t> union_find_labels(std::size_t n, std::vector<warp::lsh::document_pair> const& edges) {
  std::vector<std::uint32_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0u);
  auto find = [&](std::uint32_t x) {
    while (parent[x] != x) { x = parent[x] = parent[parent[x]]; }
    return x;
  };
  for (auto e : edges) {
    std::uint32_t const a = find(e.first), c = find(e.second);
    if (a != c) { parent[std::max(a, c)] = std::min(a, c); }
  }
  std::vector<std::uint32_t> smallest(n);
  for (std::size_t i = 0; i < n; ++i) { smallest[i] = find(static_cast<std::uint32_t>(i)); }
  return smallest;
}

TYPED_TEST(lsh_on, components_match_union_find) {
  std::mt19937_64 rng{21};
  for (std::size_t n : {1u, 10u, 500u, 5000u}) {
    std::vector<warp::lsh::document_pair> edges;
    for (std::size_t e = 0; e < n; ++e) {
      edges.push_back({static_cast<std::uint32_t>(rng() % n), static_cast<std::uint32_t>(rng() % n)});
    }
    // A long path in reverse order (many rounds for label propagation).
    for (std::size_t i = n; i-- > 1;) { if (i % 7 != 0) { edges.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i - 1)}); } }
    EXPECT_EQ(warp::lsh::connected_components(n, edges, this->where), union_find_labels(n, edges)) << n;
  }
  EXPECT_NE(error_message([&] { (void)warp::lsh::connected_components(3, {{0, 3}}, this->where); }).find("edge 0"),
            std::string::npos);
}

}  // namespace

namespace {

TEST(lsh_filters, by_estimate_and_by_exact_jaccard) {
  std::vector<std::string> const texts = {"a b c d", "a b c e", "x y z w", "a b c d"};
  auto const docs = document_batch::from(texts);
  shingle_options const words{shingle_kind::words, 1};
  std::vector<warp::lsh::document_pair> const pairs = {{0, 1}, {0, 2}, {0, 3}, {1, 3}};
  // Exact: J(0,1) = 3/5, J(0,2) = 0, J(0,3) = 1, J(1,3) = 3/5.
  auto const exact = warp::lsh::filter_by_jaccard(pairs, docs, docs, words, 0.6);
  EXPECT_TRUE(exact == (std::vector<warp::lsh::document_pair>{{0, 1}, {0, 3}, {1, 3}}));
  EXPECT_TRUE(warp::lsh::filter_by_jaccard(pairs, docs, docs, words, 0.61) ==
              (std::vector<warp::lsh::document_pair>{{0, 3}}));
  // Estimates from hand-made signatures.
  std::vector<std::uint32_t> const sig = {1, 2, 3, 4, /**/ 1, 2, 9, 9, /**/ 5, 6, 7, 8, /**/ 1, 2, 3, 4};
  std::vector<double> est;
  auto const kept = warp::lsh::filter_by_estimate(pairs, sig.data(), sig.data(), 4, 0.5, &est);
  EXPECT_TRUE(kept == (std::vector<warp::lsh::document_pair>{{0, 1}, {0, 3}, {1, 3}}));
  EXPECT_EQ(est, (std::vector<double>{0.5, 1.0, 0.5}));
  EXPECT_NE(error_message([&] { (void)warp::lsh::filter_by_jaccard({{0, 9}}, docs, docs, words, 0.5); }).find("outside"),
            std::string::npos);
}

}  // namespace
