// Which sm90 kernel configuration runs a call. The whole policy is this file, so that it can be tuned
// from benchmarks (bench/) without touching the kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "backends/decode_groups.h"
#include "cutlass_common/decode_weight_gradient_tiles.h"
#include "cutlass_common/group_arrays.cuh"
#include "cutlass_sm90/contiguous_tiling.h"
#include "cutlass_sm90/shape_class.h"
#include "cutlass_sm90/sm90_fp8_tiles.h"
#include "cutlass_sm90/sm90_tiles.h"
#include "cutlass_sm90/tuning_knobs.h"

namespace gg::cutlass_sm90 {

// Every function here takes the call's tuning knobs (tuning_knobs.h), none by default: a forced value wins.

// The contiguous kernel keeps each expert's row and tile offsets in shared memory.
inline constexpr int kContiguousMaxExperts = 1024;

// Whether the contiguous kernel can run p, once the backend's own checks (dtype, alignment, check_int_sizes) have
// passed. check_int_sizes also bounds the kernel's int32 tile numbers: it caps (m / 64 + E) x ceil(n / 128) tiles,
// more than this kernel's (m / 256 + E) x ceil(n / 128).
inline bool contiguous_eligible(const GmmProblem& p) {
    return !p.trans_a && !p.accumulate && p.num_experts >= 1 && p.num_experts <= kContiguousMaxExperts;
}

// The order in which each group's output tiles are walked. Along N for the two tiles of n = 1408
// (qwen-like: 11 tiles of 128 columns), where the tiles that share a block of rows then run together:
// - the 256x128 forward tile: 0.99-1.01x under uniform routing and 1.07-1.11x under zipf against along M (its
//   weight-gradient use, v12, was measured along N only);
// - the cluster-free ping-pong tile in weight gradients: 0.98-1.00x uniform, 1.14x zipf (qwen-like, v9).
// Along M elsewhere: mixtral's weight gradient lost 30% along N (H200, docs/perf-notes.md v8, v9).
// Knob: GG_SM90_RASTER=n|m.
inline bool raster_along_n(Sm90Tile tile, bool trans_a, const Sm90Knobs& knobs = {}) {
    if (knobs.raster_along_n) return *knobs.raster_along_n;
    return tile == Sm90Tile::kCooperative256x128 || (trans_a && tile == Sm90Tile::kPingpong128x128);
}

// A store-only epilogue cannot add C, so accumulating calls take the source epilogue. So does the weight
// gradient on the cluster-free ping-pong tile (now n = 1408 with small experts): on qwen-like, which ran that tile
// until v12, 575 against 547 TFLOP/s, the one measured row where the store-only epilogue lost (H200,
// docs/perf-notes.md v8). The 256x128 tile that serves qwen-like's weight gradient since v12 was measured with
// the store-only epilogue. Knob: GG_SM90_EPILOGUE (accumulating calls excepted).
inline Sm90Epilogue choose_epilogue(const GmmProblem& p, Sm90Tile tile, const Sm90Knobs& knobs = {}) {
    if (p.accumulate) return Sm90Epilogue::kSource;
    if (knobs.epilogue) return *knobs.epilogue;
    if (p.trans_a && tile == Sm90Tile::kPingpong128x128) return Sm90Epilogue::kSource;
    return Sm90Epilogue::kStoreOnly;
}

// Tunables of choose_tile, from side-by-side runs against torch._grouped_mm on an H200 (bench/tune_sm90.py,
// 2026-11-26; docs/perf-notes.md v5).
struct Sm90TilePolicy {
    // The 128-wide-n tiles are used when n is below this (a 256-wide tile would be mostly padding) ...
    int64_t min_n_for_large = 256;
    // ... or when the call has fewer 128x256 output tiles than this many per SM (a persistent grid has one
    // CTA per SM; fewer tiles leave SMs idle, and the smaller tile makes twice as many).
    double min_large_tiles_per_sm = 1.0;
    // Forward with at least this many rows per expert (mixtral-like, 8192) and n a multiple of 256: each expert's
    // tiles are walked in bands (tile_band), on the ping-pong 1x2 tile where DRAM is as fast as on the H200, else on
    // the cluster-free 128x256 tile. At 2048 rows (deepseek-like) the ping-pong tile only ties.
    int64_t min_rows_per_expert_forward_large = 4096;
    // The ping-pong 1x2 tile needs at least this DRAM bandwidth. With bands of 16 it measured 1.05-1.10x torch on the
    // H200 (4.8 TB/s) against 1.01-1.06x for the cluster-free 128x256 tile, but 0.57-0.88x on the H100 (3.35 TB/s),
    // where the cluster-free tile measured 0.97-1.14x (docs/perf-notes.md v13). Not measured in between: the card
    // classes' split (shape_class.h), so that this rule and the measured table's rows part the cards alike.
    double min_dram_bytes_per_s_forward_pingpong = kCardClassDramBytesPerS;
    // Weight gradient with fewer rows per expert than this (seed-300M: 205, small-experts: 256): the 32-deep
    // k tile, 1.00-1.03x torch against 0.99-1.01x for the 64-deep one (every other tile 0.76-0.99x).
    int64_t max_rows_per_expert_transa_k32 = 512;
    // Weight gradients on the cluster-free cooperative tiles claim their tiles at most this many ahead of the
    // consumers (group_tile_order.cuh). Seed-300M zipf 347 against 270 TFLOP/s for the static deal on the 2x1
    // tile, small-experts 400-411 against 372-387; seed-300M uniform 337 against 352; mixtral-like zipf 696-721
    // against 675-681 (H200, docs/perf-notes.md v11); qwen-like on the 256x128 tile, zipf 677-681 against 639-641
    // (v12). Forwards lost up to 6% with claims (small-experts uniform) and keep the static deal, as does the
    // ping-pong weight gradient of smaller experts with n = 1408 (-2% on qwen-like's, v11).
    int32_t transa_claim_ahead = 4;
    // ... except after a tile that reduces over this many rows or more, a long tile: nothing is claimed ahead of it
    // (tile_long_rows). With its tiles last and claims 4 ahead, granite-3.0's dominant up-projection expert at 4096
    // tokens (about 16000 rows) ran at 0.30-0.40x torch (H100). 4096 rows keep the claims ahead where a tile is short
    // enough for the claim's latency to show (seed-300M, small-experts: 200-260 rows; qwen-like 1536).
    int32_t transa_long_tile_rows = 4096;
    // Forward with n a multiple of 128 but not of 256 takes the 256x128 tile from this many rows per expert
    // (qwen-like: 1536), else the 128x128 ping-pong tile (a 256-row tile would be mostly padding).
    int64_t min_rows_per_expert_256_rows = 1024;
    // Forward with n a multiple of 192 and of 128 but not of 256 (gpt-oss: 5760) takes the 128x192 tile from this many
    // rows per expert up to min_rows_per_expert_256_rows (n_in_192_tiles).
    int64_t min_rows_per_expert_forward_192 = 256;
    // Weight gradient with n a multiple of 128 but not of 256 takes the 256x128 tile from this many rows per expert
    // (qwen-like: 1536, reductions as long as deepseek-like's), else the 128x128 ping-pong tile.
    int64_t min_rows_per_expert_transa_256_rows = 1024;
    // Weight gradients with fewer rows per expert than this deal their tiles in runs of about this many rows'
    // work (seed-300M: 205 rows, small-experts: 256; qwen-like's 1536 lost 2-4% with runs of 2).
    int64_t max_rows_per_expert_transa_runs = 1024;
    int32_t transa_run_rows = 2048;
    // Forwards of large experts walk each expert's tiles in bands this many tile rows wide (tile_band).
    int32_t forward_band = 16;
    // Split-K (split_k_chunks): weight gradients of at least this many flops (2 m k n) whose one expert's output, in
    // 128x256 tiles, leaves the last of its waves on the SMs partly empty, in 2 to max_split_chunks chunks whose fp32
    // partial sums take at most max_split_workspace_bytes, when the chunks' waves per chunk come to at most
    // split_max_wave_ratio of the unsplit expert's waves; the device splits the largest expert when it holds at least
    // 1 / split_min_share_inverse of the rows (split_k.cuh). qwen3-30b-a3b's up-projection at 4096 tokens with one
    // dominant expert (206 GFLOP, 96 tiles of dW per expert on 132 SMs) measured 0.42x torch without it (H100 sweep).
    // A call that may split pays for the partial GEMM's and the sum's launches even when the device does not split:
    // 7-12 us on an H100 (docs/perf-notes.md, "Split-K below 150 GFLOP"). The flop bound keeps that to a few percent of
    // such a call and keeps seed-300M's and small-experts' weight gradients (34 and 103 GFLOP, five-configuration
    // benchmark) out, but lets olmoe-1b-7b's and deepseek-v2-lite's down-projections at 4096 tokens in (137 and 142
    // GFLOP): with one dominant expert they measured 0.66x and 0.81x torch unsplit, 1.34x and 0.99x split in two, and
    // their uniform rows 0.98x -> 0.96x and 1.12x -> 1.09x with the split's launches (H100, same loop).
    double min_flops_split = 120e9;
    int32_t max_split_chunks = 8;
    // Experts with as many tiles as SMs or more split too: the 0.3.0 H100 sweep's dominant experts of deepseek-v2-lite's
    // up-projection (176 tiles: 2 waves for 1.33 waves' work), qwen2-57b-a14b's down-projection (280 tiles) and
    // deepseek-v3's down-projection (448 tiles). Their focus rows, same loop on an H100 (docs/perf-notes.md, "Split-K
    // by waves"): deepseek-v2-lite up 4096 0.76 -> 1.03x torch, deepseek-v3 down 16384 0.76 -> 1.16x and 4096 0.82 ->
    // 1.08x, qwen2 down 4096 0.84 -> 1.13x, qwen1.5 up 4096 0.87 -> 1.10x. The 10% margin pays for the partials' traffic
    // and the second GEMM's own tail.
    double split_max_wave_ratio = 0.9;
    // An expert whose tiles fit in one wave does not start them all at once: with the tiles of the other experts dealt
    // and claimed around its own, its long tiles start late and the call ends with them. Its unsplit cost counts this
    // many waves more, so that one wave of long tiles (olmoe-1b-7b's up-projection: 128 tiles on 132 SMs, where the
    // waves alone find no gain) splits in two: 0.77x -> 1.00x torch at 4096 tokens with a dominant expert (H100).
    double split_one_wave_late_start = 0.25;
    // The partials live in the call's workspace: the handle's shared block grows to hold them, and a captured call
    // keeps its own slice of that size for its graph's life (qwen3-30b-a3b: 50 MB in 4 or 8 chunks; deepseek-v3's
    // down-projection, 59 MB a chunk, needs 117 MB for two).
    int64_t max_split_workspace_bytes = int64_t(128) << 20;
    int32_t split_min_share_inverse = 4;
    // Split-K of decode forwards (forward_split_chunks): calls of at most this many rows (1-8 tokens at top-4; mixtral's
    // 16 tokens at top-2), k at least min_k_split_forward deep, chunks of at least 4 k steps (256), at most
    // max_split_chunks_forward chunks and max_split_groups_forward groups (the tile walk reads every group's shape),
    // fp32 partials of at most max_split_workspace_bytes.
    int64_t max_rows_split_forward = 32;
    // Forwards of at most this many rows and fewer rows per expert than this take the 64x128x128 ping-pong tile.
    int64_t max_rows_small_forward = 2048;
    int64_t max_rows_per_expert_small_forward = 64;
    // Such a forward whose experts that can have rows (min(E, m)) give that tile at most this many CTAs splits every
    // expert's k on the tile's own partial kernels, into as many chunks as fit them in one wave (forward_split_chunks):
    // the H100 sweep's bf16 decode forwards under 64 CTAs ran at a median 43% of the HBM floor and 0.86x torch, from
    // 64 CTAs up at 71-96% and 1.12x; at 64 itself phi-3.5-moe's down-projection measured 0.87-0.90x (docs/perf-notes.md).
    int64_t max_ctas_small_forward_unsplit = 64;
    int64_t min_k_split_forward = 1024;
    // Forwards of at most this many rows (one token at top-8) and k at least this deep split as if one expert held every
    // row: the host knows m, not how many experts are live, and with a reduction this long the split's fixed costs are
    // small beside each CTA's stream. H100, one token, chunks forced on the decode tile (same loop): one live expert
    // (dominant routing) of dbrx's, grok-1's and mixtral-8x22b's down-projections 0.85x, 0.76x, 0.75x unsplit, 1.13x,
    // 1.05x, 1.04x in two chunks; with every row's expert live 1.03x, 1.12x, 1.12x unsplit, 1.10x, 1.12x, 1.09x in two.
    // Shorter k lost with every expert live (snowflake-arctic down, k = 4864: 1.15x -> 1.04x; deepseek-v3 up, k = 7168:
    // 1.08x -> 1.03x), as did 32 rows (mixtral-8x7b down at 16 tokens, 1.14x -> 1.09x in four).
    int64_t max_rows_split_one_live = 8;
    int64_t min_k_split_one_live = 8192;
    int32_t max_split_chunks_forward = 16;
    int64_t max_split_groups_forward = 2048;
    // Whether Auto splits FP8 decode forwards (fp8_forward_split_chunks), and from which depth. H100, the FP8 sweep's
    // decode rows with the split as a same-loop variant (docs/perf-notes.md, "The FP8 decode split, measured"): one
    // live expert of llama-4-scout's down-projection at one token (k = 8192, 3 chunks) 0.71-0.73x ->
    // 0.88-0.89x torch._scaled_grouped_mm, mixtral-8x7b's (k = 14336, 4 chunks) 1.10-1.11x -> 1.30-1.32x; granite-3.0's
    // up-projection at one token (k = 1536, 64 CTAs in 2 chunks) lost 8-18 %, hence the depth bound: the rule's other
    // rows did not split.
    bool fp8_split_decode_forward = true;
    int64_t min_k_split_forward_fp8 = 8192;
    // FP8 row-wise calls' tile (choose_fp8_tile), H100, bench/fp8_bench.py, every tile forced as a variant in one loop
    // (docs/perf-notes.md, "FP8: the 128x192 tiles"):
    // - from min_rows_fp8_wide_tile rows, the 128x192 tiles: on the FP8 sweep subset's 48 training rows (4096 and 16384
    //   tokens, six models) the cluster-free one ran 0.99-1.32x the 128x128 tiles' time, geomean 1.14x, and on the five
    //   configurations 0.95-1.18x. Below it (decode and 256-token calls, m <= 2048 in the sweep) nothing was timed, so
    //   those calls keep the 128x128 tiles;
    // - the 2x1 cluster (B multicast, walked along N) from this many rows per expert on average: 128x128 from 768
    //   (the tiles' first measurement: qwen-like 1536 rows per expert 1003 against 954 TFLOP/s, small-experts 256 rows
    //   620 against 541); 128x192 from 1536, where the zipf configurations' largest expert streams its rows once per
    //   column of tiles when walked along M (qwen-like zipf 1016 against 917, deepseek-like 1085 against 965,
    //   mixtral-like 1115 against 1032), while at 256-1024 rows per expert the cluster-free tile won (llama-4-scout up
    //   at 16384 tokens, 1024 rows: 1.24-1.27x against 1.09-1.10x). Over the 58 rows, the cluster from 1536 rows gave
    //   1.136x the 128x128 tiles' time (lowest 1.013x), from 768 1.116x, the cluster-free tile alone 1.127x (lowest 0.951x,
    //   qwen-like zipf), and the best tile of each row 1.142x.
    int64_t min_rows_fp8_wide_tile = 4096;
    int64_t min_rows_per_expert_fp8_cluster = 768;
    int64_t min_rows_per_expert_fp8_wide_cluster = 1536;
    // Whether Auto gives FP8 calls with block scales to cutlass-sm90 (BlockScaledGemmConfig) where it takes them, rather
    // than to the portable kernel (fp8_block_scales_in_auto). The portable kernel ran block scales at 0.02-0.09x
    // torch._scaled_grouped_mm's row-wise time on the H100 (docs/perf-notes.md, 0.5.0); the 0.11.0 release run times
    // Auto against the portable kernel by name on the same library (docs/release.md).
    bool fp8_block_scales_in_auto = true;
    // Weight gradients with device counts of at most this many rows (m) run our decode weight-gradient kernel
    // (cutlass_common/decode_weight_gradient.cuh: one launch, empty experts' zeros included) instead of the fill kernel,
    // the grouped GEMM and zero_empty_experts (decode_weight_gradient). 0: never. Its blocks walk their expert's rows on
    // CUDA cores, so its time grows with the rows of the largest expert, which the host does not know: the bound is on
    // m, the most any expert can hold. H100, same loop, bf16, the sweep's weight gradients (docs/perf-notes.md, "The
    // decode weight-gradient kernel, measured"): one token (m <= 8, 75 rows) 1.07-1.38x torch, none below, against
    // 0.65-1.11x (14 below 1.0) on the GEMM path; 16 rows (llama-4 at 16 tokens) 1.02-1.11x against 1.00-1.08x (slower
    // only where one expert holds most rows: scout dominant 1.02-1.03x against 1.04-1.06x); 32 and 64
    // rows of 8 or 16 experts lost to the GEMM path (grok-1, mixtral, dbrx at 16 tokens: 0.81-0.97x against 0.95-1.05x),
    // and 2048 rows ran at 0.10-0.55x. Knob: GG_SM90_DECODE_WGRAD=<rows>.
    int64_t max_rows_decode_weight_gradient = 16;
    // Forwards with device counts of at most max_rows_decode_forward rows (m; weights [E, k, n]) or
    // max_rows_decode_forward_transb rows (trans_b: [E, n, k]), whose live experts' weights are at most
    // max_weight_bytes_decode_forward (decode_groups::weight_bytes_bound), run our decode forward kernel
    // (cutlass_common/decode_forward.cuh: one launch, the weights streamed once into mma.sync) instead of the group-array
    // fill and the grouped GEMM (decode_forward). At most decode_groups::kMaxRows. Knob: GG_SM90_DECODE_FWD=<rows>, both
    // layouts and any bytes. The bounds are bench/sweep/decode_rules.py's picks from the measurements
    // bench/sweep/decode-rules.json lists (the gg_decode_rules ctest checks them):
    // H100, same loop, bf16, the sweep's forwards at 1 and 16 tokens of ten models (docs/perf-notes.md, "The decode
    // kernels, first measured"; one block per group and column block), the kernel's speed over the GEMM path's: trans_b
    // at one token (m <= 8) 0.99-1.61x on the 44 rows of at most 128 MiB of live weights, one below 1.0
    // (llama-4-maverick down 1.19-1.20x, qwen3-30b-a3b 1.07-1.61x, granite-3.0 1.16-1.47x), 0.92-1.13x on the 36 above
    // it, 23 below 1.0 (deepseek-v3 up, 470 MB; grok-1, mixtral and dbrx up, which the GEMM path streams near the HBM
    // floor); 0.35-1.48x at 16 tokens, 76 of 80 below 1.0; the [E, k, n] layout (16-byte loads of 32 columns, 64
    // contiguous bytes a weight row) 0.32-1.51x, 145 of 160 below 1.0, and stays on the GEMM path. H200, the same plan,
    // the kernel with its column-block walk: on the 44 rows of this rule 1.017x 0.12.0's speed in geometric mean
    // (0.77-1.41x, 18 below 1.0), every one at least 1.04x torch, where 0.12.0 had two below 1.0.
    int64_t max_rows_decode_forward = 0;
    int64_t max_rows_decode_forward_transb = 8;
    double max_weight_bytes_decode_forward = 128.0 * 1024 * 1024;
    // Weight gradients with device counts of more rows than that, and min_mean_rows_decode_short to
    // max_mean_rows_decode_short rows per expert on average (16 tokens over 16 to 128 experts at top-k, 32-64 rows over
    // 8-16 experts): the experts of at most decode_short_expert_rows rows, empty ones included, on the decode
    // weight-gradient kernel, the others, such as a dominant expert whose rows the kernel would walk one by one, on the
    // grouped GEMM, which gives them alone tiles (decode_weight_gradient_short_rows).
    // H100, same loop, bf16, the sweep's 149 weight gradients at 16 tokens (docs/perf-notes.md, "The decode
    // weight-gradient kernel beside the GEMM, measured"), experts of at most 16 rows on the kernel in the mixed block
    // order against the GEMM path, where the experts hold 1 to 4 rows on average, uniform and zipf routing: granite-3.0
    // 1.20-1.28x torch against 0.79-1.02x; qwen1.5, olmoe and deepseek-v2-lite 1.09-1.36x against 1.03-1.19x; the 8-16
    // experts of mixtral, dbrx, grok-1 and jetmoe 0.96-1.08x against 0.95-0.99x. Slower where one or two experts hold
    // most rows: granite up dominant 1.01 -> 0.91x, dbrx, grok-1 and mixtral empty up to 1.08 -> 0.96x. Over the 149
    // rows with this rule: geometric mean 1.039 -> 1.076, below 1.0 32 -> 21, below 0.9 4 -> 1. Below one row per expert
    // (gpt-oss-120b, deepseek-v3, snowflake-arctic) the kernel beside the GEMM gained nothing; at 256 tokens, 16 rows per
    // expert, it lost a third in the experts-major order (qwen3-30b, qwen1.5, deepseek-v3 uniform: 0.66-0.76x against
    // 1.03-1.16x). In the experts-major order bounds of 8, 16 and 32 rows measured geometric means of 1.028, 1.028 and
    // 1.012 over the 149 rows, below the mixed order's 1.073 at 16. Knob: GG_SM90_DECODE_SHORT=<rows>.
    int64_t decode_short_expert_rows = 16;
    int64_t min_mean_rows_decode_short = 1;
    int64_t max_mean_rows_decode_short = 4;
    // The decode weight-gradient kernel's blocks take the mixed order (every expert's tiles in each wave) from this many
    // rows per expert on average, experts major below (same measurements): beside the GEMM, mixed 0.96-1.09x torch
    // against 0.80-1.07x experts major on mixtral, dbrx and grok-1 at 16 tokens, 1.01-1.08x against 0.84-1.04x on jetmoe;
    // the kernel alone on llama-4-scout's 16 rows over 16 experts 1.07-1.11x against 1.02-1.08x; llama-4-maverick's 16
    // rows over 128 experts lost with it (1.04-1.06x against 1.09-1.10x). Knob: GG_SM90_DECODE_MIX=0|1.
    int64_t min_mean_rows_decode_mixed = 1;
    // Whether choose_tile consults the measured tile table (sm90_tile_table.inc) before the rules above; off: the rules
    // alone (gg_sm90_choice --rules, which bench/sweep/make_tile_table.py measures a table's gain against, so that
    // timings taken with a table already in the library give the same table again).
    bool use_tile_table = true;
    // The row bound R of the routing rule (contiguous_tiling.h: route_contiguous) for forwards whose tile is our
    // contiguous kernel or the cluster-free 128x256 tile (device_route_rows, host_route_tile): with device counts the
    // fill kernel chooses between them and both are launched, the one not chosen exiting at once; with host counts the
    // host chooses. 0: off, the host's tile alone. H100, same loop, 160 forward and trans_b rows of 4096-65536 tokens in
    // each of bf16 and fp16 on 8 models, every routing (bench/sweep/plans/device-route.txt and
    // compute-bound-forwards.txt; docs/perf-notes.md, "The device route choice, measured"): where the rule ran the other
    // kernel than the host's tile (20 rows a dtype) the call took 0.939x (bf16) and 0.945x (fp16) of Auto's time, none
    // slower; where it ran the same one (128 rows) 1.002x and 0.998x, so the second launch costs nothing measurable on
    // calls of this size; over the 148 routable rows Auto went from 1.108x to 1.116x torch in bf16 and 1.052x to 1.062x
    // in fp16 (llama-4-maverick's up-projection at 16384 tokens, empty routing, fp16: 0.77-0.80x -> 0.91-0.93x).
    // R = 160-224 gave the same picks on those rows, 128 and 256 worse (bench/sweep/route_rule.py).
    // Knob: GG_SM90_ROUTE=<rows>, on any card.
    int64_t route_rows = 192;
    // R is about peak flops over DRAM bandwidth, in rows, so a card with faster DRAM wants a smaller one, and the rule
    // was measured on the H100 only: cards from this bandwidth on (the card classes' split, shape_class.h: the H200)
    // keep the host's tile until a run there gives their bound.
    double max_dram_bytes_per_s_route = kCardClassDramBytesPerS;
    // ... and only calls of at least this many rows, the measured range's smallest (4096 tokens at top-1): the rule
    // weighs memory against compute and not how many SMs a kernel's tiles fill, which the contiguous kernel adapts to
    // (64-row tiles) and the 128x256 tile does not. jetmoe-8b's down-projection at 256 tokens with 2 live experts of 256
    // rows (512 rows) would go to the 128x256 tile's 32 tiles on 132 SMs.
    int64_t min_rows_route = 4096;
    // The second routing rule (contiguous_tiling.h: RouteRule::max_row_tiles): trans_b forwards whose tile is the
    // 64x128x128 decode tile (pingpong64x128k128) run our contiguous kernel instead where the decode tile's CTAs (its
    // 64-row tiles times n's 128-column tiles) fill at most half the SMs (decode_route_row_tiles). H100, same loop, 88
    // rows of 16 tokens on 11 models, every routing (bench/sweep/plans/transb-decode-routing.txt; docs/perf-notes.md,
    // "trans_b decode forwards by the routing"): the three rows at 32-64 CTAs ran 1.10-1.46x faster on the contiguous
    // kernel (jetmoe-8b down, empty and dominant routing; mixtral-8x7b down, empty: 0.81-0.89x torch), the 85 from 96
    // CTAs up ran 0.91-1.07x, the decode tile ahead on 78 of them. Only calls of at most max_rows_route_decode rows (the
    // measured range: 16 tokens at top-1 to top-8) and cards below max_dram_bytes_per_s_route (the H100's class, as the
    // first rule).
    bool route_decode = true;
    int64_t max_rows_route_decode = 128;
    // ... and of at least min_rows_route_decode rows: one-token calls (1-8 rows at top-1 to top-8) keep the decode tile
    // alone. 0.16.0 routed them too, and none gained: six of its routed one-token rows ran 1-12 % slower than 0.15.0
    // (H100, plan release-auto.txt; docs/h100/release-auto-0.16.0/). Without them, same loop against 0.16.0 on 152
    // one-token trans_b rows, every model and routing (plan transb-decode-route-one-token.txt;
    // docs/h100/transb-decode-route-one-token-0.17.0-dev/): geomean 1.004x, none slower by 5 %, deepseek-v3's and
    // qwen3-235b-a22b's up-projections with dominant routing 1.09-1.12x faster (0.76x -> 0.85x, 0.80x -> 0.87x torch).
    int64_t min_rows_route_decode = 16;
};
constexpr Sm90TilePolicy kSm90TilePolicy{};

// The work, in rows reduced, of each run of consecutive output tiles of one expert that the round-robin deal hands
// to a persistent cluster (group_tile_order.cuh): a run holds up to run_rows / (expert's rows + 256) tiles (the
// largest divisor of the expert's tile count within that). Weight gradients of small experts take runs of ~2048
// rows' work; everything else single tiles (0, CUTLASS's order). Fixed runs of 4 tiles measured 1.09-1.11x on
// uniform seed-300M and small-experts weight gradients but 0.58-0.98x on forwards (H200, docs/perf-notes.md v10).
// Knob: GG_SM90_RUN_ROWS.
inline int32_t tile_run_rows(const GmmProblem& p, const Sm90Knobs& knobs = {},
                             const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (knobs.run_rows) return *knobs.run_rows;
    return p.trans_a && mean_rows_per_expert(p) < policy.max_rows_per_expert_transa_runs ? policy.transa_run_rows : 0;
}

// Whether clusters of one CTA claim their runs from a counter as they need them (group_tile_order.cuh), and how many
// tiles ahead of their consumers; 0: the static round-robin deal. Weight gradients on the cluster-free cooperative
// tiles (128x256, 128x256x32, 256x128) claim; everything else keeps the static deal (clusters of two CTAs always do).
// Knob: GG_SM90_CLAIM.
inline int32_t tile_claim_ahead(const GmmProblem& p, Sm90Tile tile, const Sm90Knobs& knobs = {},
                                const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (knobs.claim_ahead) return *knobs.claim_ahead;
    const bool cooperative_one_cta = tile == Sm90Tile::kCooperative128x256Cluster1x1 ||
                                     tile == Sm90Tile::kCooperative128x256K32Cluster1x1 ||
                                     tile == Sm90Tile::kCooperative256x128 || tile == Sm90Tile::kCooperative128x192;
    // Our contiguous kernel claims one tile at a time (it has no lookahead to set): its tail tiles cost less than
    // whole ones, which a static deal cannot turn into time.
    if (tile == Sm90Tile::kContiguous256x128) return 1;
    return p.trans_a && cooperative_one_cta ? policy.transa_claim_ahead : 0;
}

// The reduction, in rows, from which a claimed tile counts as long: no tile is claimed ahead of one
// (group_tile_order.cuh: GroupTileShapes::long_rows). Weight gradients only (forwards' claims are our contiguous
// kernel's, one tile at a time). Knob: GG_SM90_LONG=<rows> (0: no limit).
inline int32_t tile_long_rows(const GmmProblem& p, const Sm90Knobs& knobs = {},
                              const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (knobs.long_rows) return *knobs.long_rows;
    return p.trans_a ? policy.transa_long_tile_rows : 0;
}

// Whether the largest expert's arrays take group 0 (GroupRule::largest_first), so that the tile walk, which deals groups
// in order, starts its tiles first. In a weight gradient its tiles are the longest (they reduce over its rows): dealt
// in the first round they run beside the others' tiles, where in the experts' order a dominant expert near the end left
// its tiles to the last clusters free (granite-3.0's up-projection at 4096 tokens, dominant: 0.40x torch, H100 sweep).
// Forwards keep the experts' order (every tile reduces over the same k). Knob: GG_SM90_FIRST=0|1.
inline bool largest_expert_first(const GmmProblem& p, const Sm90Knobs& knobs = {}) {
    if (knobs.largest_first) return *knobs.largest_first;
    return p.trans_a;
}

// The width, in tile units along the walk's fast direction, of the bands each group's tiles are walked in
// (group_tile_order.cuh); 0: no bands. Forwards of large experts (4096 rows per expert and more; mixtral-like has
// 8192) on the two tiles the policy gives them walk bands of 16 units, 2048 rows: walked along M without bands, an
// expert whose A outgrows L2 (67 MB at 8192 rows and k = 4096) is read from DRAM again for every column of tiles.
// On the H200's ping-pong 1x2 tile: zipf 716-719 against 684-700 TFLOP/s, uniform 674-686 against 666-679 (bands of
// 8 and 32: no gain on zipf). On the H100's cluster-free 128x256 tile, bands of 8 to 32: 1.01-1.14x torch in bf16
// against 0.91-0.93x without. Weight gradients and deepseek-like's forward (bands of 4 and 8) were level with the
// unbanded walk (H200, docs/perf-notes.md v13). A band at least as wide as an expert's tiles is no band, so smaller
// experts walk as before.
// Knob: GG_SM90_BAND.
inline int32_t tile_band(const GmmProblem& p, Sm90Tile tile, const Sm90Knobs& knobs = {},
                         const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (knobs.band) return *knobs.band;
    const bool large_forward = !p.trans_a && mean_rows_per_expert(p) >= policy.min_rows_per_expert_forward_large;
    const bool banded_tile =
        tile == Sm90Tile::kPingpong128x128Cluster1x2 || tile == Sm90Tile::kCooperative128x256Cluster1x1;
    return large_forward && banded_tile ? policy.forward_band : 0;
}

// Output tiles of M x N size the call makes: exact when the host knows the group sizes, else estimated
// (device counts: on average half a tile of M is wasted per expert, and at most m experts have rows: at 1-8 tokens the
// estimate counted 64 experts' tiles where 4-8 have rows, so gpt-oss's and qwen3-30b-a3b's one-token forwards ran 12-48
// CTAs of the 128x256 tile, 0.47-0.94x torch in the H100 sweep, instead of the ping-pong tile's twice as many).
inline int64_t estimate_output_tiles(const GmmProblem& p, const int32_t* host_problem_sizes, int64_t tile_m,
                                     int64_t tile_n) {
    const int64_t tiles_n = (p.n + tile_n - 1) / tile_n;
    if (host_problem_sizes != nullptr) {
        int64_t tiles = 0;
        for (int64_t e = 0; e < p.num_experts; ++e) {
            tiles += (host_problem_sizes[3 * e] + tile_m - 1) / tile_m;
        }
        return tiles * tiles_n;
    }
    if (p.trans_a) return p.num_experts * ((p.k + tile_m - 1) / tile_m) * tiles_n;
    const int64_t half_the_experts = (p.num_experts + 1) / 2;
    return (p.m / tile_m + (p.m < half_the_experts ? p.m : half_the_experts)) * tiles_n;
}

// Whether n is cut exactly by the 192-wide tile and not by the 256-wide ones (gpt-oss: 2880 and 5760; 1408 is not).
// There the 256-wide tiles end in a partial column of tiles, and the 128-wide ping-pong tile that served 2880 (not a
// multiple of 128) and small experts' 5760 measured 0.42-0.80x torch in weight gradients and 0.60-0.78x in forwards of
// ~512 rows per expert (H100 sweep, docs/h100/sweep.md).
inline bool n_in_192_tiles(const GmmProblem& p) { return p.n % 192 == 0 && p.n % 256 != 0; }

// Forwards of decode size: few rows per expert on average (1-8 tokens at any top-k, up to 256 tokens over many
// experts). Our contiguous kernel takes them where it can: it picks its tile height and split-K on the device from the
// experts' actual rows (contiguous_tiling.h), so one expert holding every row splits while rows spread over many
// experts do not, where the host, which knows m and not the routing, had to choose for both. The 64x128x128 ping-pong
// tile (docs/perf-notes.md, "Decode forwards, taken apart") keeps the calls the contiguous kernel does not take.
inline bool small_forward(const GmmProblem& p, const Sm90TilePolicy& policy = kSm90TilePolicy) {
    return !p.trans_a && p.m <= policy.max_rows_small_forward &&
           mean_rows_per_expert(p) < policy.max_rows_per_expert_small_forward;
}

// One row of the measured tile table: a shape class and the tile it takes.
struct TileTableRow {
    ShapeClass shape;
    Sm90Tile tile;
};

// Auto's measured tile table (sm90_tile_table.inc, generated by bench/sweep/make_tile_table.py from side-by-side runs
// of every tile on the sweep's shapes). A class it names takes its tile; every other class, tile_choice's rules below.
inline constexpr TileTableRow kSm90TileTable[] = {
#define GG_SM90_TILE_TABLE_ROW(form, rows, n, k, card, tile) \
    {{FormClass::form, RowsClass::rows, NClass::n, KClass::k, CardClass::card}, Sm90Tile::tile},
#include "cutlass_sm90/sm90_tile_table.inc"
#undef GG_SM90_TILE_TABLE_ROW
    // A sentinel, so that an empty table is still an array; its tile is never returned (table_tile skips it).
    {{FormClass::kForward, RowsClass::kBelow16, NClass::k256, KClass::kBelow1024, CardClass::kBelow4500GBs},
     Sm90Tile::kCooperative128x256},
};
inline constexpr size_t kSm90TileTableRows = sizeof(kSm90TileTable) / sizeof(kSm90TileTable[0]) - 1;

// The table's tile for p's class, if a row names it. Accumulating calls keep the rules: the table is measured without
// accumulation, and a tile's source-epilogue kernels are not in every release set. `rows`/`count`: another table
// (tile_table_test.cpp).
inline std::optional<Sm90Tile> table_tile(const GmmProblem& p, double dram_bytes_per_s,
                                          const TileTableRow* rows = kSm90TileTable,
                                          size_t count = kSm90TileTableRows) {
    if (p.accumulate) return std::nullopt;
    const ShapeClass c = classify(p, dram_bytes_per_s);
    for (size_t i = 0; i < count; ++i) {
        if (!(rows[i].shape == c)) continue;
        // Our contiguous kernel takes only some calls of a class (at most kContiguousMaxExperts experts, no trans_a):
        // the others keep the rules.
        if (rows[i].tile == Sm90Tile::kContiguous256x128 && !contiguous_eligible(p)) return std::nullopt;
        return rows[i].tile;
    }
    return std::nullopt;
}

// `dram_bytes_per_s`: the card's peak DRAM bandwidth (DeviceInfo); 0 when unknown. Knob: GG_SM90_TILE.
inline Sm90Tile choose_tile(const GmmProblem& p, const int32_t* host_problem_sizes, int sm_count,
                            double dram_bytes_per_s, const Sm90Knobs& knobs = {},
                            const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (knobs.tile) return *knobs.tile;
    if (policy.use_tile_table) {
        if (const auto measured = table_tile(p, dram_bytes_per_s)) return *measured;
    }
    if (small_forward(p, policy)) {
        return contiguous_eligible(p) ? Sm90Tile::kContiguous256x128 : Sm90Tile::kPingpong64x128K128;
    }
    if (p.n < policy.min_n_for_large) return Sm90Tile::kPingpong128x128;
    const int64_t large_tiles = estimate_output_tiles(p, host_problem_sizes, 128, 256);
    if (static_cast<double>(large_tiles) < policy.min_large_tiles_per_sm * (sm_count > 0 ? sm_count : 1)) {
        return Sm90Tile::kPingpong128x128;
    }
    const int64_t rows_per_expert = mean_rows_per_expert(p);
    const bool n_in_256_tiles = p.n % 256 == 0;
    if (p.trans_a) {
        // Output tiles are K x N per expert, reduced over the expert's rows. n = 2880 or 5760: the cluster-free 128x192
        // tile, claimed, whatever the experts' rows (the 256x128 tile cuts 2880 rows of output into 11.25 tile rows).
        if (n_in_192_tiles(p)) return Sm90Tile::kCooperative128x192;
        if (!n_in_256_tiles) {
            // n = 1408 (qwen-like, 1536 rows): the cluster-free 256x128 tile, claimed and walked along N, 1.10-1.11x
            // torch uniform and 1.16-1.17x zipf against 1.02-1.05x for the ping-pong tile (H200, docs/perf-notes.md
            // v12). Smaller experts, and n not a multiple of 128, keep the ping-pong tile (not measured on the 256x128).
            return p.n % 128 == 0 && rows_per_expert >= policy.min_rows_per_expert_transa_256_rows
                       ? Sm90Tile::kCooperative256x128
                       : Sm90Tile::kPingpong128x128;
        }
        // Both cluster-free, so that their tiles are claimed (tile_claim_ahead): small experts the 32-deep k tile,
        // the others (deepseek-like 2048 rows: 1.02-1.03x against 1.01-1.02x for the 2x1 tile; mixtral-like 8192:
        // 1.01x against 0.94-0.99x for the 1x2 ping-pong tile, H200, docs/perf-notes.md v11) the 64-deep one.
        if (rows_per_expert < policy.max_rows_per_expert_transa_k32) return Sm90Tile::kCooperative128x256K32Cluster1x1;
        return Sm90Tile::kCooperative128x256Cluster1x1;
    }
    // n = 5760 (gpt-oss up-projection) at ~512 rows per expert: the 128x192 tile, where the ping-pong tile measured
    // 0.60-0.78x torch. Smaller experts keep the ping-pong tile (1.02-1.16x at 32 and 128 rows), larger ones the
    // 256-row tiles below (1.00-1.07x at 2048 rows), and n = 2880 the 128x256 tile at the end (0.95-1.29x from 4096
    // tokens), all H100 sweep rows. Not for accumulating forwards: the release build carries no source epilogue of
    // this tile for forwards (sm90_tiles.def).
    if (n_in_192_tiles(p) && p.n % 128 == 0 && !p.accumulate &&
        rows_per_expert >= policy.min_rows_per_expert_forward_192 &&
        rows_per_expert < policy.min_rows_per_expert_256_rows) {
        return Sm90Tile::kCooperative128x192;
    }
    if (!n_in_256_tiles && p.n % 128 == 0) {
        // n = 1408: 1.05-1.07x against 1.01x, where experts fill 256-row tiles; small experts keep 128 rows. Our
        // contiguous kernel has the same tile and runs qwen-like at 1.16-1.17x torch against 1.07-1.10x for CUTLASS's
        // (H200, v16). Deepseek-like and mixtral-like (n a multiple of 256) stay on CUTLASS's clustered tiles, which
        // measured 0.95-1.04 of dense there against 0.87-0.99 for its prototype.
        if (rows_per_expert < policy.min_rows_per_expert_256_rows) return Sm90Tile::kPingpong128x128;
        return contiguous_eligible(p) ? Sm90Tile::kContiguous256x128 : Sm90Tile::kCooperative256x128;
    }
    if (n_in_256_tiles && rows_per_expert >= policy.min_rows_per_expert_forward_large) {
        const bool fast_dram = dram_bytes_per_s >= policy.min_dram_bytes_per_s_forward_pingpong;
        return fast_dram ? Sm90Tile::kPingpong128x128Cluster1x2 : Sm90Tile::kCooperative128x256Cluster1x1;
    }
    // seed-300M zipf 1.16x (the 2x1 cluster: 0.99x), small-experts 1.08-1.12x, deepseek-like 1.05-1.06x.
    return Sm90Tile::kCooperative128x256Cluster1x1;
}

// Whether a weight gradient runs our decode weight-gradient kernel (cutlass_common/decode_weight_gradient.cuh) instead
// of the grouped GEMM path: device counts (the kernel finds each expert's rows on the device; host counts keep the GEMM),
// at most max_rows_decode_weight_gradient rows, no forced tile, and the kernel's blocks within a one-dimensional grid.
// Each block reads its expert's rows one after another, so the bound keeps an expert that holds every row short.
// Knob: GG_SM90_DECODE_WGRAD=<rows> (0: never).
inline bool decode_weight_gradient(const GmmProblem& p, const Sm90Knobs& knobs = {},
                                   const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (!p.trans_a || !p.counts_on_device || p.num_experts < 1 || p.m < 1 || knobs.tile) return false;
    const int64_t bound = knobs.decode_wgrad_rows ? *knobs.decode_wgrad_rows : policy.max_rows_decode_weight_gradient;
    if (p.m > bound) return false;
    const int64_t blocks_per_expert = cutlass_grouped::decode_grad_tiles_i(p.k) * cutlass_grouped::decode_grad_tiles_j(p.n);
    return p.num_experts <= 0x7fffffff / blocks_per_expert;
}

// Whether a forward or trans_b forward runs our decode forward kernel (cutlass_common/decode_forward.cuh) instead of the
// grouped GEMM path: device counts (each block scans them; host counts keep the GEMM), within the kernel's limits
// (decode_groups::fits: the scan's rows and experts), no forced tile or split, then the policy's rows for the layout and
// bytes of live weights. The backend's own rules (k and n multiples of 8, 16-byte aligned operands) are the kernel's.
// Knob: GG_SM90_DECODE_FWD=<rows> (0: never) in place of the policy.
inline bool decode_forward(const GmmProblem& p, const Sm90Knobs& knobs = {},
                           const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (p.trans_a || !p.counts_on_device || knobs.tile || knobs.split_chunks) return false;
    if (!decode_groups::fits(p.m, p.num_experts)) return false;
    if (knobs.decode_fwd_rows) return p.m <= *knobs.decode_fwd_rows;
    const int64_t bound = p.trans_b ? policy.max_rows_decode_forward_transb : policy.max_rows_decode_forward;
    return p.m <= bound && decode_groups::weight_bytes_bound(p.m, p.num_experts, p.k, p.n, dtype_size(p.dtype)) <=
                               policy.max_weight_bytes_decode_forward;
}

// The experts of at most this many rows that a weight gradient leaves to the decode weight-gradient kernel, the others
// going to the grouped GEMM (group_arrays.cuh: GroupRule::gemm_min_rows), or 0 for none: device counts only (each side
// reads the experts' rows on the device), calls the kernel does not take whole (decode_weight_gradient), at most
// min_mean_rows_decode_short to max_mean_rows_decode_short rows per expert on average, no forced tile, the kernel's blocks
// within a one-dimensional grid. A forced GG_SM90_DECODE_SHORT=<rows> applies to every such weight gradient, whatever its
// mean rows (0: none).
// The GEMM side then splits no expert (split-K's plan could take an expert the kernel writes).
inline int64_t decode_weight_gradient_short_rows(const GmmProblem& p, const Sm90Knobs& knobs = {},
                                                 const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (!p.trans_a || !p.counts_on_device || p.num_experts < 1 || p.m < 1 || knobs.tile) return 0;
    if (decode_weight_gradient(p, knobs, policy)) return 0;
    const int64_t rows = knobs.decode_short_rows ? *knobs.decode_short_rows : policy.decode_short_expert_rows;
    if (rows < 1) return 0;
    const int64_t mean = mean_rows_per_expert(p);
    if (!knobs.decode_short_rows &&
        (mean < policy.min_mean_rows_decode_short || mean > policy.max_mean_rows_decode_short)) {
        return 0;
    }
    const int64_t blocks_per_expert = cutlass_grouped::decode_grad_tiles_i(p.k) * cutlass_grouped::decode_grad_tiles_j(p.n);
    return p.num_experts <= 0x7fffffff / blocks_per_expert ? rows : 0;
}

// Split-K of a weight gradient's largest expert (split_k.cuh): how many chunks its rows are cut into, or 0 for none.
// Only with device counts (the device finds the largest expert and splits it when it holds at least
// 1 / split_min_share_inverse of the rows; host counts give the scheduler host tile counts that must match the device's)
// and without a forced tile. The chunk count minimises the waves of S x (tiles of one expert) on the SMs per chunk,
// ceil(S x T / SMs) / S, the smallest S on ties, within the workspace bound, and splits only when that comes to at
// most split_max_wave_ratio of the unsplit expert's ceil(T / SMs) waves (plus split_one_wave_late_start when T fits in
// one wave), and none where the decode weight-gradient kernel takes the call. Knob: GG_SM90_SPLIT=<chunks> (0, or 2 to 8).
inline int32_t split_k_chunks(const GmmProblem& p, int sm_count, const Sm90Knobs& knobs = {},
                              const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (!p.trans_a || !p.counts_on_device || p.num_experts < 1) return 0;
    // None where the decode weight-gradient kernel takes the call, whole or beside the GEMM: the split's plan could take
    // an expert that kernel writes.
    if (decode_weight_gradient(p, knobs, policy) || decode_weight_gradient_short_rows(p, knobs, policy) > 0) return 0;
    const int64_t partial_bytes = p.k * p.n * static_cast<int64_t>(sizeof(float));
    if (knobs.split_chunks) {
        const int32_t forced = *knobs.split_chunks;
        return forced >= 2 ? forced : 0;
    }
    if (knobs.tile || 2.0 * static_cast<double>(p.m) * p.k * p.n < policy.min_flops_split) return 0;
    const int64_t sms = sm_count > 0 ? sm_count : 1;
    const int64_t tiles = ((p.k + 127) / 128) * ((p.n + 255) / 256);
    // Waves of the unsplit expert's tiles, and its late start when they fit in one.
    const double unsplit = static_cast<double>((tiles + sms - 1) / sms) +
                           (tiles <= sms ? policy.split_one_wave_late_start : 0.0);
    int32_t best = 0;
    double best_cost = unsplit;
    for (int32_t s = 2; s <= policy.max_split_chunks; ++s) {
        if (s * partial_bytes > policy.max_split_workspace_bytes) break;
        const double cost = static_cast<double>((s * tiles + sms - 1) / sms) / s;
        if (cost < best_cost) {
            best_cost = cost;
            best = s;
        }
    }
    return best_cost <= policy.split_max_wave_ratio * unsplit ? best : 0;
}

// The decode weight-gradient kernel's block order (decode_weight_gradient_tiles.h: decode_grad_place): mixed (each wave
// holding every expert's tiles, so that a long expert's row walk overlaps the other experts' stores) from
// min_mean_rows_decode_mixed rows per expert on average, else experts major. Knob: GG_SM90_DECODE_MIX=0|1.
inline bool decode_weight_gradient_mixed(const GmmProblem& p, const Sm90Knobs& knobs = {},
                                         const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (knobs.decode_wgrad_mixed) return *knobs.decode_wgrad_mixed;
    return mean_rows_per_expert(p) >= policy.min_mean_rows_decode_mixed;
}

// The experts of a decode forward that can have rows: at most one per row (split_k.cuh: fill_forward_split gives only
// them groups).
inline int64_t forward_split_slots(const GmmProblem& p) { return p.m < p.num_experts ? p.m : p.num_experts; }

// The CTAs of a decode forward on a tile_m x tile_n tile, counted for the worst case Auto splits for: the experts that
// can have rows (min(E, m)) sharing the rows evenly, or one live expert holding them all when the call has at most
// max_rows_split_one_live rows and k >= min_k_split_one_live (the host knows m, not how many experts are live, and with
// a reduction this long the split's fixed costs are small beside each CTA's stream).
inline int64_t decode_forward_ctas(const GmmProblem& p, int64_t tile_m, int64_t tile_n,
                                   const Sm90TilePolicy& policy = kSm90TilePolicy) {
    const bool one_live = p.m <= policy.max_rows_split_one_live && p.k >= policy.min_k_split_one_live;
    const int64_t live = one_live ? 1 : forward_split_slots(p);
    const int64_t rows_each = (p.m + live - 1) / live;
    return live * ((rows_each + tile_m - 1) / tile_m) * ((p.n + tile_n - 1) / tile_n);
}

// How many chunks every expert's k is cut into when a decode forward of `ctas` CTAs a chunk splits: as many as fit them
// in one wave of the SMs (a second, partly empty wave would cost a whole chunk's time: maverick's 40 CTAs in 4 chunks,
// 160 tiles on 132 SMs, 0.90-0.95x torch; phi-3.5-moe's 64 in 3: 0.82-0.87x), each at least 4 of the kernel's k steps
// deep (`steps` in all), at most max_split_chunks_forward chunks and max_split_groups_forward groups (the tile walk reads
// every group's shape), fp32 partials of at most max_split_workspace_bytes. One rule for the bf16/fp16 split
// (forward_split_chunks) and the FP8 one (fp8_forward_split_chunks).
inline int64_t one_wave_forward_chunks(const GmmProblem& p, int64_t ctas, int64_t steps, int sm_count,
                                       const Sm90TilePolicy& policy = kSm90TilePolicy) {
    const int64_t sms = sm_count > 0 ? sm_count : 1;
    int64_t chunks = sms / (ctas > 0 ? ctas : 1);
    if (chunks > steps / 4) chunks = steps / 4;
    if (chunks > policy.max_split_chunks_forward) chunks = policy.max_split_chunks_forward;
    const int64_t by_groups = policy.max_split_groups_forward / forward_split_slots(p);
    if (chunks > by_groups) chunks = by_groups;
    const int64_t by_bytes = policy.max_split_workspace_bytes / (p.m * p.n * static_cast<int64_t>(sizeof(float)));
    if (chunks > by_bytes) chunks = by_bytes;
    return chunks;
}

// How a split decode forward's k is cut: chunks of chunk_k, a whole number of the kernel's k steps (so that each chunk's
// operands stay aligned for TMA), `used` of them (the last may be shorter; fewer than asked when the steps run out).
struct ChunkDepth {
    int64_t chunk_k = 0;
    int32_t used = 0;
};
inline ChunkDepth chunk_depth(int64_t k, int32_t chunks, int64_t k_step) {
    const int64_t steps = (k + k_step - 1) / k_step;
    ChunkDepth d;
    d.chunk_k = (steps + chunks - 1) / chunks * k_step;
    d.used = static_cast<int32_t>((k + d.chunk_k - 1) / d.chunk_k);
    return d;
}

// How many chunks a decode forward's k is cut into on a tile of tile_m rows (128 columns) and k_step-deep k steps, or 0:
// `forced` chunks when a knob forces them, else, when `rule` applies, k >= min_k and the tile's CTAs
// (decode_forward_ctas) number at most max_ctas_small_forward_unsplit, one_wave_forward_chunks of them. Forwards of at
// most max_rows_split_forward rows only, every chunk at least one k step. The one rule of the bf16/fp16 split
// (forward_split_chunks) and the FP8 one (fp8_forward_split_chunks).
inline int32_t decode_split_chunks(const GmmProblem& p, std::optional<int32_t> forced, bool rule, int64_t min_k,
                                   int64_t tile_m, int64_t k_step, int sm_count, const Sm90TilePolicy& policy) {
    // No rows: nothing to split (the library answers such calls before any backend; gg_sm90_choice does not).
    if (p.trans_a || p.num_experts < 1 || p.m < 1 || p.n < 1 || p.m > policy.max_rows_split_forward) return 0;
    const int64_t steps = (p.k + k_step - 1) / k_step;
    int64_t chunks = 0;
    if (forced) {
        chunks = *forced;
    } else {
        if (!rule || p.k < min_k) return 0;
        const int64_t ctas = decode_forward_ctas(p, tile_m, 128, policy);
        if (ctas > policy.max_ctas_small_forward_unsplit) return 0;
        chunks = one_wave_forward_chunks(p, ctas, steps, sm_count, policy);
    }
    if (chunks > steps) chunks = steps;  // every chunk at least one k step
    return chunks >= 2 ? static_cast<int32_t>(chunks) : 0;
}

// Split-K of a decode forward (split_k.cuh: fill_forward_split) on `tile`, the tile Auto chose for it: how many chunks
// every expert's k is cut into, or 0. Auto splits only forwards on the 64x128x128 decode tile whose CTAs there
// (decode_forward_ctas) number at most max_ctas_small_forward_unsplit: one or two live experts of a long K stream their
// weights on a third of the SMs or fewer (llama-4-maverick's down-projection at one token: 40 CTAs over K = 8192,
// 0.79-0.81x torch; jetmoe's: 32 over 5632, 0.73-0.83x; H100 sweep, docs/perf-notes.md), into one_wave_forward_chunks
// chunks of 64-deep k steps, on the tile's own partial kernels (sm90_tiles.h: split_tile_for). With the 128x256 tile's
// partial kernels the split path's two extra kernels (5-7 us) bought nothing on the H100's decode rows but
// mixtral-8x7b's down-projection at 16 tokens (0.88-0.91x against 0.86-0.87x, 0.4.0). Knob: GG_SM90_SPLIT=<chunks> (0
// and 1: none), forwards of at most max_rows_split_forward rows, on any tile.
inline int32_t forward_split_chunks(const GmmProblem& p, Sm90Tile tile, int sm_count, const Sm90Knobs& knobs = {},
                                    const Sm90TilePolicy& policy = kSm90TilePolicy) {
    const bool decode_tile = !knobs.tile && tile == Sm90Tile::kPingpong64x128K128;
    return decode_split_chunks(p, knobs.split_chunks, decode_tile, policy.min_k_split_forward, 64, 64, sm_count, policy);
}

// Split-K of an FP8 decode forward (scaled_split_sm90.cu: run_split) on the cluster-free 128x128x128 FP8 tile: every
// live expert's k in chunks of 128-deep k steps, each chunk's product scaled in the partial kernel's epilogue into fp32
// partials, then summed and rounded to bf16 once (split_k.cuh: reduce_forward_split). The same worst case and one-wave
// rule as the bf16/fp16 split (decode_split_chunks), from k = min_k_split_forward_fp8 (fp8_split_decode_forward: the
// measurements). Its aim was the FP8 sweep's slowest decode row, llama-4-scout's down-projection at one token: one live
// expert, 40 CTAs of that tile over K = 8192. Knob GG_SM90_FP8_SPLIT=<chunks> (0 and 1: none) forces chunks on FP8
// forwards of at most max_rows_split_forward rows, and GG_SM90_FP8_SPLIT=auto (held as -1) applies the rule.
inline int32_t fp8_forward_split_chunks(const GmmProblem& p, int sm_count, const Sm90Knobs& knobs = {},
                                        const Sm90TilePolicy& policy = kSm90TilePolicy) {
    const std::optional<int32_t>& knob = knobs.fp8_split_chunks;
    const bool auto_knob = knob && *knob < 0;
    return decode_split_chunks(p, auto_knob ? std::nullopt : knob, auto_knob || policy.fp8_split_decode_forward,
                               policy.min_k_split_forward_fp8, 128, 128, sm_count, policy);
}

// The FP8 row-wise tile of a call that does not split (Sm90TilePolicy: min_rows_fp8_wide_tile and the cluster bounds),
// by the call's rows and its mean rows per expert, the only sizes device counts give. Knob (tuning and experiment
// builds): GG_SM90_FP8_TILE=<name of sm90_fp8_tiles.def>; a name not there leaves the policy's tile.
inline Sm90Fp8Tile choose_fp8_tile(const GmmProblem& p, const Sm90Knobs& knobs = {},
                                   const Sm90TilePolicy& policy = kSm90TilePolicy) {
    Sm90Fp8Tile forced;
    if (knobs.fp8_tile != nullptr && fp8_tile_from_name(knobs.fp8_tile, &forced)) return forced;
    const int64_t rows = mean_rows_per_expert(p);
    if (p.m >= policy.min_rows_fp8_wide_tile) {
        return rows >= policy.min_rows_per_expert_fp8_wide_cluster ? Sm90Fp8Tile::kCooperative128x192Cluster2x1
                                                                   : Sm90Fp8Tile::kCooperative128x192;
    }
    return rows >= policy.min_rows_per_expert_fp8_cluster ? Sm90Fp8Tile::kCooperative128x128Cluster2x1
                                                          : Sm90Fp8Tile::kCooperative128x128;
}

// Whether Auto runs an FP8 call with block scales on cutlass-sm90 where that kernel takes it
// (Sm90TilePolicy::fp8_block_scales_in_auto; a policy change waits for its measurement, docs/contributing.md).
// GG_SCALED_KERNEL_CUTLASS_SM90 reaches the block path whatever this says. Knob GG_SM90_FP8_BLOCK=0|1.
inline bool fp8_block_scales_in_auto(const Sm90Knobs& knobs = {}, const Sm90TilePolicy& policy = kSm90TilePolicy) {
    return knobs.fp8_block_auto.value_or(policy.fp8_block_scales_in_auto);
}

// The row bound of the routing rule on a card of `dram_bytes_per_s` (DeviceInfo; 0 when unknown): the knob's, else the
// policy's where the card's DRAM is below max_dram_bytes_per_s_route; 0: off.
inline int64_t route_rows(double dram_bytes_per_s, const Sm90Knobs& knobs = {},
                          const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (knobs.route_rows) return *knobs.route_rows;
    return dram_bytes_per_s < policy.max_dram_bytes_per_s_route ? policy.route_rows : 0;
}

// Whether the routing rule may choose p's tile, with host or device counts, given the tile the host chose (host_tile):
// a forward or trans_b forward both kernels take (the contiguous kernel's limits; no accumulate: the 128x256 tile's
// store-only epilogue), n a multiple of 256 (the rule was fitted there; the 128x256 tile's columns are whole), no forced
// tile or split, a host tile that is one of the two, not decode-sized (the contiguous kernel splits those on the
// device, and the split paths have their own kernels), at least min_rows_route rows and a wave of 128x256 tiles.
inline bool route_may_choose(const GmmProblem& p, Sm90Tile host_tile, int sm_count, const Sm90Knobs& knobs = {},
                             const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (p.trans_a || p.accumulate || !contiguous_eligible(p) || p.n % 256 != 0) return false;
    if (knobs.tile || knobs.split_chunks) return false;
    if (host_tile != Sm90Tile::kContiguous256x128 && host_tile != Sm90Tile::kCooperative128x256Cluster1x1) return false;
    if (small_forward(p, policy) || decode_forward(p, knobs, policy)) return false;
    // The measured range (Sm90TilePolicy::min_rows_route), and 128x256 tiles for at least a wave by the host's estimate
    // (as choose_tile asks before it takes that tile).
    if (p.m < policy.min_rows_route) return false;
    if (estimate_output_tiles(p, nullptr, 128, 256) < (sm_count > 0 ? sm_count : 1)) return false;
    return forward_split_chunks(p, host_tile, sm_count, knobs, policy) < 2;
}

// The second rule's bound for p (Sm90TilePolicy::route_decode): the most 64-row tiles of the decode tile for which the
// contiguous kernel runs instead, half the SMs over n's 128-column tiles; 0 where the rule does not apply (a
// trans_b forward on the decode tile, as the host chose it, of min_rows_route_decode to max_rows_route_decode rows that
// neither a forced tile or split nor our decode forward kernel takes; the contiguous kernel's limits; no accumulate).
// Knob: GG_SM90_ROUTE_DECODE=<row tiles> (0: off), on any card and from one row.
inline int64_t decode_route_row_tiles(const GmmProblem& p, Sm90Tile host_tile, int sm_count, double dram_bytes_per_s,
                                      const Sm90Knobs& knobs = {}, const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (!p.trans_b || p.trans_a || p.accumulate || !contiguous_eligible(p) || p.n < 1) return 0;
    if (host_tile != Sm90Tile::kPingpong64x128K128 || knobs.tile || knobs.split_chunks) return 0;
    if (p.m > policy.max_rows_route_decode || decode_forward(p, knobs, policy)) return 0;
    if (forward_split_chunks(p, host_tile, sm_count, knobs, policy) >= 2) return 0;
    if (knobs.route_decode_row_tiles) return *knobs.route_decode_row_tiles;
    if (!policy.route_decode || p.m < policy.min_rows_route_decode) return 0;
    if (dram_bytes_per_s >= policy.max_dram_bytes_per_s_route) return 0;
    const int64_t column_tiles = (p.n + 127) / 128;
    return (sm_count > 0 ? sm_count : 1) / 2 / column_tiles;
}

// Which rule routes p between our contiguous kernel and a CUTLASS tile, and which tile: the row bound against the
// cluster-free 128x256 tile (route_may_choose), else the decode tile's row tiles against that tile
// (decode_route_row_tiles); no rule active: the host's tile runs alone.
struct Sm90Route {
    contiguous::RouteRule rule;
    Sm90Tile grouped_tile = Sm90Tile::kCooperative128x256Cluster1x1;
};

inline Sm90Route route_for(const GmmProblem& p, Sm90Tile host_tile, int sm_count, double dram_bytes_per_s,
                           const Sm90Knobs& knobs = {}, const Sm90TilePolicy& policy = kSm90TilePolicy) {
    Sm90Route route;
    const int64_t bound = route_rows(dram_bytes_per_s, knobs, policy);
    if (bound > 0 && route_may_choose(p, host_tile, sm_count, knobs, policy)) {
        route.rule.row_bound = bound;
        return route;
    }
    route.rule.max_row_tiles = decode_route_row_tiles(p, host_tile, sm_count, dram_bytes_per_s, knobs, policy);
    route.grouped_tile = Sm90Tile::kPingpong64x128K128;
    return route;
}

// The route the fill kernel applies when the device chooses between the two kernels for p (backend_sm90.cu:
// run_routed_call), or none (route_active false) where the host's tile runs alone: device counts, at most
// kSmallScanMaxExperts experts (only the fill kernel of one thread per expert makes the choice), route_for.
// Knobs: GG_SM90_ROUTE=<rows>, GG_SM90_ROUTE_DECODE=<row tiles> (0: off).
inline Sm90Route device_route(const GmmProblem& p, Sm90Tile host_tile, int sm_count, double dram_bytes_per_s,
                              const Sm90Knobs& knobs = {}, const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (!p.counts_on_device || p.num_experts > cutlass_grouped::kSmallScanMaxExperts) return {};
    return route_for(p, host_tile, sm_count, dram_bytes_per_s, knobs, policy);
}

// The first rule's row bound for p with device counts (device_route), or 0: what gg_sm90_choice prints as route=<R>.
inline int64_t device_route_rows(const GmmProblem& p, Sm90Tile host_tile, int sm_count, double dram_bytes_per_s,
                                 const Sm90Knobs& knobs = {}, const Sm90TilePolicy& policy = kSm90TilePolicy) {
    return device_route(p, host_tile, sm_count, dram_bytes_per_s, knobs, policy).rule.row_bound;
}

// With host counts, the tile the routing rule picks from the host's [E][3] problem sizes (M = the expert's rows for
// forwards), where route_for has a rule for p; else host_tile. The same rules the fill kernel runs with device counts.
inline Sm90Tile host_route_tile(const GmmProblem& p, const int32_t* host_problem_sizes, Sm90Tile host_tile,
                                int sm_count, double dram_bytes_per_s, const Sm90Knobs& knobs = {},
                                const Sm90TilePolicy& policy = kSm90TilePolicy) {
    if (p.counts_on_device || host_problem_sizes == nullptr) return host_tile;
    const Sm90Route route = route_for(p, host_tile, sm_count, dram_bytes_per_s, knobs, policy);
    if (!contiguous::route_active(route.rule)) return host_tile;
    contiguous::RouteTally tally;
    for (int64_t e = 0; e < p.num_experts; ++e) {
        tally = contiguous::route_sum(tally, contiguous::route_tally(host_problem_sizes[3 * e], route.rule));
    }
    return contiguous::route_contiguous(tally, route.rule) ? Sm90Tile::kContiguous256x128 : route.grouped_tile;
}

}  // namespace gg::cutlass_sm90
