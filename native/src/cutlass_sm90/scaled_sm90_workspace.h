// Byte layout of the workspace block of one cutlass-sm90 FP8 call (scaled_gemm_sm90.cu): the per-group arrays, then
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

}  // namespace gg::cutlass_sm90
