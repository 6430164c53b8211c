// Backward of gg_moe_bias_activation (y = act(x + bias[expert of row])): dx = dy * act'(x + bias[expert of row]),
// from the pre-activation x the forward started from (its caller keeps a copy: the forward works in place). The
// bias gradient is gg_moe_bias_grad over dx. Element-wise: dx may be dy or x itself.
#include "core/pointer_checks.h"
#include "moe/moe_activation.cuh"
#include "moe/moe_expert_map.cuh"
#include "moe/moe_validation.cuh"

namespace gg::moe {
namespace {

template <typename T, int N, gg_activation A>
__global__ void __launch_bounds__(kThreads)
activation_backward_kernel(const T* x, const T* __restrict__ bias, const int64_t* __restrict__ counts,
                           int64_t rows_per_expert, int64_t rows, int64_t cols, int64_t num_experts, const T* dy,
                           T* dx) {
    extern __shared__ int64_t inclusive[];
    if (counts != nullptr) build_inclusive_prefix(counts, num_experts, inclusive);
    const int64_t packs = cols / N;
    for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; r < rows;
         r += static_cast<int64_t>(gridDim.x) * blockDim.y) {
        const int64_t e = counts != nullptr ? find_expert(inclusive, num_experts, r) : r / rows_per_expert;
        const T* b = (bias != nullptr && e < num_experts) ? bias + e * cols : nullptr;
        for (int64_t p = threadIdx.x; p < packs; p += blockDim.x) {
            const int64_t at = r * cols + p * N;
            float v[N], g[N];
            load_biased<T, N>(x + at, b != nullptr ? b + p * N : nullptr, v);
            load_floats<T, N>(dy + at, g);
#pragma unroll
            for (int k = 0; k < N; ++k) g[k] *= activate_grad<A>(v[k]);
            store_floats<T, N>(dx + at, g);
        }
    }
}

template <typename T, int N, gg_activation A>
gg_status launch(const void* x, const void* bias, const int64_t* counts, int64_t rows_per_expert, int64_t rows,
                 int64_t cols, int64_t num_experts, const void* dy, void* dx, cudaStream_t s) {
    return launch_expert_rows(activation_backward_kernel<T, N, A>,
                              "gg_moe_activation_backward (counts prefix of num_experts)", rows, cols / N, counts,
                              num_experts, s, static_cast<const T*>(x), static_cast<const T*>(bias), counts,
                              rows_per_expert, rows, cols, num_experts, static_cast<const T*>(dy), static_cast<T*>(dx));
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_activation_backward(const void* x, const void* bias, const int64_t* counts,
                                                       int64_t rows_per_expert, int64_t rows, int64_t cols,
                                                       int64_t num_experts, gg_activation activation, const void* dy,
                                                       void* dx, gg_dtype dtype, void* stream) {
    using namespace gg::moe;
    constexpr const char* fn = "gg_moe_activation_backward";
    return gg::api_call(fn, [&]() -> gg_status {
        GG_TRY(validate_activation_rows(fn, gg::enum_bits(dtype), gg::enum_bits(activation), counts, rows_per_expert,
                                        rows, cols, num_experts, bias));
        if (rows == 0 || cols == 0) return GG_STATUS_SUCCESS;
        if (x == nullptr || dy == nullptr || dx == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "%s: x (%p), dy (%p) and dx (%p) must not be NULL", fn, x, dy,
                            dx);
        const size_t es = gg::dtype_size(dtype);
        const gg::Operand x_op{x, "x", es, rows * cols}, dy_op{dy, "dy", es, rows * cols},
            dx_op{dx, "dx", es, rows * cols}, bias_op{bias, "bias", es, bias != nullptr ? num_experts * cols : 0},
            counts_op{counts, "counts", sizeof(int64_t), counts != nullptr ? num_experts : 0};
        GG_TRY(gg::check_current_device_operands(fn, {x_op, bias_op, counts_op, dy_op, dx_op}));
        // Element-wise: dx may be x or dy exactly, but not shifted against them, nor over bias or counts.
        if (dx != x) GG_TRY(gg::check_no_overlap(fn, dx_op, x_op));
        if (dx != dy) GG_TRY(gg::check_no_overlap(fn, dx_op, dy_op));
        GG_TRY(gg::check_no_overlap(fn, dx_op, bias_op));
        GG_TRY(gg::check_no_overlap(fn, dx_op, counts_op));
        auto s = static_cast<cudaStream_t>(stream);
        return dispatch_float(dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            const bool vec = can_vectorize<T>(cols, x, bias, dy, dx);
            return dispatch_activation(activation, [&](auto act) -> gg_status {
                constexpr gg_activation A = decltype(act)::value;
                return vec ? launch<T, kVec<T>, A>(x, bias, counts, rows_per_expert, rows, cols, num_experts, dy, dx, s)
                           : launch<T, 1, A>(x, bias, counts, rows_per_expert, rows, cols, num_experts, dy, dx, s);
            });
        });
    });
}
