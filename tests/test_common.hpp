// Shared test helpers: backend tags, skipping CUDA cases without a device, key generation.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <warp/warp.cuh>

namespace warp_test {

struct host_backend {
  static constexpr warp::backend value = warp::backend::host;
  static constexpr char const* name = "host";
};
struct cuda_backend {
  static constexpr warp::backend value = warp::backend::cuda;
  static constexpr char const* name = "cuda";
};

/// Skips the current test (counted by GoogleTest and CTest as skipped) when `b` cannot run here.
#define WARP_SKIP_UNLESS_AVAILABLE(b)                                                       \
  do {                                                                                      \
    if ((b) == warp::backend::cuda && !warp::cuda_available()) {                            \
      GTEST_SKIP() << "CUDA backend unavailable: " << warp::cuda_unavailable_reason();       \
    }                                                                                       \
  } while (0)

/// Both backends, for typed tests over the backend alone (CUDA cases skip without a device).
using both_backends = ::testing::Types<host_backend, cuda_backend>;
struct backend_names {
  template <class B>
  static std::string GetName(int) { return B::name; }
};
template <class B>
class on_backend : public ::testing::Test {
 protected:
  static constexpr warp::backend where = B::value;
  void SetUp() override { WARP_SKIP_UNLESS_AVAILABLE(where); }
};

/// The message of the warp::error that f() throws ("no error" if none; another exception type is
/// reported as such, so that a test expecting a warp::error fails on it).
template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (warp::error const& e) {
    return e.what();
  } catch (std::exception const& e) {
    return std::string("not a warp::error: ") + e.what();
  }
  return "no error";
}

/// A 16-byte key type with no arithmetic, compared bitwise by the library.
struct key128 {
  std::uint64_t lo;
  std::uint64_t hi;
  friend bool operator==(key128 const& a, key128 const& b) { return a.lo == b.lo && a.hi == b.hi; }
};

struct std_hash {
  template <class T>
  std::size_t operator()(T const& v) const {
    std::uint64_t h = 0;
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));
    for (std::size_t i = 0; i < sizeof(T); ++i) { h = (h ^ bytes[i]) * 0x100000001b3ull; }
    return static_cast<std::size_t>(h);
  }
};

/// Sentinels used by the tests for each key type: the two largest values.
template <class K>
struct sentinels {
  static K empty() { return static_cast<K>(std::numeric_limits<K>::max()); }
  static K erased() { return static_cast<K>(std::numeric_limits<K>::max() - 1); }
};
template <>
struct sentinels<key128> {
  static key128 empty() { return {~0ull, ~0ull}; }
  static key128 erased() { return {~0ull - 1, ~0ull}; }
};

/// Converts a random 64-bit draw to a key of type K, never equal to a sentinel.
template <class K>
K make_key(std::uint64_t r) {
  if constexpr (std::is_same_v<K, key128>) {
    return key128{r, r * 0x9E3779B97F4A7C15ull};
  } else {
    K k = static_cast<K>(r);
    if (k == sentinels<K>::empty() || k == sentinels<K>::erased()) { k = static_cast<K>(r >> 8); }
    return k;
  }
}

template <class V>
V make_value(std::uint64_t r) {
  if constexpr (std::is_floating_point_v<V>) {
    return static_cast<V>(static_cast<std::int64_t>(r % 1000000) - 500000);  // exact small integers
  } else {
    return static_cast<V>(r % 1000003);
  }
}

/// A test configuration of a hash container: key, value (void for sets), probing scheme, backend.
template <class K, class V, class P, class B>
struct container_config {
  using key = K;
  using value = V;
  using probing = P;
  static constexpr warp::backend backend = B::value;
};

/// "u32", "i64", "f64", "k128": a type's name in test names.
template <class T>
std::string type_name() {
  if constexpr (sizeof(T) == 16) {
    return "k128";
  } else {
    return std::string(std::is_floating_point_v<T> ? "f" : std::is_signed_v<T> ? "i" : "u") + std::to_string(8 * sizeof(T));
  }
}

