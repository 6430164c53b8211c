// Handles: a device, its cuBLAS handle, the workspaces and the default backend.
#include <cinttypes>
#include <memory>

#include "core/api_guard.h"
#include "core/device_guard.h"
#include "core/devices.h"
#include "core/dispatch.h"
#include "core/enum_bits.h"
#include "core/handle.h"
#include "cublas/cublas_library.h"

namespace {

// Frees whatever part of a handle exists; returns the first failure but frees everything.
gg_status release(gg_handle& h) {
    gg_status first = GG_STATUS_SUCCESS;
    auto keep = [&](gg_status s) {
        if (first == GG_STATUS_SUCCESS) first = s;
    };
    keep(gg::cublas_release(h));
    keep(gg::workspace_release(h.workspace));
    // ---- call ordering (issue 23) ----
    if (h.order_event != nullptr) {
        const cudaError_t err = cudaEventDestroy(h.order_event);
        h.order_event = nullptr;
        if (err != cudaSuccess) keep(gg::from_cuda(err, "cudaEventDestroy(order event)", __FILE__, __LINE__));
    }
    // ---- end of call ordering ----
    if (h.check_buffer != nullptr) {
        const cudaError_t err = cudaFree(h.check_buffer);
        h.check_buffer = nullptr;
        if (err != cudaSuccess) keep(gg::from_cuda(err, "cudaFree(check buffer)", __FILE__, __LINE__));
    }
    return first;
}

gg_status initialise(gg_handle& h, int device) {
    cudaDeviceProp prop{};
    GG_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    h.device.ordinal = device;
    h.device.cc_major = prop.major;
    h.device.cc_minor = prop.minor;
    h.device.sm_count = prop.multiProcessorCount;
    h.device.smem_optin = prop.sharedMemPerBlockOptin;
    // Attributes, not cudaDeviceProp fields: CUDA 13 removed memoryClockRate from the struct.
    int memory_clock_khz = 0, bus_bits = 0;
    GG_CUDA_CHECK(cudaDeviceGetAttribute(&memory_clock_khz, cudaDevAttrMemoryClockRate, device));
    GG_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device));
    h.device.dram_bytes_per_s = 2.0 * 1000.0 * memory_clock_khz * (bus_bits / 8.0);
    // cuBLAS is neither loaded nor created here: the first call that needs it does both (cublas_for_stream).
    GG_CUDA_CHECK(cudaMalloc(&h.check_buffer, gg_handle::kCheckBufferBytes));
    GG_CUDA_CHECK(cudaMemset(h.check_buffer, 0, gg_handle::kCheckBufferBytes));
    GG_TRY(gg::workspace_reserve(h.workspace, gg::workspace_bytes_for_experts(gg::kDefaultReservedExperts)));
    return GG_STATUS_SUCCESS;
}

}  // namespace

extern "C" {

gg_status gg_handle_create(gg_handle_t* handle, int32_t device) {
    return gg::api_call("gg_handle_create", [&]() -> gg_status {
        GG_REQUIRE(handle != nullptr, "handle is NULL");
        *handle = nullptr;
        GG_TRY(gg::require_visible_device(device));
        gg::DeviceGuard guard;
        GG_TRY(guard.enter(device));
        auto h = std::make_unique<gg_handle>();
        const gg_status s = initialise(*h, device);
        if (s != GG_STATUS_SUCCESS) {
            (void)release(*h);  // keep the message of the original failure
            return s;
        }
        *handle = h.release();
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_handle_destroy(gg_handle_t handle) {
    return gg::api_call("gg_handle_destroy", [&]() -> gg_status {
        if (handle == nullptr) return GG_STATUS_SUCCESS;
        std::unique_ptr<gg_handle> owned(handle);
        gg::DeviceGuard guard;
        const gg_status entered = guard.enter(owned->device.ordinal);
        const gg_status released = release(*owned);
        return entered != GG_STATUS_SUCCESS ? entered : released;
    });
}

gg_status gg_handle_get_device(gg_handle_t handle, int32_t* device) {
    return gg::api_call("gg_handle_get_device", [&]() -> gg_status {
        GG_REQUIRE(handle != nullptr, "handle is NULL");
        GG_REQUIRE(device != nullptr, "device is NULL");
        *device = handle->device.ordinal;
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_handle_set_backend(gg_handle_t handle, gg_backend backend) {
    return gg::api_call("gg_handle_set_backend", [&]() -> gg_status {
        GG_REQUIRE(handle != nullptr, "handle is NULL");
        // Read as bits until checked (core/enum_bits.h): the caller may pass any int32.
        const int32_t value = gg::enum_bits(backend);
        GG_REQUIRE(value >= 0 && value < GG_BACKEND_COUNT, "backend = %d: must be in [0, %d)", value, GG_BACKEND_COUNT);
        GG_TRY(gg::require_compiled(backend));
        handle->backend = backend;
        return GG_STATUS_SUCCESS;
    });
}

gg_status gg_handle_reserve(gg_handle_t handle, int64_t max_experts) {
    return gg::api_call("gg_handle_reserve", [&]() -> gg_status {
        GG_REQUIRE(handle != nullptr, "handle is NULL");
        GG_REQUIRE(max_experts >= 1, "max_experts = %" PRId64 ": must be at least 1", max_experts);
        gg::DeviceGuard guard;
        GG_TRY(guard.enter(handle->device.ordinal));
        // Bounded by the device's memory (issue 23: 2^40 experts used to be accepted).
        size_t free_bytes = 0, total_bytes = 0;
        GG_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
        size_t bytes = 0;
        GG_TRY(gg::check_reserve_request(max_experts, handle->device.ordinal, total_bytes, &bytes));
        // Not while another thread's call uses the shared block (call_order.h).
        std::lock_guard<std::mutex> lock(handle->call_mutex);
        GG_TRY(gg::workspace_reserve(handle->workspace, bytes));
        return GG_STATUS_SUCCESS;
    });
}

}  // extern "C"
