// The sm90 grouped-GEMM kernel configurations, as the dispatcher (backend_sm90.cu) sees them.
// Light on purpose: no CUTLASS here. Each configuration is defined in grouped_gemm_sm90.cuh and instantiated in its
// own sm90_<dtype>_<operands>_<tile>[_store].cu, which CMake writes into the build folder from sm90_tiles.def
// (native/cmake/sm90_kernels.cmake), so the build compiles them in parallel.
#pragma once

#include <cstddef>

#include "cutlass_common/group_arrays.cuh"
#include "cutlass_sm90/sm90_tiles.h"

namespace gg::cutlass_sm90 {

using cutlass_grouped::GroupArrays;
using cutlass_grouped::GroupedLaunch;
using cutlass_grouped::Operands;

// One compiled configuration: bf16/fp16, operand form, tile, epilogue. 16-byte TMA accesses only (k, n
// multiples of 8).
template <gg_dtype DType, Operands Ops, Sm90Tile Tile, Sm90Epilogue Epi>
struct GroupedKernel {
    // Bytes of the CUTLASS kernel's own workspace (TMA descriptors per SM) for `groups` groups.
    static gg_status workspace_bytes(int32_t groups, int device, int sm_count, size_t* bytes);
    // Runs one grouped GEMM with the arrays already filled on the launch stream.
    static gg_status run(const GroupedLaunch& launch);
};

// X(dtype, operands, tile, epilogue) for each of a CUTLASS tile's kernels: both dtypes, the three operand forms, both
// epilogues (what native/cmake/sm90_kernels.cmake writes a file for).
#define GG_SM90_KERNELS_OF_TILE(X, TILE)                                                                          \
    X(GG_DTYPE_BFLOAT16, kForward, TILE, kSource) X(GG_DTYPE_BFLOAT16, kForward, TILE, kStoreOnly)               \
    X(GG_DTYPE_BFLOAT16, kTransB, TILE, kSource) X(GG_DTYPE_BFLOAT16, kTransB, TILE, kStoreOnly)                 \
    X(GG_DTYPE_BFLOAT16, kTransA, TILE, kSource) X(GG_DTYPE_BFLOAT16, kTransA, TILE, kStoreOnly)                 \
    X(GG_DTYPE_FLOAT16, kForward, TILE, kSource) X(GG_DTYPE_FLOAT16, kForward, TILE, kStoreOnly)                 \
    X(GG_DTYPE_FLOAT16, kTransB, TILE, kSource) X(GG_DTYPE_FLOAT16, kTransB, TILE, kStoreOnly)                   \
    X(GG_DTYPE_FLOAT16, kTransA, TILE, kSource) X(GG_DTYPE_FLOAT16, kTransA, TILE, kStoreOnly)

// Every kernel of every CUTLASS tile is declared; a build defines those it compiled (sm90_kernel_list.h).
#define GG_SM90_DECLARE(DTYPE, OPS, TILE, EPILOGUE) \
    extern template struct GroupedKernel<DTYPE, Operands::OPS, Sm90Tile::TILE, Sm90Epilogue::EPILOGUE>;
#define GG_SM90_TILE(Enum, name, forward, transb, transa) GG_SM90_KERNELS_OF_TILE(GG_SM90_DECLARE, Enum)
#define GG_SM90_SPLIT_TILE(Enum, name)                                                                            \
    GG_SM90_DECLARE(GG_DTYPE_BFLOAT16, kForward, Enum, kPartialF32)                                            \
    GG_SM90_DECLARE(GG_DTYPE_BFLOAT16, kTransB, Enum, kPartialF32)                                             \
    GG_SM90_DECLARE(GG_DTYPE_BFLOAT16, kTransA, Enum, kPartialF32)                                             \
    GG_SM90_DECLARE(GG_DTYPE_FLOAT16, kForward, Enum, kPartialF32)                                             \
    GG_SM90_DECLARE(GG_DTYPE_FLOAT16, kTransB, Enum, kPartialF32)                                              \
    GG_SM90_DECLARE(GG_DTYPE_FLOAT16, kTransA, Enum, kPartialF32)
#include "cutlass_sm90/sm90_tiles.def"
#undef GG_SM90_DECLARE

}  // namespace gg::cutlass_sm90
