// The expert with the most rows, found by one block: the group arrays' fill kernels (group_arrays_fill.cuh) move it
// to group 0 (GroupRule::largest_first), and split-K's plan (largest_expert_split.cuh) splits it. One search serves
// both, so that they always name the same expert (more rows, then the lower index: group_arrays.cuh, more_rows).
#pragma once

#include <cstdint>

#include "cutlass_common/group_arrays.cuh"

namespace gg::cutlass_grouped {

// Every thread of the block calls it with its own best candidate (rows < 0: none) and gets the block's best expert
// (0 when no thread had a candidate). It synchronises the block; blockDim.x a multiple of 32, at most 1024.
__device__ __forceinline__ int32_t block_largest_expert(int64_t rows, int32_t expert) {
    __shared__ int64_t warp_rows[32];
    __shared__ int32_t warp_expert[32];
    __shared__ int32_t best;
    const int t = threadIdx.x, lane = t & 31, warp = t >> 5, warps = static_cast<int>(blockDim.x >> 5);
    for (int d = 16; d > 0; d >>= 1) {
        const int64_t r = __shfl_down_sync(0xffffffffu, rows, d);
        const int32_t e = __shfl_down_sync(0xffffffffu, expert, d);
        if (more_rows(r, e, rows, expert)) {
            rows = r;
            expert = e;
        }
    }
    if (lane == 0) {
        warp_rows[warp] = rows;
        warp_expert[warp] = expert;
    }
    __syncthreads();
    if (t == 0) {
        for (int w = 1; w < warps; ++w) {
            if (more_rows(warp_rows[w], warp_expert[w], rows, expert)) {
                rows = warp_rows[w];
                expert = warp_expert[w];
            }
        }
        best = rows >= 0 ? expert : 0;
    }
    __syncthreads();
    return best;
}

// The same over offsets already written by the block (offsets[e + 1] - offsets[e] rows for expert e).
__device__ __forceinline__ int32_t block_largest_expert(const int64_t* offsets, int32_t experts) {
    __syncthreads();  // the block's writes of offsets (global memory: visible to the block after this)
    int64_t rows = -1;
    int32_t expert = 0;
    for (int32_t e = threadIdx.x; e < experts; e += blockDim.x) {
        const int64_t r = offsets[e + 1] - offsets[e];
        if (more_rows(r, e, rows, expert)) {
            rows = r;
            expert = e;
        }
    }
    return block_largest_expert(rows, expert);
}

}  // namespace gg::cutlass_grouped
