// warp/encoding/grid_encoding.cuh: an owning multi-resolution hash grid encoding (MHE) with
// optional per-level rotations (R-MHE), fp32 or fp16 parameters, on the GPU or the host.
//
//   warp::encoding::grid_config c;  c.dims = 2; c.rotation = warp::encoding::rotation_kind::golden;
//   c.features = 8; c.subgrids = 4;                        // R-MHE: 4 rotated sub-grids of 2 features per level
//   warp::encoding::grid_encoding<> enc{c};                  // grid_encoding<__half>: fp16 parameters
//   enc.initialize_uniform(1e-4f, 42);                     // U(-1e-4, 1e-4), as tiny-cuda-nn
//   enc.forward(points, n, features);                      // n x (L * F), row-major
//   enc.backward_params(points, n, dl_dfeatures, grad);    // grad = dL/dparams (num_params())
//   enc.backward_params(points, n, dl_dfeatures, grad, warp::encoding::gradient_mode::deterministic);
//   enc.backward_inputs(points, n, dl_dfeatures, dl_dx);   // n x d
//   // fused user kernels: warp::encoding::encode_point<2>(enc.view(), enc.params(), x, out)
// Points are n x d row-major floats in [0, 1]^d (host or backend arrays; see grid_math.cuh for
// rotated points that leave the cube).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cuda/stream_ref>

#include <warp/core/backend.cuh>
#include <warp/detail/executor.cuh>
#include <warp/detail/memory.cuh>
#include <warp/encoding/grid_config.cuh>
#include <warp/encoding/grid_math.cuh>
#include <warp/encoding/rotation.cuh>


namespace warp::encoding {

namespace detail {

template <int D, class Param>
struct forward_fn {
  grid_view grid;
  Param const* params;
  float const* points;
  float* out;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    encode_point<D>(grid, params, points + i * D, out + i * static_cast<std::size_t>(grid.levels * grid.features));
    return 0;
  }
};

template <int D, class Param>
struct forward_jacobian_fn {
  grid_view grid;
  Param const* params;
  float const* points;
  float* out;
  float* jac;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    std::size_t const width = static_cast<std::size_t>(grid.levels * grid.features);
    encode_point_with_jacobian<D>(grid, params, points + i * D, out + i * width, jac + i * width * D);
    return 0;
  }
};

/// dL/dx from a prepared Jacobian: dl_dx[j] = sum_k dl_dy[k] * jac[k * D + j].
template <int D>
struct jacobian_input_gradient_fn {
  int width;
  float const* jac;
  float const* dl_dy;
  float* dl_dx;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    for (int j = 0; j < D; ++j) {
      float s = 0.0f;
      for (int k = 0; k < width; ++k) {
        s = add(s, mul(dl_dy[i * static_cast<std::size_t>(width) + static_cast<std::size_t>(k)],
                       jac[(i * static_cast<std::size_t>(width) + static_cast<std::size_t>(k)) * D + j]));
      }
      dl_dx[i * D + j] = s;
    }
    return 0;
  }
};

template <int D>
struct param_gradient_fn {
  grid_view grid;
  float const* points;
  float const* dl_dy;
  float* grad;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    scatter_param_gradient<D>(grid, points + i * D, dl_dy + i * static_cast<std::size_t>(grid.levels * grid.features), grad);
    return 0;
  }
};

template <int D, class Param>
struct input_gradient_fn {
  grid_view grid;
  Param const* params;
  float const* points;
  float const* dl_dy;
  float* dl_dx;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    input_gradient<D>(grid, params, points + i * D, dl_dy + i * static_cast<std::size_t>(grid.levels * grid.features),
                      dl_dx + i * D);
    return 0;
  }
};

template <int D>
struct param_gradient_fixed_fn {
  grid_view grid;
  float const* points;
  float const* dl_dy;
  double scale;
  long long* accum;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    scatter_param_gradient_fixed<D>(grid, points + i * D, dl_dy + i * static_cast<std::size_t>(grid.levels * grid.features),
                                    scale, accum);
    return 0;
  }
};

/// The largest |value| (as float bits: for non-negative floats their order is the integers').
struct max_abs_fn {
  float const* values;
  std::uint32_t* result;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    float const a = fabsf(values[i]);
    std::uint32_t bits;
    std::memcpy(&bits, &a, sizeof(bits));
    cuda::atomic_ref<std::uint32_t, cuda::thread_scope_device>{*result}.fetch_max(bits, cuda::std::memory_order_relaxed);
    return 0;
  }
};

