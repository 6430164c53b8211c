// The decode kernels' scan of the device counts (fp8/scaled_gmm_decode.cu, cutlass_common/decode_forward.cuh): every
// block of such a kernel scans the counts itself into shared memory, so the call needs no preparation kernel and no
// workspace before it. The rules are decode_groups.h's (clamped counts and offsets, groups of kGroupRows rows), which
// native/tests/decode_groups_test.cpp checks on the host.
#pragma once

#include <cstdint>

#include "backends/decode_groups.h"

namespace gg::decode_groups {

// What the scan leaves in shared memory: offsets[0..E] (the clamped exclusive sums of the counts) and groups[0..E] (the
// exclusive sums of the experts' groups; groups[E] is the call's number of groups).
template <int kThreads>
struct ScanShared {
    int64_t offsets[kMaxExperts + 1];
    int32_t groups[kMaxExperts + 1];
    int64_t warp_sums[kThreads / 32];
};

// Inclusive scan of one int64 per thread over a block of kThreads threads.
template <int kThreads>
__device__ int64_t block_inclusive_scan(int64_t v, int64_t* warp_sums) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int d = 1; d < 32; d <<= 1) {
        const int64_t u = __shfl_up_sync(0xffffffffu, v, d);
        if (lane >= d) v += u;
    }
    if (lane == 31) warp_sums[warp] = v;
    __syncthreads();
    int64_t before = 0;
    for (int w = 0; w < warp; ++w) before += warp_sums[w];
    __syncthreads();  // warp_sums is reused by the next scan
    return v + before;
}

// Fills `s` from counts[0..E) (device memory; E <= kMaxExperts, m <= kMaxRows). Every thread of the block calls it; all
// of them see `s` on return.
template <int kThreads>
__device__ void scan_counts(const int64_t* counts, int64_t num_experts, int64_t m, ScanShared<kThreads>& s) {
    constexpr int kPerThread = (kMaxExperts + kThreads - 1) / kThreads;
    static_assert(kThreads % 32 == 0 && kThreads * kPerThread >= kMaxExperts, "the block covers every expert");
    const int t = threadIdx.x;
    const int64_t first = static_cast<int64_t>(t) * kPerThread;
    int64_t local[kPerThread];
    int64_t sum = 0;
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
        const int64_t e = first + i;
        local[i] = e < num_experts ? clamped_count(counts[e], m) : 0;
        sum += local[i];
    }
    int64_t running = block_inclusive_scan<kThreads>(sum, s.warp_sums) - sum;
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
        const int64_t e = first + i;
        if (e <= num_experts) s.offsets[e] = clamped_offset(running, m);
        running += local[i];
    }
    // E == kThreads * kPerThread: no thread's range holds offsets[E].
    if (t == kThreads - 1 && first + kPerThread <= num_experts) s.offsets[num_experts] = clamped_offset(running, m);
    __syncthreads();
    int64_t local_groups[kPerThread];
    int64_t group_sum = 0;
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
        const int64_t e = first + i;
        local_groups[i] = e < num_experts ? groups_of(s.offsets[e + 1] - s.offsets[e]) : 0;
        group_sum += local_groups[i];
    }
    int64_t g = block_inclusive_scan<kThreads>(group_sum, s.warp_sums) - group_sum;
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
        const int64_t e = first + i;
        if (e <= num_experts) s.groups[e] = static_cast<int32_t>(g);
        g += local_groups[i];
    }
    if (t == kThreads - 1 && first + kPerThread <= num_experts) s.groups[num_experts] = static_cast<int32_t>(g);
    __syncthreads();
}

}  // namespace gg::decode_groups
