// cublas-loop: one cublasGemmEx per non-empty expert, fp32 accumulation (tgale96's cuBLAS path).
// The dispatcher has zeroed empty experts' c[e] (trans_a); cuBLAS itself is loaded at first use.
#include "core/backend_table.h"
#include "core/handle.h"
#include "cublas/cublas_common.h"
#include "cublas/cublas_library.h"

namespace gg {

gg_status cublas_loop_supports(const Context&, const GmmProblem& p) {
    GG_TRY(cublas_require(backend_name(GG_BACKEND_CUBLAS_LOOP)));
    if (p.counts_on_device) {
        return fail(GG_STATUS_NOT_SUPPORTED,
                    "cuBLAS loop needs host batch sizes; pass host counts or use a CUTLASS backend");
    }
    return check_int32_extents(p, "cuBLAS loop");
}

gg_status cublas_loop_run(Context& ctx, const GmmProblem& p) {
    const cudaDataType_t type = cuda_data_type(p.dtype);
    const float alpha = 1.0f;
    const float beta = p.accumulate ? 1.0f : 0.0f;
    int64_t row = 0;
    for (int64_t e = 0; e < p.num_experts; ++e) {
        const int64_t rows = p.batch_sizes[e];
        if (rows == 0) continue;  // forward: no rows of c; trans_a: c[e] zeroed by the dispatcher
        const ColumnMajorGemm g = map_expert(p, e, row, rows);
        row += rows;
        cublasHandle_t blas = nullptr;
        GG_TRY(cublas_for_stream(*ctx.handle, p.stream, backend_name(GG_BACKEND_CUBLAS_LOOP), split_k_is_safe(g.k), &blas));
        GG_CUBLAS_CHECK(cublasGemmEx(blas, g.op_a, g.op_b, static_cast<int>(g.m), static_cast<int>(g.n),
                                     static_cast<int>(g.k), &alpha, g.a, type, static_cast<int>(g.lda), g.b, type,
                                     static_cast<int>(g.ldb), &beta, g.c, type, static_cast<int>(g.ldc),
                                     CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace gg
