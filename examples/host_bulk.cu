// Bulk use of warp::single_value_map from host code: word-id counting with insert_or_apply,
// lookups with find, and per-key outcomes when the table is too small. Runs on the default backend
// (CUDA when a device is present, else the host) and says which.
#include <warp/warp.cuh>

#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

int main() {
  using map_t = warp::single_value_map<std::uint32_t, std::uint32_t>;
  std::size_t const n = 1 << 20;
  std::mt19937 rng{1};
  std::vector<std::uint32_t> ids(n), ones(n, 1);
  for (auto& id : ids) { id = rng() % 50000; }  // 50k distinct ids, about 21 occurrences each

  map_t counts{warp::sizing{50000, 0.7}, warp::empty_key{~0u}, warp::empty_value{0u}};
  std::printf("backend: %s, capacity %zu slots, %zu bytes\n", warp::to_string(counts.where()), counts.capacity(),
              counts.memory_bytes());
  std::size_t const distinct = counts.insert_or_apply(ids.begin(), ids.end(), ones.begin(), warp::op::plus{});
  std::printf("counted %zu ids, %zu distinct, size() = %zu, load factor %.2f\n", n, distinct, counts.size(),
              counts.load_factor());

  std::vector<std::uint32_t> probe{0, 1, 2, 49999, 50000}, found(probe.size());
  counts.find(probe.begin(), probe.end(), found.data());
  for (std::size_t i = 0; i < probe.size(); ++i) { std::printf("  id %u seen %u times\n", probe[i], found[i]); }

  // A table that is too small refuses keys, says so per key and in its status, and keeps the rest.
  map_t tiny{64, warp::empty_key{~0u}, warp::empty_value{0u}};
  std::vector<warp::insert_outcome> outcomes(200);
  std::vector<std::uint32_t> keys(200);
  for (std::uint32_t i = 0; i < 200; ++i) { keys[i] = i; }
  std::size_t const added = tiny.insert(keys.begin(), keys.end(), keys.begin(), outcomes.data());
  std::size_t refused = 0;
  for (auto o : outcomes) { refused += o == warp::insert_outcome::no_room; }
  std::printf("tiny table: %zu inserted, %zu refused (status no_room=%d); growing it\n", added, refused,
              tiny.status().no_room());
  tiny.rehash(512);
  tiny.clear_status();
  std::size_t const more = tiny.insert(keys.begin(), keys.end(), keys.begin());
  std::printf("after rehash: %zu more inserted, size %zu\n", more, tiny.size());
  return 0;
}
