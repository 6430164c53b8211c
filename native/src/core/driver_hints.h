// What to tell a user whose CUDA call failed for an environmental reason (no driver, no device,
// wrong architecture): the text is appended to the error message, so it starts with " - ".
#pragma once

#include <cuda_runtime.h>

#include "core/internal.h"

// The oldest NVIDIA driver that runs this library: the one CUDA's minor-version compatibility names for the
// runtime it links statically (the only CUDA component it needs at load time).
#if CUDART_VERSION >= 13000
#define GG_MIN_DRIVER "580"
#elif CUDART_VERSION >= 12000
#define GG_MIN_DRIVER "525.60.13"
#else
#define GG_MIN_DRIVER "450.80.02"
#endif

namespace gg {

// Maps a CUDA error to its status class (NO_DRIVER, NO_DEVICE, OUT_OF_MEMORY, CUDA_ERROR).
gg_status status_of_cuda_error(cudaError_t err);

// "" unless the error has an environmental cause the user can fix; static storage.
const char* driver_hint(cudaError_t err);

// The calling thread's last error message (never null).
const char* last_error_message();

// Name of a cuBLAS status, "CUBLAS_STATUS_..." (static storage).
const char* cublas_status_name(cublasStatus_t st);

}  // namespace gg
