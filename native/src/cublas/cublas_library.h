// cuBLAS is loaded when a call first needs it, not linked: the CUTLASS backends, the MoE kernels and the
// statically linked CUDA runtime need only the NVIDIA driver, so a machine without cuBLAS (or with another major
// version of it) still runs them. cublas_library.cpp defines the cuBLAS entry points this library calls as
// forwarders to the loaded library, so the backends call cuBLAS as usual.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "groupedgemm/groupedgemm.h"

struct gg_handle;

namespace gg {

// SUCCESS when cuBLAS is loaded (loading it on the first call); else GG_STATUS_CUBLAS_ERROR with a message that
// names the library searched for, where, why it failed and how to install it. `needed_for` names the work
// ("cublas-loop", "gg_gemm") in that message.
gg_status cublas_require(const char* needed_for);

// Whether the loaded cuBLAS has cublasGemmGroupedBatchedEx (cuBLAS >= 12.5); call after cublas_require.
bool cublas_has_grouped_batched();

// The handle's cuBLAS handle bound to `stream`, created on first use (outside or inside a stream capture), for the
// GEMM call that follows: `split_k_safe` (cublas_common.h: split_k_is_safe of its reductions) gives cuBLAS the handle's
// own workspace, false a workspace of size 0, without which cuBLAS does not split a reduction across thread blocks.
// Call it before every cuBLAS GEMM (cheap when nothing changes). GG_STATUS_CUBLAS_ERROR when cuBLAS cannot be loaded.
gg_status cublas_for_stream(gg_handle& handle, cudaStream_t stream, const char* needed_for, bool split_k_safe,
                            cublasHandle_t* out);

// Releases the handle's cuBLAS handle and workspace, if it ever made them.
gg_status cublas_release(gg_handle& handle);

}  // namespace gg