struct fixed_to_float_fn {
  long long const* accum;
  double scale;
  float* grad;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    grad[i] = static_cast<float>(static_cast<double>(accum[i]) / scale);
    return 0;
  }
};

}  // namespace detail

/// How backward_params accumulates: float atomic adds (the order, hence the last bits, vary run
/// to run), or deterministic: 64-bit fixed-point atomic adds, whose sums do not depend on the
/// order (bitwise identical on every run, and between the host and CUDA backends). The fixed-point
/// scale is chosen per call so that no sum can overflow: contributions are resolved to about
/// 2^-61 of n * max|dL/dy|.
enum class gradient_mode { atomic, deterministic };

/// Param: float, or __half (<cuda_fp16.h>) for half the table memory; features, gradients and
/// all arithmetic stay fp32.
template <class Param = float>
class grid_encoding {
 public:
  using param_type = Param;

  explicit grid_encoding(grid_config config, backend where = default_backend(), cuda::stream_ref stream = default_stream())
      : config_{std::move(config)}, backend_{where} {
    require_backend(where);
    levels_ = make_levels(config_);
    auto const matrices = rotation_matrices(config_);
    std::vector<float> rotation;
    std::size_t const subgrids = static_cast<std::size_t>(config_.subgrids);
    for (std::size_t k = 0; k < matrices.size(); ++k) {
      bool identity = true;
      for (int i = 0; i < config_.dims; ++i) {
        for (int j = 0; j < config_.dims; ++j) {
          double const m = matrices[k][static_cast<std::size_t>(i * config_.dims + j)];
          rotation.push_back(static_cast<float>(m));
          identity &= m == (i == j ? 1.0 : 0.0);
        }
      }
      // Identity sub-grids skip the rotation: bit-identical to plain MHE.
      if (!identity) { levels_[k / subgrids].rotated_subgrids |= static_cast<std::uint8_t>(1u << (k % subgrids)); }
    }
    for (grid_level& lv : levels_) { lv.rotated = lv.rotated_subgrids != 0; }
    num_params_ = parameter_count(config_);
    level_buffer_ = warp::detail::buffer<grid_level>{where, levels_.size(), stream};
    warp::detail::copy_bytes(where, level_buffer_.data(), levels_.data(), levels_.size() * sizeof(grid_level), stream);
    rotation_buffer_ = warp::detail::buffer<float>{where, rotation.size(), stream};
    warp::detail::copy_bytes(where, rotation_buffer_.data(), rotation.data(), rotation.size() * sizeof(float), stream);
    params_ = warp::detail::buffer<Param>{where, static_cast<std::size_t>(num_params_), stream};
    initialize_uniform(1e-4f, 1337, stream);
  }

  [[nodiscard]] grid_config const& config() const noexcept { return config_; }
  [[nodiscard]] std::uint64_t num_params() const noexcept { return num_params_; }
  /// Features per point: L * F.
  [[nodiscard]] int output_width() const noexcept { return config_.levels * config_.features; }
  /// The per-level geometry, including the parameter offset table (offset and size in entries of F).
  [[nodiscard]] std::vector<grid_level> const& levels() const noexcept { return levels_; }
  [[nodiscard]] backend where() const noexcept { return backend_; }
  /// The parameters, in the backend's memory (entry e, feature f at e * F + f).
  [[nodiscard]] Param* params() noexcept { return params_.data(); }
  [[nodiscard]] Param const* params() const noexcept { return params_.data(); }
  /// For users' fused kernels: pass to encode_point / scatter_param_gradient / input_gradient.
  [[nodiscard]] grid_view view() const noexcept {
    grid_view g{config_.dims, config_.levels, config_.features, config_.subgrids, config_.interp, {}, level_buffer_.data(),
                config_.rotation == rotation_kind::none ? nullptr : rotation_buffer_.data(), config_.math == arithmetic::fused};
    for (int i = 0; i < 4; ++i) { g.primes[i] = config_.primes[static_cast<std::size_t>(i)]; }
    return g;
  }

