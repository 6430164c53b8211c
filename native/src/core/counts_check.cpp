// check_counts = 1: validate device batch sizes on the device and report the first problem found.
#include "core/counts_check.h"

#include <cinttypes>

namespace gg {

gg_status check_device_counts(gg_handle& handle, const GmmProblem& problem) {
    if (problem.capturing) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "check_counts = 1 waits for the stream and cannot be used while it is being captured; pass "
                    "check_counts = 0 (bad counts are then clamped)");
    }
    auto* report = reinterpret_cast<CountsReport*>(static_cast<char*>(handle.check_buffer) + gg_handle::kReportOffset);
    GG_TRY(launch_counts_check(problem.batch_sizes, problem.num_experts, problem.m, report, problem.stream));
    CountsReport host{};
    GG_CUDA_CHECK(cudaMemcpyAsync(&host, report, sizeof host, cudaMemcpyDeviceToHost, problem.stream));
    GG_CUDA_CHECK(cudaStreamSynchronize(problem.stream));
    if (host.status == GG_STATUS_SUCCESS) return GG_STATUS_SUCCESS;
    if (host.first_negative >= 0) {
        return fail(GG_STATUS_INVALID_COUNTS, "device batch_sizes[%" PRId64 "] = %" PRId64 " is negative",
                    host.first_negative, host.negative_value);
    }
    if (host.total == INT64_MAX) {
        return fail(GG_STATUS_INVALID_COUNTS, "device batch_sizes sum to more than 2^63 but m = %" PRId64, problem.m);
    }
    return fail(GG_STATUS_INVALID_COUNTS, "device batch_sizes sum to %" PRId64 " but m = %" PRId64, host.total,
                problem.m);
}

}  // namespace gg
