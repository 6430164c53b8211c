// FP8 quantization for the scaled grouped GEMM: row-wise or 1xB scales (activations, optionally gathered first: the
// dispatch of a MoE layer fused with its quantization) and BxB block scales (weights).
// scale = amax / max(q type), 1 for an all-zero block, rounded up to a power of two with GG_QUANTIZE_POW2_SCALES;
// q = x / scale rounded to nearest, saturated.
#include "core/pointer_checks.h"
#include "core/quantize_args.h"
#include "fp8/fp8_convert.cuh"
#include "moe/moe_common.cuh"

namespace gg::moe {
namespace {

constexpr int kWarpsPerBlock = kThreads / 32;

// With pow2 the scale is rounded up to a power of two: s = m * 2^e with m in [0.5, 1) (frexpf, exact for every
// finite s, subnormals included) is 2^(e - 1) when m = 0.5 and 2^e otherwise. A non-finite scale stays as it is.
__device__ __forceinline__ float scale_of(float amax, float max_q, bool pow2) {
    if (amax == 0.0f) return 1.0f;
    const float s = amax / max_q;
    if (!pow2 || !isfinite(s)) return s;
    int e = 0;
    const float m = frexpf(s, &e);
    return ldexpf(1.0f, m == 0.5f ? e - 1 : e);
}

// One warp per (row, column block): amax over the block, then quantize it. src row from index when given.
template <typename T, gg_dtype Q>
__global__ void __launch_bounds__(kThreads)
quantize_rows_kernel(const T* __restrict__ x, int64_t src_rows, const int32_t* __restrict__ index, int32_t divisor,
                     int64_t rows, int64_t cols, int64_t block_cols, int64_t blocks, float max_q, bool pow2,
                     uint8_t* __restrict__ q, float* __restrict__ scales) {
    const int lane = threadIdx.x % 32;
    const int64_t units = rows * blocks;
    const int64_t warp_stride = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
    for (int64_t u = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32; u < units; u += warp_stride) {
        const int64_t r = u / blocks, blk = u % blocks;
        const int64_t c0 = block_cols == 0 ? 0 : blk * block_cols;
        const int64_t c1 = block_cols == 0 ? cols : min(cols, c0 + block_cols);
        const T* src = nullptr;
        if (index == nullptr) {
            src = x + r * cols;
        } else {
            const int32_t i = index[r];
            if (i >= 0 && i / divisor < src_rows) src = x + static_cast<int64_t>(i / divisor) * cols;
        }
        uint8_t* out = q + r * cols;
        if (src == nullptr) {  // a dropped slot: zero row, scale 1
            for (int64_t c = c0 + lane; c < c1; c += 32) out[c] = 0;
            if (lane == 0) scales[u] = 1.0f;
            continue;
        }
        float amax = 0.0f;
        for (int64_t c = c0 + lane; c < c1; c += 32) amax = fmaxf(amax, fabsf(to_float(src[c])));
        // fmaxf drops NaN: a NaN anywhere must still make the scale non-finite, as documented.
        bool nan = false;
        for (int64_t c = c0 + lane; c < c1; c += 32) nan |= isnan(to_float(src[c]));
        amax = warp_max_f(amax);
        if (__any_sync(0xffffffffu, nan)) amax = __int_as_float(0x7fc00000);
        const float scale = scale_of(amax, max_q, pow2);
        for (int64_t c = c0 + lane; c < c1; c += 32) out[c] = fp8::encode<Q>(to_float(src[c]) / scale);
        if (lane == 0) scales[u] = scale;
    }
}

// One block per (matrix, row block, column block) of a [batch, rows, cols] tensor: rb x cb blocks a matrix, `units`
// (the validated scale count) in all, counted on the host.
template <typename T, gg_dtype Q>
__global__ void __launch_bounds__(kThreads)
quantize_blocks_kernel(const T* __restrict__ w, int64_t rows, int64_t cols, int64_t block, int64_t rb, int64_t cb,
                       int64_t units, float max_q, bool pow2, uint8_t* __restrict__ q, float* __restrict__ scales) {
    __shared__ float warp_amax[kWarpsPerBlock];
    __shared__ bool any_nan;
    for (int64_t u = blockIdx.x; u < units; u += gridDim.x) {
        const int64_t mat = u / (rb * cb), br = (u / cb) % rb, bc = u % cb;
        const int64_t r0 = br * block, c0 = bc * block;
        const int64_t h = min(block, rows - r0), wd = min(block, cols - c0);
        const T* base = w + mat * rows * cols;
        uint8_t* qbase = q + mat * rows * cols;
        if (threadIdx.x == 0) any_nan = false;
        __syncthreads();
        float amax = 0.0f;
        bool nan = false;
        for (int64_t i = threadIdx.x; i < h * wd; i += blockDim.x) {
            const float v = to_float(base[(r0 + i / wd) * cols + c0 + i % wd]);
            amax = fmaxf(amax, fabsf(v));
            nan |= isnan(v);
        }
        amax = warp_max_f(amax);
        if (nan) any_nan = true;
        if (threadIdx.x % 32 == 0) warp_amax[threadIdx.x / 32] = amax;
        __syncthreads();
        float total = 0.0f;
#pragma unroll
        for (int i = 0; i < kWarpsPerBlock; ++i) total = fmaxf(total, warp_amax[i]);
        if (any_nan) total = __int_as_float(0x7fc00000);
        const float scale = scale_of(total, max_q, pow2);
        for (int64_t i = threadIdx.x; i < h * wd; i += blockDim.x) {
            const int64_t at = (r0 + i / wd) * cols + c0 + i % wd;
            qbase[at] = fp8::encode<Q>(to_float(base[at]) / scale);
        }
        if (threadIdx.x == 0) scales[u] = scale;
        __syncthreads();  // warp_amax and any_nan are reused by the next unit
    }
}

template <typename F>
gg_status dispatch_fp8(gg_dtype q, F&& f) {
    if (q == GG_DTYPE_FLOAT8_E4M3) return f(std::integral_constant<gg_dtype, GG_DTYPE_FLOAT8_E4M3>{});
    return f(std::integral_constant<gg_dtype, GG_DTYPE_FLOAT8_E5M2>{});
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_quantize_fp8_rows(const void* x, int64_t src_rows, const int32_t* index,
                                                     int32_t index_divisor, int64_t rows, int64_t cols,
                                                     int64_t block_cols, gg_dtype x_dtype, void* q, gg_dtype q_dtype,
                                                     float* scales, int64_t scale_count, int32_t flags,
                                                     void* stream) {
    using namespace gg::moe;
    const char* f = "gg_moe_quantize_fp8_rows";
    return gg::api_call(f, [&]() -> gg_status {
        int64_t blocks = 0;
        // The dtypes go to the checks as bits (core/enum_bits.h): any int32 may come.
        GG_TRY(gg::validate_quantize_rows(src_rows, index != nullptr, index_divisor, rows, cols, block_cols,
                                          gg::enum_bits(x_dtype), gg::enum_bits(q_dtype), scale_count, flags, &blocks));
        // No scales means no rows, or cols = 0 with column blocks: nothing to write (q has no elements either).
        if (scale_count == 0) return GG_STATUS_SUCCESS;
        if ((x == nullptr && src_rows * cols > 0) || (q == nullptr && cols > 0) || scales == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "%s: x (%p), q (%p) and scales (%p) must not be NULL", f, x, q,
                            static_cast<void*>(scales));
        const gg::Operand x_op{x, "x", gg::dtype_size(x_dtype), src_rows * cols}, q_op{q, "q", 1, rows * cols};
        const gg::Operand s_op{scales, "scales", sizeof(float), scale_count};
        const gg::Operand i_op{index, "index", sizeof(int32_t), index != nullptr ? rows : 0};
        GG_TRY(gg::check_current_device_operands(f, {x_op, i_op, q_op, s_op}));
        GG_TRY(gg::check_no_overlap(f, q_op, x_op));
        GG_TRY(gg::check_no_overlap(f, s_op, x_op));
        GG_TRY(gg::check_no_overlap(f, s_op, q_op));
        GG_TRY(gg::check_no_overlap(f, q_op, i_op));
        GG_TRY(gg::check_no_overlap(f, s_op, i_op));
        unsigned grid = 0;
        GG_TRY(item_blocks(rows * blocks, kWarpsPerBlock, &grid));
        auto s = static_cast<cudaStream_t>(stream);
        const float max_q = gg::fp8::max_finite(q_dtype);
        return dispatch_float(x_dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            return dispatch_fp8(q_dtype, [&](auto qtag) -> gg_status {
                quantize_rows_kernel<T, decltype(qtag)::value><<<grid, kThreads, 0, s>>>(
                    static_cast<const T*>(x), src_rows, index, index_divisor, rows, cols, block_cols, blocks, max_q,
                    (flags & GG_QUANTIZE_POW2_SCALES) != 0, static_cast<uint8_t*>(q), scales);
                GG_CUDA_CHECK(cudaGetLastError());
                return GG_STATUS_SUCCESS;
            });
        });
    });
}

extern "C" GG_API gg_status gg_moe_quantize_fp8_blocks(const void* w, int64_t batch, int64_t rows, int64_t cols,
                                                       int64_t block, gg_dtype w_dtype, void* q, gg_dtype q_dtype,
                                                       float* scales, int64_t scale_count, int32_t flags,
                                                       void* stream) {
    using namespace gg::moe;
    const char* f = "gg_moe_quantize_fp8_blocks";
    return gg::api_call(f, [&]() -> gg_status {
        GG_TRY(gg::validate_quantize_blocks(batch, rows, cols, block, gg::enum_bits(w_dtype), gg::enum_bits(q_dtype),
                                            scale_count, flags));
        const int64_t elements = batch * rows * cols;
        if (elements == 0) return GG_STATUS_SUCCESS;
        if (w == nullptr || q == nullptr || scales == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "%s: w (%p), q (%p) and scales (%p) must not be NULL", f, w, q,
                            static_cast<void*>(scales));
        const gg::Operand w_op{w, "w", gg::dtype_size(w_dtype), elements}, q_op{q, "q", 1, elements};
        const gg::Operand s_op{scales, "scales", sizeof(float), scale_count};
        GG_TRY(gg::check_current_device_operands(f, {w_op, q_op, s_op}));
        GG_TRY(gg::check_no_overlap(f, q_op, w_op));
        GG_TRY(gg::check_no_overlap(f, s_op, w_op));
        GG_TRY(gg::check_no_overlap(f, s_op, q_op));
        unsigned grid = 0;
        GG_TRY(item_blocks(scale_count, 1, &grid));
        // Validated: scale_count = batch * row_blocks * col_blocks, each block within its matrix.
        const int64_t row_blocks = rows / block + (rows % block != 0 ? 1 : 0);
        const int64_t col_blocks = cols / block + (cols % block != 0 ? 1 : 0);
        auto s = static_cast<cudaStream_t>(stream);
        const float max_q = gg::fp8::max_finite(q_dtype);
        return dispatch_float(w_dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            return dispatch_fp8(q_dtype, [&](auto qtag) -> gg_status {
                quantize_blocks_kernel<T, decltype(qtag)::value><<<grid, kThreads, 0, s>>>(
                    static_cast<const T*>(w), rows, cols, block, row_blocks, col_blocks, scale_count, max_q,
                    (flags & GG_QUANTIZE_POW2_SCALES) != 0, static_cast<uint8_t*>(q), scales);
                GG_CUDA_CHECK(cudaGetLastError());
                return GG_STATUS_SUCCESS;
            });
        });
    });
}
