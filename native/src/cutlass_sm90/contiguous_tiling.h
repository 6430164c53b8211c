// How the contiguous kernel (contiguous_gemm_sm90.cuh) cuts a call into tiles: the rows of an expert a tile holds (64,
// 128 or 256) and how many chunks each output tile's k is split into. The kernel decides it on the device from the
// experts' row counts (batch sizes in device memory: the host does not know them, and the same call may route every
// row to one expert or spread them over all); with host counts the backend runs the same function to size the grid.
// Also the routing rules that choose between this kernel and a CUTLASS tile from the same counts (below).
// No CUTLASS and no CUDA headers here, so that host tests (contiguous_routing_test.cpp) check the rule the kernel runs.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define GG_CONTIG_HD __host__ __device__
#else
#define GG_CONTIG_HD
#endif

namespace gg::cutlass_sm90::contiguous {

// Output tiles of each row height for a call: sum over experts of ceil(rows_e / R) x column tiles.
struct TileCounts {
    int64_t rows256 = 0, rows128 = 0, rows64 = 0;
};

struct Tiling {
    int32_t tile_rows = 256;  // an expert's rows per tile: 256, 128 or 64
    int32_t chunks = 1;       // k chunks per output tile (1: no split)
    int32_t chunk_steps = 0;  // 64-deep k steps per chunk (the last chunk may have fewer)
    int64_t output_tiles = 0;
};

// Split-K within the kernel stores each chunk's fp32 products and the last chunk to finish adds them (deterministic
// order); at most this many chunks, each at least kMinChunkSteps k steps deep (a shallower chunk spends more on its
// pipeline's fill and its partial sums than on its k loop).
constexpr int32_t kMaxChunks = 16;
constexpr int32_t kMinChunkSteps = 4;
// And only calls at least this many steps deep (k >= 1024) split: below it the split's own costs (partial sums, the
// count, the last group's reads) outweigh the k steps a chunk saves. H100, one token, one live expert, the contiguous
// kernel forced (same loop): granite's down-projection (k = 512) 0.99x torch in 2 chunks against 1.21x unsplit on the
// decode tile, qwen3-30b-a3b's (k = 768) 0.83x in 3 against 0.85x; from k = 1024 (olmoe, 1.08x against 1.09x) up every
// split row gained or held (docs/perf-notes.md, "The contiguous kernel's own tiling").
constexpr int64_t kMinSplitSteps = 16;

// The rule. Fewer output tiles than SMs leave SMs idle for the whole call, and then a tile's time is the call's:
// - rows: the shortest row height whose tiles still fit in one wave (at most `sms` tiles), else 256. A 256-row tile of
//   an expert with hundreds of rows is compute-bound on its SM (jetmoe's down-projection at 256 tokens with 2 of 8
//   experts live: 32 tiles of 256 rows, 58 us, against torch's 32; H100 sweep), while 64-row tiles of the same rows
//   use four times the SMs. Calls with at most 64 rows an expert get the same tiles at any height, so they run as
//   before; calls whose 256-row tiles fill a wave keep them.
// - chunks: when those tiles fill at most half the SMs and k is at least kMinSplitSteps steps deep, as many k chunks as
//   fit them in one wave (floor(sms / tiles)), bounded by kMaxChunks, by `max_chunks` (the partial sums' workspace) and
//   by chunks of kMinChunkSteps steps: one
//   expert with all of a decode call's rows streams its weights on 12-40 SMs otherwise (qwen3-30b-a3b's up-projection
//   at one token with a dominant expert: 12 tiles, 0.79x torch; H100 sweep).
GG_CONTIG_HD inline Tiling choose_tiling(const TileCounts& t, int64_t k_steps, int64_t sms, int32_t max_chunks) {
    Tiling out;
    if (sms < 1) sms = 1;
    if (t.rows64 <= sms) {
        out.tile_rows = 64;
        out.output_tiles = t.rows64;
    } else if (t.rows128 <= sms) {
        out.tile_rows = 128;
        out.output_tiles = t.rows128;
    } else {
        out.tile_rows = 256;
        out.output_tiles = t.rows256;
    }
    int64_t chunks = out.output_tiles > 0 && k_steps >= kMinSplitSteps ? sms / out.output_tiles : 1;
    if (chunks > kMaxChunks) chunks = kMaxChunks;
    if (chunks > max_chunks) chunks = max_chunks;
    if (chunks > k_steps / kMinChunkSteps) chunks = k_steps / kMinChunkSteps;
    if (chunks < 2) {
        out.chunks = 1;
        out.chunk_steps = static_cast<int32_t>(k_steps);
        return out;
    }
    // Whole steps per chunk; the chunks that are left once k is covered would be empty, so they are not made.
    const int64_t steps = (k_steps + chunks - 1) / chunks;
    out.chunk_steps = static_cast<int32_t>(steps);
    out.chunks = static_cast<int32_t>((k_steps + steps - 1) / steps);
    return out;
}

// The chunks the host lets a call's kernel split into (the partial sums take max_chunks x m x n floats): a split needs
// its tiles to fit half the SMs, and the fewest tiles m rows can make are ceil(m / 64) x column tiles (all in one
// expert). 1: the call can never split and needs no partial sums.
inline int32_t max_chunks_for(int64_t m, int64_t n_tiles, int64_t k_steps, int64_t sms) {
    const int64_t fewest = (m + 63) / 64 * n_tiles;
    if (fewest < 1 || sms < 1 || k_steps < kMinSplitSteps) return 1;
    int64_t chunks = sms / fewest;
    if (chunks > kMaxChunks) chunks = kMaxChunks;
    if (chunks > k_steps / kMinChunkSteps) chunks = k_steps / kMinChunkSteps;
    return chunks >= 2 ? static_cast<int32_t>(chunks) : 1;
}

// Counters of the split's output tiles, two a tile (one for each consumer warp group's rows): a call splits only when
// its output tiles fit half the SMs, so 2 x (sms / 2) counters, plus the tile-claim counter before them.
inline int64_t claim_words_for(int64_t sms) { return 1 + (sms > 0 ? sms : 1); }

// ---- The routing rule: this kernel or CUTLASS's cluster-free 128x256 tile, from the experts' rows ----
// On forwards with n a multiple of 256 the winner depends on where the rows are (H100, same loop): when most of the work
// is in experts with few rows, whose weights are streamed (memory-bound), this kernel won by 4-8 %; when it is in
// experts with many rows (compute-bound), the 128x256 tile won by 5-17 %. With device counts only the device knows, so
// the preparation kernel applies this rule and writes a route word (group_arrays_fill.cuh); with host counts the host
// applies it (tile_choice.h). The rule compares the small experts' weight time with the large experts' compute time:
// with R the rows one expert's weights take to stream in the time an SM computes them (about peak flops over DRAM
// bandwidth, in rows), `small` the experts of 1 to R rows and `large_rows` the rows of the experts above R, this kernel
// iff small x R > large_rows. Ties, no live expert included, go to the 128x256 tile (neither kernel has work then).
// R <= 0: the rule is off and never picks this kernel.

//
// ---- The second rule: this kernel or the 64x128x128 decode tile, from the decode tile's CTAs ----
// On decode-sized trans_b forwards (16 tokens, H100, same loop, 88 rows of 11 models, every routing; docs/perf-notes.md,
// "trans_b decode forwards by the routing") the decode tile ran each of its CTAs over the whole k and was faster on 78
// rows, but where its CTAs (its 64-row tiles times n's 128-column tiles) filled at most half the SMs this kernel, which
// splits k over idle SMs, won every row (1.10-1.46x: jetmoe-8b's down-projection with 2 and 4 live experts, 32 and 64
// CTAs; mixtral-8x7b's with 2, 64 CTAs), and from 96 CTAs it lost or tied but for two rows (1.04x at 160, 1.07x at
// 176). So: this kernel iff 0 < (sum over experts of ceil(rows / 64)) <= max_row_tiles, with max_row_tiles = half the
// SMs over n's column tiles (tile_choice.h: decode_route_row_tiles).

// Which rule a routed call applies, and its bound: row_bound > 0, the first (R); else max_row_tiles > 0, the second;
// neither, no routing.
struct RouteRule {
    int64_t row_bound = 0;
    int64_t max_row_tiles = 0;
};

GG_CONTIG_HD inline bool route_active(const RouteRule& r) { return r.row_bound > 0 || r.max_row_tiles > 0; }

// The route word's values (0 is neither, so that a word the preparation kernel did not write is never taken for one).
constexpr int32_t kRouteContiguous = 1;  // this kernel runs; CUTLASS's groups have no rows
constexpr int32_t kRouteGrouped = 2;     // CUTLASS's grouped GEMM runs; this kernel exits at once

// What the rule counts, summed over experts.
struct RouteTally {
    int64_t small = 0;       // experts of 1 to R rows
    int64_t large_rows = 0;  // rows of the experts above R
    int64_t row_tiles = 0;   // the decode tile's 64-row tiles: ceil(rows / 64) over live experts
};

// One expert's share of the tally (rows <= 0: none).
GG_CONTIG_HD inline RouteTally route_tally(int64_t rows, int64_t bound) {
    RouteTally t;
    if (rows > bound) {
        t.large_rows = rows;
    } else if (rows > 0) {
        t.small = 1;
    }
    if (rows > 0) t.row_tiles = (rows + 63) / 64;
    return t;
}

GG_CONTIG_HD inline RouteTally route_tally(int64_t rows, const RouteRule& r) { return route_tally(rows, r.row_bound); }

GG_CONTIG_HD inline RouteTally route_sum(RouteTally a, RouteTally b) {
    a.small += b.small;
    a.large_rows += b.large_rows;
    a.row_tiles += b.row_tiles;
    return a;
}

// The rule: whether this kernel takes the call.
GG_CONTIG_HD inline bool route_contiguous(const RouteTally& t, int64_t bound) {
    return bound > 0 && t.small * bound > t.large_rows;
}

// The rule `r` names (RouteRule): whether this kernel takes the call.
GG_CONTIG_HD inline bool route_contiguous(const RouteTally& t, const RouteRule& r) {
    if (r.row_bound > 0) return route_contiguous(t, r.row_bound);
    return r.max_row_tiles > 0 && t.row_tiles > 0 && t.row_tiles <= r.max_row_tiles;
}

}  // namespace gg::cutlass_sm90::contiguous
