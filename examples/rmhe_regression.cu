// The R-MHE paper's 2-D image-regression comparison: each image fitted by a hash grid encoding
// with M rotated sub-grids per level (M = 1: plain MHE; the features split, so every M has the
// same parameter count) and a one-hidden-layer MLP trained with Adam, for several seeds; PSNR
// over every pixel at the end, per run as CSV, and its mean and spread per image and M.
//
//   rmhe_regression --images camera.png,brick.png --subgrids 1,2,4,8 --seeds 3 --steps 2000 \
//                   --csv rmhe.csv [--rotation progressive|golden] [--levels 16] [--features 8]
//                   [--log2-table 12] [--base 16] [--batch 16384] [--lr 0.01] [--backend host|cuda]
//   scripts/plot_rmhe_regression.py rmhe.csv rmhe.png
//
// M = 1 runs are unrotated (MHE); M > 1 rotate sub-grid m of level l by the chosen generator.
// "1r" in --subgrids is M = 1 with every level rotated (the features not split: the
// parameterisation of example_fit_image's R-MHE), to compare the two ways of rotating.
// --inset s maps the image onto the centred square of side s (positions 0.5 + s (x - 0.5)); at
// s <= 1/sqrt(2) no rotated point leaves the unit cube, which isolates the aliasing of rotated
// points outside the cube in dense levels (the resolutions grow by 1 / s: the same cells per pixel).
// Every argument and every image is checked before any training; runs go seed by seed, and the
// CSV is written to a temporary and renamed into place after every run.
#include <warp/detail/files.cuh>
#include <warp/encoding/grid_encoding.cuh>
#include <warp/warp.cuh>

#include "common/cli.hpp"
#include "common/image_fit.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace enc = warp::encoding;

char const usage[] =
    "usage: rmhe_regression --images a.png[,b.png...] --csv out.csv [--subgrids 1,2,4,8] [--seeds 3]\n"
    "                       [--first-seed 0] [--steps 2000] [--rotation progressive|golden] [--levels 16]\n"
    "                       [--features 8] [--log2-table 12] [--base 16] [--batch 16384] [--lr 0.01]\n"
    "                       [--inset 1] [--backend host|cuda]\n"
    "  --subgrids: counts M in {1, 2, 4, 8}, or 1r (M = 1, every level rotated)\n";

/// A sub-grid count and whether its sub-grids rotate (M > 1 always do).
struct grid_choice {
  int subgrids;
  bool rotated;
  std::string label() const { return std::to_string(subgrids) + (subgrids == 1 && rotated ? "r" : ""); }
};

struct options {
  std::vector<std::string> images;
  std::string csv;
  std::vector<grid_choice> subgrids{{1, false}, {2, true}, {4, true}, {8, true}};
  int seeds = 3;
  int first_seed = 0;  // seeds first_seed .. first_seed + seeds - 1, to complete an interrupted study
  int steps = 2000;
  enc::rotation_kind rotation = enc::rotation_kind::progressive;
  int levels = 16, features = 8, log2_table = 12;
  double base = 16;
  std::size_t batch = 16384;
  float lr = 1e-2f;  // Adam's step size, encoding and MLP alike
  float inset = 1.0f;  // the image covers the centred square of this side
  warp::backend where = warp::default_backend();
};

