// How the decode kernels (fp8/scaled_gmm_decode.cu, cutlass_common/decode_forward.cuh) feed mma.sync straight from
// global memory, with no shared-memory staging: a row whose k is contiguous (activations; trans_b weights) is read in
// 128-byte chunks, and a lane (g = lane / 4, t = lane % 4 in the mma's fragment terms) loads bytes [16t, 16t + 16) and
// [64 + 16t, 64 + 16t + 16) of each chunk of its row: the four lanes of a row read 64 contiguous bytes per load.
//
// Those 8 words then feed the chunk's four mma k steps in place of the natural fragment: step j takes words 2j and
// 2j + 1 where the mma expects the row's k positions [2t, 2t + 1] and [2t + 8, 2t + 9] (bf16 / fp16, m16n8k16) or
// [4t, 4t + 3] and [4t + 16, 4t + 19] (FP8, m16n8k32). Over t and j that is each of the chunk's bytes once, and both
// operands of a product use the same map, so each dot product sums the same terms in another order.
#pragma once

#include <cstdint>

namespace gg::decode_groups {

// A lane's 8 words of the 128-byte chunk of `row` that starts at byte `chunk0` (zeros for a 16-byte half at or past
// `limit` bytes, or for a row that is not `live`). `row` and `limit` must keep each 16-byte half aligned and whole.
__device__ __forceinline__ void load_lane_bytes(const uint8_t* row, int64_t chunk0, int t, int64_t limit, bool live,
                                                uint32_t (&w)[8]) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        const int64_t at = chunk0 + 64 * h + 16 * t;
        uint4 v = make_uint4(0, 0, 0, 0);
        if (live && at + 16 <= limit) v = __ldg(reinterpret_cast<const uint4*>(row + at));
        w[4 * h + 0] = v.x;
        w[4 * h + 1] = v.y;
        w[4 * h + 2] = v.z;
        w[4 * h + 3] = v.w;
    }
}

// Walks a warp's chunks first, first + stride, ... below `chunks` with two in flight: the next chunk's loads are issued
// before the current one's mma steps. load(chunk, Chunk&) fills a chunk's registers and consume(const Chunk&) uses
// them; chunks are consumed in order, so the sums are a plain loop's.
template <typename Chunk, typename Load, typename Consume>
__device__ __forceinline__ void walk_chunks_two_in_flight(int64_t first, int64_t chunks, int64_t stride, Load&& load,
                                                          Consume&& consume) {
    Chunk f0, f1;
    int64_t chunk = first;
    if (chunk < chunks) load(chunk, f0);
    while (chunk < chunks) {
        if (chunk + stride < chunks) load(chunk + stride, f1);
        consume(f0);
        chunk += stride;
        if (chunk >= chunks) break;
        if (chunk + stride < chunks) load(chunk + stride, f0);
        consume(f1);
        chunk += stride;
    }
}

}  // namespace gg::decode_groups
