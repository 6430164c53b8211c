// The order in which cutlass-sm90's tile scheduler hands out tiles (tile_choice.h), without a GPU: runs of rows
// (tile_run_rows), tiles claimed ahead (tile_claim_ahead), bands of tile rows (tile_band), the raster direction
// (raster_along_n), the long-row limit on claiming ahead (tile_long_rows) and the largest expert's group first
// (largest_expert_first), each with its knob. The values are the measured ones of docs/perf-notes.md.
#include <cstddef>

#include "tile_choice_checks.h"

namespace gg::tile_choice_tests {

namespace {

// One row of a per-tile knob's table: the knob's value (nullptr: unset), the call, the tile it runs, and the value
// the policy must return.
struct TileKnobCase {
    const char* value;
    const gg::GmmProblem* p;
    Sm90Tile tile;
    const char* what;
    int want;
};

// Checks `policy(problem, tile)` on every row with the row's value of `knob` set, and unsets the knob after.
template <size_t N, class Policy>
void expect_tile_knob(const char* knob, const TileKnobCase (&cases)[N], Policy policy) {
    for (const auto& c : cases) {
        set_knob(knob, c.value);
        expect_knob(knob, c.value, c.what, policy(*c.p, c.tile), c.want);
    }
    unsetenv(knob);
}

}  // namespace

void scheduler_order() {
    // Weight gradients of small experts deal their tiles in runs of 2048 rows' work, everything else one by one;
    // GG_SM90_RUN_ROWS forces a value (0 to 2^20) for every call.
    const gg::GmmProblem seed_grad = problem(16384, 512, 2048, 80, true);
    const gg::GmmProblem seed_forward = problem(16384, 512, 2048, 80, false);
    const gg::GmmProblem qwen_grad = problem(98304, 4096, 1408, 64, true);
    const gg::GmmProblem qwen_forward = problem(98304, 4096, 1408, 64, false);
    const struct {
        const char* value;
        const gg::GmmProblem* p;
        const char* what;
        int want;
    } runs[] = {{nullptr, &seed_grad, "seed-300M weight gradient", 2048},
                {nullptr, &seed_forward, "seed-300M forward", 0},
                {nullptr, &qwen_grad, "qwen-like weight gradient", 0},
                {"0", &seed_grad, "seed-300M weight gradient", 0},
                {"4096", &seed_forward, "seed-300M forward", 4096},
                {"1048576", &qwen_grad, "qwen-like weight gradient", 1048576},
                {"1048577", &seed_grad, "seed-300M weight gradient", 2048},
                {"-1", &seed_forward, "seed-300M forward", 0},
                {"12x", &seed_grad, "seed-300M weight gradient", 2048},
                {"", &seed_grad, "seed-300M weight gradient", 2048}};
    for (const auto& r : runs) {
        set_knob("GG_SM90_RUN_ROWS", r.value);
        expect_knob("GG_SM90_RUN_ROWS", r.value, r.what,
                    gg::cutlass_sm90::tile_run_rows(*r.p, read_sm90_knobs()), r.want);
    }
    unsetenv("GG_SM90_RUN_ROWS");
    // Weight gradients on the cluster-free cooperative tiles claim their tiles 4 ahead; forwards, the ping-pong
    // weight gradient and the clustered tiles keep the static deal; GG_SM90_CLAIM forces a value (0 to 7).
    const TileKnobCase claims[] = {
        {nullptr, &seed_grad, Sm90Tile::kCooperative128x256K32Cluster1x1, "seed-300M weight gradient", 4},
        {nullptr, &seed_grad, Sm90Tile::kCooperative128x256Cluster1x1, "weight gradient, coop128x256c1x1", 4},
        {nullptr, &seed_grad, Sm90Tile::kCooperative128x256K32, "weight gradient, 2x1 cluster", 0},
        {nullptr, &qwen_grad, Sm90Tile::kCooperative256x128, "qwen-like weight gradient", 4},
        {nullptr, &qwen_grad, Sm90Tile::kPingpong128x128, "weight gradient, ping-pong", 0},
        {nullptr, &qwen_grad, Sm90Tile::kCooperative128x192, "weight gradient, coop128x192", 4},
        {nullptr, &qwen_forward, Sm90Tile::kCooperative128x192, "forward, coop128x192", 0},
        {nullptr, &qwen_forward, Sm90Tile::kCooperative256x128, "qwen-like forward", 0},
        {nullptr, &qwen_forward, Sm90Tile::kContiguous256x128, "qwen-like forward, contiguous kernel", 1},
        {"0", &qwen_forward, Sm90Tile::kContiguous256x128, "qwen-like forward, contiguous kernel", 0},
        {nullptr, &seed_forward, Sm90Tile::kCooperative128x256Cluster1x1, "seed-300M forward", 0},
        {"0", &seed_grad, Sm90Tile::kCooperative128x256K32Cluster1x1, "seed-300M weight gradient", 0},
        {"7", &seed_forward, Sm90Tile::kCooperative128x256Cluster1x1, "seed-300M forward", 7},
        {"8", &seed_grad, Sm90Tile::kCooperative128x256K32Cluster1x1, "seed-300M weight gradient", 4},
        {"-1", &seed_forward, Sm90Tile::kCooperative128x256Cluster1x1, "seed-300M forward", 0},
        {"", &seed_grad, Sm90Tile::kCooperative128x256K32Cluster1x1, "seed-300M weight gradient", 4}};
    expect_tile_knob("GG_SM90_CLAIM", claims, [](const gg::GmmProblem& p, Sm90Tile t) {
        return gg::cutlass_sm90::tile_claim_ahead(p, t, read_sm90_knobs());
    });
    // Forwards of 4096 rows per expert and more on the ping-pong 1x2 or the cluster-free 128x256 tile walk bands of 16
    // tile rows; everything else none; GG_SM90_BAND forces a width (0 to 65536).
    const gg::GmmProblem mixtral_forward = problem(65536, 4096, 14336, 8, false);
    const gg::GmmProblem mixtral_grad = problem(65536, 4096, 14336, 8, true);
    const gg::GmmProblem forward_4096_rows = problem(8 * 4096, 4096, 14336, 8, false);
    const gg::GmmProblem forward_4095_rows = problem(8 * 4095, 4096, 14336, 8, false);
    const gg::GmmProblem deepseek_forward = problem(524288, 7168, 2048, 256, false);
    const TileKnobCase bands[] = {
        {nullptr, &mixtral_forward, Sm90Tile::kPingpong128x128Cluster1x2, "mixtral-like forward", 16},
        {nullptr, &mixtral_forward, Sm90Tile::kCooperative128x256Cluster1x1, "mixtral-like forward, no cluster", 16},
        {nullptr, &mixtral_forward, Sm90Tile::kCooperative128x256, "mixtral-like forward, 2x1 cluster", 0},
        {nullptr, &forward_4096_rows, Sm90Tile::kCooperative128x256Cluster1x1, "forward, 4096 rows per expert", 16},
        {nullptr, &forward_4095_rows, Sm90Tile::kCooperative128x256Cluster1x1, "forward, 4095 rows per expert", 0},
        {nullptr, &deepseek_forward, Sm90Tile::kCooperative128x256Cluster1x1, "deepseek-like forward", 0},
        {nullptr, &mixtral_grad, Sm90Tile::kPingpong128x128Cluster1x2, "weight gradient, ping-pong 1x2", 0},
        {nullptr, &mixtral_grad, Sm90Tile::kCooperative128x256Cluster1x1, "mixtral-like weight gradient", 0},
        {nullptr, &qwen_forward, Sm90Tile::kCooperative256x128, "qwen-like forward", 0},
        {nullptr, &seed_forward, Sm90Tile::kCooperative128x256Cluster1x1, "seed-300M forward", 0},
        {"0", &mixtral_forward, Sm90Tile::kPingpong128x128Cluster1x2, "mixtral-like forward", 0},
        {"3", &seed_forward, Sm90Tile::kCooperative128x256Cluster1x1, "seed-300M forward", 3},
        {"65537", &mixtral_forward, Sm90Tile::kPingpong128x128Cluster1x2, "mixtral-like forward", 16},
        {"16x", &seed_forward, Sm90Tile::kCooperative128x256Cluster1x1, "seed-300M forward", 0},
        {"", &mixtral_forward, Sm90Tile::kPingpong128x128Cluster1x2, "mixtral-like forward", 16}};
    expect_tile_knob("GG_SM90_BAND", bands, [](const gg::GmmProblem& p, Sm90Tile t) {
        return gg::cutlass_sm90::tile_band(p, t, read_sm90_knobs());
    });
    // Along N for the 256x128 tile and for weight gradients on the cluster-free ping-pong tile, along M for the
    // others; GG_SM90_RASTER=n|m forces one order for all.
    const struct {
        const char* value;
        Sm90Tile tile;
        bool trans_a;
        bool want;
    } rasters[] = {{nullptr, Sm90Tile::kCooperative128x256Cluster1x1, false, false},
                   {nullptr, Sm90Tile::kCooperative256x128, false, true},
                   {nullptr, Sm90Tile::kCooperative256x128, true, true},
                   {nullptr, Sm90Tile::kPingpong128x128, true, true},
                   {nullptr, Sm90Tile::kPingpong128x128, false, false},
                   {nullptr, Sm90Tile::kPingpong128x128Cluster1x2, true, false},
                   {nullptr, Sm90Tile::kCooperative128x256K32, true, false},
                   {nullptr, Sm90Tile::kCooperative128x256K32Cluster1x1, true, false},
                   {"n", Sm90Tile::kCooperative128x256Cluster1x1, false, true},
                   {"m", Sm90Tile::kCooperative256x128, false, false},
                   {"m", Sm90Tile::kPingpong128x128, true, false},
                   {"", Sm90Tile::kCooperative256x128, false, true},
                   {"x", Sm90Tile::kPingpong128x128, false, false}};
    for (const auto& r : rasters) {
        set_knob("GG_SM90_RASTER", r.value);
        expect_knob("GG_SM90_RASTER", r.value, r.trans_a ? "weight gradient" : tile_name(r.tile),
                    gg::cutlass_sm90::raster_along_n(r.tile, r.trans_a, read_sm90_knobs()), r.want);
    }
    unsetenv("GG_SM90_RASTER");
    // Weight gradients: nothing is claimed ahead of a tile of 4096 rows' reduction or more; forwards no limit;
    // GG_SM90_LONG forces a value (0 to 2^30, 0: no limit).
    const struct {
        const char* value;
        const gg::GmmProblem* p;
        const char* what;
        int want;
    } longs[] = {{nullptr, &seed_grad, "seed-300M weight gradient", 4096},
                 {nullptr, &mixtral_grad, "mixtral-like weight gradient", 4096},
                 {nullptr, &seed_forward, "seed-300M forward", 0},
                 {"0", &seed_grad, "seed-300M weight gradient", 0},
                 {"512", &seed_forward, "seed-300M forward", 512},
                 {"1073741824", &seed_grad, "seed-300M weight gradient", 1 << 30},
                 {"1073741825", &seed_grad, "seed-300M weight gradient", 4096},
                 {"-1", &qwen_grad, "qwen-like weight gradient", 4096},
                 {"", &qwen_forward, "qwen-like forward", 0}};
    for (const auto& l : longs) {
        set_knob("GG_SM90_LONG", l.value);
        expect_knob("GG_SM90_LONG", l.value, l.what, gg::cutlass_sm90::tile_long_rows(*l.p, read_sm90_knobs()),
                    l.want);
    }
    unsetenv("GG_SM90_LONG");
    // Weight gradients put the largest expert's group first, forwards keep the experts' order; GG_SM90_FIRST=0|1 forces
    // either.
    const struct {
        const char* value;
        const gg::GmmProblem* p;
        const char* what;
        int want;
    } firsts[] = {{nullptr, &seed_grad, "seed-300M weight gradient", 1},
                  {nullptr, &qwen_forward, "qwen-like forward", 0},
                  {"0", &seed_grad, "seed-300M weight gradient", 0},
                  {"1", &seed_forward, "seed-300M forward", 1},
                  {"2", &seed_grad, "seed-300M weight gradient", 1},
                  {"x", &seed_forward, "seed-300M forward", 0}};
    for (const auto& f : firsts) {
        set_knob("GG_SM90_FIRST", f.value);
        expect_knob("GG_SM90_FIRST", f.value, f.what,
                    gg::cutlass_sm90::largest_expert_first(*f.p, read_sm90_knobs()) ? 1 : 0, f.want);
    }
    unsetenv("GG_SM90_FIRST");
}

}  // namespace gg::tile_choice_tests