options parse(int argc, char** argv) {
  options o;
  std::string backend;
  example::option_reader args{argc, argv, 1, usage};
  while (args.next()) {
    std::string const& opt = args.option();
    if (opt == "--images") {
      o.images = example::split_list(args.value(), "--images");
    } else if (opt == "--csv") {
      o.csv = args.value();
    } else if (opt == "--subgrids") {
      o.subgrids.clear();
      for (auto const& m : example::split_list(args.value(), "--subgrids")) {
        if (m == "1r") {
          o.subgrids.push_back({1, true});
        } else {
          int const count = example::parse_integer<int>(m.c_str(), "--subgrids", 1, 8);
          o.subgrids.push_back({count, count > 1});
        }
      }
    } else if (opt == "--seeds") {
      o.seeds = example::parse_integer<int>(args.value(), "--seeds", 1, 1000);
    } else if (opt == "--first-seed") {
      o.first_seed = example::parse_integer<int>(args.value(), "--first-seed", 0, 1000000);
    } else if (opt == "--steps") {
      o.steps = example::parse_integer<int>(args.value(), "--steps", 1, 10000000);
    } else if (opt == "--rotation") {
      std::string const r = args.value();
      if (r == "progressive") {
        o.rotation = enc::rotation_kind::progressive;
      } else if (r == "golden") {
        o.rotation = enc::rotation_kind::golden;
      } else {
        throw example::input_error("--rotation must be progressive or golden, got '" + r + "'");
      }
    } else if (opt == "--levels") {
      o.levels = example::parse_integer<int>(args.value(), "--levels", 1, 128);
    } else if (opt == "--features") {
      o.features = example::parse_integer<int>(args.value(), "--features", 1, 8);
    } else if (opt == "--log2-table") {
      o.log2_table = example::parse_integer<int>(args.value(), "--log2-table", 4, 30);
    } else if (opt == "--base") {
      o.base = example::parse_real(args.value(), "--base", 2, 1 << 20);
    } else if (opt == "--batch") {
      o.batch = example::parse_integer<std::size_t>(args.value(), "--batch", 1, std::size_t{1} << 24);
    } else if (opt == "--lr") {
      o.lr = static_cast<float>(example::parse_real(args.value(), "--lr", 1e-6, 1.0));
    } else if (opt == "--inset") {
      o.inset = static_cast<float>(example::parse_real(args.value(), "--inset", 0.05, 1.0));
    } else if (opt == "--backend") {
      backend = args.value();
    } else {
      throw example::input_error("unknown option " + opt + "\n" + usage);
    }
  }
  if (o.images.empty()) { throw example::input_error(std::string("--images is required\n") + usage); }
  if (o.csv.empty()) { throw example::input_error(std::string("--csv is required\n") + usage); }
  o.where = example::backend_option(backend);
  return o;
}

enc::grid_config config_for(options const& o, example::image const& img, grid_choice choice) {
  enc::grid_config c;
  c.dims = 2;
  c.levels = o.levels;
  c.features = o.features;
  c.subgrids = choice.subgrids;
  c.log2_table_size = o.log2_table;
  // With an inset the grids are finer by 1 / inset, so that the image sees the same cells per pixel.
  c.base_resolution = o.base / o.inset;
  c.finest_resolution = std::max<double>(o.base, std::max(img.width, img.height)) / o.inset;
  c.rotation = choice.rotated ? o.rotation : enc::rotation_kind::none;
  c.validate();  // a sub-grid count that does not divide the features is reported here, before any work
  return c;
}

struct run_result {
  std::string image;
  grid_choice grid;
  int seed;
  double psnr;
  double seconds;
  std::uint64_t params;
};

