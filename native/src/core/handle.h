// What a gg_handle_t points to: one device, its cuBLAS handle, the workspaces and the default backend.
#pragma once

#include <mutex>

#include "core/internal.h"

// Declared (incomplete) in groupedgemm.h at global scope; defined here for the library only.
struct gg_handle {
    gg::DeviceInfo device;
    // Created at the first call that needs cuBLAS (cublas/cublas_library.h); null until then, and for good when
    // cuBLAS cannot be loaded.
    cublasHandle_t cublas = nullptr;
    // Scratch for the backends (offsets, pointer arrays, CUTLASS state); see workspace_acquire.
    gg::Workspace workspace;
    // Given to cuBLAS with cublasSetWorkspace, so that cuBLAS never allocates during a call (graph capture).
    void* cublas_workspace = nullptr;
    size_t cublas_workspace_bytes = 0;
    // Small device buffer: the int32 check flag of Context at offset 0, a CountsReport at kReportOffset.
    void* check_buffer = nullptr;
    gg_backend backend = GG_BACKEND_AUTO;
    // Stream the cuBLAS handle is bound to (cublasSetStream resets the workspace, so rebind only on change).
    cudaStream_t cublas_stream = nullptr;
    bool cublas_stream_bound = false;
    // Whether cuBLAS has the workspace now (cublas_for_stream gives it size 0 for reductions it could cut short).
    bool cublas_workspace_given = false;

    // ---- call ordering (issue 23; core/call_order.h) -------------------------------------------------
    // Every call that uses the shared workspace, the check buffer or the cuBLAS handle holds `call_mutex` and runs
    // after the handle's previous such call: order_event was recorded at the end of that call on order_stream, and
    // a call on another stream waits for it first. Captured calls take no part (they use graph memory).
    std::mutex call_mutex;
    cudaEvent_t order_event = nullptr;  // created on the first ordered call, destroyed with the handle
    cudaStream_t order_stream = nullptr;
    bool order_recorded = false;
    // ---- end of call ordering -------------------------------------------------------------------------

    static constexpr size_t kCheckBufferBytes = 64;
    static constexpr size_t kReportOffset = 16;

    gg::Context context() {
        gg::Context ctx;
        ctx.device = device;
        ctx.handle = this;
        ctx.workspace = &workspace;
        ctx.device_check_flag = static_cast<int32_t*>(check_buffer);
        return ctx;
    }
};

namespace gg {

// Frees a workspace (after the device has finished with it: cudaFree synchronises the device).
gg_status workspace_release(Workspace& ws);

// Grows the shared block of a workspace to at least `bytes` outside of any capture (used by gg_handle_reserve):
// allocates the new block first, so that a failure leaves the old one in place.
gg_status workspace_reserve(Workspace& ws, size_t bytes);

// gg_handle_reserve's bound (issue 23): max_experts in [1, 2^31) and its workspace no larger than the device's memory.
// On success *bytes is workspace_bytes_for_experts(max_experts).
gg_status check_reserve_request(int64_t max_experts, int device, size_t device_total_bytes, size_t* bytes);

}  // namespace gg
