// cutlass-sm90's tile choice (native/src/cutlass_sm90/tile_choice.h) without a GPU: which configuration each
// benchmark shape and a few edge shapes get, and which epilogue a call gets. The choices are the measured ones of
// docs/perf-notes.md; a change of policy should change its checks in the same commit. main here runs every group of
// gg_tile_choice_test, each in the file of its rule (shared pieces: tile_choice_checks.h):
//   tile_choice_knobs_test.cpp   the tuning knobs' parsing (tuning_knobs.h: read_sm90_knobs), GG_SM90_TILE's effect
//   tile_scheduler_test.cpp      the tile scheduler's order: run rows, claim ahead, bands, raster, long rows, largest
//                                expert first
//   decode_choice_test.cpp       which calls the decode kernels take (weight gradient whole or beside the GEMM,
//                                forward), their block order
//   tile_kernels_test.cpp        the kernel table (sm90_tiles.def) against the release set CMake derives from it
//   empty_experts_test.cpp       how the group rule treats empty experts (cutlass_common/group_arrays.cuh)
//   split_choice_test.cpp        split-K (weight gradients, decode forwards, FP8 forwards, chunk_depth), and FP8
//                                tile and block-scale choice
//   tile_table_test.cpp          the measured tile table's classes and lookup
//   contiguous_routing_test.cpp  the contiguous kernel's tiling (contiguous_tiling.h) and both routing rules
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "tile_choice_checks.h"

