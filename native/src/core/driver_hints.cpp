// Install hints for environmental CUDA failures. The minimum drivers are those of CUDA's
// minor-version compatibility for the runtime this library links (cudart is linked statically,
// so only the driver matters at run time).
#include "core/internal.h"
#include "core/driver_hints.h"
#include "gg_build_config.h"

namespace gg {
namespace {

constexpr const char* kNoDriverHint =
    " - no usable NVIDIA driver: this library uses the CUDA " GG_BUILD_CUDA_TOOLKIT_TEXT
    " runtime, which needs an NVIDIA driver >= " GG_MIN_DRIVER
    " (install the NVIDIA driver for your GPU, e.g. the distribution's nvidia-driver package or NVIDIA's"
    " CUDA repository; in a container, start it with the NVIDIA Container Toolkit, e.g. docker run --gpus all)";

constexpr const char* kNoDeviceHint =
    " - the NVIDIA driver sees no usable CUDA device: check nvidia-smi, CUDA_VISIBLE_DEVICES and, in a"
    " container, that the GPU is passed in (docker run --gpus all)";

constexpr const char* kNoImageHint =
    " - this library has no kernel for this GPU: it was built for compute capabilities " GG_BUILD_ARCHITECTURES_TEXT
    "; rebuild it with the device's architecture in GG_CUDA_ARCHITECTURES";

}  // namespace

const char* driver_hint(cudaError_t err) {
    if (err == cudaErrorNoKernelImageForDevice) return kNoImageHint;
    switch (status_of_cuda_error(err)) {
        case GG_STATUS_NO_DRIVER: return kNoDriverHint;
        case GG_STATUS_NO_DEVICE: return err == cudaErrorInvalidDevice ? "" : kNoDeviceHint;
        default: return "";
    }
}

}  // namespace gg
