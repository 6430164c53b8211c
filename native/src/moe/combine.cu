// Weighted un-permute: out[t, :] = residual[t, :] + sum_j weights[t, j] * expert_out[slot_rows[t*top_k + j], :],
// summed in fp32 in slot order. Each output element is read (residual) and written by the same thread, so
// out may alias residual. A slot row that is negative (a dropped token: gg_moe_sort_by_expert marks it -1) or not
// below expert_rows contributes nothing.
#include <climits>

#include "core/moe_args.h"
#include "core/pointer_checks.h"
#include "moe/moe_common.cuh"

namespace gg::moe {
namespace {

template <typename T, int N>
__global__ void __launch_bounds__(kThreads)
combine_kernel(const T* __restrict__ expert_out, int64_t expert_rows, const int32_t* __restrict__ slot_rows,
               const float* __restrict__ weights, const T* residual, int64_t tokens, int top_k, int64_t cols, T* out) {
    const int64_t packs = cols / N;
    for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; t < tokens;
         t += static_cast<int64_t>(gridDim.x) * blockDim.y) {
        const int32_t* rows = slot_rows + t * top_k;
        const float* w = weights + t * top_k;
        for (int64_t p = threadIdx.x; p < packs; p += blockDim.x) {
            float acc[N];
            if (residual != nullptr) {
                load_floats<T, N>(residual + t * cols + p * N, acc);
            } else {
#pragma unroll
                for (int k = 0; k < N; ++k) acc[k] = 0.0f;
            }
            for (int j = 0; j < top_k; ++j) {
                const int32_t r = rows[j];
                if (r < 0 || r >= expert_rows) continue;
                const float wj = w[j];
                float v[N];
                load_floats<T, N>(expert_out + static_cast<int64_t>(r) * cols + p * N, v);
#pragma unroll
                for (int k = 0; k < N; ++k) acc[k] = fmaf(wj, v[k], acc[k]);
            }
            store_floats<T, N>(out + t * cols + p * N, acc);
        }
    }
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_combine(const void* expert_out, int64_t expert_rows, const int32_t* slot_rows,
                                           const float* weights, const void* residual, int64_t tokens, int32_t top_k,
                                           int64_t cols, void* out, gg_dtype dtype, void* stream) {
    using namespace gg::moe;
    return gg::api_call("gg_moe_combine", [&]() -> gg_status {
        GG_TRY(check_float_dtype("gg_moe_combine", gg::enum_bits(dtype)));  // any int32 may come: core/enum_bits.h
        if (tokens < 0 || cols < 0)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "gg_moe_combine: tokens = %lld and cols = %lld must be >= 0",
                            static_cast<long long>(tokens), static_cast<long long>(cols));
        if (top_k < 1)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "gg_moe_combine: top_k = %d must be >= 1", top_k);
        if (tokens > INT_MAX / top_k)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT,
                            "gg_moe_combine: tokens = %lld times top_k = %d exceeds the int32 slot range",
                            static_cast<long long>(tokens), top_k);
        GG_TRY(gg::validate_source_rows("gg_moe_combine", "expert_rows", expert_rows, cols));
        GG_TRY(gg::validate_source_rows("gg_moe_combine", "tokens", tokens, cols));
        if (tokens == 0 || cols == 0) return GG_STATUS_SUCCESS;
        if ((expert_out == nullptr && expert_rows > 0) || slot_rows == nullptr || weights == nullptr || out == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT,
                            "gg_moe_combine: expert_out (%p), slot_rows (%p), weights (%p) and out (%p) must not be NULL",
                            expert_out, static_cast<const void*>(slot_rows), static_cast<const void*>(weights), out);
        const size_t es = gg::dtype_size(dtype);
        const int64_t slots = tokens * top_k;
        const gg::Operand expert_op{expert_out, "expert_out", es, expert_rows * cols},
            rows_op{slot_rows, "slot_rows", sizeof(int32_t), slots}, weights_op{weights, "weights", sizeof(float), slots},
            residual_op{residual, "residual", es, residual != nullptr ? tokens * cols : 0},
            out_op{out, "out", es, tokens * cols};
        GG_TRY(gg::check_current_device_operands("gg_moe_combine",
                                                 {expert_op, rows_op, weights_op, residual_op, out_op}));
        // out is written while expert_out, slot_rows and weights are still read by other threads; residual is read
        // by the thread that writes the same element, so out may be residual itself (but not shifted against it).
        GG_TRY(gg::check_no_overlap("gg_moe_combine", out_op, expert_op));
        GG_TRY(gg::check_no_overlap("gg_moe_combine", out_op, rows_op));
        GG_TRY(gg::check_no_overlap("gg_moe_combine", out_op, weights_op));
        if (residual != out) GG_TRY(gg::check_no_overlap("gg_moe_combine", out_op, residual_op));
        auto s = static_cast<cudaStream_t>(stream);
        return dispatch_float(dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            const bool vec = can_vectorize<T>(cols, expert_out, residual, out);
            RowShape shape;
            GG_TRY(row_shape(tokens, vec ? cols / kVec<T> : cols, &shape));
            if (vec)
                combine_kernel<T, kVec<T>><<<shape.grid, shape.block, 0, s>>>(
                    static_cast<const T*>(expert_out), expert_rows, slot_rows, weights, static_cast<const T*>(residual),
                    tokens, top_k, cols, static_cast<T*>(out));
            else
                combine_kernel<T, 1><<<shape.grid, shape.block, 0, s>>>(
                    static_cast<const T*>(expert_out), expert_rows, slot_rows, weights, static_cast<const T*>(residual),
                    tokens, top_k, cols, static_cast<T*>(out));
            GG_CUDA_CHECK(cudaGetLastError());
            return GG_STATUS_SUCCESS;
        });
    });
}
