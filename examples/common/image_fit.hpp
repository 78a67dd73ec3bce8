// examples/common/image_fit.hpp: what the image-fitting examples share: an image in [0, 1]
// (PNG in and out with libpng, PGM/PPM out without it), a one-hidden-layer MLP decoder and Adam,
// a model of a hash grid encoding plus that decoder trained on one backend, and PSNR.
#pragma once

#include <warp/encoding/grid_encoding.cuh>
#include <warp/warp.cuh>

#include "cli.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef WARP_HAVE_PNG
#include <png.h>
#endif

namespace example {

namespace enc = warp::encoding;

struct image {
  int width = 0, height = 0, channels = 1;
  std::vector<float> pixels;  // row-major, channels interleaved, in [0, 1]
  float at(int x, int y, int c) const { return pixels[(static_cast<std::size_t>(y) * width + x) * channels + c]; }
};

#ifdef WARP_HAVE_PNG
inline image read_png(std::string const& path) {
  png_image p{};
  p.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&p, path.c_str())) { throw std::runtime_error(path + ": " + p.message); }
  // The header's size is checked before the pixels are allocated.
  constexpr png_uint_32 max_side = 8192;
  if (p.width == 0 || p.height == 0 || p.width > max_side || p.height > max_side) {
    png_image_free(&p);
    throw example::input_error(path + ": the PNG header declares " + std::to_string(p.width) + " x " +
                               std::to_string(p.height) + " pixels; this example fits images of at most " +
                               std::to_string(max_side) + " x " + std::to_string(max_side));
  }
  p.format = PNG_FORMAT_RGB;
  std::vector<unsigned char> bytes(PNG_IMAGE_SIZE(p));
  if (!png_image_finish_read(&p, nullptr, bytes.data(), 0, nullptr)) { throw std::runtime_error(path + ": " + p.message); }
  image img{static_cast<int>(p.width), static_cast<int>(p.height), 3, {}};
  img.pixels.resize(bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) { img.pixels[i] = bytes[i] / 255.0f; }
  return img;
}
#endif

inline void write_image(image const& img, std::string const& prefix) {
  std::vector<unsigned char> bytes(img.pixels.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<unsigned char>(std::lround(255.0f * std::clamp(img.pixels[i], 0.0f, 1.0f)));
  }
#ifdef WARP_HAVE_PNG
  png_image p{};
  p.version = PNG_IMAGE_VERSION;
  p.width = static_cast<png_uint_32>(img.width);
  p.height = static_cast<png_uint_32>(img.height);
  p.format = img.channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  std::string const path = prefix + ".png";
  if (!png_image_write_to_file(&p, path.c_str(), 0, bytes.data(), 0, nullptr)) { throw std::runtime_error(path + ": " + p.message); }
#else
  std::string const path = prefix + (img.channels == 3 ? ".ppm" : ".pgm");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) { throw std::runtime_error("cannot write " + path); }
  std::fprintf(f, "P%d\n%d %d\n255\n", img.channels == 3 ? 6 : 5, img.width, img.height);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
#endif
  std::cerr << "wrote " << path << "\n";
}

/// A one-hidden-layer MLP (inputs K, hidden H = 32, ReLU, outputs C), evaluated per point on the
/// backend; weights in one array: W1 (H x K), b1 (H), W2 (C x H), b2 (C).
constexpr int hidden = 32;

/// Per point: the MLP's output and, when training, the pieces of its gradient that belong to the
/// point (hidden activations, dL/dy, dL/dh and dL/dfeatures); the weights' gradient is summed over
/// the points by mlp_weight_gradient (no atomics, so the sum is the same on every run).
struct mlp_step {
  int k, c;
  float const* weights;
  float const* features;  // n x k
  float const* target;    // n x c; null: predict only
  float* activations;     // n x hidden
  float* dl_dh;           // n x hidden
  float* dl_dy;           // n x c
  float* grad_features;   // n x k
  float* output;          // n x c, or null
  float scale;            // 2 / (n c): d(mean squared error)/dy
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    float const* f = features + i * k;
    float const* w1 = weights;
    float const* b1 = w1 + hidden * k;
    float const* w2 = b1 + hidden;
    float const* b2 = w2 + c * hidden;
    float h[hidden];
    for (int j = 0; j < hidden; ++j) {
      float s = b1[j];
      for (int q = 0; q < k; ++q) { s += w1[j * k + q] * f[q]; }
      h[j] = s > 0 ? s : 0;
    }
    float dh[hidden] = {};
    for (int o = 0; o < c; ++o) {
      float y = b2[o];
      for (int j = 0; j < hidden; ++j) { y += w2[o * hidden + j] * h[j]; }
      if (output != nullptr) { output[i * c + o] = y; }
      if (target == nullptr) { continue; }
      float const dy = scale * (y - target[i * c + o]);
      dl_dy[i * c + o] = dy;
      for (int j = 0; j < hidden; ++j) { dh[j] += h[j] > 0 ? dy * w2[o * hidden + j] : 0.0f; }
    }
    if (target == nullptr) { return 0; }
    for (int q = 0; q < k; ++q) { grad_features[i * k + q] = 0.0f; }
    for (int j = 0; j < hidden; ++j) {
      activations[i * hidden + j] = h[j];
      dl_dh[i * hidden + j] = dh[j];
      if (dh[j] == 0.0f) { continue; }
      for (int q = 0; q < k; ++q) { grad_features[i * k + q] += dh[j] * w1[j * k + q]; }
    }
    return 0;
  }
};

