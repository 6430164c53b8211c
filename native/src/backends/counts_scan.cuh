// The counts -> offsets scan of one block, shared by the scan kernel (counts.cu) and the CUTLASS backends' fused
// preparation kernel (cutlass_common/group_arrays_fill.cuh), so that device counts cost one launch before the GEMM.
//
// One block does the whole scan: each of its 1024 threads sums a contiguous chunk, a block-wide scan of the
// chunk sums gives each chunk's start, and a second pass writes the offsets. E = 1e5 is ~100 loads a thread,
// which is far below the cost of the GEMM it prepares, and one launch with no temporary storage keeps the
// path capturable in a CUDA graph.
#pragma once

#include <cstdint>

#include "core/counts_check.h"

namespace gg {

constexpr int kCountsScanThreads = 1024;

__device__ __forceinline__ int64_t scan_min64(int64_t x, int64_t y) { return x < y ? x : y; }

__device__ __forceinline__ int64_t scan_saturating_add(int64_t x, int64_t y) {
    // Both non-negative: saturate instead of wrapping so that absurd counts cannot look valid.
    return x > INT64_MAX - y ? INT64_MAX : x + y;
}

// Exclusive-scans the counts (negatives as 0, sums saturated), writes offsets[E+1] clamped to m when
// `offsets` is set, and reports invalid counts through `flag` and/or `report`. Every thread of a block of
// kCountsScanThreads threads must call it; the block's other threads see `offsets` after a __syncthreads().
__device__ __forceinline__ void block_scan_counts(const int64_t* __restrict__ counts, int64_t num_experts, int64_t m,
                                                  int64_t* __restrict__ offsets, int32_t* __restrict__ flag,
                                                  CountsReport* __restrict__ report) {
    constexpr int kThreads = kCountsScanThreads;
    __shared__ int64_t scan[2][kThreads];
    __shared__ unsigned long long first_negative;
    const int t = threadIdx.x;
    if (t == 0) first_negative = ~0ull;

    const int64_t chunk = (num_experts + kThreads - 1) / kThreads;
    const int64_t begin = scan_min64(num_experts, t * chunk);
    const int64_t end = scan_min64(num_experts, begin + chunk);

    int64_t local = 0;
    int64_t local_first_negative = -1;
    for (int64_t e = begin; e < end; ++e) {
        const int64_t c = counts[e];
        if (c < 0) {
            if (local_first_negative < 0) local_first_negative = e;
        } else {
            local = scan_saturating_add(local, c);
        }
    }
    scan[0][t] = local;
    __syncthreads();
    if (local_first_negative >= 0) atomicMin(&first_negative, static_cast<unsigned long long>(local_first_negative));

    // Hillis-Steele inclusive scan over the chunk sums, double-buffered.
    int src = 0;
    for (int step = 1; step < kThreads; step <<= 1) {
        const int64_t v = scan[src][t];
        scan[1 - src][t] = t >= step ? scan_saturating_add(v, scan[src][t - step]) : v;
        src = 1 - src;
        __syncthreads();
    }
    const int64_t total = scan[src][kThreads - 1];
    int64_t running = t == 0 ? 0 : scan[src][t - 1];

    if (offsets != nullptr) {
        // The clamped prefix min(prefix, m) equals clamping each group so that no group runs past m.
        for (int64_t e = begin; e < end; ++e) {
            offsets[e] = scan_min64(running, m);
            const int64_t c = counts[e];
            if (c > 0) running = scan_saturating_add(running, c);
        }
        if (t == 0) offsets[num_experts] = scan_min64(total, m);
    }
    if (t == 0) {
        const bool bad = first_negative != ~0ull || total != m;
        if (flag != nullptr && bad) *flag = GG_STATUS_INVALID_COUNTS;
        if (report != nullptr) {
            report->status = bad ? GG_STATUS_INVALID_COUNTS : GG_STATUS_SUCCESS;
            report->first_negative = first_negative == ~0ull ? -1 : static_cast<int64_t>(first_negative);
            report->negative_value = first_negative == ~0ull ? 0 : counts[first_negative];
            report->total = total;
        }
    }
}

}  // namespace gg
