// Conversions between the grouped layout (sorted rows, counts per expert) and the padded layout
// [num_experts, capacity, cols] of batched-GEMM MoE implementations. Offsets come from the device counts
// (per-block prefix, moe_expert_map.cuh); nothing is read back to the host. The prefix is clamped to the sorted
// buffer's row count, so counts that do not match the buffer never move a row outside it.
#include "core/moe_args.h"
#include "core/pointer_checks.h"
#include "moe/moe_expert_map.cuh"

namespace gg::moe {
namespace {

template <typename T, int N>
__device__ __forceinline__ void zero_row(T* row, int64_t packs) {
    Pack<T, N> zero;
#pragma unroll
    for (int k = 0; k < N; ++k) zero.v[k] = from_float<T>(0.0f);
    auto* out = reinterpret_cast<Pack<T, N>*>(row);
    for (int64_t p = threadIdx.x; p < packs; p += blockDim.x) out[p] = zero;
}

template <typename T, int N>
__device__ __forceinline__ void copy_row(const T* src, T* dst, int64_t packs) {
    const auto* in = reinterpret_cast<const Pack<T, N>*>(src);
    auto* out = reinterpret_cast<Pack<T, N>*>(dst);
    for (int64_t p = threadIdx.x; p < packs; p += blockDim.x) out[p] = in[p];
}

// One padded row (e, p) per block row: copy sorted[offset[e] + p] when p < counts[e], else zeros.
// Block 0 also writes the number of rows past capacity into *dropped.
template <typename T, int N>
__global__ void __launch_bounds__(kThreads)
pad_kernel(const T* __restrict__ sorted, int64_t sorted_rows, const int64_t* __restrict__ counts, int64_t num_experts,
           int64_t capacity, int64_t cols, T* __restrict__ padded, int64_t* __restrict__ dropped) {
    extern __shared__ int64_t inclusive[];
    build_inclusive_prefix(counts, num_experts, inclusive, sorted_rows);
    if (dropped != nullptr && blockIdx.x == 0) {
        __shared__ int64_t warp_totals[32];
        int64_t local = 0;
        const int tid = threadIdx.y * blockDim.x + threadIdx.x;
        for (int64_t e = tid; e < num_experts; e += blockDim.x * blockDim.y) {
            const int64_t count = inclusive[e] - exclusive_at(inclusive, e);
            local += count > capacity ? count - capacity : 0;
        }
        int64_t total = 0;
        block_exclusive_scan(local, warp_totals, &total);
        if (tid == 0) *dropped = total;
    }
    const int64_t packs = cols / N;
    const int64_t padded_rows = num_experts * capacity;
    for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; r < padded_rows;
         r += static_cast<int64_t>(gridDim.x) * blockDim.y) {
        const int64_t e = r / capacity;
        const int64_t p = r - e * capacity;
        const int64_t begin = exclusive_at(inclusive, e);
        if (p < inclusive[e] - begin) copy_row<T, N>(sorted + (begin + p) * cols, padded + r * cols, packs);
        else zero_row<T, N>(padded + r * cols, packs);
    }
}

// Copies each kept padded row back to its sorted position, then zeroes the sorted rows of experts that
// had more rows than capacity (their number is only known on the device, so blocks loop over experts).
template <typename T, int N>
__global__ void __launch_bounds__(kThreads)
unpad_kernel(const T* __restrict__ padded, const int64_t* __restrict__ counts, int64_t num_experts, int64_t capacity,
             int64_t cols, T* __restrict__ sorted, int64_t sorted_rows) {
    extern __shared__ int64_t inclusive[];
    build_inclusive_prefix(counts, num_experts, inclusive, sorted_rows);
    const int64_t packs = cols / N;
    const int64_t padded_rows = num_experts * capacity;
    for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; r < padded_rows;
         r += static_cast<int64_t>(gridDim.x) * blockDim.y) {
        const int64_t e = r / capacity;
        const int64_t p = r - e * capacity;
        const int64_t begin = exclusive_at(inclusive, e);
        if (p < inclusive[e] - begin) copy_row<T, N>(padded + r * cols, sorted + (begin + p) * cols, packs);
    }
    for (int64_t e = blockIdx.x; e < num_experts; e += gridDim.x) {
        const int64_t begin = exclusive_at(inclusive, e);
        const int64_t count = inclusive[e] - begin;
        for (int64_t q = capacity + threadIdx.y; q < count; q += blockDim.y)
            zero_row<T, N>(sorted + (begin + q) * cols, packs);
    }
}

