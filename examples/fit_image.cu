// Fits a 2-D image with a hash grid encoding followed by a small MLP trained with Adam, once with
// plain MHE and once with R-MHE (the same parameter count), and reports PSNR against steps.
//
//   example_fit_image [image] [steps = 500] [out-prefix = fit]
//   image: zoneplate | gratings | gratings:<degrees> | path/to/file.png     (default: gratings)
//
// Writes <out-prefix>_mhe.png and <out-prefix>_rmhe.png (the reconstructions; PGM/PPM files when
// libpng is not available). Oriented gratings at several angles ("gratings") show whether R-MHE
// removes MHE's dependence on the angle between the pattern and the grid axes. Runs on the GPU
// when one is present, else on the host (WARP_BACKEND).
#include <warp/encoding/grid_encoding.cuh>
#include <warp/warp.cuh>

#include "common/cli.hpp"

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

namespace {

namespace enc = warp::encoding;

struct image {
  int width = 0, height = 0, channels = 1;
  std::vector<float> pixels;  // row-major, channels interleaved, in [0, 1]
  float at(int x, int y, int c) const { return pixels[(static_cast<std::size_t>(y) * width + x) * channels + c]; }
};

/// The grating angle of "gratings:<degrees>" (checked before any work), or NaN for other names.
double grating_angle(std::string const& name) {
  if (name.rfind("gratings:", 0) != 0) { return std::nan(""); }
  return example::parse_real(name.c_str() + 9, "grating angle (degrees)", -360.0, 360.0);
}

image procedural(std::string const& name) {
  if (name != "zoneplate" && name != "gratings" && name.rfind("gratings:", 0) != 0) {
    throw std::invalid_argument("unknown image '" + name + "' (zoneplate, gratings, gratings:<deg>, or a .png file)");
  }
  double const fixed_angle = grating_angle(name);
  image img{256, 256, 1, {}};
  img.pixels.resize(256 * 256);
  double const pi = 3.14159265358979323846;
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) {
      double const u = (x + 0.5) / img.width, v = (y + 0.5) / img.height;
      double value;
      if (name == "zoneplate") {
        double const r2 = (u - 0.5) * (u - 0.5) + (v - 0.5) * (v - 0.5);
        value = 0.5 + 0.5 * std::cos(2 * pi * 90 * r2);
      } else {
        // Four quadrants of gratings at 0, 22.5, 45 and 67.5 degrees (or one angle for the whole image).
        double angle = 0;
        if (!std::isnan(fixed_angle)) {
          angle = fixed_angle * pi / 180;
        } else {
          angle = (u < 0.5 ? 0.0 : 22.5) + (v < 0.5 ? 0.0 : 45.0);
          angle *= pi / 180;
        }
        value = 0.5 + 0.5 * std::sin(2 * pi * 24 * (u * std::cos(angle) + v * std::sin(angle)));
      }
      img.pixels[static_cast<std::size_t>(y) * img.width + x] = static_cast<float>(value);
    }
  }
  return img;
}

