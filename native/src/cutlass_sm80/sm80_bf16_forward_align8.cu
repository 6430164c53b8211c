// cutlass-sm80 grouped GEMM, bfloat16, forward: A row-major, B row-major; 16-byte accesses (k, n multiples of 8, aligned pointers).
#include "cutlass_sm80/grouped_gemm_sm80.cuh"

GG_SM80_INSTANTIATE(GG_DTYPE_BFLOAT16, kForward, 8)
