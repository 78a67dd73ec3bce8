// Measures the point spread function (PSF) of grid encoding configurations, plain (MHE) and
// rotated (R-MHE), under the two collision-free protocols, and prints its widths.
//
//   example_point_spread [dims = 2] [levels = 16] [N_min = 16] [per-level scale = 1.5] [smoothstep]
//   example_point_spread speckle        the peak-to-speckle SNR of hash collisions against T, L, b (2-D)
//
// "tent" is the paper's closed-form model (the mean over levels of d-linear tents centred on the
// constraint), "offset" the one-gradient-step kernel averaged over the constraint's offset from
// the grids (see include/warp/encoding/point_spread.cuh). Anisotropy is the axis width over the
// diagonal width (1 = isotropic), at half maximum and at 10 %; in 2-D also the FWHM's max / min
// over directions, in 3-D the axis over the body-diagonal width; FWHM x N_avg relates the width to
// the geometric mean of the levels' resolutions.
#include <warp/encoding/point_spread.cuh>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace {
// Peak-to-speckle SNR for tables of 2^10 .. 2^19 entries, 8 and 16 levels, b = 1.38, 1.5, 2 (2-D,
// N_min 16, F 2; every level's finest resolution kept below 2^24).
int speckle_table() {
  namespace enc = warp::encoding;
  std::printf("%6s %4s %6s %10s %10s %10s %10s %10s\n", "", "", "", "T=2^10", "T=2^12", "T=2^14", "T=2^16", "T=2^19");
  for (int levels : {8, 16}) {
    for (double b : {1.38, 1.5, 2.0}) {
      std::printf("%6s %4d %6.2f", "L, b:", levels, b);
      for (int t : {10, 12, 14, 16, 19}) {
        enc::grid_config c;
        c.dims = 2;
        c.levels = levels;
        c.base_resolution = 16;
        c.per_level_scale = b;
        c.log2_table_size = t;
        std::printf(" %10.1f", enc::speckle_snr(c, 16, 4000));
        std::fflush(stdout);
      }
      std::printf("\n");
    }
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::strcmp(argv[1], "speckle") == 0) { return speckle_table(); }
    warp::encoding::grid_config c;
    c.dims = argc > 1 ? std::atoi(argv[1]) : 2;
    c.levels = argc > 2 ? std::atoi(argv[2]) : 16;
    c.base_resolution = argc > 3 ? std::atof(argv[3]) : 16;
    c.per_level_scale = argc > 4 ? std::atof(argv[4]) : 1.5;
    if (argc > 5 && std::strcmp(argv[5], "smoothstep") == 0) { c.interp = warp::encoding::interpolation::smoothstep; }
    c.validate();
    if (c.dims != 2 && c.dims != 3) {
      std::fprintf(stderr, "error: the PSF tool compares MHE and R-MHE for dims 2 and 3, got %d\n", c.dims);
      return 2;
    }
    std::printf("%-19s %10s %10s %8s %10s %10s %8s %9s %10s\n", "", "FWHM axis", "FWHM diag", "ratio", "10% axis",
                "10% diag", "ratio", c.dims == 2 ? "max/min" : "body", "FWHM*Navg");
    for (auto protocol : {warp::encoding::psf_protocol::tent_centred, warp::encoding::psf_protocol::offset_averaged}) {
      for (int kind = 0; kind < 3; ++kind) {
        auto cfg = c;
        namespace enc = warp::encoding;
        if (kind == 1) { cfg.rotation = c.dims == 2 ? enc::rotation_kind::progressive : enc::rotation_kind::icosahedral; }
        if (kind == 2) { cfg.rotation = c.dims == 2 ? enc::rotation_kind::golden : enc::rotation_kind::spread; }
        auto const r = enc::point_spread(cfg, protocol, 400);
        char const* names[2][3] = {{"MHE", "R-MHE progr.", "R-MHE golden"}, {"MHE", "R-MHE icosa.", "R-MHE spread"}};
        std::string const label = std::string(protocol == enc::psf_protocol::tent_centred ? "tent " : "offset ") +
                                  names[c.dims == 2 ? 0 : 1][kind];
        std::printf("%-19s %10.6f %10.6f %8.4f %10.6f %10.6f %8.4f %9.4f %10.4f\n", label.c_str(), r.fwhm_axis,
                    r.fwhm_diagonal, r.anisotropy, r.tail_axis, r.tail_diagonal, r.tail_anisotropy,
                    c.dims == 2 ? r.angle_ratio : r.body_anisotropy, r.fwhm_times_n_avg);
      }
    }
    return 0;
  } catch (std::exception const& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