namespace gg::tile_choice_tests {

void benchmark_shapes() {
    // The design document's configurations (M = tokens x top-k), forward and weight gradient.
    struct Shape {
        const char* name;
        int64_t m, e, k, n;
        Sm90Tile forward, weight_grad;
    } shapes[] = {
        {"seed-300M", 16384, 80, 512, 2048, Sm90Tile::kCooperative128x256Cluster1x1,
         Sm90Tile::kCooperative128x256K32Cluster1x1},
        {"qwen-moe-like", 98304, 64, 4096, 1408, Sm90Tile::kContiguous256x128, Sm90Tile::kCooperative256x128},
        {"deepseek-like", 524288, 256, 7168, 2048, Sm90Tile::kCooperative128x256Cluster1x1,
         Sm90Tile::kCooperative128x256Cluster1x1},
        {"mixtral-like", 65536, 8, 4096, 14336, Sm90Tile::kPingpong128x128Cluster1x2,
         Sm90Tile::kCooperative128x256Cluster1x1},
        {"small-experts", 32768, 128, 2048, 768, Sm90Tile::kCooperative128x256Cluster1x1,
         Sm90Tile::kCooperative128x256K32Cluster1x1},
    };
    for (const Shape& s : shapes) {
        expect(s.name, problem(s.m, s.k, s.n, s.e, false), nullptr, s.forward);
        expect(s.name, problem(s.m, s.k, s.n, s.e, true), nullptr, s.weight_grad);
    }
}

void edge_shapes() {
    // n below one 256-wide tile: the 128-wide ping-pong tile, whatever else.
    expect("narrow n", problem(1 << 20, 4096, 128, 8, false), nullptr, Sm90Tile::kPingpong128x128);
    expect("narrow n, weight gradient", problem(1 << 20, 4096, 192, 8, true), nullptr, Sm90Tile::kPingpong128x128);
    // Fewer 128x256 tiles than SMs: the small tile, to fill the machine.
    expect("few tiles", problem(512, 1024, 512, 4, false), nullptr, Sm90Tile::kPingpong128x128);
    // Decode-sized experts with n = 1408: 256-row tiles would be mostly padding.
    expect("decode, n = 1408", problem(64 * 64, 4096, 1408, 64, false), nullptr, Sm90Tile::kPingpong128x128);
    // Weight gradients with n = 1408: the 256x128 tile from 1024 rows per expert, the ping-pong tile below that or
    // where n is not a multiple of 128.
    expect("weight gradient, n = 1408, 1024 rows", problem(64 * 1024, 4096, 1408, 64, true), nullptr,
           Sm90Tile::kCooperative256x128);
    expect("weight gradient, n = 1408, 1023 rows", problem(64 * 1023, 4096, 1408, 64, true), nullptr,
           Sm90Tile::kPingpong128x128);
    expect("weight gradient, n = 1400", problem(98304, 4096, 1400, 64, true), nullptr, Sm90Tile::kPingpong128x128);
    // E = 1 with every row: one large GEMM.
    expect("one expert", problem(8192, 4096, 4096, 1, false), nullptr, Sm90Tile::kPingpong128x128Cluster1x2);
    // Forwards of large experts: the ping-pong 1x2 tile from 4.5 TB/s of DRAM (the H200), else (the H100, a card
    // whose bandwidth is unknown) the cluster-free 128x256 tile; weight gradients do not depend on it.
    const gg::GmmProblem mixtral = problem(65536, 4096, 14336, 8, false);
    expect("mixtral-like forward, H100", mixtral, nullptr, Sm90Tile::kCooperative128x256Cluster1x1, kH100DramBytesPerS);
    expect("mixtral-like forward, 4.5 TB/s", mixtral, nullptr, Sm90Tile::kPingpong128x128Cluster1x2, 4.5e12);
    expect("mixtral-like forward, 4.49 TB/s", mixtral, nullptr, Sm90Tile::kCooperative128x256Cluster1x1, 4.49e12);
    expect("mixtral-like forward, bandwidth unknown", mixtral, nullptr, Sm90Tile::kCooperative128x256Cluster1x1, 0.0);
    expect("mixtral-like weight gradient, H100", problem(65536, 4096, 14336, 8, true), nullptr,
           Sm90Tile::kCooperative128x256Cluster1x1, kH100DramBytesPerS);
    expect("qwen-like forward, H100", problem(98304, 4096, 1408, 64, false), nullptr, Sm90Tile::kContiguous256x128,
           kH100DramBytesPerS);
    // The contiguous kernel neither adds to c nor holds more than 1024 experts' offsets: CUTLASS's 256x128 tile then.
    gg::GmmProblem qwen_accumulate = problem(98304, 4096, 1408, 64, false);
    qwen_accumulate.accumulate = true;
    expect("qwen-like forward, accumulate", qwen_accumulate, nullptr, Sm90Tile::kCooperative256x128);
    expect("n = 1408, 1024 experts", problem(1024 * 1024, 4096, 1408, 1024, false), nullptr,
           Sm90Tile::kContiguous256x128);
    expect("n = 1408, 1025 experts", problem(1025 * 1024, 4096, 1408, 1025, false), nullptr,
           Sm90Tile::kCooperative256x128);
    expect("deepseek-like forward, H100", problem(524288, 7168, 2048, 256, false), nullptr,
           Sm90Tile::kCooperative128x256Cluster1x1, kH100DramBytesPerS);
    // n a multiple of 192 but not of 256 (gpt-oss, H100 sweep): weight gradients on the 128x192 tile whatever the rows;
    // forwards of n = 5760 from 256 to 1023 rows per expert; n = 2880 forwards keep the 128x256 tile, smaller experts
    // the ping-pong tile, larger ones the 256-row tiles, accumulating forwards the tile they had.
    expect("gpt-oss down weight gradient, 65536 tokens", problem(262144, 2880, 2880, 128, true), nullptr,
           Sm90Tile::kCooperative128x192, kH100DramBytesPerS);
    expect("gpt-oss up weight gradient, 16384 tokens", problem(65536, 2880, 5760, 128, true), nullptr,
           Sm90Tile::kCooperative128x192, kH100DramBytesPerS);
    expect("gpt-oss up weight gradient, 65536 tokens", problem(262144, 2880, 5760, 128, true), nullptr,
           Sm90Tile::kCooperative128x192, kH100DramBytesPerS);
    expect("gpt-oss down weight gradient, one token", problem(4, 2880, 2880, 128, true), nullptr,
           Sm90Tile::kCooperative128x192, kH100DramBytesPerS);
    expect("gpt-oss up forward, 512 rows", problem(65536, 2880, 5760, 128, false), nullptr,
           Sm90Tile::kCooperative128x192, kH100DramBytesPerS);
    expect("gpt-oss up forward, 256 rows", problem(32768, 2880, 5760, 128, false), nullptr,
           Sm90Tile::kCooperative128x192, kH100DramBytesPerS);
    expect("gpt-oss up forward, 255 rows", problem(128 * 255, 2880, 5760, 128, false), nullptr,
           Sm90Tile::kPingpong128x128, kH100DramBytesPerS);
    expect("gpt-oss up forward, 2048 rows", problem(262144, 2880, 5760, 128, false), nullptr,
           Sm90Tile::kContiguous256x128, kH100DramBytesPerS);
    expect("gpt-oss down forward, 512 rows", problem(65536, 2880, 2880, 128, false), nullptr,
           Sm90Tile::kCooperative128x256Cluster1x1, kH100DramBytesPerS);
    gg::GmmProblem gpt_oss_accumulate = problem(65536, 2880, 5760, 128, false);
    gpt_oss_accumulate.accumulate = true;
    expect("gpt-oss up forward, 512 rows, accumulate", gpt_oss_accumulate, nullptr, Sm90Tile::kPingpong128x128,
           kH100DramBytesPerS);
    // Decode-size forwards (small_forward: at most 2048 rows, fewer than 64 per expert) take our contiguous kernel,
    // which tiles them on the device from the experts' rows: gpt-oss and qwen3-30b-a3b at one token, gpt-oss at 16
    // tokens (64 rows over 128 experts), granite at 256 tokens (2048 rows over 40 experts). mixtral-8x22b at 256
    // tokens (512 rows, 64 per expert) does not; accumulating ones, which it does not take, keep the 64x128x128
    // ping-pong tile.
    expect("gpt-oss forward, one token", problem(4, 2880, 2880, 128, false), nullptr, Sm90Tile::kContiguous256x128,
           kH100DramBytesPerS);
    expect("qwen3-30b-a3b up forward, one token", problem(8, 2048, 1536, 128, false), nullptr,
           Sm90Tile::kContiguous256x128, kH100DramBytesPerS);
    expect("gpt-oss forward, 16 tokens", problem(64, 2880, 2880, 128, false), nullptr,
           Sm90Tile::kContiguous256x128, kH100DramBytesPerS);
    expect("granite up forward, 256 tokens", problem(2048, 1536, 1024, 40, false), nullptr,
           Sm90Tile::kContiguous256x128, kH100DramBytesPerS);
    gg::GmmProblem decode_accumulate = problem(8, 2048, 1536, 128, false);
    decode_accumulate.accumulate = true;
    expect("qwen3-30b-a3b up forward, one token, accumulate", decode_accumulate, nullptr,
           Sm90Tile::kPingpong64x128K128, kH100DramBytesPerS);
    expect("mixtral-8x22b up forward, 256 tokens", problem(512, 6144, 32768, 8, false), nullptr,
           Sm90Tile::kCooperative128x256Cluster1x1, kH100DramBytesPerS);
    expect("weight gradient, one token", problem(8, 2048, 1536, 128, true), nullptr,
           Sm90Tile::kCooperative128x256K32Cluster1x1, kH100DramBytesPerS);
    // Host counts are used for the tile count: 132 experts with one row each make few tiles.
    static int32_t sizes[3 * 4];
    for (int e = 0; e < 4; ++e) {
        sizes[3 * e] = 1;
        sizes[3 * e + 1] = 4096;
        sizes[3 * e + 2] = 4096;
    }
    expect("host counts, tiny experts", problem(4, 4096, 4096, 4, false), sizes, Sm90Tile::kContiguous256x128);
}

void epilogues() {
    // Accumulating calls must read C: only the source epilogue can, whatever the knob says.
    gg::GmmProblem p = problem(16384, 512, 2048, 80, true);
    const struct {
        bool accumulate;
        const char* knob;
        Sm90Epilogue want;
    } cases[] = {{false, nullptr, Sm90Epilogue::kStoreOnly}, {true, nullptr, Sm90Epilogue::kSource},
                 {false, "source", Sm90Epilogue::kSource},   {true, "source", Sm90Epilogue::kSource},
                 {false, "store", Sm90Epilogue::kStoreOnly}, {true, "store", Sm90Epilogue::kSource},
                 {false, "", Sm90Epilogue::kStoreOnly}};
    for (const auto& c : cases) {
        set_knob("GG_SM90_EPILOGUE", c.knob);
        p.accumulate = c.accumulate;
        expect_knob("GG_SM90_EPILOGUE", c.knob, c.accumulate ? "accumulate" : "",
                    static_cast<int>(choose_epilogue(p, Sm90Tile::kCooperative128x256K32Cluster1x1, read_sm90_knobs())),
                    static_cast<int>(c.want));
    }
    unsetenv("GG_SM90_EPILOGUE");
    // The measured exception: the weight gradient on the cluster-free ping-pong tile keeps the source epilogue,
    // unless the knob forces the store-only one; the forward there is store-only.
    p.accumulate = false;
    const int source = static_cast<int>(Sm90Epilogue::kSource), store = static_cast<int>(Sm90Epilogue::kStoreOnly);
    expect_knob("GG_SM90_EPILOGUE", nullptr, "weight gradient, pingpong128x128",
                static_cast<int>(choose_epilogue(p, Sm90Tile::kPingpong128x128, read_sm90_knobs())), source);
    set_knob("GG_SM90_EPILOGUE", "store");
    expect_knob("GG_SM90_EPILOGUE", "store", "weight gradient, pingpong128x128",
                static_cast<int>(choose_epilogue(p, Sm90Tile::kPingpong128x128, read_sm90_knobs())), store);
    unsetenv("GG_SM90_EPILOGUE");
    p.trans_a = false;
    expect_knob("GG_SM90_EPILOGUE", nullptr, "forward, pingpong128x128",
                static_cast<int>(choose_epilogue(p, Sm90Tile::kPingpong128x128, read_sm90_knobs())), store);
}

}  // namespace gg::tile_choice_tests

