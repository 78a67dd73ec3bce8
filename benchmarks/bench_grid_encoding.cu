// Benchmarks of the hash grid encoding (MHE and R-MHE): forward, forward with the input Jacobian,
// backward to the parameters (atomic and deterministic) and backward to the inputs, for the
// configurations of the anchors in docs/benchmarks.md (L = 16, F = 2, T = 2^19, N_min = 16, b = 2 or N_max = 2048),
// d = 2 and 3, batches 2^18 and 2^21 (host: 2^11 and 2^14), fp32 and fp16 parameters, and five
// variants: `plain` (MHE), `rotated` (every level rotated, M = 1), `m2` (R-MHE with M = 2 rotated
// sub-grids of one feature each), `f8` (MHE with F = 8 and T = 2^17: F T as at F = 2) and
// `f8-m8` (R-MHE with M = 8 sub-grids of one feature each at that budget; the dense coarse
// levels hold four times the parameters at F = 8: see the `params` counter). R-MHE sub-grids
// use progressive angles (2-D) or icosahedral rotations (3-D). Throughput in M points/s;
// `bytes_per_point` counts the input, the output and the 2^d L F parameter reads; on CUDA
// `ratio_to_copy` compares that traffic with the device copy bandwidth measured in the same run.
// Each variant but the two MHE ones also times its MHE baseline (plain, or f8 for f8-m8) in the
// same benchmark and reports `ratio_vs_plain` (its time / the baseline's time): the rotation and
// sub-grid cost.
//
//   bench_grid_encoding --benchmark_out=grid.json --benchmark_out_format=json
//   names: grid/<backend>/d:<d>/<b2|nmax2048>/<fp32|fp16>/<plain|rotated|m2|f8|f8-m8>/<op>/n:<log2 points>
#include <warp/encoding/grid_encoding.cuh>
#include <warp/warp.cuh>

#include <cuda_fp16.h>
#include <benchmark/benchmark.h>
#include <omp.h>

#include <random>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

using namespace warp_bench;
namespace enc = warp::encoding;

enum class grid_variant { plain, rotated, m2, f8, f8_m8 };
char const* name_of(grid_variant v) {
  switch (v) {
    case grid_variant::plain: return "plain";
    case grid_variant::rotated: return "rotated";
    case grid_variant::m2: return "m2";
    case grid_variant::f8: return "f8";
    case grid_variant::f8_m8: return "f8-m8";
  }
  return "";
}

/// The encoding of a variant (L = 16, N_min = 16, b = 2 or N_max = 2048).
enc::grid_config config_of(grid_variant v, int dims, bool nmax) {
  enc::grid_config c;
  c.dims = dims;
  c.levels = 16;
  bool const wide = v == grid_variant::f8 || v == grid_variant::f8_m8;
  c.features = wide ? 8 : 2;
  c.log2_table_size = wide ? 17 : 19;  // F T = 2^20 either way
  c.base_resolution = 16;
  if (nmax) {
    c.finest_resolution = 2048;
  } else {
    c.per_level_scale = 2.0;
  }
  if (v == grid_variant::rotated) { c.rotation = dims == 2 ? enc::rotation_kind::golden : enc::rotation_kind::spread; }
  if (v == grid_variant::m2 || v == grid_variant::f8_m8) {
    c.subgrids = v == grid_variant::m2 ? 2 : 8;
    c.rotation = dims == 2 ? enc::rotation_kind::progressive : enc::rotation_kind::icosahedral;
  }
  return c;
}

/// The MHE variant a rotated one is compared with (itself for the MHE variants).
grid_variant baseline_of(grid_variant v) {
  return v == grid_variant::f8 || v == grid_variant::f8_m8 ? grid_variant::f8 : grid_variant::plain;
}

enum class grid_op { forward, forward_dx, backward_params, backward_params_deterministic, backward_inputs };
char const* name_of(grid_op o) {
  switch (o) {
    case grid_op::forward: return "fwd";
    case grid_op::forward_dx: return "fwd_dx";
    case grid_op::backward_params: return "bwd";
    case grid_op::backward_params_deterministic: return "bwd_deterministic";
    case grid_op::backward_inputs: return "bwd_dx";
  }
  return "";
}

