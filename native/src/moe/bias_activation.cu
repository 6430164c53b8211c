// In-place x = act(x + bias[expert of row]) over sorted rows (the epilogue of the first expert GEMM).
// The expert of a row comes from device counts (per-block prefix + binary search, see moe_expert_map.cuh)
// or, for padded layouts, from row / rows_per_expert.
#include <climits>

#include "core/pointer_checks.h"
#include "moe/moe_activation.cuh"
#include "moe/moe_expert_map.cuh"
#include "moe/moe_validation.cuh"

namespace gg::moe {
namespace {

template <typename T, int N, gg_activation A>
__global__ void __launch_bounds__(kThreads)
bias_activation_kernel(T* __restrict__ x, const T* __restrict__ bias, const int64_t* __restrict__ counts,
                       int64_t rows_per_expert, int64_t rows, int64_t cols, int64_t num_experts) {
    extern __shared__ int64_t inclusive[];
    if (counts != nullptr) build_inclusive_prefix(counts, num_experts, inclusive);
    const int64_t packs = cols / N;
    for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; r < rows;
         r += static_cast<int64_t>(gridDim.x) * blockDim.y) {
        const int64_t e = counts != nullptr ? find_expert(inclusive, num_experts, r) : r / rows_per_expert;
        const T* b = (bias != nullptr && e < num_experts) ? bias + e * cols : nullptr;
        T* row = x + r * cols;
        for (int64_t p = threadIdx.x; p < packs; p += blockDim.x) {
            float v[N];
            load_biased<T, N>(row + p * N, b != nullptr ? b + p * N : nullptr, v);
#pragma unroll
            for (int k = 0; k < N; ++k) v[k] = activate<A>(v[k]);
            store_floats<T, N>(row + p * N, v);
        }
    }
}

template <typename T, int N, gg_activation A>
gg_status launch(void* x, const void* bias, const int64_t* counts, int64_t rows_per_expert, int64_t rows,
                 int64_t cols, int64_t num_experts, cudaStream_t s) {
    RowShape shape;
    GG_TRY(row_shape(rows, cols / N, &shape));
    const size_t smem = counts != nullptr ? sizeof(int64_t) * static_cast<size_t>(num_experts) : 0;
    auto kernel = bias_activation_kernel<T, N, A>;
    GG_TRY(allow_dynamic_smem(kernel, smem, "gg_moe_bias_activation (counts prefix of num_experts)"));
    kernel<<<shape.grid, shape.block, smem, s>>>(static_cast<T*>(x), static_cast<const T*>(bias), counts,
                                                 rows_per_expert, rows, cols, num_experts);
    GG_CUDA_CHECK(cudaGetLastError());
    return GG_STATUS_SUCCESS;
}

}  // namespace

}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_bias_activation(void* x, const void* bias, const int64_t* counts,
                                                   int64_t rows_per_expert, int64_t rows, int64_t cols,
                                                   int64_t num_experts, gg_activation activation, gg_dtype dtype,
                                                   void* stream) {
    using namespace gg::moe;
    return gg::api_call("gg_moe_bias_activation", [&]() -> gg_status {
        // dtype and activation read as bits (core/enum_bits.h): any int32 may come.
        GG_TRY(validate_activation_rows("gg_moe_bias_activation", gg::enum_bits(dtype), gg::enum_bits(activation),
                                        counts, rows_per_expert, rows, cols, num_experts, bias));
        if (rows == 0 || cols == 0) return GG_STATUS_SUCCESS;
        if (x == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "gg_moe_bias_activation: x must not be NULL");
        const size_t es = gg::dtype_size(dtype);
        const gg::Operand x_op{x, "x", es, rows * cols}, bias_op{bias, "bias", es, bias != nullptr ? num_experts * cols : 0},
            counts_op{counts, "counts", sizeof(int64_t), counts != nullptr ? num_experts : 0};
        // x is written in place while every block reads bias and the counts: neither may lie under it (as in the backward).
        GG_TRY(gg::check_no_overlap("gg_moe_bias_activation", x_op, {bias_op, counts_op}));
        GG_TRY(gg::check_current_device_operands("gg_moe_bias_activation", {x_op, bias_op, counts_op}));
        auto s = static_cast<cudaStream_t>(stream);
        return dispatch_float(dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            const bool vec = can_vectorize<T>(cols, x, bias);
            return dispatch_activation(activation, [&](auto act) -> gg_status {
                constexpr gg_activation A = decltype(act)::value;
                return vec ? launch<T, kVec<T>, A>(x, bias, counts, rows_per_expert, rows, cols, num_experts, s)
                           : launch<T, 1, A>(x, bias, counts, rows_per_expert, rows, cols, num_experts, s);
            });
        });
    });
}
