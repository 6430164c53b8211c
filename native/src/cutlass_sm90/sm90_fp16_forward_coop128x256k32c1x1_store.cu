// cutlass-sm90 grouped GEMM, float16, forward: A row-major, B row-major; cooperative 128x256x32, no cluster; store-only epilogue.
#include "cutlass_sm90/grouped_gemm_sm90.cuh"

GG_SM90_INSTANTIATE(GG_DTYPE_FLOAT16, kForward, kCooperative128x256K32Cluster1x1, kStoreOnly)
