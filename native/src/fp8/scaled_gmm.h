// The kernels of gg_gmm_scaled and what the entry point needs from them. No CUDA in this header.
#pragma once

#include "backends/decode_groups.h"
#include "core/handle.h"
#include "core/scaled_validate.h"

namespace gg {

// The portable kernel (fp8/scaled_gmm_portable.cu): any device of compute capability 8.0 or newer, every FP8 operand
// pair, row-wise scales, both layouts.
gg_status scaled_portable_supports(const Context& ctx, const ScaledGmmProblem& p);
gg_status scaled_portable_run(Context& ctx, const ScaledGmmProblem& p);

// The decode kernel (fp8/scaled_gmm_decode.cu): FP8 mma.sync from global memory, for a few rows per expert; trans_b,
// compute capability 8.9 or newer (code built for it), every FP8 operand pair, both scale modes, k a multiple of 16,
// at most kDecodeMaxRows rows and kDecodeMaxExperts experts (each block scans the counts in shared memory).
inline constexpr int64_t kDecodeMaxRows = decode_groups::kMaxRows;
inline constexpr int kDecodeMaxExperts = decode_groups::kMaxExperts;
// Auto takes the decode kernel, ahead of cutlass-sm90 and the portable kernel, for calls of at most the scale mode's
// rows whose live experts' weights are at most its bytes (decode_groups::weight_bytes_bound); by name it takes every
// call scaled_decode_supports accepts. The bounds are bench/sweep/decode_rules.py's picks (rules fp8-rowwise and
// fp8-blockwise) from the measurements bench/sweep/decode-rules.json lists, the FP8 sweep subset's rows of eight models
// at 1 and 16 tokens against cutlass-sm90 in the same loop on an H200 (the kernel with its column-block walk) and on an
// H100 (the 0.13.0 release); the gg_decode_rules ctest checks them. Per mode because the cards' rows part there: with
// row-wise scales the kernel beat cutlass-sm90 on one-token rows of 224 MiB of live weights on the H100 (deepseek-v3 up
// 1.16-1.25x torch against 0.95-1.08x) and on mixtral-8x7b's 32 rows at 16 tokens on both cards; with block scales it lost
// to cutlass-sm90 on the H100 from 112 MiB (deepseek-v3 down at one token, uniform: 0.90x torch against 0.98x) and on the
// H200 above 128 MiB (mixtral-8x7b up: 0.99x against 1.06x).
inline constexpr int64_t kDecodeAutoMaxRowsRowwise = 32;
inline constexpr double kDecodeAutoMaxWeightBytesRowwise = 1024.0 * 1024 * 1024;
inline constexpr int64_t kDecodeAutoMaxRowsBlockwise = 8;
inline constexpr double kDecodeAutoMaxWeightBytesBlockwise = 64.0 * 1024 * 1024;

// The bounds above for one scale mode.
struct DecodeAutoBounds {
    int64_t rows;
    double weight_bytes;
};
inline constexpr DecodeAutoBounds decode_auto_bounds(gg_scale_mode mode) {
    return mode == GG_SCALE_BLOCKWISE ? DecodeAutoBounds{kDecodeAutoMaxRowsBlockwise, kDecodeAutoMaxWeightBytesBlockwise}
                                      : DecodeAutoBounds{kDecodeAutoMaxRowsRowwise, kDecodeAutoMaxWeightBytesRowwise};
}

// Whether the call is within its scale mode's bounds (no device query): GG_STATUS_SUCCESS, or GG_STATUS_NOT_SUPPORTED
// with the mode, the bound and the call's value.
gg_status decode_auto_within_bounds(const ScaledGmmProblem& p);
gg_status scaled_decode_supports(const Context& ctx, const ScaledGmmProblem& p);
gg_status scaled_decode_run(Context& ctx, const ScaledGmmProblem& p);

// check_scales = 1: every scale finite, checked on the device; synchronises the stream (refused while capturing).
gg_status check_device_scales(gg_handle& handle, const ScaledGmmProblem& p);

// The kernel `requested` names, or for GG_SCALED_KERNEL_AUTO the first that takes the call (the decode kernel within
// decode_auto_bounds, CUTLASS sm90, then the portable one); the reason as status +
// message when none does. Host counts during a stream capture: none does.
gg_status select_scaled_kernel(const Context& ctx, const ScaledGmmProblem& p, gg_scaled_kernel requested,
                               gg_scaled_kernel* chosen);

// Counts check, scale check, then the chosen kernel.
gg_status run_scaled_gmm(gg_handle& handle, const ScaledGmmProblem& p, gg_scaled_kernel kernel);

}  // namespace gg
