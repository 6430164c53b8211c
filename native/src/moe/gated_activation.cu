// Gated epilogue (SwiGLU/GeGLU style): out[r, c] = act(gate[r, c] + bias_gate) * (up[r, c] + bias_up), where
// gate_up[rows, 2*cols] holds the gate in its first half and the up projection in its second, as the first
// expert GEMM of a gated MoE writes them with one weight w1[E, D, 2H].
#include "core/pointer_checks.h"
#include "moe/moe_activation.cuh"
#include "moe/moe_expert_map.cuh"
#include "moe/moe_validation.cuh"

namespace gg::moe {
namespace {

template <typename T, int N, gg_activation A>
__global__ void __launch_bounds__(kThreads)
gated_activation_kernel(const T* __restrict__ gate_up, const T* __restrict__ bias, const int64_t* __restrict__ counts,
                        int64_t rows_per_expert, int64_t rows, int64_t cols, int64_t num_experts, T* __restrict__ out) {
    extern __shared__ int64_t inclusive[];
    if (counts != nullptr) build_inclusive_prefix(counts, num_experts, inclusive);
    const int64_t packs = cols / N;
    for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; r < rows;
         r += static_cast<int64_t>(gridDim.x) * blockDim.y) {
        const int64_t e = counts != nullptr ? find_expert(inclusive, num_experts, r) : r / rows_per_expert;
        const T* b = (bias != nullptr && e < num_experts) ? bias + e * 2 * cols : nullptr;
        const T* gate = gate_up + r * 2 * cols;
        const T* up = gate + cols;
        T* o = out + r * cols;
        for (int64_t p = threadIdx.x; p < packs; p += blockDim.x) {
            float g[N], u[N], res[N];
            load_biased<T, N>(gate + p * N, b != nullptr ? b + p * N : nullptr, g);
            load_biased<T, N>(up + p * N, b != nullptr ? b + cols + p * N : nullptr, u);
#pragma unroll
            for (int k = 0; k < N; ++k) res[k] = activate<A>(g[k]) * u[k];
            store_floats<T, N>(o + p * N, res);
        }
    }
}

template <typename T, int N, gg_activation A>
gg_status launch(const void* gate_up, const void* bias, const int64_t* counts, int64_t rows_per_expert, int64_t rows,
                 int64_t cols, int64_t num_experts, void* out, cudaStream_t s) {
    RowShape shape;
    GG_TRY(row_shape(rows, cols / N, &shape));
    const size_t smem = counts != nullptr ? sizeof(int64_t) * static_cast<size_t>(num_experts) : 0;
    auto kernel = gated_activation_kernel<T, N, A>;
    GG_TRY(allow_dynamic_smem(kernel, smem, "gg_moe_gated_activation (counts prefix of num_experts)"));
    kernel<<<shape.grid, shape.block, smem, s>>>(static_cast<const T*>(gate_up), static_cast<const T*>(bias), counts,
                                                 rows_per_expert, rows, cols, num_experts, static_cast<T*>(out));
    GG_CUDA_CHECK(cudaGetLastError());
    return GG_STATUS_SUCCESS;
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_gated_activation(const void* gate_up, const void* bias, const int64_t* counts,
                                                    int64_t rows_per_expert, int64_t rows, int64_t cols,
                                                    int64_t num_experts, gg_activation activation, void* out,
                                                    gg_dtype dtype, void* stream) {
    using namespace gg::moe;
    return gg::api_call("gg_moe_gated_activation", [&]() -> gg_status {
        // dtype and activation read as bits (core/enum_bits.h): any int32 may come.
        GG_TRY(validate_activation_rows("gg_moe_gated_activation", gg::enum_bits(dtype), gg::enum_bits(activation),
                                        counts, rows_per_expert, rows, cols, num_experts, bias));
        if (rows == 0 || cols == 0) return GG_STATUS_SUCCESS;
        if (gate_up == nullptr || out == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT,
                            "gg_moe_gated_activation: gate_up (%p) and out (%p) must not be NULL", gate_up, out);
        const size_t es = gg::dtype_size(dtype);
        const gg::Operand gate_up_op{gate_up, "gate_up", es, rows * 2 * cols},
            bias_op{bias, "bias", es, bias != nullptr ? num_experts * 2 * cols : 0},
            counts_op{counts, "counts", sizeof(int64_t), counts != nullptr ? num_experts : 0},
            out_op{out, "out", es, rows * cols};
        // out's rows are half as wide as gate_up's, so even out == gate_up writes elements other threads still read.
        GG_TRY(gg::check_no_overlap("gg_moe_gated_activation", out_op, {gate_up_op, bias_op, counts_op}));
        GG_TRY(gg::check_current_device_operands("gg_moe_gated_activation", {gate_up_op, bias_op, counts_op, out_op}));
        auto s = static_cast<cudaStream_t>(stream);
        return dispatch_float(dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            const bool vec = can_vectorize<T>(cols, gate_up, bias, out);
            return dispatch_activation(activation, [&](auto act) -> gg_status {
                constexpr gg_activation A = decltype(act)::value;
                return vec ? launch<T, kVec<T>, A>(gate_up, bias, counts, rows_per_expert, rows, cols, num_experts, out, s)
                           : launch<T, 1, A>(gate_up, bias, counts, rows_per_expert, rows, cols, num_experts, out, s);
            });
        });
    });
}
