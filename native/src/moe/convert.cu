// Element-type conversion between float32, float16 and bfloat16 (round to nearest even), fp32 in between.
// Moves 4 elements per step when both buffers allow it; the tail (and unaligned buffers) go one by one.
#include "core/moe_args.h"
#include "core/pointer_checks.h"
#include "moe/moe_common.cuh"

namespace gg::moe {
namespace {

constexpr int kConvertVec = 4;

template <typename S, typename D, int N>
__global__ void __launch_bounds__(kThreads)
convert_kernel(const S* __restrict__ src, D* __restrict__ dst, int64_t n) {
    const int64_t steps = n / N;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    for (int64_t i = first; i < steps; i += stride) {
        float v[N];
        load_floats<S, N>(src + i * N, v);
        store_floats<D, N>(dst + i * N, v);
    }
    for (int64_t i = steps * N + first; i < n; i += stride) dst[i] = from_float<D>(to_float(src[i]));
}

template <typename S, typename D>
gg_status launch(const void* src, void* dst, int64_t n, cudaStream_t s) {
    const auto* in = static_cast<const S*>(src);
    auto* out = static_cast<D*>(dst);
    const bool vec = reinterpret_cast<uintptr_t>(in) % (sizeof(S) * kConvertVec) == 0 &&
                     reinterpret_cast<uintptr_t>(out) % (sizeof(D) * kConvertVec) == 0;
    unsigned blocks = 0;
    GG_TRY(flat_blocks(vec ? n / kConvertVec + 1 : n, &blocks));
    if (vec) convert_kernel<S, D, kConvertVec><<<blocks, kThreads, 0, s>>>(in, out, n);
    else convert_kernel<S, D, 1><<<blocks, kThreads, 0, s>>>(in, out, n);
    GG_CUDA_CHECK(cudaGetLastError());
    return GG_STATUS_SUCCESS;
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_convert(const void* src, gg_dtype src_dtype, void* dst, gg_dtype dst_dtype, int64_t n,
                                       void* stream) {
    using namespace gg::moe;
    return gg::api_call("gg_convert", [&]() -> gg_status {
        const int32_t src_dtype_bits = gg::enum_bits(src_dtype);  // any int32 may come: core/enum_bits.h
        const int32_t dst_dtype_bits = gg::enum_bits(dst_dtype);
        if (!is_float_dtype(src_dtype_bits) || !is_float_dtype(dst_dtype_bits))
            return gg::fail(GG_STATUS_INVALID_ARGUMENT,
                            "gg_convert: src_dtype = %s (%d) and dst_dtype = %s (%d) must be float types",
                            dtype_name(src_dtype_bits), src_dtype_bits, dtype_name(dst_dtype_bits),
                            dst_dtype_bits);
        GG_TRY(gg::validate_element_count("gg_convert", "n", n));  // n >= 0, and its bytes fit
        if (n == 0) return GG_STATUS_SUCCESS;
        if (src == nullptr || dst == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "gg_convert: src (%p) and dst (%p) must not be NULL", src, dst);
        const gg::Operand src_op{src, "src", gg::dtype_size(src_dtype), n}, dst_op{dst, "dst", gg::dtype_size(dst_dtype), n};
        GG_TRY(gg::check_current_device_operands("gg_convert", {src_op, dst_op}));
        // Each element is read and written by one thread, so converting in place between types of one size is
        // safe; any other overlap would read elements another thread has already overwritten.
        if (!(src == dst && src_op.element_size == dst_op.element_size))
            GG_TRY(gg::check_no_overlap("gg_convert", dst_op, src_op));
        auto s = static_cast<cudaStream_t>(stream);
        return dispatch_float(src_dtype, [&](auto src_tag) -> gg_status {
            using S = typename decltype(src_tag)::type;
            return dispatch_float(dst_dtype, [&](auto dst_tag) -> gg_status {
                using D = typename decltype(dst_tag)::type;
                return launch<S, D>(src, dst, n, s);
            });
        });
    });
}
