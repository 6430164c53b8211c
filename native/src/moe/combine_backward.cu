// Backward of gg_moe_combine (out[t] = residual[t] + sum_j w[t, j] * expert_out[slot_rows[t*k + j]]):
//   d_expert_out[slot_rows[s]] = w[s] * dy[s / k]          (the scatter of dy by slot, scaled by the weight)
//   d_weights[s]               = dot(dy[s / k], expert_out[slot_rows[s]])   (fp32)
// One warp per token walks its k slots in order, so every dot is reduced in a fixed order (deterministic) and every
// expert row is written by exactly one warp (slot_rows is one-to-one). A lane reads expert_out and writes
// d_expert_out at the same pack, so d_expert_out may be expert_out itself (the gradient overwrites the activation
// it no longer needs). A dropped slot (slot_rows < 0 or not below expert_rows) gets d_weights 0 and writes no row.
// The residual's gradient is dy itself: nothing to compute.
#include "core/pointer_checks.h"
#include "moe/moe_validation.cuh"

namespace gg::moe {
namespace {

constexpr int kWarps = kThreads / 32;

template <typename T, int N>
__global__ void __launch_bounds__(kThreads)
combine_backward_kernel(const T* __restrict__ dy, const T* expert_out, int64_t expert_rows,
                        const int32_t* __restrict__ slot_rows, const float* __restrict__ weights, int64_t tokens,
                        int top_k, int64_t cols, T* d_expert_out, float* __restrict__ d_weights) {
    const int64_t packs = cols / N;
    const int lane = threadIdx.x;
    for (int64_t t = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.y; t < tokens;
         t += static_cast<int64_t>(gridDim.x) * kWarps) {
        const T* g = dy + t * cols;
        for (int j = 0; j < top_k; ++j) {
            const int64_t slot = t * top_k + j;
            const int32_t r = slot_rows[slot];
            const bool routed = r >= 0 && r < expert_rows;  // warp-uniform: every lane reads the same slot
            float dot = 0.0f;
            if (routed) {
                const float w = d_expert_out != nullptr ? weights[slot] : 0.0f;  // weights may be NULL without it
                const int64_t row = static_cast<int64_t>(r) * cols;
                for (int64_t p = lane; p < packs; p += 32) {
                    float gv[N];
                    load_floats<T, N>(g + p * N, gv);
                    if (d_weights != nullptr) {
                        float v[N];
                        load_floats<T, N>(expert_out + row + p * N, v);
#pragma unroll
                        for (int k = 0; k < N; ++k) dot = fmaf(gv[k], v[k], dot);
                    }
                    if (d_expert_out != nullptr) {
#pragma unroll
                        for (int k = 0; k < N; ++k) gv[k] *= w;
                        store_floats<T, N>(d_expert_out + row + p * N, gv);
                    }
                }
            }
            if (d_weights != nullptr) {
                dot = warp_sum_f(dot);
                if (lane == 0) d_weights[slot] = routed ? dot : 0.0f;
            }
        }
    }
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_combine_backward(const void* dy, const void* expert_out, int64_t expert_rows,
                                                    const int32_t* slot_rows, const float* weights, int64_t tokens,
                                                    int32_t top_k, int64_t cols, void* d_expert_out, float* d_weights,
                                                    gg_dtype dtype, void* stream) {
    using namespace gg::moe;
    constexpr const char* fn = "gg_moe_combine_backward";
    return gg::api_call(fn, [&]() -> gg_status {
        GG_TRY(validate_slot_gradient(fn, gg::enum_bits(dtype), cols, tokens, top_k, "expert_rows", expert_rows));
        if (tokens == 0 || (d_expert_out == nullptr && d_weights == nullptr)) return GG_STATUS_SUCCESS;
        if (dy == nullptr || slot_rows == nullptr || (d_expert_out != nullptr && weights == nullptr) ||
            (d_weights != nullptr && expert_out == nullptr && expert_rows > 0))
            return gg::fail(GG_STATUS_INVALID_ARGUMENT,
                            "%s: dy (%p) and slot_rows (%p) must not be NULL, weights (%p) not when d_expert_out (%p) "
                            "is given, expert_out (%p) not when d_weights (%p) is given",
                            fn, dy, static_cast<const void*>(slot_rows), static_cast<const void*>(weights),
                            d_expert_out, expert_out, static_cast<void*>(d_weights));
        const size_t es = gg::dtype_size(dtype);
        const int64_t slots = tokens * top_k;
        const gg::Operand dy_op{dy, "dy", es, tokens * cols},
            expert_op{expert_out, "expert_out", es, d_weights != nullptr ? expert_rows * cols : 0},
            rows_op{slot_rows, "slot_rows", sizeof(int32_t), slots},
            weights_op{weights, "weights", sizeof(float), d_expert_out != nullptr ? slots : 0},
            d_expert_op{d_expert_out, "d_expert_out", es, d_expert_out != nullptr ? expert_rows * cols : 0},
            d_weights_op{d_weights, "d_weights", sizeof(float), d_weights != nullptr ? slots : 0};
        GG_TRY(gg::check_current_device_operands(fn, {dy_op, expert_op, rows_op, weights_op, d_expert_op, d_weights_op}));
        // d_expert_out may be expert_out itself (each pack is read, then written, by one lane), nothing else.
        for (const gg::Operand* in : {&dy_op, &rows_op, &weights_op}) GG_TRY(gg::check_no_overlap(fn, d_expert_op, *in));
        if (d_expert_out != expert_out) GG_TRY(gg::check_no_overlap(fn, d_expert_op, expert_op));
        for (const gg::Operand* in : {&dy_op, &expert_op, &rows_op, &weights_op, &d_expert_op})
            GG_TRY(gg::check_no_overlap(fn, d_weights_op, *in));
        if (cols == 0 && d_weights == nullptr) return GG_STATUS_SUCCESS;
        auto s = static_cast<cudaStream_t>(stream);
        return dispatch_float(dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            const bool vec = can_vectorize<T>(cols, dy, expert_out, d_expert_out);
            unsigned blocks = 0;
            GG_TRY(item_blocks(tokens, kWarps, &blocks));
            const dim3 block(32, kWarps, 1);
            if (vec)
                combine_backward_kernel<T, kVec<T>><<<blocks, block, 0, s>>>(
                    static_cast<const T*>(dy), static_cast<const T*>(expert_out), expert_rows, slot_rows, weights,
                    tokens, top_k, cols, static_cast<T*>(d_expert_out), d_weights);
            else
                combine_backward_kernel<T, 1><<<blocks, block, 0, s>>>(
                    static_cast<const T*>(dy), static_cast<const T*>(expert_out), expert_rows, slot_rows, weights,
                    tokens, top_k, cols, static_cast<T*>(d_expert_out), d_weights);
            GG_CUDA_CHECK(cudaGetLastError());
            return GG_STATUS_SUCCESS;
        });
    });
}
