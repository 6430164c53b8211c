// cutlass-sm90 grouped GEMM, float16, trans_a: A column-major (a_e^T), B row-major; cooperative 128x256x32, no cluster; store-only epilogue.
#include "cutlass_sm90/grouped_gemm_sm90.cuh"

GG_SM90_INSTANTIATE(GG_DTYPE_FLOAT16, kTransA, kCooperative128x256K32Cluster1x1, kStoreOnly)