  /// Parameters uniform in [-range, range] (deterministic for a seed).
  void initialize_uniform(float range, std::uint64_t seed, cuda::stream_ref stream = default_stream()) {
    std::vector<float> host(static_cast<std::size_t>(num_params_));
    std::mt19937_64 rng{seed};
    std::uniform_real_distribution<float> u(-range, range);
    for (auto& p : host) { p = u(rng); }
    set_params(host, stream);
  }
  /// Sets the parameters from fp32 values (rounded to Param).
  void set_params(std::vector<float> const& host, cuda::stream_ref stream = default_stream()) {
    if (host.size() != num_params_) {
      throw invalid_argument("grid_encoding::set_params: got " + std::to_string(host.size()) + " values, the encoding has " +
                             std::to_string(num_params_));
    }
    std::vector<Param> converted(host.size());
    for (std::size_t i = 0; i < host.size(); ++i) { converted[i] = static_cast<Param>(host[i]); }
    warp::detail::copy_bytes(backend_, params_.data(), converted.data(), converted.size() * sizeof(Param), stream);
    warp::detail::synchronize(backend_, stream);
  }
  /// The parameters as fp32 values.
  [[nodiscard]] std::vector<float> get_params(cuda::stream_ref stream = default_stream()) const {
    std::vector<Param> raw(static_cast<std::size_t>(num_params_));
    warp::detail::copy_bytes(backend_, raw.data(), params_.data(), raw.size() * sizeof(Param), stream);
    warp::detail::synchronize(backend_, stream);
    std::vector<float> host(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) { host[i] = static_cast<float>(raw[i]); }
    return host;
  }

  /// out (n x L*F) = the encoding of points (n x d). With `dy_dx` (n x L*F x d), also the Jacobian
  /// of every output with respect to the point, for backward_inputs_from_jacobian.
  void forward(float const* points, std::size_t n, float* out, float* dy_dx = nullptr,
               cuda::stream_ref stream = default_stream()) const {
    auto const in = input(points, n, "forward: points", stream);
    std::size_t const width = static_cast<std::size_t>(output_width());
    warp::detail::output_view<float> o{backend_, out, n * width, "forward: output", stream};
    warp::detail::output_view<float> jac{backend_, dy_dx, dy_dx ? n * width * static_cast<std::size_t>(config_.dims) : 0,
                                         "forward: dy_dx", stream};
    dispatch([&](auto dims) {
      constexpr int D = decltype(dims)::value;
      warp::detail::executor const ex{backend_, stream};
      if (dy_dx == nullptr) {
        warp::detail::for_each_item<1>(ex, n, detail::forward_fn<D, Param>{view(), params_.data(), in.get(), o.get()});
      } else {
        warp::detail::for_each_item<1>(ex, n, detail::forward_jacobian_fn<D, Param>{view(), params_.data(), in.get(), o.get(), jac.get()});
      }
    });
    o.finish(stream);
    jac.finish(stream);
    warp::detail::synchronize(backend_, stream);
  }

  /// dl_dx (n x d) from dl_dy and the Jacobian a forward call prepared (no table reads).
  void backward_inputs_from_jacobian(float const* dy_dx, std::size_t n, float const* dl_dy, float* dl_dx,
                                     cuda::stream_ref stream = default_stream()) const {
    std::size_t const width = static_cast<std::size_t>(output_width());
    auto const jac = input_view(dy_dx, n * width * static_cast<std::size_t>(config_.dims), "backward_inputs: dy_dx", stream);
    auto const dy = input_view(dl_dy, n * width, "backward_inputs: dl_dy", stream);
    warp::detail::output_view<float> dx{backend_, dl_dx, n * static_cast<std::size_t>(config_.dims), "backward_inputs: dl_dx", stream};
    dispatch([&](auto dims) {
      constexpr int D = decltype(dims)::value;
      warp::detail::for_each_item<1>(warp::detail::executor{backend_, stream}, n,
                                     detail::jacobian_input_gradient_fn<D>{output_width(), jac.get(), dy.get(), dx.get()});
    });
    dx.finish(stream);
    warp::detail::synchronize(backend_, stream);
  }

