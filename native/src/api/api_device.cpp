// Driver and device queries. Without a driver these report GG_STATUS_NO_DRIVER with what to install.
#include <cstring>

#include "core/api_guard.h"
#include "core/devices.h"
#include "core/driver_hints.h"

extern "C" {

gg_status gg_driver_version(int32_t* version) {
    return gg::api_call("gg_driver_version", [&]() -> gg_status {
        GG_REQUIRE(version != nullptr, "version is NULL");
        *version = 0;
        int v = 0;
        GG_CUDA_CHECK(cudaDriverGetVersion(&v));
        if (v == 0) {
            // cudaDriverGetVersion succeeds with 0 when no driver is installed.
            return gg::fail(GG_STATUS_NO_DRIVER, "cudaDriverGetVersion reports no CUDA driver%s",
                            gg::driver_hint(cudaErrorInsufficientDriver));
        }
        *version = v;
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_device_count(int32_t* count) {
    return gg::api_call("gg_device_count", [&]() -> gg_status {
        GG_REQUIRE(count != nullptr, "count is NULL");
        *count = 0;
        int n = 0;
        GG_TRY(gg::visible_devices(&n));
        *count = n;
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_device_get_properties(int32_t device, gg_device_properties* properties) {
    return gg::api_call("gg_device_get_properties", [&]() -> gg_status {
        GG_REQUIRE(properties != nullptr, "properties is NULL");
        GG_TRY(gg::require_visible_device(device));
        cudaDeviceProp prop{};
        GG_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
        gg_device_properties r{};
        r.ordinal = device;
        r.major = prop.major;
        r.minor = prop.minor;
        r.multiprocessor_count = prop.multiProcessorCount;
        r.total_memory = static_cast<int64_t>(prop.totalGlobalMem);
        r.l2_cache_size = prop.l2CacheSize;
        r.shared_memory_per_block_optin = static_cast<int64_t>(prop.sharedMemPerBlockOptin);
        *properties = r;
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_device_get_name(int32_t device, char* name, size_t capacity) {
    return gg::api_call("gg_device_get_name", [&]() -> gg_status {
        GG_REQUIRE(name != nullptr, "name is NULL");
        GG_REQUIRE(capacity > 0, "capacity = 0: the name needs at least its terminating NUL");
        name[0] = '\0';
        GG_TRY(gg::require_visible_device(device));
        cudaDeviceProp prop{};
        GG_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
        const size_t length = strnlen(prop.name, sizeof prop.name);
        const size_t copied = length < capacity - 1 ? length : capacity - 1;
        std::memcpy(name, prop.name, copied);
        name[copied] = '\0';
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_set_device(int32_t device) {
    return gg::api_call("gg_set_device", [&]() -> gg_status {
        GG_TRY(gg::require_visible_device(device));
        GG_CUDA_CHECK(cudaSetDevice(device));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_get_device(int32_t* device) {
    return gg::api_call("gg_get_device", [&]() -> gg_status {
        GG_REQUIRE(device != nullptr, "device is NULL");
        *device = -1;
        int d = 0;
        GG_CUDA_CHECK(cudaGetDevice(&d));
        *device = d;
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_mem_get_info(size_t* free_bytes, size_t* total_bytes) {
    return gg::api_call("gg_mem_get_info", [&]() -> gg_status {
        GG_REQUIRE(free_bytes != nullptr, "free_bytes is NULL");
        GG_REQUIRE(total_bytes != nullptr, "total_bytes is NULL");
        *free_bytes = 0;
        *total_bytes = 0;
        GG_CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_pointer_get_device(const void* ptr, int32_t* device, int32_t* is_device) {
    return gg::api_call("gg_pointer_get_device", [&]() -> gg_status {
        GG_REQUIRE(device != nullptr, "device is NULL");
        GG_REQUIRE(is_device != nullptr, "is_device is NULL");
        *device = -1;
        *is_device = 0;
        if (ptr == nullptr) return GG_STATUS_SUCCESS;
        cudaPointerAttributes attr{};
        const cudaError_t err = cudaPointerGetAttributes(&attr, ptr);
        if (err == cudaErrorInvalidValue) {
            (void)cudaGetLastError();  // plain host memory on older runtimes
            return GG_STATUS_SUCCESS;
        }
        if (err != cudaSuccess) return gg::from_cuda(err, "cudaPointerGetAttributes", __FILE__, __LINE__);
        if (attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged) {
            *device = attr.device;
            *is_device = 1;
        }
        return GG_STATUS_SUCCESS;
    });
}

}  // extern "C"
