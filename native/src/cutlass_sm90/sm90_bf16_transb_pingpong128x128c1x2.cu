// cutlass-sm90 grouped GEMM, bfloat16, trans_b: A row-major, B column-major; ping-pong 128x128x64, cluster 1x2x1; source (C) epilogue.
#include "cutlass_sm90/grouped_gemm_sm90.cuh"

GG_SM90_INSTANTIATE(GG_DTYPE_BFLOAT16, kTransB, kPingpong128x128Cluster1x2, kSource)
