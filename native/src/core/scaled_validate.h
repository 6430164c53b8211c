// Argument validation of gg_gmm_scaled: turns a gg_scaled_gmm_args into a ScaledGmmProblem or names what is wrong.
// Host-only (pointer locations through a PointerQuery), so native/tests checks it without a GPU.
#pragma once

#include "core/validate.h"

namespace gg {

// One validated scaled grouped GEMM. `base` carries what gg_gmm's problem carries (operands, counts, sizes, trans_b,
// stream, capturing; base.dtype is the output type), so that the counts check and workspace_acquire take it as is.
struct ScaledGmmProblem {
    GmmProblem base;
    const float* a_scale = nullptr;
    const float* b_scale = nullptr;
    int64_t a_scale_count = 0;
    int64_t b_scale_count = 0;
    gg_dtype a_dtype = GG_DTYPE_FLOAT8_E4M3;
    gg_dtype b_dtype = GG_DTYPE_FLOAT8_E4M3;
    gg_scale_mode scale_mode = GG_SCALE_ROWWISE;
    bool check_scales = false;
    gg_scaled_kernel kernel = GG_SCALED_KERNEL_AUTO;
};

// DeepGEMM's block edge for GG_SCALE_BLOCKWISE (1x128 activations, 128x128 weights): the validation's extents and the
// portable kernel's blocks both use it.
inline constexpr int64_t kScaleBlock = 128;

// ceil(extent / kScaleBlock) without the overflow of extent + 127 for extents near 2^63.
inline int64_t scale_blocks_of(int64_t extent) { return extent / kScaleBlock + (extent % kScaleBlock != 0 ? 1 : 0); }

// The scale extents a mode needs for a product of this shape: GG_SCALE_ROWWISE m and E*n; GG_SCALE_BLOCKWISE
// m*ceil(k/128) and E*ceil(n/128)*ceil(k/128). Fails on overflow.
gg_status scaled_gmm_scale_extents(gg_scale_mode mode, int64_t m, int64_t k, int64_t n, int64_t num_experts,
                                   int64_t* a_scales, int64_t* b_scales);

// The one range check of a caller's gg_scaled_kernel (read as bits, core/enum_bits.h), for gg_gmm_scaled's args.kernel
// and gg_gmm_scaled_supported's kernel argument alike (the latter kept its own bound of [0, 2] when the decode kernel
// was added, and refused GG_SCALED_KERNEL_DECODE).
gg_status check_scaled_kernel(int32_t kernel);

// Validates `args` for a handle on `handle_device`, in this order: a_dtype, b_dtype, c_dtype, scale_mode,
// counts_location, kernel, negative sizes, num_experts, reserved, size overflow, null pointers (operands, then
// scales), scale counts against the mode's shape, batch_sizes, alignment and residency of a, b, c and the scales,
// c overlapping any input (device batch_sizes included). On success fills `out`.
gg_status validate_scaled_gmm(const gg_scaled_gmm_args& args, int handle_device, PointerQuery query,
                              ScaledGmmProblem* out);

}  // namespace gg