#ifdef WARP_HAVE_PNG
image read_png(std::string const& path) {
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

void write_image(image const& img, std::string const& prefix) {
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

struct mlp_step {
  int k, c;
  float const* weights;
  float const* features;  // n x k
  float const* target;    // n x c
  float* grad_weights;    // accumulated (atomics)
  float* grad_features;   // n x k
  float* output;          // n x c
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
      if (grad_weights == nullptr) { continue; }
      float const dy = scale * (y - target[i * c + o]);
      add(grad_weights + hidden * k + hidden + c * hidden + o, dy);
      for (int j = 0; j < hidden; ++j) {
        add(grad_weights + hidden * k + hidden + o * hidden + j, dy * h[j]);
        dh[j] += h[j] > 0 ? dy * w2[o * hidden + j] : 0.0f;
      }
    }
    if (grad_weights == nullptr) { return 0; }
    for (int q = 0; q < k; ++q) { grad_features[i * k + q] = 0.0f; }
    for (int j = 0; j < hidden; ++j) {
      if (dh[j] == 0.0f) { continue; }
      add(grad_weights + hidden * k + j, dh[j]);
      for (int q = 0; q < k; ++q) {
        add(grad_weights + j * k + q, dh[j] * f[q]);
        grad_features[i * k + q] += dh[j] * w1[j * k + q];
      }
    }
    return 0;
  }
  WARP_HD static void add(float* p, float v) {
    cuda::atomic_ref<float, cuda::thread_scope_device>{*p}.fetch_add(v, cuda::std::memory_order_relaxed);
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
  model(enc::grid_config const& config, int channels, warp::backend where, std::uint64_t seed)
      : encoding_{config, where}, k_{encoding_.output_width()}, c_{channels}, where_{where} {
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
    zero(grad_w_);
    warp::detail::for_each_item<1>(ex(), n, mlp_step{k_, c_, weights_.data(), features_.data(), targets, grad_w_.data(),
                                                     grad_f_.data(), nullptr, 2.0f / static_cast<float>(n * c_)});
    encoding_.backward_params(points, n, grad_f_.data(), grad_p_.data());
    float const c1 = 1.0f - std::pow(0.9f, static_cast<float>(step + 1)), c2 = 1.0f - std::pow(0.99f, static_cast<float>(step + 1));
    warp::detail::for_each_item<1>(ex(), weights_size(), adam_step{weights_.data(), grad_w_.data(), m_w_.data(), v_w_.data(), 1e-2f, c1, c2});
    warp::detail::for_each_item<1>(ex(), static_cast<std::size_t>(encoding_.num_params()),
                                   adam_step{encoding_.params(), grad_p_.data(), m_p_.data(), v_p_.data(), 1e-2f, c1, c2});
    warp::detail::synchronize(where_, warp::default_stream());
  }

  /// Predictions (n x c, host) for points (n x 2, backend).
  std::vector<float> predict(float const* points, std::size_t n) {
    ensure(n);
    encoding_.forward(points, n, features_.data());
    warp::detail::for_each_item<1>(ex(), n, mlp_step{k_, c_, weights_.data(), features_.data(), nullptr, nullptr, nullptr,
                                                     output_.data(), 0.0f});
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
  }

  enc::grid_encoding<> encoding_;
  int k_, c_;
  warp::backend where_;
  std::size_t capacity_ = 0;
  warp::detail::buffer<float> weights_, grad_w_, m_w_, v_w_, grad_p_, m_p_, v_p_, features_, grad_f_, output_;
};

double psnr(image const& img, std::vector<float> const& predicted) {
  double se = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    double const d = std::clamp(predicted[i], 0.0f, 1.0f) - img.pixels[i];
    se += d * d;
  }
  double const mse = se / static_cast<double>(predicted.size());
  return 10 * std::log10(1.0 / std::max(mse, 1e-12));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 4) {
      std::cerr << "usage: " << argv[0] << " [image = gratings] [steps = 500] [out-prefix = fit]\n";
      return 2;
    }
    // Every argument is checked before any work: the image name, the step count, and that the
    // outputs can be written.
    std::string const source = argc > 1 ? argv[1] : "gratings";
    int const steps = argc > 2 ? example::parse_integer<int>(argv[2], "steps", 1, 10000000) : 500;
    std::string const prefix = argc > 3 ? argv[3] : "fit";
    example::require_writable_prefix(prefix + "_mhe");
    bool const is_png = source.size() > 4 && source.substr(source.size() - 4) == ".png";
    if (is_png) { example::require_readable(source, "image"); }
#ifdef WARP_HAVE_PNG
    image const img = is_png ? read_png(source) : procedural(source);
#else
    if (is_png) { throw std::runtime_error("this build has no libpng: PNG input is unavailable"); }
    image const img = procedural(source);
