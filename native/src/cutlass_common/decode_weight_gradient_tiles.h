// How the decode weight-gradient kernel (decode_weight_gradient.cuh) cuts dW into blocks: shared by the kernel and by
// the policy that sends calls to it (cutlass_sm90/tile_choice.h), which is also compiled without CUDA's compiler.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>  // __host__ __device__

namespace gg::cutlass_grouped {

constexpr int kDecodeGradThreads = 256;
constexpr int kDecodeGradWarps = kDecodeGradThreads / 32;
constexpr int kDecodeGradVector = 8;                                         // elements per 16-byte vector
constexpr int kDecodeGradTileJ = 32 * kDecodeGradVector;                     // columns of dW per block (a vector a lane)
constexpr int kDecodeGradRowsPerWarp = 8;                                    // rows of dW per warp
constexpr int kDecodeGradTileI = kDecodeGradWarps * kDecodeGradRowsPerWarp;  // rows of dW per block

// The tiles of one expert's dW along k and along n; within an expert the kernel numbers them along k, then along n.
__host__ __device__ inline int64_t decode_grad_tiles_i(int64_t k) { return (k + kDecodeGradTileI - 1) / kDecodeGradTileI; }
__host__ __device__ inline int64_t decode_grad_tiles_j(int64_t n) { return (n + kDecodeGradTileJ - 1) / kDecodeGradTileJ; }

// Where one lane of the kernel works: expert e's dW rows i0 .. i0 + kDecodeGradRowsPerWarp and columns j .. j +
// kDecodeGradVector, or nothing (active false: a warp past k or a lane past n in a call's last tiles). Block `block`
// holds tile (tile_i, tile_j) of expert e: experts major (all of expert 0's tiles, then expert 1's), or with
// `experts_mixed` experts minor (tile 0 of every expert, then tile 1), so that the blocks in flight at any time hold
// every expert's tiles: a dominant expert's blocks, which walk many rows on CUDA cores, then run beside the other
// experts' store-bound ones instead of in waves of their own. k and n multiples of kDecodeGradVector.
struct DecodeGradPlace {
    int64_t e = 0, i0 = 0, j = 0;
    bool active = false;
};

__host__ __device__ inline DecodeGradPlace decode_grad_place(int64_t block, int warp, int lane, int64_t experts, int64_t k,
                                                              int64_t n, bool experts_mixed) {
    const int64_t tiles_i = decode_grad_tiles_i(k), tiles_j = decode_grad_tiles_j(n);
    DecodeGradPlace p;
    int64_t in_expert;
    if (experts_mixed) {
        in_expert = block / experts;
        p.e = block - in_expert * experts;
    } else {
        p.e = block / (tiles_i * tiles_j);
        in_expert = block - p.e * tiles_i * tiles_j;
    }
    const int64_t tile_i = in_expert / tiles_j, tile_j = in_expert - tile_i * tiles_j;
    p.i0 = tile_i * kDecodeGradTileI + static_cast<int64_t>(warp) * kDecodeGradRowsPerWarp;
    p.j = tile_j * kDecodeGradTileJ + static_cast<int64_t>(lane) * kDecodeGradVector;
    // k and n are multiples of the vector: a row block or vector that starts inside the matrix ends inside it.
    p.active = p.i0 < k && p.j < n;
    return p;
}

}  // namespace gg::cutlass_grouped
