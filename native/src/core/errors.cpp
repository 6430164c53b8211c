// The per-thread last error and the mapping of CUDA / cuBLAS failures onto gg_status.
#include <cstdio>
#include <cstring>

#include "core/internal.h"
#include "core/driver_hints.h"

namespace gg {
namespace {

// One fixed buffer per thread: recording an error never allocates, so it cannot fail.
constexpr size_t kMessageCapacity = 2048;
thread_local char t_message[kMessageCapacity] = {0};

const char* basename_of(const char* path) {
    const char* slash = std::strrchr(path, '/');
    return slash ? slash + 1 : path;
}

}  // namespace

const char* last_error_message() { return t_message; }

void clear_error() { t_message[0] = '\0'; }

gg_status fail(gg_status status, const char* format, ...) {
    va_list args;
    va_start(args, format);
    std::vsnprintf(t_message, kMessageCapacity, format, args);
    va_end(args);
    return status;
}

gg_status status_of_cuda_error(cudaError_t err) {
    switch (err) {
        case cudaSuccess: return GG_STATUS_SUCCESS;
        case cudaErrorMemoryAllocation: return GG_STATUS_OUT_OF_MEMORY;
        case cudaErrorInsufficientDriver:
        case cudaErrorStubLibrary:
        case cudaErrorCallRequiresNewerDriver:
        case cudaErrorSystemDriverMismatch:
        case cudaErrorCompatNotSupportedOnDevice:
            return GG_STATUS_NO_DRIVER;
        case cudaErrorNoDevice:
        case cudaErrorInvalidDevice:
        case cudaErrorDevicesUnavailable:
            return GG_STATUS_NO_DEVICE;
        default: return GG_STATUS_CUDA_ERROR;
    }
}

gg_status from_cuda(cudaError_t err, const char* what, const char* file, int line) {
    // Reset the runtime's non-sticky last-error slot, so that a later launch check does not
    // attribute this failure to an innocent kernel.
    (void)cudaGetLastError();
    const gg_status status = status_of_cuda_error(err);
    return fail(status, "%s failed: %s (%s)%s (%s:%d)", what, cudaGetErrorName(err), cudaGetErrorString(err),
                driver_hint(err), basename_of(file), line);
}

const char* cublas_status_name(cublasStatus_t st) {
    switch (st) {
        case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
        case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
        case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
        case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
        case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
        case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
        default: return "unknown cuBLAS status";
    }
}

gg_status from_cublas(cublasStatus_t st, const char* what, const char* file, int line) {
    (void)cudaGetLastError();
    const gg_status status = st == CUBLAS_STATUS_ALLOC_FAILED ? GG_STATUS_OUT_OF_MEMORY : GG_STATUS_CUBLAS_ERROR;
    const char* hint = st == CUBLAS_STATUS_NOT_INITIALIZED
                           ? " (cuBLAS could not initialise: is a CUDA driver installed and a device visible?)"
                           : "";
    return fail(status, "%s failed: %s (%d)%s (%s:%d)", what, cublas_status_name(st), static_cast<int>(st), hint,
                basename_of(file), line);
}

}  // namespace gg