#endif
    warp::backend const where = warp::default_backend();
    enc::grid_config c;
    c.dims = 2;
    c.levels = 12;
    c.features = 2;
    c.log2_table_size = 14;
    c.base_resolution = 8;
    c.finest_resolution = std::max(img.width, img.height);
    enc::grid_config rotated = c;
    rotated.rotation = enc::rotation_kind::golden;
    model mhe{c, img.channels, where, 1}, rmhe{rotated, img.channels, where, 1};
    std::cerr << "fitting " << source << " (" << img.width << " x " << img.height << ", " << img.channels << " channel(s)) on the "
              << warp::to_string(where) << " backend; " << mhe.num_params() << " parameters each (MHE and R-MHE)\n";

    // All pixel centres, for evaluation, and the targets in the same order.
    std::size_t const pixels = static_cast<std::size_t>(img.width) * img.height;
    std::vector<float> all_points(2 * pixels);
    for (int y = 0; y < img.height; ++y) {
      for (int x = 0; x < img.width; ++x) {
        std::size_t const i = static_cast<std::size_t>(y) * img.width + x;
        all_points[2 * i] = (x + 0.5f) / img.width;
        all_points[2 * i + 1] = (y + 0.5f) / img.height;
      }
    }
    warp::detail::buffer<float> eval_points{where, all_points.size(), warp::default_stream()};
    warp::detail::copy_bytes(where, eval_points.data(), all_points.data(), all_points.size() * sizeof(float), warp::default_stream());

    std::size_t const batch = where == warp::backend::cuda ? (std::size_t{1} << 16) : (std::size_t{1} << 12);
    std::vector<float> points(2 * batch), targets(batch * static_cast<std::size_t>(img.channels));
    warp::detail::buffer<float> d_points{where, points.size(), warp::default_stream()},
        d_targets{where, targets.size(), warp::default_stream()};
    std::mt19937_64 rng{42};
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::printf("%8s %10s %10s\n", "step", "MHE PSNR", "R-MHE PSNR");
    for (int step = 0; step < steps; ++step) {
      for (std::size_t i = 0; i < batch; ++i) {  // random positions, the nearest pixel as the target
        float const x = u(rng), y = u(rng);
        points[2 * i] = x;
        points[2 * i + 1] = y;
        int const px = std::min(img.width - 1, static_cast<int>(x * img.width)), py = std::min(img.height - 1, static_cast<int>(y * img.height));
        for (int ch = 0; ch < img.channels; ++ch) { targets[i * img.channels + ch] = img.at(px, py, ch); }
      }
      warp::detail::copy_bytes(where, d_points.data(), points.data(), points.size() * sizeof(float), warp::default_stream());
      warp::detail::copy_bytes(where, d_targets.data(), targets.data(), targets.size() * sizeof(float), warp::default_stream());
      mhe.train(d_points.data(), d_targets.data(), batch, step);
      rmhe.train(d_points.data(), d_targets.data(), batch, step);
      if ((step + 1) % std::max(1, steps / 10) == 0 || step + 1 == steps) {
        std::printf("%8d %10.2f %10.2f\n", step + 1, psnr(img, mhe.predict(eval_points.data(), pixels)),
                    psnr(img, rmhe.predict(eval_points.data(), pixels)));
        std::fflush(stdout);
      }
    }
    std::vector<float> const final_mhe = mhe.predict(eval_points.data(), pixels), final_rmhe = rmhe.predict(eval_points.data(), pixels);
    if (source == "gratings") {
      // One grating angle per quadrant: does the reconstruction quality depend on the angle?
      std::printf("%8s %10s %10s\n", "angle", "MHE PSNR", "R-MHE PSNR");
      char const* angles[2][2] = {{"0.0", "22.5"}, {"45.0", "67.5"}};
      for (int qy = 0; qy < 2; ++qy) {
        for (int qx = 0; qx < 2; ++qx) {
          image part{img.width / 2, img.height / 2, img.channels, {}};
          std::vector<float> a, b;
          for (int y = qy * img.height / 2; y < (qy + 1) * img.height / 2; ++y) {
            for (int x = qx * img.width / 2; x < (qx + 1) * img.width / 2; ++x) {
              for (int ch = 0; ch < img.channels; ++ch) {
                std::size_t const i = (static_cast<std::size_t>(y) * img.width + x) * img.channels + ch;
                part.pixels.push_back(img.pixels[i]);
                a.push_back(final_mhe[i]);
                b.push_back(final_rmhe[i]);
              }
            }
          }
          std::printf("%8s %10.2f %10.2f\n", angles[qy][qx], psnr(part, a), psnr(part, b));
        }
      }
    }
    for (bool rotated : {false, true}) {
      image out = img;
      out.pixels = rotated ? final_rmhe : final_mhe;
      write_image(out, prefix + (rotated ? "_rmhe" : "_mhe"));
    }
    return 0;
  } catch (std::exception const& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
