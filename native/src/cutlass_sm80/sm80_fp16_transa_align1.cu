// cutlass-sm80 grouped GEMM, float16, trans_a: A column-major (a_e^T), B row-major; 1-element accesses, any shape (fallback).
#include "cutlass_sm80/grouped_gemm_sm80.cuh"

GG_SM80_INSTANTIATE(GG_DTYPE_FLOAT16, kTransA, 1)
