// Where the cutlass-sm90 block-scaled FP8 call (scaled_block_sm90.cu: run_block) puts each scale: CUTLASS's blockwise
// mainloop reads each group's scales MN-major and compact (Sm90BlockwiseScaleConfig::tile_atom_to_shape_SFA/SFB of the
// group's shape: a's [k_blocks][rows], b's [k_blocks][n_blocks]), and ours are K-major ([m][k_blocks] for a,
// [E][n_blocks][k_blocks] for b). Shared by the transpose kernels and by native/tests, which checks that every scale
// lands once, inside its group's block.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>  // __host__ __device__

namespace gg::cutlass_sm90 {

// The expert holding `row`: the last e with offsets[e] <= row; needs offsets[0] <= row < offsets[experts].
__host__ __device__ inline int64_t expert_of_row(const int64_t* offsets, int64_t experts, int64_t row) {
    int64_t lo = 0, hi = experts;
    while (hi - lo > 1) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (offsets[mid] <= row) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

// a's scale of `row` (an expert's whose rows are [first, first + rows)) and k block `kb`, in that expert's compact
// MN-major block, which starts at first * k_blocks.
__host__ __device__ inline int64_t a_block_scale_index(int64_t first, int64_t rows, int64_t k_blocks, int64_t row,
                                                       int64_t kb) {
    return first * k_blocks + kb * rows + (row - first);
}

// b's scale of expert e, n block `nb` and k block `kb`, in e's [k_blocks][n_blocks] block.
__host__ __device__ inline int64_t b_block_scale_index(int64_t e, int64_t k_blocks, int64_t n_blocks, int64_t nb,
                                                       int64_t kb) {
    return (e * k_blocks + kb) * n_blocks + nb;
}

}  // namespace gg::cutlass_sm90
