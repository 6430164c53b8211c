// Per-token softmax statistics the router's backward kernels share: one warp holds one token's row of logits.
#pragma once

#include "moe/moe_common.cuh"

namespace gg::moe {

// max and sum of exp(v - max) over row[0, n), as gg_moe_topk_softmax computes them; every lane gets both.
template <typename T>
__device__ __forceinline__ void softmax_stats(const T* row, int n, int lane, float* max_v, float* sum) {
    float m = -INFINITY;
    for (int e = lane; e < n; e += 32) m = fmaxf(m, to_float(row[e]));
    m = warp_max_f(m);
    float s = 0.0f;
    for (int e = lane; e < n; e += 32) s += expf(to_float(row[e]) - m);
    *max_v = m;
    *sum = warp_sum_f(s);
}

}  // namespace gg::moe