// `dtype`: the caller's bits (gg::enum_bits, core/enum_bits.h), a gg_dtype only once checked.
// `to_padded`: gg_moe_pad (padded and dropped are written), else gg_moe_unpad (sorted is written).
gg_status validate(const char* function, int32_t dtype, const int64_t* counts, int64_t num_experts,
                   int64_t capacity, int64_t cols, const void* sorted, int64_t sorted_rows, const void* padded,
                   const int64_t* dropped, bool to_padded) {
    GG_TRY(check_float_dtype(function, dtype));
    GG_TRY(validate_pad_sizes(function, num_experts, capacity, cols, sorted_rows));
    if (counts == nullptr)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: counts must not be NULL", function);
    if (cols > 0 && sorted_rows > 0 && sorted == nullptr)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: sorted must not be NULL when sorted_rows = %lld and cols = %lld",
                    function, static_cast<long long>(sorted_rows), static_cast<long long>(cols));
    if (cols > 0 && capacity > 0 && padded == nullptr)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: padded must not be NULL when capacity = %lld and cols = %lld",
                    function, static_cast<long long>(capacity), static_cast<long long>(cols));
    const size_t es = dtype_size(static_cast<gg_dtype>(dtype));
    const Operand counts_op{counts, "counts", sizeof(int64_t), num_experts},
        sorted_op{sorted, "sorted", es, sorted_rows * cols},
        padded_op{padded, "padded", es, num_experts * capacity * cols},
        dropped_op{dropped, "dropped", sizeof(int64_t), dropped != nullptr ? 1 : 0};
    // Every block reads the counts (its prefix) and rows of the input while others write the outputs: no output may lie
    // over an input or over the other output.
    if (to_padded) {
        GG_TRY(check_no_overlap(function, padded_op, {sorted_op, counts_op}));
        GG_TRY(check_no_overlap(function, dropped_op, {sorted_op, counts_op, padded_op}));
    } else {
        GG_TRY(check_no_overlap(function, sorted_op, {padded_op, counts_op}));
    }
    return check_current_device_operands(function, {counts_op, sorted_op, padded_op, dropped_op});
}

template <typename T, int N, bool Pad>
gg_status launch(const void* sorted, void* sorted_out, int64_t sorted_rows, const int64_t* counts, int64_t num_experts,
                 int64_t capacity, int64_t cols, const void* padded, void* padded_out, int64_t* dropped,
                 cudaStream_t s) {
    RowShape shape;
    GG_TRY(row_shape(num_experts * capacity > num_experts ? num_experts * capacity : num_experts, cols / N, &shape));
    const size_t smem = sizeof(int64_t) * static_cast<size_t>(num_experts);
    if constexpr (Pad) {
        auto kernel = pad_kernel<T, N>;
        GG_TRY(allow_dynamic_smem(kernel, smem, "gg_moe_pad (counts prefix of num_experts)"));
        kernel<<<shape.grid, shape.block, smem, s>>>(static_cast<const T*>(sorted), sorted_rows, counts, num_experts,
                                                     capacity, cols, static_cast<T*>(padded_out), dropped);
    } else {
        auto kernel = unpad_kernel<T, N>;
        GG_TRY(allow_dynamic_smem(kernel, smem, "gg_moe_unpad (counts prefix of num_experts)"));
        kernel<<<shape.grid, shape.block, smem, s>>>(static_cast<const T*>(padded), counts, num_experts, capacity, cols,
                                                     static_cast<T*>(sorted_out), sorted_rows);
    }
    GG_CUDA_CHECK(cudaGetLastError());
    return GG_STATUS_SUCCESS;
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_pad(const void* sorted, int64_t sorted_rows, const int64_t* counts,
                                       int64_t num_experts, int64_t capacity, int64_t cols, void* padded,
                                       int64_t* dropped, gg_dtype dtype, void* stream) {
    using namespace gg::moe;
    return gg::api_call("gg_moe_pad", [&]() -> gg_status {
        GG_TRY(validate("gg_moe_pad", gg::enum_bits(dtype), counts, num_experts, capacity, cols, sorted, sorted_rows,
                        padded, dropped, true));
        auto s = static_cast<cudaStream_t>(stream);
        if (cols == 0 || capacity == 0) {
            // No element to move, but the dropped count is still owed.
            if (dropped == nullptr) return GG_STATUS_SUCCESS;
            cols = 0;
        }
        return dispatch_float(dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            return can_vectorize<T>(cols, sorted, padded)
                       ? launch<T, kVec<T>, true>(sorted, nullptr, sorted_rows, counts, num_experts, capacity, cols,
                                                  nullptr, padded, dropped, s)
                       : launch<T, 1, true>(sorted, nullptr, sorted_rows, counts, num_experts, capacity, cols, nullptr,
                                            padded, dropped, s);
        });
    });
}

extern "C" GG_API gg_status gg_moe_unpad(const void* padded, const int64_t* counts, int64_t num_experts,
                                         int64_t capacity, int64_t cols, void* sorted, int64_t sorted_rows,
                                         gg_dtype dtype, void* stream) {
    using namespace gg::moe;
    return gg::api_call("gg_moe_unpad", [&]() -> gg_status {
        GG_TRY(validate("gg_moe_unpad", gg::enum_bits(dtype), counts, num_experts, capacity, cols, sorted, sorted_rows,
                        padded, nullptr, false));
        if (cols == 0 || sorted_rows == 0) return GG_STATUS_SUCCESS;
        auto s = static_cast<cudaStream_t>(stream);
        return dispatch_float(dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            return can_vectorize<T>(cols, sorted, padded)
                       ? launch<T, kVec<T>, false>(nullptr, sorted, sorted_rows, counts, num_experts, capacity, cols,
                                                   padded, nullptr, nullptr, s)
                       : launch<T, 1, false>(nullptr, sorted, sorted_rows, counts, num_experts, capacity, cols, padded,
                                             nullptr, nullptr, s);
        });
    });
}
