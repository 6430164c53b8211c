// The routing rules of cutlass-sm90's forwards (cutlass_sm90/contiguous_tiling.h: route_contiguous) over one block's
// experts: the device-counts fill kernel of one thread per expert (group_arrays_fill.cuh) decides with it whether the
// contiguous kernel or the grouped GEMM runs the call, from the same rows it writes into the group arrays. The rule
// lives in that header (no CUDA there) so that the host tests and the host-counts choice run the same one.
#pragma once

#include <cstdint>

#include "cutlass_sm90/contiguous_tiling.h"

namespace gg::cutlass_grouped {

// Every thread of the block calls it with its expert's rows (0 for a thread without an expert) and gets the block's
// answer: true when the contiguous kernel takes the call. It synchronises the block; blockDim.x a multiple of 32, at
// most 1024.
__device__ __forceinline__ bool block_route_contiguous(int64_t rows, const cutlass_sm90::contiguous::RouteRule& rule) {
    namespace contig = cutlass_sm90::contiguous;
    __shared__ int64_t warp_small[32];
    __shared__ int64_t warp_large_rows[32];
    __shared__ int64_t warp_row_tiles[32];
    __shared__ int contiguous;
    const int t = threadIdx.x, lane = t & 31, warp = t >> 5, warps = static_cast<int>(blockDim.x >> 5);
    contig::RouteTally mine = contig::route_tally(rows, rule);
    for (int d = 16; d > 0; d >>= 1) {
        contig::RouteTally other;
        other.small = __shfl_down_sync(0xffffffffu, mine.small, d);
        other.large_rows = __shfl_down_sync(0xffffffffu, mine.large_rows, d);
        other.row_tiles = __shfl_down_sync(0xffffffffu, mine.row_tiles, d);
        mine = contig::route_sum(mine, other);
    }
    if (lane == 0) {
        warp_small[warp] = mine.small;
        warp_large_rows[warp] = mine.large_rows;
        warp_row_tiles[warp] = mine.row_tiles;
    }
    __syncthreads();
    if (t == 0) {
        contig::RouteTally all;
        for (int w = 0; w < warps; ++w) {
            contig::RouteTally of_warp;
            of_warp.small = warp_small[w];
            of_warp.large_rows = warp_large_rows[w];
            of_warp.row_tiles = warp_row_tiles[w];
            all = contig::route_sum(all, of_warp);
        }
        contiguous = contig::route_contiguous(all, rule) ? 1 : 0;
    }
    __syncthreads();
    return contiguous != 0;
}

}  // namespace gg::cutlass_grouped
