// cutlass-sm90 grouped GEMM, float16, trans_a: A column-major (a_e^T), B row-major; ping-pong 128x128x64, no cluster; store-only epilogue.
#include "cutlass_sm90/grouped_gemm_sm90.cuh"

GG_SM90_INSTANTIATE(GG_DTYPE_FLOAT16, kTransA, kPingpong128x128, kStoreOnly)
