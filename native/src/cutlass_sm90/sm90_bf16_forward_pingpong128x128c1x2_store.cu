// cutlass-sm90 grouped GEMM, bfloat16, forward: A row-major, B row-major; ping-pong 128x128x64, cluster 1x2x1; store-only epilogue.
#include "cutlass_sm90/grouped_gemm_sm90.cuh"

GG_SM90_INSTANTIATE(GG_DTYPE_BFLOAT16, kForward, kPingpong128x128Cluster1x2, kStoreOnly)
