// Largest per-expert count, computed on the device so that padded layouts can size themselves with one
// small read-back (or none, when the caller keeps a fixed capacity).
#include "core/moe_args.h"
#include "core/pointer_checks.h"
#include "moe/moe_common.cuh"

namespace gg::moe {
namespace {

// One block: each thread folds a strided share of the counts, then a shared-memory tree reduction.
__global__ void __launch_bounds__(kThreads)
max_count_kernel(const int64_t* __restrict__ counts, int64_t num_experts, int64_t* __restrict__ max_count) {
    __shared__ int64_t partial[kThreads];
    int64_t m = 0;  // counts are sizes: the result is never below zero
    for (int64_t e = threadIdx.x; e < num_experts; e += blockDim.x) m = counts[e] > m ? counts[e] : m;
    partial[threadIdx.x] = m;
    __syncthreads();
    for (int stride = kThreads / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride && partial[threadIdx.x + stride] > partial[threadIdx.x])
            partial[threadIdx.x] = partial[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) *max_count = partial[0];
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_max_count(const int64_t* counts, int64_t num_experts, int64_t* max_count,
                                             void* stream) {
    using namespace gg::moe;
    return gg::api_call("gg_moe_max_count", [&]() -> gg_status {
        if (num_experts < 1)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "gg_moe_max_count: num_experts = %lld must be >= 1",
                            static_cast<long long>(num_experts));
        GG_TRY(gg::validate_element_count("gg_moe_max_count", "num_experts", num_experts));
        if (counts == nullptr || max_count == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "gg_moe_max_count: counts (%p) and max_count (%p) must not be NULL",
                            static_cast<const void*>(counts), static_cast<void*>(max_count));
        GG_TRY(gg::check_current_device_operands("gg_moe_max_count",
                                                 {gg::Operand{counts, "counts", sizeof(int64_t), num_experts},
                                                  gg::Operand{max_count, "max_count", sizeof(int64_t), 1}}));
        max_count_kernel<<<1, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(counts, num_experts, max_count);
        GG_CUDA_CHECK(cudaGetLastError());
        return GG_STATUS_SUCCESS;
    });
}
