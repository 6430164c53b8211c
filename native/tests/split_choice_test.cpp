// cutlass-sm90's split-K choices (tile_choice.h), without a GPU: the largest expert's split of weight gradients
// (split_k_chunks), decode forwards' split (forward_split_chunks), FP8 decode forwards' (fp8_forward_split_chunks), the
// one chunk rule of both (chunk_depth), and no split on a forced tile; also the FP8 row-wise tile (choose_fp8_tile) and
// Auto's FP8 block scales (fp8_block_scales_in_auto), with their knobs. The values are the measured ones of
// docs/perf-notes.md.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "tile_choice_checks.h"

namespace gg::tile_choice_tests {

// Split-K of the largest expert (tile_choice.h: split_k_chunks): weight gradients with device counts, at least 120
// GFLOP; the chunk count that minimises the waves per chunk, when that is at most 0.9 of the unsplit expert's waves
// (a quarter wave more when its tiles fit in one).
void split_k() {
    struct Case {
        const char* what;
        int64_t m, k, n, e;
        bool trans_a, on_device;
        const char* knob;
        int want;
    } cases[] = {
        {"qwen3-30b-a3b up, 4096 tokens (96 tiles)", 32768, 2048, 1536, 128, true, true, nullptr, 4},
        {"qwen3-30b-a3b down, 65536 tokens (48 tiles)", 524288, 768, 2048, 128, true, true, nullptr, 8},
        {"host counts", 32768, 2048, 1536, 128, true, false, nullptr, 0},
        {"forward", 32768, 2048, 1536, 128, false, true, nullptr, 0},
        {"below 120 GFLOP", 19073, 2048, 1536, 128, true, true, nullptr, 0},
        {"120 GFLOP", 19074, 2048, 1536, 128, true, true, nullptr, 4},
        // One wave of tiles starts late (split_one_wave_late_start): 128 tiles, no gain in waves alone, split in two.
        {"olmoe-1b-7b up, 4096 tokens (128 tiles)", 32768, 2048, 2048, 64, true, true, nullptr, 2},
        {"olmoe-1b-7b down, 4096 tokens (137 GFLOP, 64 tiles)", 32768, 1024, 2048, 64, true, true, nullptr, 2},
        {"small-experts (103 GFLOP)", 32768, 2048, 768, 128, true, true, nullptr, 0},
        {"seed-300M (34 GFLOP)", 16384, 512, 2048, 80, true, true, nullptr, 0},
        {"32 tiles", 262144, 512, 2048, 80, true, true, nullptr, 4},
        // As many tiles as SMs or more: split when the last wave is empty enough (4 waves for 3.4 waves' work -> 3.5).
        {"deepseek-v3 down (448 tiles, 59 MB a chunk)", 131072, 2048, 7168, 256, true, true, nullptr, 2},
        {"gpt-oss down (276 tiles: 3 waves -> 2.25)", 262144, 2880, 2880, 128, true, true, nullptr, 4},
        {"deepseek-v2-lite up (176 tiles: 2 waves -> 1.33)", 24576, 2048, 2816, 64, true, true, nullptr, 3},
        {"qwen2-57b-a14b down (280 tiles)", 32768, 2560, 3584, 64, true, true, nullptr, 3},
        {"deepseek-v3 up (896 tiles: 6.8 of 7 waves)", 131072, 7168, 4096, 256, true, true, nullptr, 0},
        {"mixtral-8x7b up (3584 tiles: 27.2 of 28 waves)", 131072, 4096, 28672, 8, true, true, nullptr, 0},
        {"forced 3", 32768, 2048, 7168, 128, true, true, "3", 3},
        {"forced 1: none", 32768, 2048, 1536, 128, true, true, "1", 0},
        {"forced 0: none", 32768, 2048, 1536, 128, true, true, "0", 0},
        {"forced 17: not a value", 32768, 2048, 1536, 128, true, true, "17", 4},
        {"forced, host counts", 32768, 2048, 1536, 128, true, false, "3", 0},
    };
    for (const Case& c : cases) {
        gg::GmmProblem p = problem(c.m, c.k, c.n, c.e, c.trans_a);
        p.counts_on_device = c.on_device;
        set_knob("GG_SM90_SPLIT", c.knob);
        expect_knob("GG_SM90_SPLIT", c.knob, c.what, gg::cutlass_sm90::split_k_chunks(p, kSms, read_sm90_knobs()),
                    c.want);
    }
    unsetenv("GG_SM90_SPLIT");
    // Decode forwards (forward_split_chunks) on the tile Auto chooses for them (H100): Auto splits only on the 64x128x128
    // decode tile, when the experts that can have rows (min(E, m)) give it at most 64 CTAs, into as many chunks as
    // fit them in one wave of the SMs; GG_SM90_SPLIT forces chunks on any tile, at most 32 rows, at least one k step a
    // chunk. Most decode forwards now take the contiguous kernel, which splits on the device (contiguous_tiling());
    // trans_b ones of at most 16 rows an expert and k >= 4096 keep the decode tile (the measured tile table).
    struct ForwardCase {
        const char* what;
        int64_t m, k, n, e;
        bool trans_a;
        const char* knob;
        int want;
        bool trans_b = false;
    } forwards[] = {
        {"mixtral-8x7b down, one token (the contiguous kernel)", 2, 14336, 4096, 8, false, nullptr, 0},
        {"mixtral-8x7b down trans_b, one token (k >= 8192: one live expert's 32 CTAs, 4 chunks)", 2, 14336, 4096, 8,
         false, nullptr, 4, true},
        {"dbrx down trans_b, one token (k >= 8192: one live expert's 48 CTAs, 2 chunks)", 4, 10752, 6144, 16, false,
         nullptr, 2, true},
        {"grok-1 down trans_b, one token (k >= 8192: 48 CTAs, 2 chunks)", 2, 32768, 6144, 8, false, nullptr, 2, true},
        {"snowflake-arctic down trans_b, one token (k = 4864: two experts' 112 CTAs)", 2, 4864, 7168, 128, false,
         nullptr, 0, true},
        {"phi-3.5-moe down trans_b, one token (k = 6400: two experts' 64 CTAs, 2 chunks)", 2, 6400, 4096, 16, false,
         nullptr, 2, true},
        {"mixtral-8x22b down, 16 tokens (32 rows: eight experts' 384 CTAs)", 32, 16384, 6144, 8, false, nullptr, 0},
        {"llama-4-maverick down trans_b, one token (40 CTAs: 3 chunks)", 1, 8192, 5120, 128, false, nullptr, 3,
         true},
        {"llama-4-maverick down, one token (the contiguous kernel)", 1, 8192, 5120, 128, false, nullptr, 0},
        {"jetmoe down, one token (the contiguous kernel)", 2, 5632, 2048, 8, false, nullptr, 0},
        {"gpt-oss down, one token (the table's contiguous tile)", 4, 2880, 2880, 128, false, nullptr, 0},
        {"qwen3-30b-a3b up, one token (the table's contiguous tile)", 8, 2048, 1536, 128, false, nullptr, 0},
        {"llama-4-maverick up, one token (128 CTAs)", 1, 5120, 16384, 128, false, nullptr, 0},
        {"one live expert, k = 960 (below 1024)", 1, 960, 2048, 8, false, nullptr, 0},
        {"deepseek-v3 up, one token (256 experts)", 8, 7168, 4096, 256, false, nullptr, 0},
        {"mixtral-8x7b down, 16 tokens", 32, 14336, 4096, 8, false, nullptr, 0},
        {"forced 8, mixtral-8x7b down, one token", 2, 14336, 4096, 8, false, "8", 8},
        {"gpt-oss down, 16 tokens (64 rows)", 64, 2880, 2880, 128, false, nullptr, 0},
        {"qwen3-30b-a3b down, one token (k = 768)", 8, 768, 2048, 128, false, nullptr, 0},
        {"weight gradient", 8, 14336, 4096, 8, true, nullptr, 0},
        {"no rows (k >= 8192)", 0, 8192, 5120, 8, false, nullptr, 0},
        {"no rows", 0, 2048, 1024, 8, false, nullptr, 0},
        {"forced 3", 8, 768, 2048, 128, false, "3", 3},
        {"forced 16, 12 k steps", 8, 768, 2048, 128, false, "16", 12},
        {"forced 3, 64 rows", 64, 2880, 2880, 128, false, "3", 0},
        {"forced 1", 2, 14336, 4096, 8, false, "1", 0},
    };
    for (const ForwardCase& c : forwards) {
        gg::GmmProblem p = problem(c.m, c.k, c.n, c.e, c.trans_a);
        p.trans_b = c.trans_b;
        set_knob("GG_SM90_SPLIT", c.knob);
        const gg::cutlass_sm90::Sm90Knobs knobs = read_sm90_knobs();
        const Sm90Tile tile = gg::cutlass_sm90::choose_tile(p, nullptr, kSms, kH100DramBytesPerS, knobs);
        expect_knob("GG_SM90_SPLIT", c.knob, c.what, gg::cutlass_sm90::forward_split_chunks(p, tile, kSms, knobs),
                    c.want);
    }
    unsetenv("GG_SM90_SPLIT");
    // FP8 decode forwards (fp8_forward_split_chunks) on the cluster-free 128x128x128 FP8 tile: Auto splits them from
    // k = 8192 by the bf16 split's worst case and one-wave count, with that tile's 128 rows and 128-deep k steps (so does
    // GG_SM90_FP8_SPLIT=auto); =<chunks> forces chunks on forwards of at most 32 rows.
    struct Fp8Case {
        const char* what;
        int64_t m, k, n, e;
        const char* knob;
        int want;
    } fp8_forwards[] = {
        {"llama-4-scout down, one token (Auto: one live expert's 40 CTAs, 3 chunks)", 1, 8192, 5120, 16, nullptr, 3},
        {"mixtral-8x7b down, one token (Auto: 4 chunks)", 2, 14336, 4096, 8, nullptr, 4},
        {"granite-3.0 up, one token (Auto: k = 1536, below 8192)", 8, 1536, 1024, 40, nullptr, 0},
        {"granite-3.0 up, one token (auto: k = 1536, below 8192)", 8, 1536, 1024, 40, "auto", 0},
        {"llama-4-scout down, one token (one live expert's 40 CTAs: 3 chunks)", 1, 8192, 5120, 16, "auto", 3},
        {"dbrx down, one token (k >= 8192: one live expert's 48 CTAs, 2 chunks)", 4, 10752, 6144, 16, "auto", 2},
        {"mixtral-8x7b down, one token (one live expert's 32 CTAs, 4 chunks)", 2, 14336, 4096, 8, "auto", 4},
        {"phi-3.5-moe down, one token (k = 6400, below 8192)", 2, 6400, 4096, 16, "auto", 0},
        {"snowflake-arctic down, one token (two experts' 112 CTAs)", 2, 4864, 7168, 128, "auto", 0},
        {"deepseek-v3 up, one token (eight experts' 256 CTAs)", 8, 7168, 4096, 256, "auto", 0},
        {"one live expert, k = 960", 1, 960, 2048, 8, "auto", 0},
        {"33 rows", 33, 8192, 512, 8, "auto", 0},
        {"forced 4", 20, 2048, 1024, 64, "4", 4},
        {"forced 16, 6 k steps of 128", 8, 768, 2048, 128, "16", 6},
        {"forced 4, 33 rows", 33, 8192, 512, 8, "4", 0},
        {"forced 1", 1, 8192, 5120, 16, "1", 0},
        {"no rows", 0, 8192, 5120, 16, "4", 0},
    };
    for (const Fp8Case& c : fp8_forwards) {
        gg::GmmProblem p = problem(c.m, c.k, c.n, c.e, false);
        p.trans_b = true;
        set_knob("GG_SM90_FP8_SPLIT", c.knob);
        expect_knob("GG_SM90_FP8_SPLIT", c.knob, c.what,
                    gg::cutlass_sm90::fp8_forward_split_chunks(p, kSms, read_sm90_knobs()), c.want);
    }
    unsetenv("GG_SM90_FP8_SPLIT");
    // FP8 row-wise tiles (choose_fp8_tile): the 128x192 tiles from 4096 rows, their 2x1 cluster from 1536 rows per
    // expert; the 128x128 tiles below 4096 rows, their cluster from 768; GG_SM90_FP8_TILE forces a tile of
    // sm90_fp8_tiles.def by name, and another name leaves the policy's tile.
    using gg::cutlass_sm90::Sm90Fp8Tile;
    struct Fp8TileCase {
        const char* what;
        int64_t m, e;
        const char* knob;
        Sm90Fp8Tile want;
    } fp8_tiles[] = {
        {"256 tokens x top-8 over 128 experts (decode: 128x128)", 2048, 128, nullptr, Sm90Fp8Tile::kCooperative128x128},
        {"2048 rows over 2 experts (below 4096 rows, 1024 an expert)", 2048, 2, nullptr,
         Sm90Fp8Tile::kCooperative128x128Cluster2x1},
        {"llama-4-scout, 4096 tokens (256 rows an expert)", 4096, 16, nullptr, Sm90Fp8Tile::kCooperative128x192},
        {"llama-4-scout, 16384 tokens (1024 rows an expert)", 16384, 16, nullptr, Sm90Fp8Tile::kCooperative128x192},
        {"qwen-like (1536 rows an expert)", 98304, 64, nullptr, Sm90Fp8Tile::kCooperative128x192Cluster2x1},
        {"mixtral-like (8192 rows an expert)", 65536, 8, nullptr, Sm90Fp8Tile::kCooperative128x192Cluster2x1},
        {"1535 rows an expert", 1535 * 64, 64, nullptr, Sm90Fp8Tile::kCooperative128x192},
        {"forced by name", 65536, 8, "fp8coop128x128", Sm90Fp8Tile::kCooperative128x128},
        {"forced by name, decode", 16, 8, "fp8coop128x192c2x1", Sm90Fp8Tile::kCooperative128x192Cluster2x1},
        {"a name not in the table", 65536, 8, "fp8coop128x160", Sm90Fp8Tile::kCooperative128x192Cluster2x1},
    };
    for (const Fp8TileCase& c : fp8_tiles) {
        gg::GmmProblem p = problem(c.m, 4096, 2048, c.e, false);
        p.trans_b = true;
        set_knob("GG_SM90_FP8_TILE", c.knob);
        expect_knob("GG_SM90_FP8_TILE", c.knob, c.what,
                    static_cast<int>(gg::cutlass_sm90::choose_fp8_tile(p, read_sm90_knobs())), static_cast<int>(c.want));
    }
    unsetenv("GG_SM90_FP8_TILE");
    // Auto runs FP8 block scales on cutlass-sm90 where it takes them (fp8_block_scales_in_auto); the knob turns that
    // off and on, and a value out of range leaves the policy's answer.
    const struct {
        const char* knob;
        int want;
    } block_cases[] = {{nullptr, 1}, {"1", 1}, {"0", 0}, {"2", 1}};
    for (const auto& c : block_cases) {
        set_knob("GG_SM90_FP8_BLOCK", c.knob);
        expect_knob("GG_SM90_FP8_BLOCK", c.knob, "Auto runs block scales on cutlass-sm90",
                    gg::cutlass_sm90::fp8_block_scales_in_auto(read_sm90_knobs()) ? 1 : 0, c.want);
    }
    unsetenv("GG_SM90_FP8_BLOCK");
    // One chunk rule for both splits (tile_choice.h: chunk_depth): whole k steps a chunk, the last one shorter, fewer
    // chunks than asked when the steps run out.
    struct DepthCase {
        int64_t k;
        int32_t chunks;
        int64_t step, want_chunk_k;
        int32_t want_used;
    } depths[] = {{8192, 3, 128, 2816, 3}, {14336, 4, 64, 3584, 4}, {768, 16, 128, 128, 6}, {80, 2, 64, 64, 2},
                  {200, 4, 64, 64, 4}, {192, 4, 64, 64, 3}};
    for (const DepthCase& d : depths) {
        const gg::cutlass_sm90::ChunkDepth got = gg::cutlass_sm90::chunk_depth(d.k, d.chunks, d.step);
        if (got.chunk_k != d.want_chunk_k || got.used != d.want_used) {
            std::printf("FAIL chunk_depth(k = %lld, %d chunks, steps of %lld): chunk_k %lld, %d used; want %lld, %d\n",
                        static_cast<long long>(d.k), d.chunks, static_cast<long long>(d.step),
                        static_cast<long long>(got.chunk_k), got.used, static_cast<long long>(d.want_chunk_k),
                        d.want_used);
            ++failures;
        }
    }
    // A forced tile is a measurement of that tile alone: no split unless GG_SM90_SPLIT asks for one.
    gg::GmmProblem p = problem(32768, 2048, 1536, 128, true);
    p.counts_on_device = true;
    setenv("GG_SM90_TILE", "coop256x128", 1);
    expect_knob("GG_SM90_TILE", "coop256x128", "split-K", gg::cutlass_sm90::split_k_chunks(p, kSms, read_sm90_knobs()),
                0);
    unsetenv("GG_SM90_TILE");
}

}  // namespace gg::tile_choice_tests
