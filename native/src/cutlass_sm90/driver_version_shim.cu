// CUTLASS's TMA descriptor code (cute/atom/copy_traits_sm90_tma.hpp) calls the driver API's
// cuDriverGetVersion directly. Linking libcuda for that one call would make libgroupedgemm.so fail to
// load on machines without the NVIDIA driver, where callers must instead get GG_STATUS_NO_DRIVER.
// This definition answers through the runtime, which finds the driver lazily. It is hidden (the
// library exports only gg_*), so it never interposes on libcuda for anyone else.
#include <cuda.h>
#include <cuda_runtime.h>

extern "C" CUresult CUDAAPI cuDriverGetVersion(int* driver_version) {
    if (driver_version == nullptr) return CUDA_ERROR_INVALID_VALUE;
    int version = 0;
    if (cudaDriverGetVersion(&version) != cudaSuccess || version == 0) {
        *driver_version = 0;
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    *driver_version = version;
    return CUDA_SUCCESS;
}
