// The cutlass-sm90 FP8 paths of gg_gmm_scaled besides the row-wise grouped GEMM, each in a file of its own, as
// scaled_sm90_run (scaled_gemm_sm90.cu) calls them. No CUTLASS in this header.
#pragma once

#include <cstdint>

#include "core/scaled_validate.h"
#include "cutlass_sm90/tuning_knobs.h"

namespace gg::cutlass_sm90 {

// scaled_split_sm90.cu: a decode forward (trans_b) with every live expert's k in `chunks` chunks
// (tile_choice.h: fp8_forward_split_chunks), row-wise scales.
gg_status run_scaled_split(Context& ctx, const ScaledGmmProblem& sp, int32_t chunks, const Sm90Knobs& knobs);

// scaled_block_sm90.cu: one grouped GEMM of every expert with DeepGEMM's block scales (trans_b).
gg_status run_scaled_block(Context& ctx, const ScaledGmmProblem& sp, const Sm90Knobs& knobs);

}  // namespace gg::cutlass_sm90
