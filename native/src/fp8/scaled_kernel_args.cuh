// The operands of one gg_gmm_scaled call as the FP8 kernels of this folder read them on the device (the portable and
// the decode kernel), made from the validated problem in one place.
#pragma once

#include <cstdint>

#include <cuda_bf16.h>

#include "core/scaled_validate.h"

namespace gg {

struct ScaledKernelArgs {
    const uint8_t* a;
    const uint8_t* b;
    __nv_bfloat16* c;
    const float* a_scale;
    const float* b_scale;
    const int64_t* offsets;  // [E + 1], clamped to m: the portable kernel's (null for the decode kernel)
    const int64_t* counts;   // [E] in device memory: the decode kernel scans them itself (null for the portable one)
    int64_t m, k, n, num_experts;
    bool trans_b;
    int64_t k_blocks, n_blocks;  // block scales: ceil(k / 128), ceil(n / 128)
};

inline ScaledKernelArgs scaled_kernel_args(const ScaledGmmProblem& sp, const int64_t* offsets, const int64_t* counts) {
    const GmmProblem& p = sp.base;
    return ScaledKernelArgs{static_cast<const uint8_t*>(p.a), static_cast<const uint8_t*>(p.b),
                            static_cast<__nv_bfloat16*>(p.c), sp.a_scale, sp.b_scale, offsets, counts, p.m, p.k, p.n,
                            p.num_experts, p.trans_b, scale_blocks_of(p.k), scale_blocks_of(p.n)};
}

}  // namespace gg
