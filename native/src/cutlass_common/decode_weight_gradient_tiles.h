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

// The tiles of one expert's dW along k and along n, as the kernel numbers them (experts major, then k, then n).
__host__ __device__ inline int64_t decode_grad_tiles_i(int64_t k) { return (k + kDecodeGradTileI - 1) / kDecodeGradTileI; }
__host__ __device__ inline int64_t decode_grad_tiles_j(int64_t n) { return (n + kDecodeGradTileJ - 1) / kDecodeGradTileJ; }

}  // namespace gg::cutlass_grouped
