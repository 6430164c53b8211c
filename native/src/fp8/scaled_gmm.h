// The kernels of gg_gmm_scaled and what the entry point needs from them. No CUDA in this header.
#pragma once

#include "core/handle.h"
#include "core/scaled_validate.h"

namespace gg {

// The portable kernel (fp8/scaled_gmm_portable.cu): any device of compute capability 8.0 or newer, every FP8 operand
// pair, row-wise scales, both layouts.
gg_status scaled_portable_supports(const Context& ctx, const ScaledGmmProblem& p);
gg_status scaled_portable_run(Context& ctx, const ScaledGmmProblem& p);

// check_scales = 1: every scale finite, checked on the device; synchronises the stream (refused while capturing).
gg_status check_device_scales(gg_handle& handle, const ScaledGmmProblem& p);

// The kernel `requested` names, or for GG_SCALED_KERNEL_AUTO the first that takes the call (CUTLASS sm90, then the
// portable one); the reason as status + message when none does. Host counts during a stream capture: none does.
gg_status select_scaled_kernel(const Context& ctx, const ScaledGmmProblem& p, gg_scaled_kernel requested,
                               gg_scaled_kernel* chosen);

// Counts check, scale check, then the chosen kernel.
gg_status run_scaled_gmm(gg_handle& handle, const ScaledGmmProblem& p, gg_scaled_kernel kernel);

}  // namespace gg
