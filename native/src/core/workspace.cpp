// The handle's device workspace: a shared block for calls that run now, and graph memory for captured calls
// (internal.h, Workspace).
#include <algorithm>
#include <cinttypes>
#include <cstdint>

#include "core/aligned_layout.h"
#include "core/capture.h"
#include "core/driver_hints.h"
#include "core/graph_scratch.h"
#include "core/handle.h"

namespace gg {
namespace {

constexpr size_t kGranularity = size_t(1) << 20;
// Every slice starts where the layouts carved inside it assume a block starts.
constexpr size_t kSliceAlign = AlignedLayout::kAlign;
// Graph slices are cut from chunks of at least this size, so that many small captured calls share one cudaMalloc.
constexpr size_t kGraphChunkBytes = size_t(4) << 20;

size_t round_up(size_t bytes, size_t to) { return (bytes + to - 1) / to * to; }

gg_status allocate(size_t bytes, const char* what, void** out) {
    void* ptr = nullptr;
    const cudaError_t err = cudaMalloc(&ptr, bytes);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        return fail(status_of_cuda_error(err), "cudaMalloc of %zu bytes of %s failed: %s (%s)", bytes, what,
                    cudaGetErrorName(err), cudaGetErrorString(err));
    }
    *out = ptr;
    return GG_STATUS_SUCCESS;
}

// A slice of graph memory for a call captured on `stream`: a free range of the pool, or a new chunk allocated in
// relaxed capture mode (core/capture.h); then tied to the capture, so that it is free again once no graph can replay it.
gg_status graph_slice(Workspace& ws, size_t bytes, cudaStream_t stream, void** out) {
    if (!ws.graph) ws.graph = std::make_shared<GraphScratchPool>(kSliceAlign);
    size_t taken = 0;
    char* slice = ws.graph->take(bytes, &taken);
    if (slice == nullptr) {
        const size_t chunk_bytes = round_up(std::max(ws.graph->slice_bytes(bytes), kGraphChunkBytes), kGranularity);
        void* chunk = nullptr;
        {
            RelaxedCaptureScope relaxed;
            GG_TRY(relaxed.enter());
            GG_TRY(allocate(chunk_bytes, "graph workspace (a captured call's own scratch)", &chunk));
        }
        ws.graph->add_chunk(static_cast<char*>(chunk), chunk_bytes);
        slice = ws.graph->take(bytes, &taken);
        if (slice == nullptr) return fail(GG_STATUS_INTERNAL_ERROR, "graph workspace: a new chunk of %zu bytes has no "
                                          "slice of %zu bytes", chunk_bytes, bytes);
    }
    // Without the tie (a failure of CUDA's user objects) the slice stays taken until the handle is destroyed, as every
    // slice did before: the call itself is not affected. In relaxed mode, as the allocation: the user object's calls
    // are no stream work, and a thread capturing in global mode must not have them refused.
    {
        RelaxedCaptureScope relaxed;
        const bool tied = relaxed.enter() == GG_STATUS_SUCCESS &&
                          release_with_capture(stream, ws.graph, slice, taken) == GG_STATUS_SUCCESS;
        if (!tied) clear_error();
    }
    *out = slice;
    return GG_STATUS_SUCCESS;
}

// workspace_acquire for a call on `stream`, which is (capturing) or is not being captured.
gg_status acquire(Workspace& ws, size_t bytes, bool capturing, cudaStream_t stream, void** out) {
    if (out == nullptr) return fail(GG_STATUS_INTERNAL_ERROR, "workspace_acquire: out is NULL");
    if (capturing) return graph_slice(ws, bytes, stream, out);
    if (bytes > ws.bytes) GG_TRY(workspace_reserve(ws, bytes));
    *out = ws.ptr;
    return GG_STATUS_SUCCESS;
}

}  // namespace

size_t workspace_bytes_for_experts(int64_t num_experts) {
    const int64_t experts = std::max<int64_t>(num_experts, 1);
    return kWorkspaceBaseBytes + static_cast<size_t>(experts + 1) * kWorkspaceBytesPerExpert;
}

gg_status check_reserve_request(int64_t max_experts, int device, size_t device_total_bytes, size_t* bytes) {
    if (max_experts < 1) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "max_experts = %" PRId64 ": must be at least 1", max_experts);
    }
    // Computed in 128 bits: max_experts near 2^63 must give a clear error, not a wrapped size.
    const unsigned __int128 need = static_cast<unsigned __int128>(kWorkspaceBaseBytes) +
                                   (static_cast<unsigned __int128>(max_experts) + 1) * kWorkspaceBytesPerExpert;
    if (max_experts > INT32_MAX || need > device_total_bytes) {
        const double gib = static_cast<double>(need) / double(size_t(1) << 30);
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "max_experts = %" PRId64 " would need %.3f GiB of workspace (%zu bytes per expert plus %zu), more "
                    "than device %d's %zu bytes of memory%s",
                    max_experts, gib, kWorkspaceBytesPerExpert, kWorkspaceBaseBytes, device, device_total_bytes,
                    max_experts > INT32_MAX ? " (and no backend takes more than 2^31 - 1 experts)" : "");
    }
    *bytes = static_cast<size_t>(need);
    return GG_STATUS_SUCCESS;
}

gg_status workspace_release(Workspace& ws) {
    gg_status first = GG_STATUS_SUCCESS;
    auto free_one = [&first](void* ptr, const char* what) {
        if (ptr == nullptr) return;
        const cudaError_t err = cudaFree(ptr);
        if (err != cudaSuccess && first == GG_STATUS_SUCCESS) first = from_cuda(err, what, __FILE__, __LINE__);
    };
    free_one(ws.ptr, "cudaFree(workspace)");
    ws.ptr = nullptr;
    ws.bytes = 0;
    // A graph destroyed after its handle then hands its slice back to a closed pool, which ignores it.
    if (ws.graph) {
        for (char* chunk : ws.graph->close()) free_one(chunk, "cudaFree(graph workspace)");
        ws.graph.reset();
    }
    return first;
}

gg_status workspace_reserve(Workspace& ws, size_t bytes) {
    if (bytes <= ws.bytes) return GG_STATUS_SUCCESS;
    // Grow geometrically so that a slowly rising expert count does not reallocate every call.
    const size_t target = round_up(std::max(bytes, ws.bytes * 2), kGranularity);
    // Allocate first: when it fails the handle keeps its old block and stays usable.
    void* ptr = nullptr;
    const gg_status s = allocate(target, "workspace", &ptr);
    if (s != GG_STATUS_SUCCESS && target > bytes) {
        // The geometric target may be what did not fit; the exact need may.
        const size_t exact = round_up(bytes, kGranularity);
        if (allocate(exact, "workspace", &ptr) != GG_STATUS_SUCCESS) return s;
        clear_error();
        ws.bytes = exact;
    } else if (s != GG_STATUS_SUCCESS) {
        return s;
    } else {
        ws.bytes = target;
    }
    // The shared block is used only by uncaptured calls, which are ordered on the handle; cudaFree waits for the
    // device, so none still reads the old block. No graph ever points into it (graph calls use graph memory).
    void* old = ws.ptr;
    ws.ptr = ptr;
    if (old != nullptr) GG_CUDA_CHECK(cudaFree(old));
    return GG_STATUS_SUCCESS;
}

gg_status workspace_acquire(Workspace& ws, size_t bytes, const GmmProblem& problem, void** out) {
    return acquire(ws, bytes, problem.capturing, problem.stream, out);
}

}  // namespace gg
