// The cutlass-sm90 FP8 kernels of gg_gmm_scaled, as the scaled dispatcher sees them (no CUTLASS in this header).
// Compiled only in builds with the cutlass-sm90 backend (GG_HAVE_CUTLASS_SM90).
#pragma once

#include "core/scaled_validate.h"

namespace gg {

// Compute capability 9.0, E4M3 x E4M3, row-wise scales, trans_b (weights [E, N, K]), k a multiple of 16 and n of 16 (16-byte TMA rows of every
// operand and of the bf16 output), 16-byte aligned a, b and c.
gg_status scaled_sm90_supports(const Context& ctx, const ScaledGmmProblem& p);
// What Auto may give these kernels: what they take, less block scales while the policy leaves those to the portable
// kernel (tile_choice.h: fp8_block_scales_in_auto).
gg_status scaled_sm90_auto_supports(const Context& ctx, const ScaledGmmProblem& p);
gg_status scaled_sm90_run(Context& ctx, const ScaledGmmProblem& p);

}  // namespace gg
