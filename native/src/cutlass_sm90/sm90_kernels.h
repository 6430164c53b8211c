// The sm90 grouped-GEMM kernel configurations, as the dispatcher (backend_sm90.cu) sees them.
// Light on purpose: no CUTLASS here. Each configuration is defined in grouped_gemm_sm90.cuh and
// instantiated in its own sm90_<dtype>_<operands>_<tile>.cu (source epilogue) or ..._<tile>_store.cu (store-only
// epilogue), so the build compiles them in parallel.
#pragma once

#include <cstddef>

#include "cutlass_sm80/group_arrays.cuh"
#include "cutlass_sm90/tile_choice.h"

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

#define GG_SM90_DECLARE_TILE(DTYPE, OPS, TILE)                                                        \
    extern template struct GroupedKernel<DTYPE, OPS, Sm90Tile::TILE, Sm90Epilogue::kSource>;              \
    extern template struct GroupedKernel<DTYPE, OPS, Sm90Tile::TILE, Sm90Epilogue::kStoreOnly>;
#define GG_SM90_DECLARE(DTYPE, OPS)                         \
    GG_SM90_DECLARE_TILE(DTYPE, OPS, kCooperative128x256) \
    GG_SM90_DECLARE_TILE(DTYPE, OPS, kPingpong128x128) \
    GG_SM90_DECLARE_TILE(DTYPE, OPS, kCooperative128x256Cluster1x1) \
    GG_SM90_DECLARE_TILE(DTYPE, OPS, kCooperative256x128) \
    GG_SM90_DECLARE_TILE(DTYPE, OPS, kPingpong128x128Cluster1x2) \
    GG_SM90_DECLARE_TILE(DTYPE, OPS, kCooperative128x256K32) \
    GG_SM90_DECLARE_TILE(DTYPE, OPS, kCooperative128x256K32Cluster1x1)

GG_SM90_DECLARE(GG_DTYPE_BFLOAT16, Operands::kForward)
GG_SM90_DECLARE(GG_DTYPE_BFLOAT16, Operands::kTransB)
GG_SM90_DECLARE(GG_DTYPE_BFLOAT16, Operands::kTransA)
GG_SM90_DECLARE(GG_DTYPE_FLOAT16, Operands::kForward)
GG_SM90_DECLARE(GG_DTYPE_FLOAT16, Operands::kTransB)
GG_SM90_DECLARE(GG_DTYPE_FLOAT16, Operands::kTransA)

#undef GG_SM90_DECLARE
#undef GG_SM90_DECLARE_TILE

}  // namespace gg::cutlass_sm90
