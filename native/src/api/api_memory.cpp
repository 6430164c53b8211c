// Device and pinned host memory, copies and fills.
#include "core/api_guard.h"

extern "C" {

gg_status gg_malloc(void** ptr, size_t bytes) {
    return gg::api_call("gg_malloc", [&]() -> gg_status {
        GG_REQUIRE(ptr != nullptr, "ptr is NULL");
        *ptr = nullptr;
        if (bytes == 0) return GG_STATUS_SUCCESS;
        GG_CUDA_CHECK(cudaMalloc(ptr, bytes));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_free(void* ptr) {
    return gg::api_call("gg_free", [&]() -> gg_status {
        if (ptr != nullptr) GG_CUDA_CHECK(cudaFree(ptr));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_malloc_host(void** ptr, size_t bytes) {
    return gg::api_call("gg_malloc_host", [&]() -> gg_status {
        GG_REQUIRE(ptr != nullptr, "ptr is NULL");
        *ptr = nullptr;
        if (bytes == 0) return GG_STATUS_SUCCESS;
        GG_CUDA_CHECK(cudaMallocHost(ptr, bytes));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_free_host(void* ptr) {
    return gg::api_call("gg_free_host", [&]() -> gg_status {
        if (ptr != nullptr) GG_CUDA_CHECK(cudaFreeHost(ptr));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_memcpy(void* dst, const void* src, size_t bytes, void* stream) {
    return gg::api_call("gg_memcpy", [&]() -> gg_status {
        if (bytes == 0) return GG_STATUS_SUCCESS;
        GG_REQUIRE(dst != nullptr, "dst is NULL (bytes = %zu)", bytes);
        GG_REQUIRE(src != nullptr, "src is NULL (bytes = %zu)", bytes);
        const auto s = static_cast<cudaStream_t>(stream);
        GG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, s));
        // Promised by the header: into pageable host memory, the data is there when the call returns.
        cudaPointerAttributes attr{};
        const cudaError_t err = cudaPointerGetAttributes(&attr, dst);
        const bool pageable = err == cudaErrorInvalidValue || (err == cudaSuccess && attr.type == cudaMemoryTypeUnregistered);
        if (err != cudaSuccess) (void)cudaGetLastError();
        if (pageable) GG_CUDA_CHECK(cudaStreamSynchronize(s));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_memset(void* ptr, int32_t value, size_t bytes, void* stream) {
    return gg::api_call("gg_memset", [&]() -> gg_status {
        if (bytes == 0) return GG_STATUS_SUCCESS;
        GG_REQUIRE(ptr != nullptr, "ptr is NULL (bytes = %zu)", bytes);
        GG_REQUIRE(value >= 0 && value <= 255, "value = %d: must be a byte value in [0, 255]", value);
        GG_CUDA_CHECK(cudaMemsetAsync(ptr, value, bytes, static_cast<cudaStream_t>(stream)));
        return GG_STATUS_SUCCESS;
    });
}

}  // extern "C"
