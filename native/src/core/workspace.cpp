// The handle's device workspace: grows with cudaMalloc outside stream capture, never inside one.
#include <algorithm>

#include "core/driver_hints.h"
#include "core/handle.h"

namespace gg {
namespace {

constexpr size_t kGranularity = size_t(1) << 20;

size_t round_up(size_t bytes) { return (bytes + kGranularity - 1) / kGranularity * kGranularity; }

}  // namespace

size_t workspace_bytes_for_experts(int64_t num_experts) {
    const int64_t experts = std::max<int64_t>(num_experts, 1);
    return kWorkspaceBaseBytes + static_cast<size_t>(experts + 1) * kWorkspaceBytesPerExpert;
}

gg_status workspace_release(Workspace& ws) {
    void* ptr = ws.ptr;
    ws.ptr = nullptr;
    ws.bytes = 0;
    if (ptr != nullptr) GG_CUDA_CHECK(cudaFree(ptr));
    return GG_STATUS_SUCCESS;
}

gg_status workspace_reserve(Workspace& ws, size_t bytes) {
    if (bytes <= ws.bytes) return GG_STATUS_SUCCESS;
    // Grow geometrically so that a slowly rising expert count does not reallocate every call.
    const size_t target = round_up(std::max(bytes, ws.bytes * 2));
    // cudaFree waits for the device, so no kernel still reads the old buffer.
    GG_TRY(workspace_release(ws));
    void* ptr = nullptr;
    const cudaError_t err = cudaMalloc(&ptr, target);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        return fail(status_of_cuda_error(err), "cudaMalloc of %zu bytes of workspace failed: %s (%s)", target,
                    cudaGetErrorName(err), cudaGetErrorString(err));
    }
    ws.ptr = ptr;
    ws.bytes = target;
    return GG_STATUS_SUCCESS;
}

gg_status workspace_acquire(Workspace& ws, size_t bytes, cudaStream_t stream, void** out) {
    if (out == nullptr) return fail(GG_STATUS_INTERNAL_ERROR, "workspace_acquire: out is NULL");
    if (bytes > ws.bytes) {
        cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
        GG_CUDA_CHECK(cudaStreamIsCapturing(stream, &capture));
        if (capture != cudaStreamCaptureStatusNone) {
            return fail(GG_STATUS_WORKSPACE_TOO_SMALL,
                        "this call needs %zu bytes of workspace but the handle holds %zu, and it cannot grow while "
                        "the stream is being captured: call gg_handle_reserve(handle, max_experts) before capturing",
                        bytes, ws.bytes);
        }
        GG_TRY(workspace_reserve(ws, bytes));
    }
    *out = ws.ptr;
    return GG_STATUS_SUCCESS;
}

}  // namespace gg
