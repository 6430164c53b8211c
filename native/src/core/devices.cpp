// Visible devices and the ordinal check (see devices.h).
#include "core/devices.h"

namespace gg {

gg_status visible_devices(int* count) {
    *count = 0;
    const cudaError_t err = cudaGetDeviceCount(count);
    if (err == cudaErrorNoDevice) {
        (void)cudaGetLastError();
        *count = 0;
        return GG_STATUS_SUCCESS;
    }
    if (err != cudaSuccess) {
        *count = 0;
        return from_cuda(err, "cudaGetDeviceCount", __FILE__, __LINE__);
    }
    return GG_STATUS_SUCCESS;
}

gg_status require_visible_device(int32_t device) {
    int count = 0;
    GG_TRY(visible_devices(&count));
    if (count == 0) {
        return fail(GG_STATUS_NO_DEVICE,
                    "device = %d: no CUDA device is visible (the driver works but reports 0 devices): check nvidia-smi, "
                    "CUDA_VISIBLE_DEVICES and, in a container, that the GPU is passed in (docker run --gpus all)",
                    device);
    }
    if (device < 0 || device >= count) {
        return fail(GG_STATUS_NO_DEVICE, "device = %d: %d CUDA device(s) are visible (ordinals 0..%d)", device, count,
                    count - 1);
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace gg