int main() {
    using namespace gg::tile_choice_tests;
    unsetenv("GG_SM90_TILE");  // a tuning session's knobs must not leak into the policy checks
    unsetenv("GG_SM90_GRID");
    unsetenv("GG_SM90_EPILOGUE");
    unsetenv("GG_SM90_RASTER");
    unsetenv("GG_SM90_RUN_ROWS");
    unsetenv("GG_SM90_CLAIM");
    unsetenv("GG_SM90_BAND");
    unsetenv("GG_SM90_LONG");
    unsetenv("GG_SM90_FIRST");
    unsetenv("GG_SM90_DECODE_WGRAD");
    unsetenv("GG_SM90_SPLIT");
    unsetenv("GG_SM90_FP8_TILE");
    unsetenv("GG_SM90_FP8_RASTER");
    unsetenv("GG_SM90_FP8_SWIZZLE");
    unsetenv("GG_SM90_FP8_SPLIT");
    unsetenv("GG_SM90_FP8_BLOCK");
    unsetenv("GG_SM90_ROUTE");
    unsetenv("GG_SM90_ROUTE_DECODE");
    benchmark_shapes();
    edge_shapes();
    epilogues();
    knobs();
    scheduler_order();
    decode_choice();
    release_kernels_cover_auto();
    kernel_table();
    empty_expert_rules();
    split_k();
    contiguous_tiling();
    tile_table();
    routing_rule();
    decode_routing_rule();
    if (failures != 0) {
        std::printf("%d tile-choice check(s) failed\n", failures);
        return 1;
    }
    std::printf("tile choice: all checks passed\n");
    return 0;
}
