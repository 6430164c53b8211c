// How the decode kernels (fp8/scaled_gmm_decode.cu, cutlass_common/decode_forward.cuh) cut a call into blocks along the
// rows: each expert's rows, as the device counts give them, into groups of up to kGroupRows (one mma's 16 rows),
// numbered over the experts in order; block x = g takes group g (the FP8 kernel's block x = the number of groups writes
// the zeros of the rows no expert holds). No CUDA headers, so that native/tests/decode_groups_test.cpp checks on the
// host the rule the kernels run; decode_scan.cuh computes the same on the device.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define GG_DECODE_HD __host__ __device__
#else
#define GG_DECODE_HD
#endif

namespace gg::decode_groups {

constexpr int kGroupRows = 16;
// The most rows and experts a decode kernel takes: every block scans the counts in shared memory (decode_scan.cuh), and
// with m rows at most the sum of E clamped counts cannot overflow.
constexpr int64_t kMaxRows = 256;
constexpr int kMaxExperts = 1024;

// A block's output columns, in both decode kernels. The grid is groups along x and column blocks along y, so that the
// blocks of one column block, every group of the call, run side by side: an expert of many rows (one dominant expert:
// 16 groups at 256 rows) then reads its weights from HBM once and from L2 for its other groups, where column blocks
// along x would stream the whole expert once per group.
constexpr int kBlockColumns = 32;
GG_DECODE_HD inline int64_t column_blocks(int64_t n) { return (n + kBlockColumns - 1) / kBlockColumns; }

// A call's blocks along y: block (x, y) takes column blocks y, y + gridDim.y, ... of its group, so that a call of many
// groups and column blocks runs about kTargetBlocks blocks, each scanning the counts once for several column blocks.
// Why: the scan, the search for the block's group and the reduction of its k slices cost a block a few microseconds
// before and after its loads, and one block per (group, column block) made that the time of calls with many groups.
// H100, 0.13.0 experiment build, one block per pair: 16 tokens at top-8 over 128 experts (qwen3-30b-a3b down, m =
// 128, 137 x 64 blocks, one expert holding most rows) took 78-128 us where the grouped GEMMs took 24-27 us, while one
// token (9 x 64 blocks, trans_b) ran 1.07-1.61x faster than the GEMM in bf16 and 1.04-1.33x in FP8
// (docs/perf-notes.md, "The decode kernels, first measured").
constexpr int64_t kTargetBlocks = 1024;
GG_DECODE_HD inline int64_t grid_column_blocks(int64_t groups, int64_t n) {
    const int64_t per_group = (kTargetBlocks + groups - 1) / groups;
    const int64_t blocks = column_blocks(n);
    return blocks < per_group ? blocks : per_group;
}

// Whether a call of m rows over `experts` experts is within the decode kernels' limits (the scan's rows and experts).
GG_DECODE_HD inline bool fits(int64_t m, int64_t experts) {
    return m >= 1 && m <= kMaxRows && experts >= 1 && experts <= kMaxExperts;
}

// The most weight bytes a call of m rows over `experts` experts streams: the k x n weights of each of at most
// min(m, experts) live experts, once. Auto's rules for the decode kernels bound it (cutlass_sm90/tile_choice.h:
// decode_forward; fp8/scaled_dispatch.cpp): their gain over the grouped GEMM path is its fixed costs (a preparation
// kernel, tiles of mostly padding rows), which large transfers hide, and the GEMM path streams those near the HBM floor.
// In double: k * n alone may pass int64 for shapes that the validation lets through.
GG_DECODE_HD inline double weight_bytes_bound(int64_t m, int64_t experts, int64_t k, int64_t n, int64_t element_bytes) {
    return static_cast<double>(m < experts ? m : experts) * static_cast<double>(k) * static_cast<double>(n) *
           static_cast<double>(element_bytes);
}

// A device count as the scan adds it: negatives as 0 and at most m (a count past m makes the sum pass m either way, and
// with m of at most kMaxRows the sum of E of them cannot overflow). offsets[e] is the sum of the counts before e,
// at most m, as block_scan_counts clamps them for the other kernels.
GG_DECODE_HD inline int64_t clamped_count(int64_t count, int64_t m) { return count < 0 ? 0 : (count > m ? m : count); }
GG_DECODE_HD inline int64_t clamped_offset(int64_t prefix, int64_t m) { return prefix < m ? prefix : m; }

// Groups of an expert of `rows` rows (after the offsets' clamp).
GG_DECODE_HD inline int64_t groups_of(int64_t rows) { return (rows + kGroupRows - 1) / kGroupRows; }

// x blocks of a call: at most min(E, m) experts hold rows, an expert of r rows makes ceil(r / 16) <= r / 16 + 1 groups
// and the r / 16 sum to at most m / 16; one more block writes the zeros.
GG_DECODE_HD inline int64_t group_bound(int64_t m, int64_t num_experts) {
    return (num_experts < m ? num_experts : m) + m / kGroupRows + 1;
}

// A call's grid, for both kernels' launches: group_bound's blocks along x, grid_column_blocks along y.
struct Grid {
    int64_t x, y;
};
GG_DECODE_HD inline Grid grid_of(int64_t m, int64_t num_experts, int64_t n) {
    const int64_t x = group_bound(m, num_experts);
    return Grid{x, grid_column_blocks(x, n)};
}

struct Group {
    int64_t expert;
    int64_t row0;     // first row of the group
    int64_t row_end;  // one past its last row
};

// Group g (< groups[E]) from the experts' offsets[E + 1] and groups[E + 1] (exclusive sums of groups_of): its expert is
// the last e with groups[e] <= g (empty experts share their successor's start).
GG_DECODE_HD inline Group find_group(const int64_t* offsets, const int32_t* groups, int64_t num_experts, int32_t g) {
    int64_t lo = 0, hi = num_experts - 1;
    while (lo < hi) {
        const int64_t mid = (lo + hi + 1) / 2;
        if (groups[mid] <= g) lo = mid;
        else hi = mid - 1;
    }
    Group out;
    out.expert = lo;
    out.row0 = offsets[lo] + static_cast<int64_t>(g - groups[lo]) * kGroupRows;
    const int64_t end = out.row0 + kGroupRows;
    out.row_end = end < offsets[lo + 1] ? end : offsets[lo + 1];
    return out;
}

}  // namespace gg::decode_groups