template <class Param>
double time_op(benchmark::State* state, enc::grid_encoding<Param> const& e, warp::backend where, grid_op what,
               float const* points, std::size_t n, float* out, float* jac, float const* dl_dy, float* grad, float* dl_dx) {
  auto const stream = warp::default_stream();
  auto body = [&] {
    switch (what) {
      case grid_op::forward: e.forward(points, n, out, nullptr, stream); break;
      case grid_op::forward_dx: e.forward(points, n, out, jac, stream); break;
      case grid_op::backward_params: e.backward_params(points, n, dl_dy, grad, enc::gradient_mode::atomic, stream); break;
      case grid_op::backward_params_deterministic:
        e.backward_params(points, n, dl_dy, grad, enc::gradient_mode::deterministic, stream);
        break;
      case grid_op::backward_inputs: e.backward_inputs(points, n, dl_dy, dl_dx, stream); break;
    }
  };
  if (state != nullptr) { return timed_iterations(*state, where, stream, [] {}, body); }
  double best = 1e30;
  for (int r = 0; r < 5; ++r) { best = std::min(best, time_seconds(where, stream, body)); }
  return best;
}

template <class Param>
void bench_grid(benchmark::State& state, warp::backend where, int dims, bool nmax, grid_variant variant, grid_op what,
                int log2_n) {
  if (skip_without_device(state, where)) { return; }
  enc::grid_config const c = config_of(variant, dims, nmax);
  grid_variant const baseline = baseline_of(variant);
  auto const stream = warp::default_stream();
  std::size_t const n = std::size_t{1} << log2_n;
  std::size_t const width = static_cast<std::size_t>(c.levels * c.features);
  std::vector<float> host_points(n * static_cast<std::size_t>(dims)), host_dy(n * width);
  std::mt19937_64 rng{7};
  for (auto& p : host_points) { p = std::uniform_real_distribution<float>(0, 1)(rng); }
  for (auto& v : host_dy) { v = std::uniform_real_distribution<float>(-1, 1)(rng); }
  warp::detail::buffer<float> points{where, host_points.size(), stream}, dl_dy{where, host_dy.size(), stream};
  warp::detail::copy_bytes(where, points.data(), host_points.data(), host_points.size() * sizeof(float), stream);
  warp::detail::copy_bytes(where, dl_dy.data(), host_dy.data(), host_dy.size() * sizeof(float), stream);
  enc::grid_encoding<Param> e{c, where, stream};
  warp::detail::buffer<float> out{where, n * width, stream}, jac{where, n * width * static_cast<std::size_t>(dims), stream},
      grad{where, static_cast<std::size_t>(e.num_params()), stream}, dl_dx{where, n * static_cast<std::size_t>(dims), stream};
  double const best = time_op(&state, e, where, what, points.data(), n, out.data(), jac.data(), dl_dy.data(), grad.data(),
                              dl_dx.data());
  if (baseline != variant) {
    enc::grid_encoding<Param> p{config_of(baseline, dims, nmax), where, stream};
    double const plain_s = time_op<Param>(nullptr, p, where, what, points.data(), n, out.data(), jac.data(), dl_dy.data(),
                                          grad.data(), dl_dx.data());
    state.counters["ratio_vs_plain"] = best / plain_s;
  }
  double const bytes = dims * 4.0 + static_cast<double>(width) * 4.0 + static_cast<double>(width) * (1 << dims) * sizeof(Param);
  state.counters["Mpoints_per_s"] = benchmark::Counter(static_cast<double>(n) * 1e-6, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes_per_point"] = bytes;
  state.counters["params"] = static_cast<double>(e.num_params());
#if WARP_CUDA_ENABLED
  if (where == warp::backend::cuda) {
    state.counters["ratio_to_copy"] = benchmark::Counter(static_cast<double>(n) * bytes / device_roofline().copy_bytes_per_s,
                                                         benchmark::Counter::kIsIterationInvariantRate);
  }
#endif
}

template <class Param>
void register_grid(char const* precision) {
  for (auto where : {warp::backend::cuda, warp::backend::host}) {
    for (int dims : {2, 3}) {
      for (bool nmax : {false, true}) {
        for (grid_variant variant :
             {grid_variant::plain, grid_variant::rotated, grid_variant::m2, grid_variant::f8, grid_variant::f8_m8}) {
          for (grid_op op : {grid_op::forward, grid_op::forward_dx, grid_op::backward_params, grid_op::backward_params_deterministic,
                             grid_op::backward_inputs}) {
            for (int log2_n : {18, 21}) {
              int const n = where == warp::backend::cuda ? log2_n : log2_n - 7;  // host: 2^11 and 2^14
              register_timed(std::string("grid/") + warp::to_string(where) + "/d:" + std::to_string(dims) + "/" +
                                 (nmax ? "nmax2048" : "b2") + "/" + precision + "/" + name_of(variant) + "/" +
                                 name_of(op) + "/n:" + std::to_string(n),
                             where, [=](benchmark::State& s) { bench_grid<Param>(s, where, dims, nmax, variant, op, n); });
            }
          }
        }
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("OMP_NUM_THREADS") == nullptr) { omp_set_num_threads(1); }
  register_grid<float>("fp32");
  register_grid<__half>("fp16");
  add_roofline_context();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
