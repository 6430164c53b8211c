// The contiguous sm90 grouped GEMM (contiguous_gemm_sm90.cuh), as the dispatcher (backend_sm90.cu) sees it.
// Light on purpose: no CUTLASS here.
#pragma once

#include <cstdint>

#include "core/internal.h"

namespace gg::cutlass_sm90 {

// What the kernel's tiling needs (contiguous_tiling.h): the card's SM count it fills and, for split-K (max_chunks > 1),
// the partial sums (max_chunks x m x n floats) and the output tiles' counters (contiguous::claim_words_for(sms) - 1 of
// them, after the claim counter), which the preparation kernel zeroes. max_chunks 1: the kernel never splits (it may
// still choose shorter tiles).
struct ContiguousSplit {
    float* partials = nullptr;
    uint32_t* counters = nullptr;
    int sms = 1;
    int max_chunks = 1;
};

// Runs a forward or trans_b call (contiguous_eligible(p) in tile_choice.h) on p.stream, after the preparation
// kernel that wrote `device_problem_sizes` ([E][3], m n k per expert) and zeroed `claims` (and the split's counters) on
// that stream (null claims: tiles dealt round-robin). `grid`: CTAs to launch. `route`: the preparation kernel's route
// word of a call the device routes (cutlass_common/group_arrays.cuh: GroupArrays::route), on which the kernel exits at
// once when the word names CUTLASS's grouped GEMM; null: the kernel always runs.
gg_status run_contiguous(const GmmProblem& p, const int32_t* device_problem_sizes, uint32_t* claims,
                         const ContiguousSplit& split, int grid, const int32_t* route = nullptr);

}  // namespace gg::cutlass_sm90
