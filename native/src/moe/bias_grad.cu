// Bias gradient of the expert layers: d_bias[e, c] = (accumulate ? d_bias[e, c] : 0) + sum of dy[r, c] over the rows r
// of expert e, in fp32 (float32 output). The rows of an expert come from device counts (the inclusive prefix,
// clamped to rows, so that no expert runs past the buffer) or, when counts is NULL, are [e*rows_per_expert,
// (e+1)*rows_per_expert). Rows past the last expert's are ignored; an expert with no rows gets 0 (or keeps d_bias).
// Deterministic: a block owns 32 columns of one expert, 8 thread rows stride its rows and are summed in a fixed order
// in shared memory; no atomics.
#include "core/pointer_checks.h"
#include "moe/moe_expert_map.cuh"
#include "moe/moe_validation.cuh"

namespace gg::moe {
namespace {

constexpr int kCols = 32;
constexpr int kRowLanes = kThreads / kCols;
constexpr int64_t kMaxGridY = 65535;

template <typename T>
__global__ void __launch_bounds__(kThreads)
bias_grad_kernel(const T* __restrict__ dy, const int64_t* __restrict__ counts, int64_t rows_per_expert, int64_t rows,
                 int64_t cols, int64_t num_experts, int accumulate, float* __restrict__ d_bias) {
    extern __shared__ int64_t inclusive[];
    __shared__ float partial[kRowLanes][kCols];
    if (counts != nullptr) build_inclusive_prefix(counts, num_experts, inclusive, rows);
    const int64_t c = static_cast<int64_t>(blockIdx.x) * kCols + threadIdx.x;
    for (int64_t e = blockIdx.y; e < num_experts; e += gridDim.y) {
        int64_t begin, end;
        if (counts != nullptr) {
            begin = exclusive_at(inclusive, e);
            end = inclusive[e];
        } else {
            // Written so that nothing overflows for any rows_per_expert >= 1: e * rows_per_expert <= rows when formed.
            begin = e <= rows / rows_per_expert ? e * rows_per_expert : rows;
            end = rows - begin <= rows_per_expert ? rows : begin + rows_per_expert;
        }
        float acc = 0.0f;
        if (c < cols)
            for (int64_t r = begin + threadIdx.y; r < end; r += kRowLanes) acc += to_float(dy[r * cols + c]);
        partial[threadIdx.y][threadIdx.x] = acc;
        __syncthreads();
        if (threadIdx.y == 0 && c < cols) {
            float sum = accumulate ? d_bias[e * cols + c] : 0.0f;
#pragma unroll
            for (int i = 0; i < kRowLanes; ++i) sum += partial[i][threadIdx.x];
            d_bias[e * cols + c] = sum;
        }
        __syncthreads();  // partial is rewritten for the next expert
    }
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_bias_grad(const void* dy, const int64_t* counts, int64_t rows_per_expert,
                                             int64_t rows, int64_t cols, int64_t num_experts, int32_t accumulate,
                                             float* d_bias, gg_dtype dtype, void* stream) {
    using namespace gg::moe;
    constexpr const char* fn = "gg_moe_bias_grad";
    return gg::api_call(fn, [&]() -> gg_status {
        GG_TRY(check_float_dtype(fn, gg::enum_bits(dtype)));  // any int32 may come: core/enum_bits.h
        GG_TRY(validate_expert_rows(fn, counts, rows_per_expert, rows, cols, num_experts, d_bias));
        if (cols == 0) return GG_STATUS_SUCCESS;
        // rows == 0 still writes the zeros of every expert (unless accumulating).
        if ((dy == nullptr && rows > 0) || d_bias == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "%s: dy (%p) and d_bias (%p) must not be NULL", fn, dy,
                            static_cast<void*>(d_bias));
        const gg::Operand dy_op{dy, "dy", gg::dtype_size(dtype), rows * cols},
            counts_op{counts, "counts", sizeof(int64_t), counts != nullptr ? num_experts : 0},
            d_bias_op{d_bias, "d_bias", sizeof(float), num_experts * cols};
        GG_TRY(gg::check_current_device_operands(fn, {dy_op, counts_op, d_bias_op}));
        GG_TRY(gg::check_no_overlap(fn, d_bias_op, dy_op));
        GG_TRY(gg::check_no_overlap(fn, d_bias_op, counts_op));
        auto s = static_cast<cudaStream_t>(stream);
        return dispatch_float(dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            const int64_t tiles = (cols + kCols - 1) / kCols;
            if (tiles > INT32_MAX)
                return gg::fail(GG_STATUS_INVALID_ARGUMENT, "%s: cols = %lld needs more than %d column tiles", fn,
                                static_cast<long long>(cols), INT32_MAX);
            const dim3 grid(static_cast<unsigned>(tiles),
                            static_cast<unsigned>(num_experts < kMaxGridY ? num_experts : kMaxGridY), 1);
            const size_t smem = counts != nullptr ? sizeof(int64_t) * static_cast<size_t>(num_experts) : 0;
            auto kernel = bias_grad_kernel<T>;
            GG_TRY(allow_dynamic_smem(kernel, smem, "gg_moe_bias_grad (counts prefix of num_experts)"));
            kernel<<<grid, dim3(kCols, kRowLanes, 1), smem, s>>>(static_cast<const T*>(dy), counts, rows_per_expert,
                                                                 rows, cols, num_experts, accumulate, d_bias);
            GG_CUDA_CHECK(cudaGetLastError());
            return GG_STATUS_SUCCESS;
        });
    });
}