  /// grad (num_params(), overwritten) = dL/dparams given dl_dy = dL/d(output) (n x L*F).
  void backward_params(float const* points, std::size_t n, float const* dl_dy, float* grad,
                       gradient_mode mode = gradient_mode::atomic, cuda::stream_ref stream = default_stream()) const {
    auto const in = input(points, n, "backward_params: points", stream);
    auto const dy = input_view(dl_dy, n * static_cast<std::size_t>(output_width()), "backward_params: dl_dy", stream);
    warp::detail::output_view<float> g{backend_, grad, static_cast<std::size_t>(num_params_), "backward_params: grad", stream};
    warp::detail::fill_zero(backend_, g.get(), static_cast<std::size_t>(num_params_) * sizeof(float), stream);
    warp::detail::executor const ex{backend_, stream};
    dispatch([&](auto dims) {
      constexpr int D = decltype(dims)::value;
      if (mode == gradient_mode::atomic) {
        warp::detail::for_each_item<1>(ex, n, detail::param_gradient_fn<D>{view(), in.get(), dy.get(), g.get()});
        return;
      }
      // Deterministic: bound every entry's sum by n * max|dL/dy| (a point adds to an entry at most
      // once per level, with a weight <= 1), pick the power-of-two scale that keeps that bound
      // below 2^61, add fixed-point integers, convert back.
      std::size_t const values = n * static_cast<std::size_t>(output_width());
      warp::detail::buffer<std::uint32_t> max_bits{backend_, 1, stream};
      warp::detail::fill_zero(backend_, max_bits.data(), sizeof(std::uint32_t), stream);
      warp::detail::for_each_item<1>(ex, values, detail::max_abs_fn{dy.get(), max_bits.data()});
      std::uint32_t bits = 0;
      warp::detail::copy_bytes(backend_, &bits, max_bits.data(), sizeof(bits), stream);
      warp::detail::synchronize(backend_, stream);
      float max_abs = 0.0f;
      std::memcpy(&max_abs, &bits, sizeof(max_abs));
      if (!(max_abs > 0.0f) || !std::isfinite(max_abs)) {
        if (!std::isfinite(max_abs)) { throw invalid_argument("backward_params: dl_dy holds a non-finite value"); }
        return;  // all zero: the gradient is zero
      }
      double const bound = static_cast<double>(n) * static_cast<double>(max_abs);
      double const scale = std::ldexp(1.0, 61 - std::ilogb(bound) - 1);
      warp::detail::buffer<long long> accum{backend_, static_cast<std::size_t>(num_params_), stream};
      warp::detail::fill_zero(backend_, accum.data(), static_cast<std::size_t>(num_params_) * sizeof(long long), stream);
      warp::detail::for_each_item<1>(ex, n, detail::param_gradient_fixed_fn<D>{view(), in.get(), dy.get(), scale, accum.data()});
      warp::detail::for_each_item<1>(ex, static_cast<std::size_t>(num_params_), detail::fixed_to_float_fn{accum.data(), scale, g.get()});
    });
    g.finish(stream);
    warp::detail::synchronize(backend_, stream);
  }

  /// dl_dx (n x d) = dL/d(points) given dl_dy (n x L*F), rotations included (R_l^T per level).
  void backward_inputs(float const* points, std::size_t n, float const* dl_dy, float* dl_dx,
                       cuda::stream_ref stream = default_stream()) const {
    auto const in = input(points, n, "backward_inputs: points", stream);
    auto const dy = input_view(dl_dy, n * static_cast<std::size_t>(output_width()), "backward_inputs: dl_dy", stream);
    warp::detail::output_view<float> dx{backend_, dl_dx, n * static_cast<std::size_t>(config_.dims), "backward_inputs: dl_dx", stream};
    dispatch([&](auto dims) {
      constexpr int D = decltype(dims)::value;
      warp::detail::for_each_item<1>(warp::detail::executor{backend_, stream}, n,
                                     detail::input_gradient_fn<D, Param>{view(), params_.data(), in.get(), dy.get(), dx.get()});
    });
    dx.finish(stream);
    warp::detail::synchronize(backend_, stream);
  }

 private:
  template <int D>
  struct dims_t {
    static constexpr int value = D;
  };
  template <class F>
  void dispatch(F&& f) const {
    switch (config_.dims) {
      case 1: f(dims_t<1>{}); break;
      case 2: f(dims_t<2>{}); break;
      case 3: f(dims_t<3>{}); break;
      default: f(dims_t<4>{}); break;
    }
  }
  warp::detail::input_view<float const*> input(float const* points, std::size_t n, char const* what,
                                               cuda::stream_ref stream) const {
    return input_view(points, n * static_cast<std::size_t>(config_.dims), what, stream);
  }
  warp::detail::input_view<float const*> input_view(float const* p, std::size_t count, char const* what,
                                                    cuda::stream_ref stream) const {
    return warp::detail::input_view<float const*>{backend_, p, count, what, stream};
  }
  grid_config config_;
  backend backend_;
  std::vector<grid_level> levels_;
  std::uint64_t num_params_ = 0;
  warp::detail::buffer<grid_level> level_buffer_{};
  warp::detail::buffer<float> rotation_buffer_{};
  warp::detail::buffer<Param> params_{};
};

}  // namespace warp::encoding
