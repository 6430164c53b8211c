// Which expert a sorted row belongs to, from device-resident counts, without any host round trip:
// every block builds the inclusive prefix of the counts in shared memory once and then answers rows by
// binary search. Negative counts count as zero; sums saturate at INT64_MAX instead of wrapping, and can be clamped
// to the rows the caller's buffer holds; rows past the sum belong to no expert (index E).
#pragma once

#include "moe/moe_common.cuh"

namespace gg::moe {

// x + y for non-negative x and y, saturating at INT64_MAX (absurd counts must not wrap round to small offsets).
__device__ __forceinline__ int64_t saturating_add(int64_t x, int64_t y) { return x > INT64_MAX - y ? INT64_MAX : x + y; }

// Exclusive scan of one non-negative int64 per thread over a block of kThreads (a multiple of 32) threads, sums
// saturating; *total gets the block's sum. Uses `warp_totals` (32 entries of shared memory); all threads must call it.
__device__ __forceinline__ int64_t block_exclusive_scan(int64_t value, int64_t* warp_totals, int64_t* total) {
    const int tid = threadIdx.y * blockDim.x + threadIdx.x;
    const int lane = tid & 31;
    const int warp = tid >> 5;
    const int warps = (blockDim.x * blockDim.y) >> 5;
    int64_t x = value;
#pragma unroll
    for (int offset = 1; offset < 32; offset <<= 1) {
        const int64_t y = __shfl_up_sync(0xffffffffu, x, offset);
        if (lane >= offset) x = saturating_add(x, y);
    }
    if (lane == 31) warp_totals[warp] = x;
    __syncthreads();
    if (warp == 0) {
        int64_t w = lane < warps ? warp_totals[lane] : 0;
#pragma unroll
        for (int offset = 1; offset < 32; offset <<= 1) {
            const int64_t y = __shfl_up_sync(0xffffffffu, w, offset);
            if (lane >= offset) w = saturating_add(w, y);
        }
        warp_totals[lane] = w;
    }
    __syncthreads();
    // Exclusive prefix inside the warp: x - value is exact unless x saturated, in which case every later prefix
    // is INT64_MAX too and the clamp below keeps it there.
    const int64_t in_warp = x == INT64_MAX ? INT64_MAX : x - value;
    const int64_t result = saturating_add(in_warp, warp > 0 ? warp_totals[warp - 1] : 0);
    *total = warp_totals[warps - 1];
    __syncthreads();  // warp_totals may be reused by the caller's next scan
    return result;
}

// inclusive[e] = min(limit, sum of max(0, counts[i]) for i <= e) for e < num_experts, in shared memory (sums
// saturate). Clamping each prefix to `limit` clamps each expert's rows so that none runs past row `limit`.
__device__ __forceinline__ void build_inclusive_prefix(const int64_t* __restrict__ counts, int64_t num_experts,
                                                       int64_t* inclusive, int64_t limit = INT64_MAX) {
    __shared__ int64_t warp_totals[32];
    const int tid = threadIdx.y * blockDim.x + threadIdx.x;
    const int threads = blockDim.x * blockDim.y;
    const int64_t chunk = (num_experts + threads - 1) / threads;
    const int64_t begin = tid * chunk;
    const int64_t end = begin + chunk < num_experts ? begin + chunk : num_experts;
    int64_t local = 0;
    for (int64_t e = begin; e < end; ++e) {
        const int64_t c = counts[e];
        inclusive[e] = c > 0 ? c : 0;  // counts is read once: a caller changing it meanwhile cannot unorder the prefix
        local = saturating_add(local, inclusive[e]);
    }
    int64_t total = 0;
    int64_t running = block_exclusive_scan(local, warp_totals, &total);
    for (int64_t e = begin; e < end; ++e) {
        running = saturating_add(running, inclusive[e]);  // this thread's own entries: no barrier needed
        inclusive[e] = running < limit ? running : limit;
    }
    __syncthreads();
}

// The expert owning sorted row `row`: the first e with inclusive[e] > row, or num_experts if none.
__device__ __forceinline__ int64_t find_expert(const int64_t* inclusive, int64_t num_experts, int64_t row) {
    int64_t lo = 0, hi = num_experts;
    while (lo < hi) {
        const int64_t mid = (lo + hi) >> 1;
        if (inclusive[mid] <= row) lo = mid + 1; else hi = mid;
    }
    return lo;
}

__device__ __forceinline__ int64_t exclusive_at(const int64_t* inclusive, int64_t e) {
    return e > 0 ? inclusive[e - 1] : 0;
}

// Launches a row kernel (one 2-D block of kThreads over packs x rows, see row_shape) that maps rows to experts
// with build_inclusive_prefix: num_experts int64 of dynamic shared memory when counts is given, opted in above
// 48 KiB (the failure names `what`).
template <typename Kernel, typename... Args>
gg_status launch_expert_rows(Kernel kernel, const char* what, int64_t rows, int64_t packs_per_row, const int64_t* counts,
                             int64_t num_experts, cudaStream_t stream, Args... args) {
    RowShape shape;
    GG_TRY(row_shape(rows, packs_per_row, &shape));
    const size_t smem = counts != nullptr ? sizeof(int64_t) * static_cast<size_t>(num_experts) : 0;
    GG_TRY(allow_dynamic_smem(kernel, smem, what));
    kernel<<<shape.grid, shape.block, smem, stream>>>(args...);
    GG_CUDA_CHECK(cudaGetLastError());
    return GG_STATUS_SUCCESS;
}

}  // namespace gg::moe
