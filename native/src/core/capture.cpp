// Stream capture queries and the relaxed capture mode scope (see capture.h).
#include "core/capture.h"

namespace gg {

gg_status stream_capturing(cudaStream_t stream, bool* capturing) {
    *capturing = false;
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    GG_CUDA_CHECK(cudaStreamIsCapturing(stream, &status));
    *capturing = status != cudaStreamCaptureStatusNone;
    return GG_STATUS_SUCCESS;
}

gg_status RelaxedCaptureScope::enter() {
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    GG_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
    previous_ = mode;
    entered_ = true;
    return GG_STATUS_SUCCESS;
}

RelaxedCaptureScope::~RelaxedCaptureScope() {
    if (!entered_) return;
    cudaStreamCaptureMode restore = previous_;
    (void)cudaThreadExchangeStreamCaptureMode(&restore);
}

}  // namespace gg
