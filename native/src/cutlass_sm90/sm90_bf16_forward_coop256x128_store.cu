// cutlass-sm90 grouped GEMM, bfloat16, forward: A row-major, B row-major; cooperative 256x128x64, no cluster; store-only epilogue.
#include "cutlass_sm90/grouped_gemm_sm90.cuh"

GG_SM90_INSTANTIATE(GG_DTYPE_BFLOAT16, kForward, kCooperative256x128, kStoreOnly)
