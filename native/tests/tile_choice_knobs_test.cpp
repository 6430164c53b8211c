// The cutlass-sm90 tuning knobs' parsing (tuning_knobs.h: read_sm90_knobs) without a GPU: GG_SM90_TILE forces a tile
// by name (an unknown name leaves the policy's), GG_SM90_GRID's range, and the FP8 kernel's knobs (swizzle, raster,
// tile name). The knobs that steer one rule are checked with that rule's group, in the file named after it.
#include <cstring>

#include "tile_choice_checks.h"

namespace gg::tile_choice_tests {

void knobs() {
    const gg::GmmProblem seed = problem(16384, 512, 2048, 80, false);
    setenv("GG_SM90_TILE", "coop256x128", 1);
    expect("GG_SM90_TILE", seed, nullptr, Sm90Tile::kCooperative256x128);
    setenv("GG_SM90_TILE", "contig256x128", 1);
    expect("GG_SM90_TILE, our own kernel", seed, nullptr, Sm90Tile::kContiguous256x128);
    setenv("GG_SM90_TILE", "no-such-tile", 1);
    expect("unknown GG_SM90_TILE is ignored", seed, nullptr, Sm90Tile::kCooperative128x256Cluster1x1);
    unsetenv("GG_SM90_TILE");

    const struct {
        const char* value;
        int want;
    } grids[] = {{nullptr, 1}, {"", 1}, {"2", 2}, {"16", 16}, {"17", 1}, {"0", 1}, {"-3", 1}, {"x", 1}};
    for (const auto& g : grids) {
        set_knob("GG_SM90_GRID", g.value);
        expect_knob("GG_SM90_GRID", g.value, "", read_sm90_knobs().grid_factor, g.want);
    }
    unsetenv("GG_SM90_GRID");

    // The FP8 kernel's knobs (scaled_gemm_sm90.cu reads them through Sm90Knobs): -1 unset.
    const struct {
        const char* knob;
        const char* value;
        int want;
    } fp8[] = {{"GG_SM90_FP8_SWIZZLE", "4", 4}, {"GG_SM90_FP8_SWIZZLE", "8", 8}, {"GG_SM90_FP8_SWIZZLE", "9", -1},
               {"GG_SM90_FP8_SWIZZLE", "0", -1}, {"GG_SM90_FP8_SWIZZLE", "x", -1}, {"GG_SM90_FP8_RASTER", "n", 1},
               {"GG_SM90_FP8_RASTER", "m", 0}, {"GG_SM90_FP8_RASTER", "k", -1}};
    for (const auto& f : fp8) {
        set_knob(f.knob, f.value);
        const auto k = read_sm90_knobs();
        const bool swizzle = std::strcmp(f.knob, "GG_SM90_FP8_SWIZZLE") == 0;
        const int got = swizzle ? k.fp8_swizzle.value_or(-1) : k.fp8_raster_along_n ? int(*k.fp8_raster_along_n) : -1;
        expect_knob(f.knob, f.value, "", got, f.want);
        unsetenv(f.knob);
    }
    set_knob("GG_SM90_FP8_TILE", "fp8coop128x128");
    expect_knob("GG_SM90_FP8_TILE", "fp8coop128x128", "kept as text",
                std::strcmp(read_sm90_knobs().fp8_tile, "fp8coop128x128") == 0, 1);
    unsetenv("GG_SM90_FP8_TILE");
}

}  // namespace gg::tile_choice_tests
