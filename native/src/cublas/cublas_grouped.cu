// cublas-grouped: one cublasGemmGroupedBatchedEx call, one group per non-empty expert (CUDA >= 12.5).
//
// The per-group sizes, leading dimensions and scalars are host arrays that cuBLAS reads during the
// call; the A/B/C pointer arrays must be in device memory, so they are uploaded into the handle's
// workspace on the call's stream. cuBLAS documents these combinations with CUBLAS_COMPUTE_32F and
// fp32 scalars: A/B/C all CUDA_R_16BF, all CUDA_R_16F, or all CUDA_R_32F (our three dtypes).
#include <vector>

#include "core/backend_table.h"
#include "core/handle.h"
#include "cublas/cublas_common.h"
#include "cublas/cublas_library.h"

namespace gg {

#if CUBLAS_VERSION >= 120500

namespace {

// cuBLAS's alignment rule for 16-bit types: a matrix whose rows are a multiple of 16 bytes must start
// 16-byte aligned, of 4 bytes 4-byte aligned. Each expert's matrix starts at base + rows * row_bytes,
// so checking the base pointer of each operand suffices.
bool aligned_for_cublas(const void* base, int64_t row_elements, size_t es) {
    const size_t row_bytes = static_cast<size_t>(row_elements) * es;
    const uintptr_t p = reinterpret_cast<uintptr_t>(base);
    if (row_bytes % 16 == 0) return p % 16 == 0;
    if (row_bytes % 4 == 0) return p % 4 == 0;
    return true;
}

}  // namespace

gg_status cublas_grouped_supports(const Context&, const GmmProblem& p) {
    GG_TRY(cublas_require(backend_name(GG_BACKEND_CUBLAS_GROUPED)));
    if (!cublas_has_grouped_batched()) {
        return fail(GG_STATUS_NOT_SUPPORTED, "cublas-grouped: the cuBLAS loaded at run time has no "
                    "cublasGemmGroupedBatchedEx (it needs cuBLAS >= 12.5)");
    }
    if (p.counts_on_device) {
        return fail(GG_STATUS_NOT_SUPPORTED,
                    "cuBLAS grouped needs host batch sizes; pass host counts or use a CUTLASS backend");
    }
    if (p.dtype != GG_DTYPE_FLOAT32 && p.dtype != GG_DTYPE_FLOAT16 && p.dtype != GG_DTYPE_BFLOAT16) {
        return fail(GG_STATUS_NOT_SUPPORTED, "cuBLAS grouped supports float32, float16 and bfloat16 only");
    }
    GG_TRY(check_int32_extents(p, "cuBLAS grouped"));
    // The device pointer arrays are uploaded from host memory that is gone when a captured graph replays.
    if (p.capturing) {
        return fail(GG_STATUS_NOT_SUPPORTED,
                    "cuBLAS grouped cannot be captured in a CUDA graph (its pointer arrays are uploaded per call); "
                    "use cublas-loop or a CUTLASS backend while capturing");
    }
    if (p.dtype != GG_DTYPE_FLOAT32) {
        const size_t es = dtype_size(p.dtype);
        // Row lengths of the operands as row-major arrays: a[.,k]; b[.,n] (or [.,k] with trans_b); c[.,n].
        const int64_t b_row = p.trans_b ? p.k : p.n;
        if (!aligned_for_cublas(p.a, p.k, es) || !aligned_for_cublas(p.b, b_row, es) ||
            !aligned_for_cublas(p.c, p.n, es)) {
            return fail(GG_STATUS_NOT_SUPPORTED,
                        "cuBLAS grouped needs 16-bit operands aligned to 16 bytes (4 when rows are not a multiple of "
                        "16 bytes): a = %p, b = %p, c = %p",
                        p.a, p.b, static_cast<const void*>(p.c));
        }
    }
    return GG_STATUS_SUCCESS;
}

gg_status cublas_grouped_run(Context& ctx, const GmmProblem& p) {
    int64_t groups = 0;
    for (int64_t e = 0; e < p.num_experts; ++e) groups += p.batch_sizes[e] != 0 ? 1 : 0;
    if (groups == 0) return GG_STATUS_SUCCESS;
    if (groups > INT_MAX) return fail(GG_STATUS_NOT_SUPPORTED, "cuBLAS grouped takes at most %d groups", INT_MAX);

    const size_t count = static_cast<size_t>(groups);
    std::vector<cublasOperation_t> op_a(count), op_b(count);
    std::vector<int> m(count), n(count), k(count), lda(count), ldb(count), ldc(count), group_size(count, 1);
    std::vector<float> alpha(count, 1.0f), beta(count, p.accumulate ? 1.0f : 0.0f);
    // Pointer arrays, uploaded in one copy: A[groups], B[groups], C[groups].
    std::vector<const void*> pointers(3 * count);

    size_t g = 0;
    int64_t row = 0;
    for (int64_t e = 0; e < p.num_experts; ++e) {
        const int64_t rows = p.batch_sizes[e];
        if (rows == 0) continue;  // trans_a: c[e] zeroed by the dispatcher
        const ColumnMajorGemm cm = map_expert(p, e, row, rows);
        row += rows;
        op_a[g] = cm.op_a;
        op_b[g] = cm.op_b;
        m[g] = static_cast<int>(cm.m);
        n[g] = static_cast<int>(cm.n);
        k[g] = static_cast<int>(cm.k);
        lda[g] = static_cast<int>(cm.lda);
        ldb[g] = static_cast<int>(cm.ldb);
        ldc[g] = static_cast<int>(cm.ldc);
        pointers[g] = cm.a;
        pointers[count + g] = cm.b;
        pointers[2 * count + g] = cm.c;
        ++g;
    }

    void* device_pointers = nullptr;
    const size_t bytes = pointers.size() * sizeof(void*);
    GG_TRY(workspace_acquire(*ctx.workspace, bytes, p, &device_pointers));
    // From pageable memory: the copy is staged before cudaMemcpyAsync returns, so `pointers` may die after it.
    GG_CUDA_CHECK(cudaMemcpyAsync(device_pointers, pointers.data(), bytes, cudaMemcpyHostToDevice, p.stream));
    const void* const* a_array = static_cast<const void* const*>(device_pointers);
    const void* const* b_array = a_array + count;
    void* const* c_array = const_cast<void* const*>(reinterpret_cast<const void* const*>(a_array + 2 * count));

    bool split_safe = true;  // one call for every group: no split unless every group's reduction is safe to split
    for (size_t i = 0; i < count; ++i) split_safe = split_safe && split_k_is_safe(k[i]);
    cublasHandle_t blas = nullptr;
    GG_TRY(cublas_for_stream(*ctx.handle, p.stream, backend_name(GG_BACKEND_CUBLAS_GROUPED), split_safe, &blas));
    const cudaDataType_t type = cuda_data_type(p.dtype);
    GG_CUBLAS_CHECK(cublasGemmGroupedBatchedEx(blas, op_a.data(), op_b.data(), m.data(), n.data(), k.data(),
                                               alpha.data(), a_array, type, lda.data(), b_array, type, ldb.data(),
                                               beta.data(), c_array, type, ldc.data(), static_cast<int>(groups),
                                               group_size.data(), CUBLAS_COMPUTE_32F));
    return GG_STATUS_SUCCESS;
}

#endif  // CUBLAS_VERSION >= 120500: without it the backend is not compiled in (core/backend_table.cpp)

}  // namespace gg
