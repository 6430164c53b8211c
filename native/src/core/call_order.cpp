// CallOrder: event-based ordering of the calls of one handle (see call_order.h).
#include "core/call_order.h"

namespace gg {

gg_status CallOrder::enter(gg_handle& handle, cudaStream_t stream, bool capturing) {
    lock_ = std::unique_lock<std::mutex>(handle.call_mutex);
    if (capturing) return GG_STATUS_SUCCESS;  // graph memory: nothing shared
    if (handle.order_event == nullptr) {
        GG_CUDA_CHECK(cudaEventCreateWithFlags(&handle.order_event, cudaEventDisableTiming));
    }
    if (handle.order_recorded && handle.order_stream != stream) {
        GG_CUDA_CHECK(cudaStreamWaitEvent(stream, handle.order_event, 0));
    }
    handle_ = &handle;
    stream_ = stream;
    record_ = true;
    return GG_STATUS_SUCCESS;
}

CallOrder::~CallOrder() {
    if (!record_) return;
    // Recorded even when the call failed part-way: some of its work may already be queued. A failure here leaves
    // the previous record in place (the next call on another stream then waits for less); it only happens with a
    // broken context, which the next call reports anyway.
    if (cudaEventRecord(handle_->order_event, stream_) == cudaSuccess) {
        handle_->order_stream = stream_;
        handle_->order_recorded = true;
    } else {
        (void)cudaGetLastError();
    }
}

}  // namespace gg