/// Weight w's gradient (W1, b1, W2, b2 in the weights' order), summed over the n points.
struct mlp_weight_gradient {
  int k, c;
  std::size_t n;
  float const* features;
  float const* activations;
  float const* dl_dh;
  float const* dl_dy;
  float* grad;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t w) const {
    std::size_t const w1 = static_cast<std::size_t>(hidden) * k, b1 = w1 + hidden, w2 = b1 + static_cast<std::size_t>(c) * hidden;
    float s = 0.0f;
    if (w < w1) {
      std::size_t const j = w / k, q = w % k;
      for (std::size_t i = 0; i < n; ++i) { s += dl_dh[i * hidden + j] * features[i * k + q]; }
    } else if (w < b1) {
      for (std::size_t i = 0; i < n; ++i) { s += dl_dh[i * hidden + (w - w1)]; }
    } else if (w < w2) {
      std::size_t const o = (w - b1) / hidden, j = (w - b1) % hidden;
      for (std::size_t i = 0; i < n; ++i) { s += dl_dy[i * c + o] * activations[i * hidden + j]; }
    } else {
      for (std::size_t i = 0; i < n; ++i) { s += dl_dy[i * c + (w - w2)]; }
    }
    grad[w] = s;
    return 0;
  }
};

/// One Adam step over n parameters (beta1 0.9, beta2 0.99, as tiny-cuda-nn's defaults).
struct adam_step {
  float* params;
  float const* grad;
  float* m;
  float* v;
  float lr, correction1, correction2;
  template <class Tile>
  WARP_HD std::uint32_t operator()(Tile const&, std::size_t i) const {
    float const g = grad[i];
    m[i] = 0.9f * m[i] + 0.1f * g;
    v[i] = 0.99f * v[i] + 0.01f * g * g;
    params[i] -= lr * (m[i] / correction1) / (sqrtf(v[i] / correction2) + 1e-10f);
    return 0;
  }
};

/// An encoding, an MLP, their gradients and Adam state, on one backend.
class model {
 public:
  model(enc::grid_config const& config, int channels, warp::backend where, std::uint64_t seed, float learning_rate = 1e-2f)
      : encoding_{config, where}, k_{encoding_.output_width()}, c_{channels}, where_{where}, lr_{learning_rate} {
    std::size_t const nw = static_cast<std::size_t>(hidden * k_ + hidden + c_ * hidden + c_);
    std::vector<float> w(nw, 0.0f);
    std::mt19937_64 rng{seed};
    std::normal_distribution<float> n1(0.0f, std::sqrt(2.0f / static_cast<float>(k_))), n2(0.0f, std::sqrt(1.0f / hidden));
    for (int i = 0; i < hidden * k_; ++i) { w[static_cast<std::size_t>(i)] = n1(rng); }
    for (int i = 0; i < c_ * hidden; ++i) { w[static_cast<std::size_t>(hidden * k_ + hidden + i)] = n2(rng); }
    weights_ = upload(w);
    for (auto* b : {&grad_w_, &m_w_, &v_w_}) { *b = upload(std::vector<float>(nw, 0.0f)); }
    std::size_t const np = static_cast<std::size_t>(encoding_.num_params());
    for (auto* b : {&grad_p_, &m_p_, &v_p_}) { *b = upload(std::vector<float>(np, 0.0f)); }
  }
  std::uint64_t num_params() const { return encoding_.num_params() + weights_size(); }

  /// One training step on a batch (points n x 2, targets n x c, on the backend); returns nothing.
  void train(float const* points, float const* targets, std::size_t n, int step) {
    ensure(n);
    encoding_.forward(points, n, features_.data());
    warp::detail::for_each_item<1>(ex(), n, mlp_step{k_, c_, weights_.data(), features_.data(), targets, activations_.data(),
                                                     dl_dh_.data(), dl_dy_.data(), grad_f_.data(), nullptr,
                                                     2.0f / static_cast<float>(n * c_)});
    warp::detail::for_each_item<1>(ex(), weights_size(), mlp_weight_gradient{k_, c_, n, features_.data(), activations_.data(),
                                                                             dl_dh_.data(), dl_dy_.data(), grad_w_.data()});
    encoding_.backward_params(points, n, grad_f_.data(), grad_p_.data());
    float const c1 = 1.0f - std::pow(0.9f, static_cast<float>(step + 1)), c2 = 1.0f - std::pow(0.99f, static_cast<float>(step + 1));
    warp::detail::for_each_item<1>(ex(), weights_size(), adam_step{weights_.data(), grad_w_.data(), m_w_.data(), v_w_.data(), lr_, c1, c2});
    warp::detail::for_each_item<1>(ex(), static_cast<std::size_t>(encoding_.num_params()),
                                   adam_step{encoding_.params(), grad_p_.data(), m_p_.data(), v_p_.data(), lr_, c1, c2});
    warp::detail::synchronize(where_, warp::default_stream());
  }

