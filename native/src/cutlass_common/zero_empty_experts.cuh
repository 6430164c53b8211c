// The weight gradient's zeros for experts without rows: dW[e] = a_e^T . b_e is all zeros when expert e has no rows,
// and most of dW at decode sizes (gpt-oss: 128 experts of 2880 x 2880, 1-256 tokens, a 2.1 GB output of which nearly
// every expert is empty). Written by the GEMM as K = 1 groups on a zero operand, those zeros moved at 56% of the copy
// bandwidth (1.25 ms against torch's 0.74 ms, H100 sweep, docs/perf-notes.md); this kernel writes them as a memset
// does: 16-byte stores, coalesced, enough blocks to fill the card, and the GEMM gives those experts no tiles
// (GroupRule::empty_filled_apart).
//
// One launch covers every expert. It reads the expert row offsets the group-array fill kernel wrote on the device
// (host and device counts alike), so it needs no host synchronisation and can be captured in a CUDA graph.
// Included only by backend_sm90.cu.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

#include "core/internal.h"

namespace gg::cutlass_grouped {

// 16-byte words each thread writes per block pass; with 256 threads a block clears 64 KB of one expert per pass.
constexpr int kZeroThreads = 256;
constexpr int kZeroWordsPerThread = 16;

// Block (x, y) clears the words x, x + gridDim.x, ... (in block-sized chunks) of experts y, y + gridDim.y, ... that
// have no rows. Blocks of experts with rows return at once: they cost a launch slot, not bandwidth.
static __global__ void __launch_bounds__(kZeroThreads)
zero_empty_experts(const int64_t* offsets, int32_t experts, uint4* c, int64_t words_per_expert) {
    const uint4 zero = make_uint4(0, 0, 0, 0);
    for (int64_t e = blockIdx.y; e < experts; e += gridDim.y) {
        // An end before its start is an empty expert too, as in fill_group_arrays_range.
        if (offsets[e + 1] > offsets[e]) continue;
        uint4* out = c + e * words_per_expert;
        const int64_t stride = static_cast<int64_t>(gridDim.x) * kZeroThreads;
        for (int64_t i = static_cast<int64_t>(blockIdx.x) * kZeroThreads + threadIdx.x; i < words_per_expert;
             i += stride) {
            out[i] = zero;
        }
    }
}

// Enqueues zero_empty_experts on `stream` for `experts` slots of `expert_bytes` bytes each at `c`, from the [E + 1]
// device offsets. `expert_bytes` must be a multiple of 16 and `c` 16-byte aligned (cutlass-sm90 calls: k and n are
// multiples of 8 two-byte elements, c is 16-byte aligned, both checked by cutlass_sm90_supports).
inline gg_status launch_zero_empty_experts(const int64_t* offsets, int64_t experts, void* c, int64_t expert_bytes,
                                           cudaStream_t stream) {
    if (experts <= 0 || expert_bytes <= 0) return GG_STATUS_SUCCESS;
    if (expert_bytes % 16 != 0 || reinterpret_cast<uintptr_t>(c) % 16 != 0) {
        return fail(GG_STATUS_INTERNAL_ERROR, "zero_empty_experts: %lld bytes per expert at %p are not whole 16-byte "
                    "words", static_cast<long long>(expert_bytes), c);
    }
    const int64_t words = expert_bytes / 16;
    // Enough blocks along x to cover one expert in one pass of kZeroWordsPerThread words a thread; along y one block
    // row per expert up to the grid's limit (a grid-stride loop takes the rest).
    constexpr int64_t kWordsPerBlock = static_cast<int64_t>(kZeroThreads) * kZeroWordsPerThread;
    int64_t blocks_x = (words + kWordsPerBlock - 1) / kWordsPerBlock;
    if (blocks_x > 65535) blocks_x = 65535;
    const int64_t blocks_y = experts < 65535 ? experts : 65535;
    zero_empty_experts<<<dim3(static_cast<unsigned>(blocks_x), static_cast<unsigned>(blocks_y)), kZeroThreads, 0,
                         stream>>>(offsets, static_cast<int32_t>(experts), static_cast<uint4*>(c), words);
    GG_LAUNCH_CHECK("zero_empty_experts");
    return GG_STATUS_SUCCESS;
}

}  // namespace gg::cutlass_grouped
