// The device half of split-K's plan for a weight gradient's largest expert (cutlass_sm90/split_k.cuh), as a block-wide
// device function that the counts-scan kernel filling the group arrays (group_arrays_fill.cuh) runs right after it has
// written them. As a kernel of its own between that fill and the main GEMM, the plan cost a launch on every call that may
// split, and the main GEMM's programmatic launch then overlapped the plan instead of the fill: part of the 7-12 us that a
// call that may split paid when the device did not split (H100, docs/perf-notes.md, "Split-K below 150 GFLOP, measured").
// Included by group_arrays_fill.cuh; the arrays it writes are the partial GEMM's (split_k.cuh).
#pragma once

#include <cstdint>

#include "cutlass_common/group_arrays.cuh"

namespace gg::cutlass_grouped {

// The split's arrays as the partial GEMM reads them: `chunks` groups (problem_sizes, ptr_a, ptr_b, ptr_c = the partials,
// lda, ldb, ldc, tile_claims), decision[0] the expert split and decision[1] 1 when it was (else the groups have no
// tiles), and the fp32 partial sums.
struct SplitArrays {
    GroupArrays arrays;
    int32_t* decision = nullptr;
    float* partials = nullptr;
};

// A plan the fill kernel runs: split the largest expert into `chunks` chunks of its rows when it holds at least
// 1 / min_share_inverse of the m rows. chunks < 2: no plan (every call that cannot split).
struct LargestExpertSplit {
    SplitArrays split;
    int32_t chunks = 0;
    int32_t min_share_inverse = 4;
    int64_t k = 0, n = 0;
};

// Every thread of the block calls it (it synchronises the block), after the block's writes of `offsets` and of the main
// GEMM's problem sizes, with at least `chunks` threads and at most 1024. `largest`: the expert with the most rows
// (block_largest_expert), whose arrays are the main GEMM's group `largest_group`. When it is split, that group gets no
// tiles (main_problem_sizes) and chunk s of its rows becomes group s of the partial GEMM, (K, N, rows of the chunk) into
// partials[s]; otherwise the partial GEMM's groups have no tiles. Zeroes the partial GEMM's claim counter either way.
__device__ __forceinline__ void plan_largest_expert_split(const int64_t* offsets, int32_t largest, int64_t largest_group,
                                                          int64_t m, const char* a, const char* b, int32_t element_bytes,
                                                          int32_t* main_problem_sizes, const LargestExpertSplit& plan) {
    __shared__ int32_t active;
    const int t = threadIdx.x;
    __syncthreads();  // the block's writes of offsets and problem sizes (global memory: visible to the block after this)
    const int64_t rows = offsets[largest + 1] - offsets[largest];
    const SplitArrays& split = plan.split;
    const int32_t chunks = plan.chunks;
    if (t == 0) {
        // Every chunk must hold rows: a K == 0 group is unsafe on these kernels (group_arrays.cuh).
        const bool dominant = rows >= chunks && rows * plan.min_share_inverse >= m;
        active = dominant ? 1 : 0;
        split.decision[0] = largest;
        split.decision[1] = active;
        *split.arrays.tile_claims = 0;
        if (dominant) main_problem_sizes[3 * largest_group + 0] = 0;
    }
    __syncthreads();
    if (t < chunks) {
        const int64_t k = plan.k, n = plan.n;
        const int64_t begin = offsets[largest], all = rows;
        const int64_t first = begin + all * t / chunks, last = begin + all * (t + 1) / chunks;
        const int64_t es = element_bytes;
        split.arrays.problem_sizes[3 * t + 0] = active ? static_cast<int32_t>(k) : 0;
        split.arrays.problem_sizes[3 * t + 1] = static_cast<int32_t>(n);
        split.arrays.problem_sizes[3 * t + 2] = active ? static_cast<int32_t>(last - first) : 1;
        split.arrays.ptr_a[t] = const_cast<char*>(a) + first * k * es;
        split.arrays.ptr_b[t] = const_cast<char*>(b) + first * n * es;
        split.arrays.ptr_c[t] = split.partials + t * k * n;
        split.arrays.lda[t] = k;
        split.arrays.ldb[t] = n;
        split.arrays.ldc[t] = n;
    }
}

}  // namespace gg::cutlass_grouped
