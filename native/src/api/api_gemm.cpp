// gg_gemm: row-major strided-batched dense GEMM through cublasGemmStridedBatchedEx.
#include <cinttypes>
#include <climits>

#include "cublas/cublas_common.h"
#include "core/api_guard.h"
#include "core/call_order.h"
#include "core/capture.h"
#include "core/device_guard.h"
#include "core/enum_bits.h"
#include "core/handle.h"
#include "core/pointer_checks.h"
#include "core/validate.h"
#include "cublas/cublas_library.h"

namespace {

// Elements spanned by `batch` matrices of `elements` each, `stride` apart; false on overflow.
bool span_elements(int64_t batch, int64_t stride, int64_t elements, int64_t* out) {
    if (batch == 0 || elements == 0) {
        *out = 0;
        return true;
    }
    int64_t last = 0;
    return !__builtin_mul_overflow(batch - 1, stride, &last) && !__builtin_add_overflow(last, elements, out);
}

gg_status validate_gemm(const gg_gemm_args& g, int device) {
    // Read as bits until checked (core/enum_bits.h): the caller may store any int32 in it.
    const int32_t dtype = gg::enum_bits(g.dtype);
    GG_REQUIRE(dtype == GG_DTYPE_FLOAT32 || dtype == GG_DTYPE_FLOAT16 || dtype == GG_DTYPE_BFLOAT16,
               "dtype = %d (%s): gg_gemm takes GG_DTYPE_FLOAT32, GG_DTYPE_FLOAT16 or GG_DTYPE_BFLOAT16", dtype,
               gg::dtype_name(dtype));
    GG_REQUIRE(g.m >= 0, "m = %" PRId64 " is negative", g.m);
    GG_REQUIRE(g.n >= 0, "n = %" PRId64 " is negative", g.n);
    GG_REQUIRE(g.k >= 0, "k = %" PRId64 " is negative", g.k);
    GG_REQUIRE(g.batch_count >= 0, "batch_count = %" PRId64 " is negative", g.batch_count);
    GG_REQUIRE(g.stride_a >= 0, "stride_a = %" PRId64 " is negative", g.stride_a);
    GG_REQUIRE(g.stride_b >= 0, "stride_b = %" PRId64 " is negative", g.stride_b);
    GG_REQUIRE(g.stride_c >= 0, "stride_c = %" PRId64 " is negative", g.stride_c);
    int64_t mk = 0, kn = 0, mn = 0;
    GG_REQUIRE(!__builtin_mul_overflow(g.m, g.k, &mk), "m * k overflows 64 bits");
    GG_REQUIRE(!__builtin_mul_overflow(g.k, g.n, &kn), "k * n overflows 64 bits");
    GG_REQUIRE(!__builtin_mul_overflow(g.m, g.n, &mn), "m * n overflows 64 bits");
    GG_REQUIRE(g.batch_count <= 1 || g.stride_c >= mn,
               "stride_c = %" PRId64 " is smaller than m * n = %" PRId64 ": the batches of c would overlap", g.stride_c, mn);
    int64_t a_span = 0, b_span = 0, c_span = 0;
    GG_REQUIRE(span_elements(g.batch_count, g.stride_a, mk, &a_span), "a's extent overflows 64 bits");
    GG_REQUIRE(span_elements(g.batch_count, g.stride_b, kn, &b_span), "b's extent overflows 64 bits");
    GG_REQUIRE(span_elements(g.batch_count, g.stride_c, mn, &c_span), "c's extent overflows 64 bits");
    if (g.m == 0 || g.n == 0) a_span = b_span = 0;  // nothing is read
    if (g.k == 0) a_span = b_span = 0;
    // Their bytes too: the overlap checks below and cuBLAS's addressing work in bytes (docs/reliability.md, hazard 21).
    const int64_t max_span = INT64_MAX / static_cast<int64_t>(gg::dtype_size(g.dtype));
    GG_REQUIRE(a_span <= max_span && b_span <= max_span && c_span <= max_span,
               "an operand's bytes overflow 64 bits: a, b and c span %" PRId64 ", %" PRId64 " and %" PRId64
               " elements of %zu bytes",
               a_span, b_span, c_span, gg::dtype_size(g.dtype));
    GG_REQUIRE(g.a != nullptr || a_span == 0, "a is NULL but spans %" PRId64 " elements", a_span);
    GG_REQUIRE(g.b != nullptr || b_span == 0, "b is NULL but spans %" PRId64 " elements", b_span);
    GG_REQUIRE(g.c != nullptr || c_span == 0, "c is NULL but spans %" PRId64 " elements", c_span);
    const size_t es = gg::dtype_size(g.dtype);
    // A misaligned operand is a sticky fault in cuBLAS's loads; an output overlapping an input races with it.
    const gg::Operand a_op{g.a, "a", es, a_span}, b_op{g.b, "b", es, b_span}, c_op{g.c, "c", es, c_span};
    for (const gg::Operand* op : {&a_op, &b_op, &c_op}) {
        if (op->elements > 0) GG_TRY(gg::check_alignment(nullptr, op->ptr, op->name, es));
    }
    GG_TRY(gg::check_no_overlap(nullptr, c_op, a_op));
    GG_TRY(gg::check_no_overlap(nullptr, c_op, b_op));
    GG_TRY(gg::check_operand(g.a, "a", a_span, device, gg::query_pointer_cuda));
    GG_TRY(gg::check_operand(g.b, "b", b_span, device, gg::query_pointer_cuda));
    GG_TRY(gg::check_operand(g.c, "c", c_span, device, gg::query_pointer_cuda));
    if (g.m > INT_MAX || g.n > INT_MAX || g.k > INT_MAX) {
        return gg::fail(GG_STATUS_NOT_SUPPORTED,
                        "gg_gemm takes 32-bit sizes: m = %" PRId64 ", n = %" PRId64 ", k = %" PRId64 " must each be at most %d",
                        g.m, g.n, g.k, INT_MAX);
    }
    return GG_STATUS_SUCCESS;
}

// k == 0: c = 0 (unless accumulate), batch by batch when the batches are not contiguous.
gg_status zero_output(const gg_gemm_args& g, cudaStream_t stream) {
    const size_t es = gg::dtype_size(g.dtype);
    const size_t matrix = static_cast<size_t>(g.m) * static_cast<size_t>(g.n) * es;
    const size_t pitch = static_cast<size_t>(g.stride_c) * es;
    if (g.batch_count == 1 || pitch == matrix) return gg::zero_fill(g.c, matrix * static_cast<size_t>(g.batch_count), stream);
    GG_CUDA_CHECK(cudaMemset2DAsync(g.c, pitch, 0, matrix, static_cast<size_t>(g.batch_count), stream));
    return GG_STATUS_SUCCESS;
}

}  // namespace

