// Row-major grouped-GEMM pieces expressed as cuBLAS (column-major) calls.
//
// A row-major X[r, c] read as column-major is X^T with leading dimension c, so a row-major
// C = A . B is computed as the column-major C^T = B^T . A^T: operands swapped, m and n swapped.
#pragma once

#include <climits>

#include "core/internal.h"

namespace gg {

inline cudaDataType_t cuda_data_type(gg_dtype t) {
    switch (t) {
        case GG_DTYPE_FLOAT16: return CUDA_R_16F;
        case GG_DTYPE_BFLOAT16: return CUDA_R_16BF;
        default: return CUDA_R_32F;
    }
}

// Whether cuBLAS may split a reduction `depth` deep across thread blocks. cuBLAS 12.8 and 13.1 (its nvjet kernels, on
// H100 and Blackwell) leave the last depth % block_k terms out of the sum when they split it into s parts with
// (depth / block_k) % s == 0 and s > depth % block_k, block_k being the kernel's k step (64 for 16-bit operands): a
// public reproducer over 1.5 million shapes found every loss there and nowhere else. Here it cost a weight gradient
// whose expert held 2561 rows (2561 % 64 = 1) one row's products: 1.68e-2 relative error in fp16 on an H100
// (docs/release.md, "The 0.8.0 run"). A depth that is a multiple of 128, and so of every k step up to 128, has no
// tail to lose; any other runs without a workspace, where cuBLAS does not split.
inline bool split_k_is_safe(int64_t depth) { return depth % 128 == 0; }

// One column-major GEMM: C[m,n] = op(A)[m,k] . op(B)[k,n] (+ C).
struct ColumnMajorGemm {
    cublasOperation_t op_a = CUBLAS_OP_N;
    cublasOperation_t op_b = CUBLAS_OP_N;
    int64_t m = 0, n = 0, k = 0;
    const void* a = nullptr;
    int64_t lda = 1;
    const void* b = nullptr;
    int64_t ldb = 1;
    void* c = nullptr;
    int64_t ldc = 1;
};

// The cuBLAS call for expert `e`, whose rows are [row_begin, row_begin + rows) of the grouped operand.
//   forward   c[rows,n] = a[rows,k] . b[e][k,n]   ->  C^T[n,rows] = b[e]^T(N, ld n) . a^T(N, ld k)
//   trans_b   c[rows,n] = a[rows,k] . b[e][n,k]^T ->  C^T[n,rows] = (b[e] viewed [k,n] ld k)^T . a^T(N, ld k)
//   trans_a   c[e][k,n] = a[rows,k]^T . b[rows,n] ->  C^T[n,k]    = b^T(N, ld n) . (a viewed [k,rows] ld k)^T
inline ColumnMajorGemm map_expert(const GmmProblem& p, int64_t e, int64_t row_begin, int64_t rows) {
    const size_t es = dtype_size(p.dtype);
    const size_t k = static_cast<size_t>(p.k), n = static_cast<size_t>(p.n);
    const char* a = static_cast<const char*>(p.a);
    const char* b = static_cast<const char*>(p.b);
    char* c = static_cast<char*>(p.c);
    const size_t row0 = static_cast<size_t>(row_begin);
    ColumnMajorGemm g;
    if (p.trans_a) {
        g.op_a = CUBLAS_OP_N;
        g.op_b = CUBLAS_OP_T;
        g.m = p.n;
        g.n = p.k;
        g.k = rows;
        g.a = b + row0 * n * es;
        g.lda = p.n;
        g.b = a + row0 * k * es;
        g.ldb = p.k;
        g.c = c + static_cast<size_t>(e) * k * n * es;
        g.ldc = p.n;
        return g;
    }
    g.op_a = p.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    g.op_b = CUBLAS_OP_N;
    g.m = p.n;
    g.n = rows;
    g.k = p.k;
    g.a = b + static_cast<size_t>(e) * k * n * es;
    g.lda = p.trans_b ? p.k : p.n;
    g.b = a + row0 * k * es;
    g.ldb = p.k;
    g.c = c + row0 * n * es;
    g.ldc = p.n;
    return g;
}

// cuBLAS takes 32-bit sizes: NOT_SUPPORTED (naming `backend`) when m, k, n or one expert's rows exceed them.
// Host counts only.
inline gg_status check_int32_extents(const GmmProblem& p, const char* backend) {
    if (p.m > INT_MAX || p.k > INT_MAX || p.n > INT_MAX) {
        return fail(GG_STATUS_NOT_SUPPORTED,
                    "%s takes 32-bit sizes: m = %lld, k = %lld, n = %lld must each be at most %d", backend,
                    static_cast<long long>(p.m), static_cast<long long>(p.k), static_cast<long long>(p.n), INT_MAX);
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace gg
