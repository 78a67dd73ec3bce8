// Host-only consumer: a plain C++ translation unit (no nvcc) using the host backend.
#include <warp/warp.cuh>

#include <cstdio>
#include <vector>

int main() {
  warp::single_value_map<int, int> map{warp::sizing{1000, 0.5}, warp::empty_key{-1}, warp::empty_value{0},
                                       warp::backend::host};
  std::vector<int> keys(1000), values(1000), found(1000);
  for (int i = 0; i < 1000; ++i) {
    keys[i] = i;
    values[i] = i * 3;
  }
  std::size_t const added = map.insert(keys.data(), keys.data() + keys.size(), values.data());
  map.find(keys.data(), keys.data() + keys.size(), found.data());
  for (int i = 0; i < 1000; ++i) {
    if (found[i] != i * 3) {
      std::printf("consumer: key %d has value %d, expected %d\n", i, found[i], i * 3);
      return 1;
    }
  }
  std::printf("consumer: %zu keys inserted and found on the host backend\n", added);
  return added == 1000 ? 0 : 1;
}
