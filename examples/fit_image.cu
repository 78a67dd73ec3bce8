// Fits a 2-D image with a hash grid encoding followed by a small MLP trained with Adam, once with
// plain MHE and once with R-MHE as the paper defines it (each level's F = 2 features split into
// M = 2 sub-grids at progressive angles: the same parameter count), and reports PSNR against
// steps. (Rotating whole levels instead, M = 1, gains nothing and loses a little to rotated points
// that leave the unit cube and alias in the dense levels: docs/encoding.md.)
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
#include "common/image_fit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace enc = warp::encoding;
using example::image;
using example::model;
using example::psnr;
using example::write_image;

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
    image const img = is_png ? example::read_png(source) : procedural(source);
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
    rotated.subgrids = 2;
    rotated.rotation = enc::rotation_kind::progressive;
    model mhe{c, img.channels, where, 1}, rmhe{rotated, img.channels, where, 1};
    std::cerr << "fitting " << source << " (" << img.width << " x " << img.height << ", " << img.channels << " channel(s)) on the "
              << warp::to_string(where) << " backend; " << mhe.num_params() << " parameters each (MHE and R-MHE)\n";

    // All pixel centres, for evaluation, and the targets in the same order.
    std::size_t const pixels = static_cast<std::size_t>(img.width) * img.height;
    std::vector<float> const all_points = example::pixel_centres(img);
    warp::detail::buffer<float> eval_points{where, all_points.size(), warp::default_stream()};
    warp::detail::copy_bytes(where, eval_points.data(), all_points.data(), all_points.size() * sizeof(float), warp::default_stream());

    std::size_t const batch = where == warp::backend::cuda ? (std::size_t{1} << 16) : (std::size_t{1} << 12);
    std::vector<float> points(2 * batch), targets(batch * static_cast<std::size_t>(img.channels));
    warp::detail::buffer<float> d_points{where, points.size(), warp::default_stream()},
        d_targets{where, targets.size(), warp::default_stream()};
    std::mt19937_64 rng{42};
    std::printf("%8s %10s %10s\n", "step", "MHE PSNR", "R-MHE PSNR");
    for (int step = 0; step < steps; ++step) {
      example::sample_batch(img, rng, points, targets);
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
