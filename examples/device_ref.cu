// A user kernel that builds and queries a warp::single_value_map through its device ref: tiles
// of 4 lanes insert cooperatively, single threads look up. Needs a CUDA device.
#include <warp/warp.cuh>

#include <cooperative_groups.h>

#include <cstdio>
#include <vector>

using map_t = warp::single_value_map<unsigned long long, float, warp::linear_probing<4, 2>>;

__global__ void build(map_t::mutable_ref_type map, unsigned long long n) {
  namespace cg = cooperative_groups;
  auto const tile = cg::tiled_partition<map_t::tile_size>(cg::this_thread_block());
  unsigned long long const i = (blockIdx.x * 1ull * blockDim.x + threadIdx.x) / map_t::tile_size;
  if (i < n) { map.insert(tile, i * i, static_cast<float>(i) * 0.5f); }
}

__global__ void query(map_t::ref_type map, unsigned long long n, float* out) {
  unsigned long long const i = blockIdx.x * 1ull * blockDim.x + threadIdx.x;
  if (i < n) { out[i] = map.find(i); }  // -1 where i is not a square
}

int main() {
  if (!warp::cuda_available()) {
    std::printf("example_device_ref needs a CUDA device: %s\n", warp::cuda_unavailable_reason().c_str());
    return 0;
  }
  unsigned long long const n = 1 << 16;
  map_t map{warp::sizing{n, 0.6}, warp::empty_key{~0ull}, warp::empty_value{-1.0f}, warp::backend::cuda};
  build<<<static_cast<unsigned>((n * map_t::tile_size + 255) / 256), 256>>>(map.mutable_ref(), n);
  float* out = nullptr;
  cudaMalloc(&out, 100 * sizeof(float));
  query<<<1, 128>>>(map.ref(), 100, out);
  std::vector<float> host(100);
  cudaMemcpy(host.data(), out, 100 * sizeof(float), cudaMemcpyDeviceToHost);
  cudaFree(out);
  std::printf("size %zu; value of 81 = %.1f, of 80 = %.1f\n", map.size(), host[81], host[80]);
  return host[81] == 4.5f && host[80] == -1.0f ? 0 : 1;
}
