// Byte layout of the workspace block of one cutlass-sm90 FP8 call (scaled_launch_sm90.cuh): the per-group arrays, then
// the CUTLASS kernel's own workspace. Host-only and free of CUTLASS, so that native/tests checks it on any machine.
//
// Every piece starts on a 256-byte boundary of the block (core/aligned_layout.h, which says why the kernel's piece
// needs it), as in cutlass_common/group_arrays_fill.cuh's WorkspacePlan.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/aligned_layout.h"

namespace gg::cutlass_sm90 {

struct ScaledWorkspacePlan {
    // Byte offsets from the block's start: offsets [E + 1] int64, shapes [E], five pointer arrays [E] one after the
    // other (a, b, d, a_scale, b_scale), the strides of a, b and d [E] each, the kernel's workspace; total bytes.
    size_t offsets = 0, shapes = 0, ptrs = 0, stride_a = 0, stride_b = 0, stride_d = 0, kernel = 0, total = 0;

    ScaledWorkspacePlan(int64_t experts, size_t shape_bytes, size_t stride_a_bytes, size_t stride_b_bytes,
                        size_t stride_d_bytes, size_t kernel_bytes) {
        const size_t e = static_cast<size_t>(experts);
        AlignedLayout block;
        offsets = block.take((e + 1) * sizeof(int64_t));
        shapes = block.take(e * shape_bytes);
        ptrs = block.take(5 * e * sizeof(void*));
        stride_a = block.take(e * stride_a_bytes);
        stride_b = block.take(e * stride_b_bytes);
        stride_d = block.take(e * stride_d_bytes);
        kernel = block.take(kernel_bytes);
        total = block.total();
    }
};

// What a block-scaled call (scaled_block_sm90.cu: run_block) adds after ScaledWorkspacePlan's pieces: the scales
// transposed to the MN-major order CUTLASS's blockwise mainloop reads (a's [m * k_blocks] floats, each expert's rows a
// compact [k_blocks][rows] block at its first row times k_blocks; b's [E][k_blocks][n_blocks]), and the per-group scale
// layouts CUTLASS's arguments carry (layout_bytes_a / _b each). Offsets from `start`, the plan's total.
struct BlockScaleWorkspace {
    size_t a_scales = 0, b_scales = 0, layouts_a = 0, layouts_b = 0, total = 0;

    BlockScaleWorkspace(size_t start, int64_t m, int64_t experts, int64_t k_blocks, int64_t n_blocks,
                        size_t layout_bytes_a, size_t layout_bytes_b) {
        const size_t e = static_cast<size_t>(experts);
        AlignedLayout block;
        block.take(start);
        a_scales = block.take(static_cast<size_t>(m) * static_cast<size_t>(k_blocks) * sizeof(float));
        b_scales = block.take(e * static_cast<size_t>(k_blocks) * static_cast<size_t>(n_blocks) * sizeof(float));
        layouts_a = block.take(e * layout_bytes_a);
        layouts_b = block.take(e * layout_bytes_b);
        total = block.total();
    }
};

}  // namespace gg::cutlass_sm90
