// Orders the calls of one handle (issue 23, "one handle, two calls in flight on different streams"): the handle's
// shared workspace, check buffer and cuBLAS workspace serve one call at a time, so a call on stream B must not
// start before the previous call on stream A has finished with them. Each ordered call waits (on the device, not
// the host) for an event recorded at the end of the previous one when their streams differ, and records it again
// at its own end. A call made while its stream is being captured does neither: waiting on an event recorded
// outside the capture is illegal (cudaErrorStreamCaptureIsolation), and it does not need to, since it gets its
// own graph memory (Workspace) that nothing else touches.
#pragma once

#include <mutex>

#include "core/handle.h"

namespace gg {

class CallOrder {
public:
    CallOrder() = default;
    CallOrder(const CallOrder&) = delete;
    CallOrder& operator=(const CallOrder&) = delete;
    // Records the end of the call (when enter succeeded and the stream is not capturing) and unlocks the handle.
    ~CallOrder();

    // Locks the handle (one call at a time, from any thread) and orders the call on `stream` after the previous one,
    // unless `capturing` (the stream is being captured: core/capture.h, asked once per call by the caller).
    gg_status enter(gg_handle& handle, cudaStream_t stream, bool capturing);

private:
    gg_handle* handle_ = nullptr;
    cudaStream_t stream_ = nullptr;
    bool record_ = false;
    std::unique_lock<std::mutex> lock_;
};

}  // namespace gg
