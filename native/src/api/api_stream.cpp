// Streams, timing events and CUDA graphs captured from streams.
#include "core/api_guard.h"

extern "C" {

gg_status gg_stream_create(void** stream) {
    return gg::api_call("gg_stream_create", [&]() -> gg_status {
        GG_REQUIRE(stream != nullptr, "stream is NULL");
        *stream = nullptr;
        cudaStream_t s = nullptr;
        GG_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
        *stream = s;
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_stream_destroy(void* stream) {
    return gg::api_call("gg_stream_destroy", [&]() -> gg_status {
        GG_REQUIRE(stream != nullptr, "stream is NULL: the legacy default stream cannot be destroyed");
        GG_CUDA_CHECK(cudaStreamDestroy(static_cast<cudaStream_t>(stream)));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_stream_synchronize(void* stream) {
    return gg::api_call("gg_stream_synchronize", [&]() -> gg_status {
        GG_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_device_synchronize(void) {
    return gg::api_call("gg_device_synchronize", [&]() -> gg_status {
        GG_CUDA_CHECK(cudaDeviceSynchronize());
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_event_create(void** event) {
    return gg::api_call("gg_event_create", [&]() -> gg_status {
        GG_REQUIRE(event != nullptr, "event is NULL");
        *event = nullptr;
        cudaEvent_t e = nullptr;
        GG_CUDA_CHECK(cudaEventCreate(&e));
        *event = e;
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_event_destroy(void* event) {
    return gg::api_call("gg_event_destroy", [&]() -> gg_status {
        GG_REQUIRE(event != nullptr, "event is NULL");
        GG_CUDA_CHECK(cudaEventDestroy(static_cast<cudaEvent_t>(event)));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_event_record(void* event, void* stream) {
    return gg::api_call("gg_event_record", [&]() -> gg_status {
        GG_REQUIRE(event != nullptr, "event is NULL");
        GG_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event), static_cast<cudaStream_t>(stream)));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_event_synchronize(void* event) {
    return gg::api_call("gg_event_synchronize", [&]() -> gg_status {
        GG_REQUIRE(event != nullptr, "event is NULL");
        GG_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(event)));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_event_elapsed_ms(void* start, void* end, float* milliseconds) {
    return gg::api_call("gg_event_elapsed_ms", [&]() -> gg_status {
        GG_REQUIRE(start != nullptr, "start is NULL");
        GG_REQUIRE(end != nullptr, "end is NULL");
        GG_REQUIRE(milliseconds != nullptr, "milliseconds is NULL");
        *milliseconds = 0.0f;
        GG_CUDA_CHECK(cudaEventElapsedTime(milliseconds, static_cast<cudaEvent_t>(start), static_cast<cudaEvent_t>(end)));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_stream_begin_capture(void* stream) {
    return gg::api_call("gg_stream_begin_capture", [&]() -> gg_status {
        GG_REQUIRE(stream != nullptr,
                   "stream is NULL: the legacy default stream cannot be captured; use a stream from gg_stream_create");
        GG_CUDA_CHECK(cudaStreamBeginCapture(static_cast<cudaStream_t>(stream), cudaStreamCaptureModeThreadLocal));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_stream_end_capture(void* stream, void** graph_exec) {
    return gg::api_call("gg_stream_end_capture", [&]() -> gg_status {
        GG_REQUIRE(stream != nullptr, "stream is NULL");
        GG_REQUIRE(graph_exec != nullptr, "graph_exec is NULL");
        *graph_exec = nullptr;
        cudaGraph_t graph = nullptr;
        GG_CUDA_CHECK(cudaStreamEndCapture(static_cast<cudaStream_t>(stream), &graph));
        cudaGraphExec_t exec = nullptr;
#if CUDART_VERSION >= 12000
        const cudaError_t err = cudaGraphInstantiate(&exec, graph, 0);
#else
        const cudaError_t err = cudaGraphInstantiateWithFlags(&exec, graph, 0);
#endif
        // The executable graph holds its own copy; the template is not needed either way.
        const cudaError_t destroy_err = cudaGraphDestroy(graph);
        GG_CUDA_CHECK(err);
        GG_CUDA_CHECK(destroy_err);
        *graph_exec = exec;
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_graph_launch(void* graph_exec, void* stream) {
    return gg::api_call("gg_graph_launch", [&]() -> gg_status {
        GG_REQUIRE(graph_exec != nullptr, "graph_exec is NULL");
        GG_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(graph_exec), static_cast<cudaStream_t>(stream)));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_graph_destroy(void* graph_exec) {
    return gg::api_call("gg_graph_destroy", [&]() -> gg_status {
        GG_REQUIRE(graph_exec != nullptr, "graph_exec is NULL");
        GG_CUDA_CHECK(cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(graph_exec)));
        return GG_STATUS_SUCCESS;
    });
}

}  // extern "C"