/// Test names of container configurations: key_value_scheme_tT_bB_backend (no value for sets).
struct container_names {
  template <class C>
  static std::string GetName(int) {
    std::string name = type_name<typename C::key>();
    if constexpr (!std::is_void_v<typename C::value>) { name += "_" + type_name<typename C::value>(); }
    std::string const next = std::string(warp::detail::erase_reads_next_window_of<typename C::probing>::value ? "_next" : "") +
                             (warp::detail::has_miss_filter<typename C::probing>::value ? "_mf" : "");
    return name + "_" + C::probing::name + "_t" + std::to_string(C::probing::tile_size) + "_b" +
           std::to_string(C::probing::slots_per_lane) + next + "_" + warp::to_string(C::backend);
  }
};

/// `draws` ranks in [0, distinct) drawn from Zipf(s = 1): rank r with probability ~ 1 / (r + 1).
/// The skewed inputs of the counting and multi-value tests.
inline std::vector<std::uint64_t> zipf_ranks(std::size_t draws, std::size_t distinct, std::uint64_t seed) {
  std::vector<double> weights(distinct);
  for (std::size_t r = 0; r < distinct; ++r) { weights[r] = 1.0 / static_cast<double>(r + 1); }
  std::discrete_distribution<std::size_t> zipf(weights.begin(), weights.end());
  std::mt19937_64 rng{seed};
  std::vector<std::uint64_t> ranks(draws);
  for (auto& r : ranks) { r = zipf(rng); }
  return ranks;
}

/// A host vector copied into a buffer of the backend's memory.
template <class T>
warp::detail::buffer<T> to_backend(warp::backend where, std::vector<T> const& host) {
  warp::detail::buffer<T> out{where, host.size(), warp::default_stream()};
  warp::detail::copy_bytes(where, out.data(), host.data(), host.size() * sizeof(T), warp::default_stream());
  warp::detail::synchronize(where, warp::default_stream());
  return out;
}

/// Through a multi-value container's ref (count(tile, k), retrieve(tile, k, out)): key i has
/// counts[i] values summing to sums[i]. Room for 64 values per key.
template <class Ref, class K, class V>
struct ref_check_key {
  Ref map;
  K const* keys;
  std::uint64_t const* counts;
  std::uint64_t const* sums;
  V* scratch;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const& tile, std::size_t i) const {
    std::uint64_t const c = map.count(tile, keys[i]);
    std::uint64_t const written = map.retrieve(tile, keys[i], scratch + 64 * i);
    std::uint64_t sum = 0;
    for (std::uint64_t j = 0; j < written && j < 64; ++j) { sum += static_cast<std::uint64_t>(scratch[64 * i + j]); }
    return c == counts[i] && written == counts[i] && sum == sums[i] ? 1u : 0u;
  }
};

/// Runs ref_check_key over every key of `expected` (key -> {count, sum}) and one absent key on
/// the backend; returns how many keys checked out (all: expected.size() + 1).
template <class V, class Ref, class K, class Map>
std::uint64_t check_keys_through_ref(warp::backend where, Ref ref, Map const& expected, K absent) {
  std::vector<K> keys;
  std::vector<std::uint64_t> counts, sums;
  for (auto const& [k, e] : expected) {
    keys.push_back(k);
    counts.push_back(e.first);
    sums.push_back(e.second);
  }
  keys.push_back(absent);
  counts.push_back(0);
  sums.push_back(0);
  auto const d_keys = to_backend(where, keys);
  auto const d_counts = to_backend(where, counts);
  auto const d_sums = to_backend(where, sums);
  warp::detail::buffer<V> scratch{where, 64 * keys.size(), warp::default_stream()};
  return warp::detail::count_items<Ref::tile_size>(
      warp::detail::executor{where, warp::default_stream()}, keys.size(),
      ref_check_key<Ref, K, V>{ref, d_keys.data(), d_counts.data(), d_sums.data(), scratch.data()});
}

}  // namespace warp_test