extern "C" {

gg_status gg_gemm(gg_handle_t handle, const gg_gemm_args* args) {
    return gg::api_call("gg_gemm", [&]() -> gg_status {
        GG_REQUIRE(handle != nullptr, "handle is NULL");
        GG_REQUIRE(args != nullptr, "args is NULL");
        const gg_gemm_args& g = *args;
        GG_TRY(validate_gemm(g, handle->device.ordinal));
        if (g.m == 0 || g.n == 0 || g.batch_count == 0) return GG_STATUS_SUCCESS;
        gg::DeviceGuard guard;
        GG_TRY(guard.enter(handle->device.ordinal));
        const auto stream = static_cast<cudaStream_t>(g.stream);
        bool capturing = false;
        GG_TRY(gg::stream_capturing(stream, &capturing));
        gg::CallOrder order;  // after the previous call on this handle, whatever its stream (issue 23)
        GG_TRY(order.enter(*handle, stream, capturing));
        if (g.k == 0) return g.accumulate ? GG_STATUS_SUCCESS : zero_output(g, stream);
        cublasHandle_t blas = nullptr;
        GG_TRY(gg::cublas_for_stream(*handle, stream, "gg_gemm (dense GEMM through cuBLAS)", gg::split_k_is_safe(g.k),
                                     &blas));

        // Row-major c = op(a) . op(b) is column-major c^T = op(b)^T . op(a)^T: b first, m and n swapped.
        const cublasOperation_t op_b = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
        const cublasOperation_t op_a = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
        const int ld_b = static_cast<int>(g.trans_b ? g.k : g.n);
        const int ld_a = static_cast<int>(g.trans_a ? g.m : g.k);
        const int ld_c = static_cast<int>(g.n);
        const cudaDataType_t type = gg::cuda_data_type(g.dtype);
        const float alpha = 1.0f;
        const float beta = g.accumulate ? 1.0f : 0.0f;
        const size_t es = gg::dtype_size(g.dtype);
        // cuBLAS counts batches in int: run more than INT_MAX of them in slices.
        for (int64_t first = 0; first < g.batch_count; first += INT_MAX) {
            const int64_t count = g.batch_count - first < INT_MAX ? g.batch_count - first : INT_MAX;
            const char* a = static_cast<const char*>(g.a) + static_cast<size_t>(first) * static_cast<size_t>(g.stride_a) * es;
            const char* b = static_cast<const char*>(g.b) + static_cast<size_t>(first) * static_cast<size_t>(g.stride_b) * es;
            char* c = static_cast<char*>(g.c) + static_cast<size_t>(first) * static_cast<size_t>(g.stride_c) * es;
            GG_CUBLAS_CHECK(cublasGemmStridedBatchedEx(blas, op_b, op_a, static_cast<int>(g.n), static_cast<int>(g.m),
                                                       static_cast<int>(g.k), &alpha, b, type, ld_b, g.stride_b, a, type, ld_a,
                                                       g.stride_a, &beta, c, type, ld_c, g.stride_c, static_cast<int>(count),
                                                       CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        }
        return GG_STATUS_SUCCESS;
    });
}

}  // extern "C"
