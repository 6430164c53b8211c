// Host-only argument checks of the optimiser entry points (gg_adamw_step) that native/tests exercises without a
// GPU (the kernel's file is CUDA; this is plain C++).
#pragma once

#include "core/internal.h"

namespace gg {

// gg_adamw_step's sizes and scalars: n >= 0 and at most kMaxElements (core/moe_args.h); lr, eps and weight_decay
// finite and >= 0 (lr and eps may be 0); beta1 and beta2 in [0, 1); bias_correction1 and bias_correction2 in (0, 1]
// (1 - beta^t for a step t >= 1), unless the corrections are read from device memory (`device_corrections`), when the
// two scalars are not read.
gg_status validate_adamw_args(const char* function, int64_t n, float lr, float beta1, float beta2, float eps,
                              float weight_decay, float bias_correction1, float bias_correction2,
                              bool device_corrections);

}  // namespace gg
