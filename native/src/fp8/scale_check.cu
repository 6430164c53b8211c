// check_scales = 1: finds the first non-finite scale of a and of b on the device and reports it.
#include <cinttypes>

#include "fp8/scaled_gmm.h"

namespace gg {
namespace {

// Two first-bad indices (a, b) after the flag and the CountsReport in the handle's check buffer.
constexpr size_t kScaleReportOffset = 48;
static_assert(kScaleReportOffset + 2 * sizeof(unsigned long long) <= gg_handle::kCheckBufferBytes,
              "the scale report must fit in the check buffer");
constexpr unsigned long long kNone = ~0ull;

__global__ void first_non_finite(const float* __restrict__ scales, int64_t n, unsigned long long* first) {
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
        if (!isfinite(scales[i])) {
            atomicMin(first, static_cast<unsigned long long>(i));
            return;
        }
    }
}

gg_status launch(const float* scales, int64_t n, unsigned long long* first, cudaStream_t s) {
    if (n == 0) return GG_STATUS_SUCCESS;
    constexpr int kThreads = 256;
    int64_t blocks = (n + kThreads - 1) / kThreads;
    if (blocks > 1024) blocks = 1024;
    first_non_finite<<<static_cast<unsigned>(blocks), kThreads, 0, s>>>(scales, n, first);
    GG_LAUNCH_CHECK("first_non_finite");
    return GG_STATUS_SUCCESS;
}

}  // namespace

gg_status check_device_scales(gg_handle& handle, const ScaledGmmProblem& p) {
    if (p.base.capturing) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "check_scales = 1 waits for the stream and cannot be used while it is being captured; pass "
                    "check_scales = 0 (a non-finite scale then makes what it scales non-finite)");
    }
    auto* report = reinterpret_cast<unsigned long long*>(static_cast<char*>(handle.check_buffer) + kScaleReportOffset);
    const cudaStream_t s = p.base.stream;
    GG_CUDA_CHECK(cudaMemsetAsync(report, 0xFF, 2 * sizeof(unsigned long long), s));
    GG_TRY(launch(p.a_scale, p.a_scale_count, report, s));
    GG_TRY(launch(p.b_scale, p.b_scale_count, report + 1, s));
    unsigned long long host[2] = {kNone, kNone};
    GG_CUDA_CHECK(cudaMemcpyAsync(host, report, sizeof host, cudaMemcpyDeviceToHost, s));
    GG_CUDA_CHECK(cudaStreamSynchronize(s));
    const char* names[2] = {"a_scale", "b_scale"};
    const float* ptrs[2] = {p.a_scale, p.b_scale};
    for (int i = 0; i < 2; ++i) {
        if (host[i] == kNone) continue;
        // On the call's stream, not cudaMemcpy's legacy default stream (which would wait for every other stream of the
        // device, and is refused while another thread captures in global mode).
        float value = 0.0f;
        GG_CUDA_CHECK(cudaMemcpyAsync(&value, ptrs[i] + host[i], sizeof value, cudaMemcpyDeviceToHost, s));
        GG_CUDA_CHECK(cudaStreamSynchronize(s));
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s[%llu] = %g is not finite (check_scales = 1)", names[i], host[i],
                    static_cast<double>(value));
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace gg
