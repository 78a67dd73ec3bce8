// Measures the collision-free point spread function (PSF) of grid encoding configurations, plain
// (MHE) and rotated (R-MHE), and prints its widths along the axes and the diagonals.
//
//   example_point_spread [dims = 2] [levels = 16] [N_min = 16] [per-level scale = 1.5] [smoothstep]
//
// The PSF is the encoding's one-gradient-step response to a point constraint, averaged over the
// constraint's offset from the grids (see include/warp/encoding/point_spread.cuh). Anisotropy is
// the axis width over the diagonal width (1 = isotropic), at half maximum and at 10 %.
#include <warp/encoding/point_spread.cuh>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

int main(int argc, char** argv) {
  try {
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
    std::printf("%-6s %12s %12s %10s %12s %12s %10s\n", "", "FWHM axis", "FWHM diag", "ratio", "10% axis", "10% diag", "ratio");
    for (bool rotated : {false, true}) {
      auto cfg = c;
      if (rotated) { cfg.rotation = c.dims == 2 ? warp::encoding::rotation_kind::golden : warp::encoding::rotation_kind::spread; }
      auto const r = warp::encoding::point_spread(cfg, 400);
      std::printf("%-6s %12.6f %12.6f %10.4f %12.6f %12.6f %10.4f\n", rotated ? "R-MHE" : "MHE", r.fwhm_axis, r.fwhm_diagonal,
                  r.anisotropy, r.tail_axis, r.tail_diagonal, r.tail_anisotropy);
    }
    return 0;
  } catch (std::exception const& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
