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
// Auto takes the decode kernel, ahead of cutlass-sm90 and the portable kernel, for calls of at most kDecodeAutoMaxRows
// rows whose live experts' weights are at most kDecodeAutoMaxWeightBytes (decode_groups::weight_bytes_bound). By name
// it takes every call scaled_decode_supports accepts. The bounds are bench/sweep/decode_rules.py's picks from the
// measurements bench/sweep/decode-rules.json lists (the gg_decode_rules ctest checks them):
// H100, same loop, block scales, the FP8 sweep subset's decode rows of four models (docs/perf-notes.md, "The decode
// kernels, first measured"; one block per group and column block): at one token (m <= 8) with at most 128 MiB of live
// weights 0.88-1.68x the speed of cutlass-sm90 (most rows 1.04-1.68x; mixtral-8x7b down 1.24-1.67x, gpt-oss-20b down
// 1.19-1.63x), above it 0.70-0.77x (mixtral-8x7b up, 235 MB), and at 16 tokens 0.19-0.78x. H200, the subset's rows
// of eight models at 1 and 16 tokens, the kernel with its column-block walk: on this rule's rows 1.33x (block) and
// 1.37x (row-wise) cutlass-sm90's speed in geometric mean, 0.88-2.07x; Auto 1.062x and 1.132x torch over all 128 and
// 64 rows, against 0.12.0's 0.919x and 0.987x; 16 tokens 0.44-1.23x.
inline constexpr int64_t kDecodeAutoMaxRows = 8;
inline constexpr double kDecodeAutoMaxWeightBytes = 128.0 * 1024 * 1024;
gg_status scaled_decode_supports(const Context& ctx, const ScaledGmmProblem& p);
gg_status scaled_decode_run(Context& ctx, const ScaledGmmProblem& p);

// check_scales = 1: every scale finite, checked on the device; synchronises the stream (refused while capturing).
gg_status check_device_scales(gg_handle& handle, const ScaledGmmProblem& p);

// The kernel `requested` names, or for GG_SCALED_KERNEL_AUTO the first that takes the call (the decode kernel within
// kDecodeAutoMaxRows and kDecodeAutoMaxWeightBytes, CUTLASS sm90, then the portable one); the reason as status +
// message when none does. Host counts during a stream capture: none does.
gg_status select_scaled_kernel(const Context& ctx, const ScaledGmmProblem& p, gg_scaled_kernel requested,
                               gg_scaled_kernel* chosen);

// Counts check, scale check, then the chosen kernel.
gg_status run_scaled_gmm(gg_handle& handle, const ScaledGmmProblem& p, gg_scaled_kernel kernel);

}  // namespace gg
