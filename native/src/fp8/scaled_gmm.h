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
// Auto takes the decode kernel for calls of at most this many rows, ahead of cutlass-sm90 and the portable kernel; 0
// (never) until it is measured against them (docs/contributing.md, "A kernel or a policy change that waits for its
// measurement"; docs/perf-notes.md, "Open leads": FP8 block scales at one decode token). By name it takes every call
// scaled_decode_supports accepts.
inline constexpr int64_t kDecodeAutoMaxRows = 0;
gg_status scaled_decode_supports(const Context& ctx, const ScaledGmmProblem& p);
gg_status scaled_decode_run(Context& ctx, const ScaledGmmProblem& p);

// check_scales = 1: every scale finite, checked on the device; synchronises the stream (refused while capturing).
gg_status check_device_scales(gg_handle& handle, const ScaledGmmProblem& p);

// The kernel `requested` names, or for GG_SCALED_KERNEL_AUTO the first that takes the call (the decode kernel for at
// most kDecodeAutoMaxRows rows, CUTLASS sm90, then the portable one); the reason as status + message when none does. Host counts during a stream capture: none does.
gg_status select_scaled_kernel(const Context& ctx, const ScaledGmmProblem& p, gg_scaled_kernel requested,
                               gg_scaled_kernel* chosen);

// Counts check, scale check, then the chosen kernel.
gg_status run_scaled_gmm(gg_handle& handle, const ScaledGmmProblem& p, gg_scaled_kernel kernel);

}  // namespace gg
