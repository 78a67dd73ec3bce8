// CUDA consumer: an nvcc translation unit; runs on the default backend (CUDA when a device exists).
#include <warp/warp.cuh>

#include <cstdio>
#include <vector>

int main() {
  warp::single_value_map<unsigned, unsigned> map{warp::sizing{1000, 0.5}, warp::empty_key{~0u}, warp::empty_value{0u}};
  std::vector<unsigned> keys(1000), found(1000);
  for (unsigned i = 0; i < 1000; ++i) { keys[i] = i; }
  std::size_t const added = map.insert(keys.data(), keys.data() + keys.size(), keys.data());
  map.find(keys.data(), keys.data() + keys.size(), found.data());
  for (unsigned i = 0; i < 1000; ++i) {
    if (found[i] != i) { return 1; }
  }
  std::printf("consumer_cuda: %zu keys on the %s backend\n", added, warp::to_string(map.where()));
  return added == 1000 ? 0 : 1;
}
