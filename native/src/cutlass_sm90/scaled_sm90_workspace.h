// Byte layout of the workspace block of one cutlass-sm90 FP8 call (scaled_gemm_sm90.cu): the per-group arrays, then
// the CUTLASS kernel's own workspace. Host-only and free of CUTLASS, so that native/tests checks it on any machine.
//
// Every piece starts on a 256-byte boundary of the block, which is itself 256-byte aligned (core/workspace.cpp), as
// in cutlass_common/group_arrays.cuh's WorkspacePlan. The kernel's piece needs it: CUTLASS's ptr-array kernels keep
// their TMA descriptors (CUtensorMap, 64-byte aligned in global memory or the TMA instructions fault, which kills the
// CUDA context) at 64-byte steps from the pointer they are given, so that pointer must be 64-byte aligned itself.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gg::cutlass_sm90 {

struct ScaledWorkspacePlan {
    static constexpr size_t kAlign = 256;
    // Byte offsets from the block's start: offsets [E + 1] int64, shapes [E], five pointer arrays [E] one after the
    // other (a, b, d, a_scale, b_scale), the strides of a, b and d [E] each, the kernel's workspace; total bytes.
    size_t offsets = 0, shapes = 0, ptrs = 0, stride_a = 0, stride_b = 0, stride_d = 0, kernel = 0, total = 0;

    static size_t round_up(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

    ScaledWorkspacePlan(int64_t experts, size_t shape_bytes, size_t stride_a_bytes, size_t stride_b_bytes,
                        size_t stride_d_bytes, size_t kernel_bytes) {
        const size_t e = static_cast<size_t>(experts);
        size_t at = 0;
        auto take = [&at](size_t bytes) {
            const size_t here = at;
            at = round_up(at + bytes);
            return here;
        };
        offsets = take((e + 1) * sizeof(int64_t));
        shapes = take(e * shape_bytes);
        ptrs = take(5 * e * sizeof(void*));
        stride_a = take(e * stride_a_bytes);
        stride_b = take(e * stride_b_bytes);
        stride_d = take(e * stride_d_bytes);
        kernel = take(kernel_bytes);
        total = at;
    }
};

}  // namespace gg::cutlass_sm90