run_result fit(options const& o, std::string const& name, example::image const& img, grid_choice grid, int seed) {
  auto const start = std::chrono::steady_clock::now();
  example::model m{config_for(o, img, grid), img.channels, o.where, static_cast<std::uint64_t>(1000 + seed), o.lr};
  std::size_t const pixels = static_cast<std::size_t>(img.width) * img.height;
  auto const place = [&o](std::vector<float>& points) {
    if (o.inset == 1.0f) { return; }
    for (float& p : points) { p = 0.5f + o.inset * (p - 0.5f); }
  };
  std::vector<float> all_points = example::pixel_centres(img);
  place(all_points);
  auto const stream = warp::default_stream();
  warp::detail::buffer<float> eval{o.where, all_points.size(), stream};
  warp::detail::copy_bytes(o.where, eval.data(), all_points.data(), all_points.size() * sizeof(float), stream);
  std::vector<float> points(2 * o.batch), targets(o.batch * static_cast<std::size_t>(img.channels));
  warp::detail::buffer<float> d_points{o.where, points.size(), stream}, d_targets{o.where, targets.size(), stream};
  std::mt19937_64 rng{static_cast<std::uint64_t>(seed)};
  for (int step = 0; step < o.steps; ++step) {
    example::sample_batch(img, rng, points, targets);
    place(points);
    warp::detail::copy_bytes(o.where, d_points.data(), points.data(), points.size() * sizeof(float), stream);
    warp::detail::copy_bytes(o.where, d_targets.data(), targets.data(), targets.size() * sizeof(float), stream);
    m.train(d_points.data(), d_targets.data(), o.batch, step);
    if ((step + 1) % std::max(1, o.steps / 4) == 0 && step + 1 != o.steps) {  // progress (a PSNR costs a full-image pass)
      std::fprintf(stderr, "  %s M=%s seed %d: step %d of %d, %.0f s\n", name.c_str(), grid.label().c_str(), seed, step + 1, o.steps,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  double const p = example::psnr(img, m.predict(eval.data(), pixels));
  double const seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {name, grid, seed, p, seconds, m.num_params()};
}

std::string base_name(std::string const& path) {
  std::size_t const slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  std::size_t const dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    options const o = parse(argc, argv);
    example::require_writable_prefix(o.csv);
    // Every image read and every configuration validated before the first run.
    std::vector<example::image> images;
    for (auto const& path : o.images) {
      example::require_readable(path, "image");
#ifdef WARP_HAVE_PNG
      images.push_back(example::read_png(path));
#else
      throw std::runtime_error("this build has no libpng: PNG input is unavailable");
#endif
    }
    for (auto const& img : images) {
      for (grid_choice m : o.subgrids) { (void)config_for(o, img, m); }
    }
    std::size_t const runs = images.size() * o.subgrids.size() * static_cast<std::size_t>(o.seeds);
    std::cerr << runs << " runs on the " << warp::to_string(o.where) << " backend: " << images.size() << " image(s) x "
              << o.subgrids.size() << " sub-grid counts x " << o.seeds << " seed(s), " << o.steps << " steps of "
              << o.batch << " points\n";
    // Seed by seed, so that an interrupted study has every image and M for its first seeds; the
    // CSV is rewritten (a temporary renamed into place) after every run.
    std::vector<run_result> results;
    char const* rotation = o.rotation == enc::rotation_kind::golden ? "golden" : "progressive";
    for (int seed = o.first_seed; seed < o.first_seed + o.seeds; ++seed) {
      for (std::size_t i = 0; i < images.size(); ++i) {
        for (grid_choice m : o.subgrids) {
          results.push_back(fit(o, base_name(o.images[i]), images[i], m, seed));
          run_result const& r = results.back();
          std::fprintf(stderr, "[%zu/%zu] %s M=%s seed %d: %.2f dB (%.0f s, %llu parameters)\n", results.size(), runs,
                       r.image.c_str(), r.grid.label().c_str(), r.seed, r.psnr, r.seconds,
                       static_cast<unsigned long long>(r.params));
          std::ostringstream csv;
          csv << "image,subgrids,rotation,seed,steps,batch,levels,features,log2_table,parameters,psnr_db,seconds,lr,inset\n";
          for (auto const& x : results) {
            csv << x.image << ',' << x.grid.subgrids << ',' << (x.grid.rotated ? rotation : "none") << ',' << x.seed << ','
                << o.steps << ',' << o.batch << ',' << o.levels << ',' << o.features << ',' << o.log2_table << ','
                << x.params << ',' << x.psnr << ',' << x.seconds << ',' << o.lr << ',' << o.inset << '\n';
          }
          std::string const text = csv.str();
          warp::detail::atomic_file_writer out{o.csv, "rmhe_regression"};
          out.write(text.data(), text.size());
          out.commit();
        }
      }
    }
    // Mean and sample standard deviation per image and M.
    std::printf("%-12s %4s %10s %8s %6s\n", "image", "M", "PSNR mean", "sd", "runs");
    std::map<std::pair<std::string, std::string>, std::vector<double>> groups;
    for (auto const& r : results) { groups[{r.image, r.grid.label()}].push_back(r.psnr); }
    for (auto const& [key, v] : groups) {
      double mean = 0;
      for (double x : v) { mean += x; }
      mean /= static_cast<double>(v.size());
      double var = 0;
      for (double x : v) { var += (x - mean) * (x - mean); }
      double const sd = v.size() > 1 ? std::sqrt(var / static_cast<double>(v.size() - 1)) : 0.0;
      std::printf("%-12s %4s %10.2f %8.2f %6zu\n", key.first.c_str(), key.second.c_str(), mean, sd, v.size());
    }
    return 0;
  } catch (std::exception const& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
