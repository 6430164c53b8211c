// Backward of gg_moe_gated_activation (out = act(g) * u, g = gate + bias_gate, u = up + bias_up):
//   d_gate = dy * u * act'(g),  d_up = dy * act(g)
// written into d_gate_up[rows, 2*cols] in the forward's layout (gate half, then up half), so that it is the output
// gradient of the first expert GEMM as it stands. Element-wise per (row, column): d_gate_up may be gate_up itself.
// The bias gradient is gg_moe_bias_grad over d_gate_up with 2*cols columns.
#include "core/pointer_checks.h"
#include "moe/moe_activation.cuh"
#include "moe/moe_expert_map.cuh"
#include "moe/moe_validation.cuh"

namespace gg::moe {
namespace {

template <typename T, int N, gg_activation A>
__global__ void __launch_bounds__(kThreads)
gated_activation_backward_kernel(const T* gate_up, const T* __restrict__ bias, const int64_t* __restrict__ counts,
                                 int64_t rows_per_expert, int64_t rows, int64_t cols, int64_t num_experts,
                                 const T* __restrict__ dy, T* d_gate_up) {
    extern __shared__ int64_t inclusive[];
    if (counts != nullptr) build_inclusive_prefix(counts, num_experts, inclusive);
    const int64_t packs = cols / N;
    for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; r < rows;
         r += static_cast<int64_t>(gridDim.x) * blockDim.y) {
        const int64_t e = counts != nullptr ? find_expert(inclusive, num_experts, r) : r / rows_per_expert;
        const T* b = (bias != nullptr && e < num_experts) ? bias + e * 2 * cols : nullptr;
        const T* gate = gate_up + r * 2 * cols;
        const T* up = gate + cols;
        T* d_gate = d_gate_up + r * 2 * cols;
        T* d_up = d_gate + cols;
        const T* g_row = dy + r * cols;
        for (int64_t p = threadIdx.x; p < packs; p += blockDim.x) {
            float g[N], u[N], d[N], dg[N], du[N];
            load_biased<T, N>(gate + p * N, b != nullptr ? b + p * N : nullptr, g);
            load_biased<T, N>(up + p * N, b != nullptr ? b + cols + p * N : nullptr, u);
            load_floats<T, N>(g_row + p * N, d);
#pragma unroll
            for (int k = 0; k < N; ++k) {
                dg[k] = d[k] * u[k] * activate_grad<A>(g[k]);
                du[k] = d[k] * activate<A>(g[k]);
            }
            store_floats<T, N>(d_gate + p * N, dg);
            store_floats<T, N>(d_up + p * N, du);
        }
    }
}

template <typename T, int N, gg_activation A>
gg_status launch(const void* gate_up, const void* bias, const int64_t* counts, int64_t rows_per_expert, int64_t rows,
                 int64_t cols, int64_t num_experts, const void* dy, void* d_gate_up, cudaStream_t s) {
    return launch_expert_rows(gated_activation_backward_kernel<T, N, A>,
                              "gg_moe_gated_activation_backward (counts prefix of num_experts)", rows, cols / N, counts,
                              num_experts, s, static_cast<const T*>(gate_up), static_cast<const T*>(bias), counts,
                              rows_per_expert, rows, cols, num_experts, static_cast<const T*>(dy),
                              static_cast<T*>(d_gate_up));
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_gated_activation_backward(const void* gate_up, const void* bias,
                                                             const int64_t* counts, int64_t rows_per_expert,
                                                             int64_t rows, int64_t cols, int64_t num_experts,
                                                             gg_activation activation, const void* dy,
                                                             void* d_gate_up, gg_dtype dtype, void* stream) {
    using namespace gg::moe;
    constexpr const char* fn = "gg_moe_gated_activation_backward";
    return gg::api_call(fn, [&]() -> gg_status {
        GG_TRY(validate_activation_rows(fn, gg::enum_bits(dtype), gg::enum_bits(activation), counts, rows_per_expert,
                                        rows, cols, num_experts, bias));
        if (rows == 0 || cols == 0) return GG_STATUS_SUCCESS;
        if (gate_up == nullptr || dy == nullptr || d_gate_up == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "%s: gate_up (%p), dy (%p) and d_gate_up (%p) must not be NULL",
                            fn, gate_up, dy, d_gate_up);
        const size_t es = gg::dtype_size(dtype);
        const gg::Operand gate_up_op{gate_up, "gate_up", es, rows * 2 * cols},
            bias_op{bias, "bias", es, bias != nullptr ? num_experts * 2 * cols : 0},
            counts_op{counts, "counts", sizeof(int64_t), counts != nullptr ? num_experts : 0},
            dy_op{dy, "dy", es, rows * cols}, d_op{d_gate_up, "d_gate_up", es, rows * 2 * cols};
        GG_TRY(gg::check_current_device_operands(fn, {gate_up_op, bias_op, counts_op, dy_op, d_op}));
        // d_gate_up may be gate_up exactly (same element read then written by one thread), nothing else.
        if (d_gate_up != gate_up) GG_TRY(gg::check_no_overlap(fn, d_op, gate_up_op));
        GG_TRY(gg::check_no_overlap(fn, d_op, bias_op));
        GG_TRY(gg::check_no_overlap(fn, d_op, counts_op));
        GG_TRY(gg::check_no_overlap(fn, d_op, dy_op));
        auto s = static_cast<cudaStream_t>(stream);
        return dispatch_float(dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            const bool vec = can_vectorize<T>(cols, gate_up, bias, dy, d_gate_up);
            return dispatch_activation(activation, [&](auto act) -> gg_status {
                constexpr gg_activation A = decltype(act)::value;
                return vec ? launch<T, kVec<T>, A>(gate_up, bias, counts, rows_per_expert, rows, cols, num_experts, dy,
                                                   d_gate_up, s)
                           : launch<T, 1, A>(gate_up, bias, counts, rows_per_expert, rows, cols, num_experts, dy,
                                             d_gate_up, s);
            });
        });
    });
}
