// The contiguous sm90 grouped GEMM's four configurations (bf16 / fp16, forward / trans_b) and its entry point.
#include "cutlass/bfloat16.h"
#include "cutlass/half.h"

#include "cutlass_sm90/contiguous_gemm.h"
#include "cutlass_sm90/contiguous_gemm_sm90.cuh"

namespace gg::cutlass_sm90 {

gg_status run_contiguous(const GmmProblem& p, const int32_t* device_problem_sizes, uint32_t* claims, int grid) {
    if (!contiguous_eligible(p)) {
        return fail(GG_STATUS_NOT_SUPPORTED, "cutlass-sm90: the contiguous kernel (contig256x128) takes forward and "
                    "trans_b calls without accumulate, with at most %d experts and fewer than 2^31 output tiles "
                    "(trans_a %d, accumulate %d, %lld experts)", kContiguousMaxExperts, p.trans_a ? 1 : 0,
                    p.accumulate ? 1 : 0, static_cast<long long>(p.num_experts));
    }
    const int experts = static_cast<int>(p.num_experts), m = static_cast<int>(p.m), n = static_cast<int>(p.n),
              k = static_cast<int>(p.k);
    if (p.dtype == GG_DTYPE_BFLOAT16) {
        return p.trans_b ? contiguous::launch<cutlass::bfloat16_t, true>(p.a, p.b, p.c, device_problem_sizes, claims, experts,
                                                                         m, n, k, grid, p.stream)
                         : contiguous::launch<cutlass::bfloat16_t, false>(p.a, p.b, p.c, device_problem_sizes, claims, experts,
                                                                          m, n, k, grid, p.stream);
    }
    return p.trans_b ? contiguous::launch<cutlass::half_t, true>(p.a, p.b, p.c, device_problem_sizes, claims, experts, m, n, k,
                                                                 grid, p.stream)
                     : contiguous::launch<cutlass::half_t, false>(p.a, p.b, p.c, device_problem_sizes, claims, experts, m, n,
                                                                  k, grid, p.stream);
}

}  // namespace gg::cutlass_sm90
