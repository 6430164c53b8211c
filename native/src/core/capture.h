// Stream capture (CUDA graphs): whether a call's stream is being captured, asked once per call, and the relaxed
// capture mode for the few allocations a captured call may need.
#pragma once

#include <cstddef>
#include <memory>

#include "core/graph_scratch.h"
#include "core/internal.h"

namespace gg {

// *capturing = whether `stream` is being captured into a graph. The API layer asks once per call and passes the
// answer on (GmmProblem::capturing, CallOrder::enter).
gg_status stream_capturing(cudaStream_t stream, bool* capturing);

// Switches the calling thread to relaxed stream-capture mode until the scope ends. cudaMalloc (and cuBLAS handle
// creation) is refused on a thread whose stream capture is in global or thread-local mode, since it could
// synchronise; an allocation is not a stream operation and does not belong in the graph, so relaxed mode is right
// for it.
class RelaxedCaptureScope {
public:
    RelaxedCaptureScope() = default;
    RelaxedCaptureScope(const RelaxedCaptureScope&) = delete;
    RelaxedCaptureScope& operator=(const RelaxedCaptureScope&) = delete;
    // Restores the thread's previous mode (when enter succeeded).
    ~RelaxedCaptureScope();

    gg_status enter();

private:
    cudaStreamCaptureMode previous_ = cudaStreamCaptureModeRelaxed;
    bool entered_ = false;
};

// Hands the slice [ptr, ptr + bytes) back to `pool` once no graph can replay the capture now under way on `stream`:
// a CUDA user object, owned by the graph being captured (and, through instantiation, by each executable graph made
// from it), whose destructor gives the slice back after the last of them is destroyed and its launches have ended.
// Its destructor only locks the pool (no CUDA call, as a user object's destructor must). On failure the slice is never
// handed back (what every slice did before 0.15.0): the caller clears the error and goes on.
gg_status release_with_capture(cudaStream_t stream, std::shared_ptr<GraphScratchPool> pool, char* ptr, size_t bytes);

}  // namespace gg
