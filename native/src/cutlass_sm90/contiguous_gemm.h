// The contiguous sm90 grouped GEMM (contiguous_gemm_sm90.cuh), as the dispatcher (backend_sm90.cu) sees it.
// Light on purpose: no CUTLASS here.
#pragma once

#include <cstdint>

#include "core/internal.h"

namespace gg::cutlass_sm90 {

// Runs a forward or trans_b call (contiguous_eligible(p) in tile_choice.h) on p.stream, after the preparation
// kernel that wrote `device_problem_sizes` ([E][3], m n k per expert) and zeroed `claims` on that stream (null
// claims: tiles dealt round-robin). `grid`: CTAs to launch.
gg_status run_contiguous(const GmmProblem& p, const int32_t* device_problem_sizes, uint32_t* claims, int grid);

}  // namespace gg::cutlass_sm90
