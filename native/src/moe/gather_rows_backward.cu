// Backward of the dispatch gather (gg_moe_gather_rows with index = sorted_slots, index_divisor = top_k):
//   d_src[t] = (accumulate ? d_src[t] : 0) + sum_j d_dst[slot_rows[t*k + j]]
// Deterministic: each token's row is summed by one thread row over its k slots in slot order, in fp32, with no
// atomics. A dropped slot (slot_rows < 0 or not below dst_rows) adds nothing. d_src is read and written by the same
// thread, element by element, and must not overlap d_dst or slot_rows.
#include "core/pointer_checks.h"
#include "moe/moe_validation.cuh"

namespace gg::moe {
namespace {

template <typename T, int N>
__global__ void __launch_bounds__(kThreads)
gather_rows_backward_kernel(const T* __restrict__ d_dst, int64_t dst_rows, const int32_t* __restrict__ slot_rows,
                            int64_t tokens, int top_k, int64_t cols, int accumulate, T* __restrict__ d_src) {
    const int64_t packs = cols / N;
    for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; t < tokens;
         t += static_cast<int64_t>(gridDim.x) * blockDim.y) {
        const int32_t* rows = slot_rows + t * top_k;
        for (int64_t p = threadIdx.x; p < packs; p += blockDim.x) {
            float acc[N];
            if (accumulate) {
                load_floats<T, N>(d_src + t * cols + p * N, acc);
            } else {
#pragma unroll
                for (int k = 0; k < N; ++k) acc[k] = 0.0f;
            }
            for (int j = 0; j < top_k; ++j) {
                const int32_t r = rows[j];
                if (r < 0 || r >= dst_rows) continue;
                float v[N];
                load_floats<T, N>(d_dst + static_cast<int64_t>(r) * cols + p * N, v);
#pragma unroll
                for (int k = 0; k < N; ++k) acc[k] += v[k];
            }
            store_floats<T, N>(d_src + t * cols + p * N, acc);
        }
    }
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_gather_rows_backward(const void* d_dst, int64_t dst_rows, const int32_t* slot_rows,
                                                        int64_t tokens, int32_t top_k, int64_t cols,
                                                        int32_t accumulate, void* d_src, gg_dtype dtype,
                                                        void* stream) {
    using namespace gg::moe;
    constexpr const char* fn = "gg_moe_gather_rows_backward";
    return gg::api_call(fn, [&]() -> gg_status {
        GG_TRY(validate_slot_gradient(fn, gg::enum_bits(dtype), cols, tokens, top_k, "dst_rows", dst_rows));
        if (tokens == 0 || cols == 0) return GG_STATUS_SUCCESS;
        if ((d_dst == nullptr && dst_rows > 0) || slot_rows == nullptr || d_src == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "%s: d_dst (%p), slot_rows (%p) and d_src (%p) must not be NULL",
                            fn, d_dst, static_cast<const void*>(slot_rows), d_src);
        const size_t es = gg::dtype_size(dtype);
        const gg::Operand d_dst_op{d_dst, "d_dst", es, dst_rows * cols},
            rows_op{slot_rows, "slot_rows", sizeof(int32_t), tokens * top_k}, d_src_op{d_src, "d_src", es, tokens * cols};
        GG_TRY(gg::check_current_device_operands(fn, {d_dst_op, rows_op, d_src_op}));
        GG_TRY(gg::check_no_overlap(fn, d_src_op, d_dst_op));
        GG_TRY(gg::check_no_overlap(fn, d_src_op, rows_op));
        auto s = static_cast<cudaStream_t>(stream);
        return dispatch_float(dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            const bool vec = can_vectorize<T>(cols, d_dst, d_src);
            RowShape shape;
            GG_TRY(row_shape(tokens, vec ? cols / kVec<T> : cols, &shape));
            if (vec)
                gather_rows_backward_kernel<T, kVec<T>><<<shape.grid, shape.block, 0, s>>>(
                    static_cast<const T*>(d_dst), dst_rows, slot_rows, tokens, top_k, cols, accumulate,
                    static_cast<T*>(d_src));
            else
                gather_rows_backward_kernel<T, 1><<<shape.grid, shape.block, 0, s>>>(
                    static_cast<const T*>(d_dst), dst_rows, slot_rows, tokens, top_k, cols, accumulate,
                    static_cast<T*>(d_src));
            GG_CUDA_CHECK(cudaGetLastError());
            return GG_STATUS_SUCCESS;
        });
    });
}
