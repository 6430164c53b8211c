// Row gather: dst[i, :] = src[index[i] / index_divisor, :]. With index = sorted_slots and divisor = top_k
// this dispatches tokens into expert order; with divisor 1 it is a plain row permutation. A negative index
// (a sorted row that belongs to no expert), or one whose source row is not below src_rows, writes a zero row.
#include "core/moe_args.h"
#include "core/pointer_checks.h"
#include "moe/moe_common.cuh"

namespace gg::moe {
namespace {

template <typename T, int N>
__global__ void __launch_bounds__(kThreads)
gather_rows_kernel(const T* __restrict__ src, int64_t src_rows, const int32_t* __restrict__ index, int32_t divisor,
                   int64_t rows, int64_t cols, T* __restrict__ dst) {
    const int64_t packs = cols / N;
    for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; r < rows;
         r += static_cast<int64_t>(gridDim.x) * blockDim.y) {
        const int32_t i = index[r];
        auto* out = reinterpret_cast<Pack<T, N>*>(dst + r * cols);
        if (i < 0 || i / divisor >= src_rows) {
            Pack<T, N> zero;
#pragma unroll
            for (int k = 0; k < N; ++k) zero.v[k] = from_float<T>(0.0f);
            for (int64_t p = threadIdx.x; p < packs; p += blockDim.x) out[p] = zero;
        } else {
            const auto* in = reinterpret_cast<const Pack<T, N>*>(src + static_cast<int64_t>(i / divisor) * cols);
            for (int64_t p = threadIdx.x; p < packs; p += blockDim.x) out[p] = in[p];
        }
    }
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_gather_rows(const void* src, int64_t src_rows, const int32_t* index,
                                               int32_t index_divisor, int64_t rows, int64_t cols, void* dst,
                                               gg_dtype dtype, void* stream) {
    using namespace gg::moe;
    return gg::api_call("gg_moe_gather_rows", [&]() -> gg_status {
        GG_TRY(check_float_dtype("gg_moe_gather_rows", gg::enum_bits(dtype)));  // any int32 may come: core/enum_bits.h
        if (rows < 0 || cols < 0)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "gg_moe_gather_rows: rows = %lld and cols = %lld must be >= 0",
                            static_cast<long long>(rows), static_cast<long long>(cols));
        if (index_divisor < 1)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "gg_moe_gather_rows: index_divisor = %d must be >= 1",
                            index_divisor);
        GG_TRY(gg::validate_source_rows("gg_moe_gather_rows", "src_rows", src_rows, cols));
        GG_TRY(gg::validate_source_rows("gg_moe_gather_rows", "rows", rows, cols));
        if (rows == 0 || cols == 0) return GG_STATUS_SUCCESS;
        if ((src == nullptr && src_rows > 0) || index == nullptr || dst == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT,
                            "gg_moe_gather_rows: src (%p), index (%p) and dst (%p) must not be NULL", src,
                            static_cast<const void*>(index), dst);
        const size_t es = gg::dtype_size(dtype);
        const gg::Operand src_op{src, "src", es, src_rows * cols}, dst_op{dst, "dst", es, rows * cols},
            index_op{index, "index", sizeof(int32_t), rows};
        // dst's rows are written while other threads still read the index and the source rows.
        GG_TRY(gg::check_no_overlap("gg_moe_gather_rows", dst_op, {src_op, index_op}));
        GG_TRY(gg::check_current_device_operands("gg_moe_gather_rows", {src_op, index_op, dst_op}));
        auto s = static_cast<cudaStream_t>(stream);
        return dispatch_float(dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            const bool vec = can_vectorize<T>(cols, src, dst);
            RowShape shape;
            GG_TRY(row_shape(rows, vec ? cols / kVec<T> : cols, &shape));
            if (vec)
                gather_rows_kernel<T, kVec<T>><<<shape.grid, shape.block, 0, s>>>(
                    static_cast<const T*>(src), src_rows, index, index_divisor, rows, cols, static_cast<T*>(dst));
            else
                gather_rows_kernel<T, 1><<<shape.grid, shape.block, 0, s>>>(
                    static_cast<const T*>(src), src_rows, index, index_divisor, rows, cols, static_cast<T*>(dst));
            GG_CUDA_CHECK(cudaGetLastError());
            return GG_STATUS_SUCCESS;
        });
    });
}
