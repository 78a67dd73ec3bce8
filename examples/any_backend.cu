// The same program on any machine: it runs the map on every backend this machine has (always the
// host; CUDA too when a device is present) and checks that both give the same answers. On a
// machine without a GPU it says so and runs on the host.
#include <warp/warp.cuh>

#include <cstdint>
#include <cstdio>
#include <vector>

static std::vector<std::int64_t> run(warp::backend where, std::vector<std::int64_t> const& keys) {
  warp::single_value_map<std::int64_t, std::int64_t> map{warp::sizing{keys.size(), 0.8}, warp::empty_key{INT64_MIN},
                                                         warp::empty_value{0}, warp::erased_key{INT64_MIN + 1}, where};
  map.insert_or_apply(keys.begin(), keys.end(), keys.begin(), warp::op::plus{});  // sum of equal keys
  std::vector<std::int64_t> evens;
  for (std::int64_t k = -1000; k <= 1000; k += 2) { evens.push_back(k); }
  map.erase(evens.begin(), evens.end());
  std::vector<std::int64_t> probe(2001), out(2001);
  for (std::int64_t k = -1000; k <= 1000; ++k) { probe[static_cast<std::size_t>(k + 1000)] = k; }
  map.find(probe.begin(), probe.end(), out.data());
  std::printf("%s backend: %zu keys left after erasing the even ones\n", warp::to_string(where), map.size());
  return out;
}

int main() {
  std::vector<std::int64_t> keys;
  for (int rep = 0; rep < 3; ++rep) {
    for (std::int64_t k = -1000; k <= 1000; ++k) { keys.push_back(k); }
  }
  if (!warp::cuda_available()) { std::printf("no usable CUDA device (%s); host only\n", warp::cuda_unavailable_reason().c_str()); }
  std::vector<std::int64_t> const host = run(warp::backend::host, keys);
  bool ok = host[1001] == 3 && host[1000] == 0;  // key 1 summed three times; key 0 erased
  if (warp::cuda_available()) {
    bool const same = run(warp::backend::cuda, keys) == host;
    std::printf("cuda and host results %s\n", same ? "agree" : "DIFFER");
    ok = ok && same;
  }
  std::printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