  /// Predictions (n x c, host) for points (n x 2, backend).
  std::vector<float> predict(float const* points, std::size_t n) {
    ensure(n);
    encoding_.forward(points, n, features_.data());
    warp::detail::for_each_item<1>(ex(), n, mlp_step{k_, c_, weights_.data(), features_.data(), nullptr, nullptr, nullptr,
                                                     nullptr, nullptr, output_.data(), 0.0f});
    std::vector<float> out(n * static_cast<std::size_t>(c_));
    warp::detail::copy_bytes(where_, out.data(), output_.data(), out.size() * sizeof(float), warp::default_stream());
    warp::detail::synchronize(where_, warp::default_stream());
    return out;
  }

 private:
  warp::detail::executor ex() const { return {where_, warp::default_stream()}; }
  std::size_t weights_size() const { return static_cast<std::size_t>(hidden * k_ + hidden + c_ * hidden + c_); }
  warp::detail::buffer<float> upload(std::vector<float> const& host) {
    warp::detail::buffer<float> b{where_, host.size(), warp::default_stream()};
    warp::detail::copy_bytes(where_, b.data(), host.data(), host.size() * sizeof(float), warp::default_stream());
    return b;
  }
  void zero(warp::detail::buffer<float>& b) { warp::detail::fill_zero(where_, b.data(), b.size() * sizeof(float), warp::default_stream()); }
  void ensure(std::size_t n) {
    if (n <= capacity_) { return; }
    capacity_ = n;
    features_ = warp::detail::buffer<float>{where_, n * static_cast<std::size_t>(k_), warp::default_stream()};
    grad_f_ = warp::detail::buffer<float>{where_, n * static_cast<std::size_t>(k_), warp::default_stream()};
    output_ = warp::detail::buffer<float>{where_, n * static_cast<std::size_t>(c_), warp::default_stream()};
    activations_ = warp::detail::buffer<float>{where_, n * static_cast<std::size_t>(hidden), warp::default_stream()};
    dl_dh_ = warp::detail::buffer<float>{where_, n * static_cast<std::size_t>(hidden), warp::default_stream()};
    dl_dy_ = warp::detail::buffer<float>{where_, n * static_cast<std::size_t>(c_), warp::default_stream()};
  }

  enc::grid_encoding<> encoding_;
  int k_, c_;
  warp::backend where_;
  float lr_;  // Adam's step size
  std::size_t capacity_ = 0;
  warp::detail::buffer<float> weights_, grad_w_, m_w_, v_w_, grad_p_, m_p_, v_p_, features_, grad_f_, output_;
  warp::detail::buffer<float> activations_, dl_dh_, dl_dy_;  // per point, for the weights' gradient
};

/// Every pixel centre of the image in [0, 1]^2, row-major (x, y pairs): where the fits are evaluated.
inline std::vector<float> pixel_centres(image const& img) {
  std::size_t const pixels = static_cast<std::size_t>(img.width) * img.height;
  std::vector<float> points(2 * pixels);
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) {
      std::size_t const i = static_cast<std::size_t>(y) * img.width + x;
      points[2 * i] = (x + 0.5f) / img.width;
      points[2 * i + 1] = (y + 0.5f) / img.height;
    }
  }
  return points;
}

/// A training batch: points.size() / 2 random positions, each with its nearest pixel as the target.
template <class Rng>
void sample_batch(image const& img, Rng& rng, std::vector<float>& points, std::vector<float>& targets) {
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::size_t const n = points.size() / 2;
  for (std::size_t i = 0; i < n; ++i) {
    float const x = u(rng), y = u(rng);
    points[2 * i] = x;
    points[2 * i + 1] = y;
    int const px = std::min(img.width - 1, static_cast<int>(x * img.width));
    int const py = std::min(img.height - 1, static_cast<int>(y * img.height));
    for (int ch = 0; ch < img.channels; ++ch) { targets[i * img.channels + ch] = img.at(px, py, ch); }
  }
}

inline double psnr(image const& img, std::vector<float> const& predicted) {
  double se = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    double const d = std::clamp(predicted[i], 0.0f, 1.0f) - img.pixels[i];
    se += d * d;
  }
  double const mse = se / static_cast<double>(predicted.size());
  return 10 * std::log10(1.0 / std::max(mse, 1e-12));
}


}  // namespace example
