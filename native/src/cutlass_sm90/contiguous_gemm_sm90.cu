// The contiguous sm90 grouped GEMM's four configurations (bf16 / fp16, forward / trans_b) and its entry point.
#include "cutlass/bfloat16.h"
#include "cutlass/half.h"

#include "cutlass_sm90/contiguous_gemm.h"
#include "cutlass_sm90/contiguous_gemm_sm90.cuh"

namespace gg::cutlass_sm90 {

gg_status run_contiguous(const GmmProblem& p, const int32_t* device_problem_sizes, uint32_t* claims,
                         const ContiguousSplit& split, int grid, const int32_t* route) {
    if (!contiguous_eligible(p)) {
        return fail(GG_STATUS_NOT_SUPPORTED, "cutlass-sm90: the contiguous kernel (contig256x128) takes forward and "
                    "trans_b calls without accumulate, with 1 to %d experts (trans_a %d, accumulate %d, %lld experts)",
                    kContiguousMaxExperts, p.trans_a ? 1 : 0, p.accumulate ? 1 : 0,
                    static_cast<long long>(p.num_experts));
    }
    using contiguous::launch;
    if (p.dtype == GG_DTYPE_BFLOAT16) {
        return p.trans_b ? launch<cutlass::bfloat16_t, true>(p, device_problem_sizes, claims, split, grid, route)
                         : launch<cutlass::bfloat16_t, false>(p, device_problem_sizes, claims, split, grid, route);
    }
    return p.trans_b ? launch<cutlass::half_t, true>(p, device_problem_sizes, claims, split, grid, route)
                     : launch<cutlass::half_t, false>(p, device_problem_sizes, claims, split, grid, route);
}

}  // namespace gg::cutlass_sm90
