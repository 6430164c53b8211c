// The sm80 grouped-GEMM kernel configurations, as the dispatcher (backend_sm80.cu) sees them.
// Light on purpose: no CUTLASS here. Each configuration is defined in grouped_gemm_sm80.cuh and
// instantiated in its own sm80_<dtype>_<operands>_align<N>.cu, so the build compiles them in parallel.
#pragma once

#include "cutlass_common/group_arrays.cuh"

namespace gg::cutlass_sm80 {

using cutlass_grouped::GroupArrays;
using cutlass_grouped::GroupedLaunch;
using cutlass_grouped::Operands;

// Access width of the kernels, in elements. 8 (16 bytes) needs k and n multiples of 8 and 16-byte aligned
// base pointers; 1 takes any shape (2-stage pipelined mainloop, slower) and serves the rest.
constexpr int kWideAlignment = 8;
constexpr int kNarrowAlignment = 1;

// Runs one grouped GEMM with the arrays already filled on the launch stream.
template <gg_dtype DType, Operands Ops, int Alignment>
gg_status run_grouped(const GroupedLaunch& launch);

#define GG_SM80_DECLARE(DTYPE, OPS, ALIGN) \
    extern template gg_status run_grouped<DTYPE, OPS, ALIGN>(const GroupedLaunch&);

#define GG_SM80_DECLARE_DTYPE(DTYPE)                                 \
    GG_SM80_DECLARE(DTYPE, Operands::kForward, kWideAlignment)       \
    GG_SM80_DECLARE(DTYPE, Operands::kTransB, kWideAlignment)        \
    GG_SM80_DECLARE(DTYPE, Operands::kTransA, kWideAlignment)        \
    GG_SM80_DECLARE(DTYPE, Operands::kForward, kNarrowAlignment)     \
    GG_SM80_DECLARE(DTYPE, Operands::kTransB, kNarrowAlignment)      \
    GG_SM80_DECLARE(DTYPE, Operands::kTransA, kNarrowAlignment)

GG_SM80_DECLARE_DTYPE(GG_DTYPE_BFLOAT16)
GG_SM80_DECLARE_DTYPE(GG_DTYPE_FLOAT16)

#undef GG_SM80_DECLARE_DTYPE
#undef GG_SM80_DECLARE

}  // namespace gg::cutlass_sm80
