// Device batch sizes -> clamped offsets (and their validation), zero fills, empty experts of host counts.
// The scan itself is block_scan_counts (counts_scan.cuh).
#include <cinttypes>

#include "backends/counts_scan.cuh"
#include "core/counts_check.h"

namespace gg {
namespace {

__global__ void __launch_bounds__(kCountsScanThreads)
counts_scan_kernel(const int64_t* __restrict__ counts, int64_t num_experts, int64_t m, int64_t* __restrict__ offsets,
                   int32_t* __restrict__ flag, CountsReport* __restrict__ report) {
    block_scan_counts(counts, num_experts, m, offsets, flag, report);
}

gg_status check_count_args(const int64_t* counts, int64_t num_experts, int64_t m) {
    if (counts == nullptr) return fail(GG_STATUS_INVALID_ARGUMENT, "counts is NULL");
    if (num_experts < 1) return fail(GG_STATUS_INVALID_ARGUMENT, "num_experts = %" PRId64 ": must be at least 1", num_experts);
    if (m < 0) return fail(GG_STATUS_INVALID_ARGUMENT, "m = %" PRId64 " is negative", m);
    return GG_STATUS_SUCCESS;
}

}  // namespace

gg_status launch_counts_check(const int64_t* counts, int64_t num_experts, int64_t m, CountsReport* report,
                              cudaStream_t stream) {
    GG_TRY(check_count_args(counts, num_experts, m));
    counts_scan_kernel<<<1, kCountsScanThreads, 0, stream>>>(counts, num_experts, m, nullptr, nullptr, report);
    GG_LAUNCH_CHECK("counts_scan_kernel");
    return GG_STATUS_SUCCESS;
}

gg_status zero_fill(void* ptr, size_t bytes, cudaStream_t stream) {
    if (bytes == 0) return GG_STATUS_SUCCESS;
    GG_CUDA_CHECK(cudaMemsetAsync(ptr, 0, bytes, stream));
    return GG_STATUS_SUCCESS;
}

gg_status zero_empty_experts_host(const GmmProblem& p) {
    if (p.counts_on_device || !p.trans_a || p.accumulate) return GG_STATUS_SUCCESS;
    const size_t expert_bytes = static_cast<size_t>(p.k) * static_cast<size_t>(p.n) * dtype_size(p.dtype);
    if (expert_bytes == 0) return GG_STATUS_SUCCESS;
    char* c = static_cast<char*>(p.c);
    // One memset per run of consecutive empty experts.
    int64_t e = 0;
    while (e < p.num_experts) {
        if (p.batch_sizes[e] != 0) {
            ++e;
            continue;
        }
        const int64_t first = e;
        while (e < p.num_experts && p.batch_sizes[e] == 0) ++e;
        GG_TRY(zero_fill(c + static_cast<size_t>(first) * expert_bytes, static_cast<size_t>(e - first) * expert_bytes,
                         p.stream));
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace gg
