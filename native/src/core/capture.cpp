// Stream capture queries and the relaxed capture mode scope (see capture.h).
#include "core/capture.h"

#include <utility>

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

namespace {

// What a user object's destructor hands back (it owns this record).
struct SliceRecord {
    std::shared_ptr<GraphScratchPool> pool;
    char* ptr;
    size_t bytes;
    bool give_back;  // false: the graph may still hold the slice (the object was not attached to it)
};

void CUDART_CB release_slice(void* data) {
    std::unique_ptr<SliceRecord> record(static_cast<SliceRecord*>(data));
    if (record->give_back) record->pool->give_back(record->ptr, record->bytes);
}

// The graph the capture on `stream` is building.
gg_status capturing_graph(cudaStream_t stream, cudaGraph_t* graph) {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
#if CUDART_VERSION >= 13000
    GG_CUDA_CHECK(cudaStreamGetCaptureInfo(stream, &status, nullptr, graph, nullptr, nullptr, nullptr));
#else
    GG_CUDA_CHECK(cudaStreamGetCaptureInfo_v2(stream, &status, nullptr, graph, nullptr, nullptr));
#endif
    if (status != cudaStreamCaptureStatusActive || *graph == nullptr) {
        return fail(GG_STATUS_INTERNAL_ERROR, "release_with_capture: the stream's capture is not active (status %d)",
                    static_cast<int>(status));
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace

gg_status release_with_capture(cudaStream_t stream, std::shared_ptr<GraphScratchPool> pool, char* ptr, size_t bytes) {
    cudaGraph_t graph = nullptr;
    GG_TRY(capturing_graph(stream, &graph));
    auto record = std::make_unique<SliceRecord>(SliceRecord{std::move(pool), ptr, bytes, true});
    cudaUserObject_t object = nullptr;
    // No destructor sync: the destructor needs no CUDA call to have ended before it runs; CUDA still runs it only
    // after the graphs holding the object are destroyed and their launches have completed.
    GG_CUDA_CHECK(cudaUserObjectCreate(&object, record.get(), release_slice, 1, cudaUserObjectNoDestructorSync));
    SliceRecord* const owned = record.release();  // the object's destructor deletes it
    const cudaError_t err = cudaGraphRetainUserObject(graph, object, 1, cudaGraphUserObjectMove);
    if (err != cudaSuccess) {
        owned->give_back = false;
        (void)cudaUserObjectRelease(object, 1);  // runs release_slice now, which only frees the record
        GG_CUDA_CHECK(err);
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace gg
