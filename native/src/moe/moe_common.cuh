// Shared plumbing of the MoE kernels: element types, 16-byte packs, dtype dispatch, the guard every
// exported entry point runs its body in, and launch shapes. Device code here is header-only so each
// kernel file stays one translation unit with no cross-file device linking.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "core/api_guard.h"
#include "core/enum_bits.h"
#include "core/internal.h"

namespace gg::moe {

// ---- element conversions (all math is fp32) --------------------------------
template <typename T> __device__ __forceinline__ float to_float(T v);
template <> __device__ __forceinline__ float to_float<float>(float v) { return v; }
template <> __device__ __forceinline__ float to_float<__half>(__half v) { return __half2float(v); }
template <> __device__ __forceinline__ float to_float<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// ---- packs: N elements moved as one load/store ------------------------------
// kVec<T> elements make 16 bytes; kernels are instantiated for N = kVec<T> (rows 16-byte aligned) and N = 1.
template <typename T> constexpr int kVec = static_cast<int>(16 / sizeof(T));

template <typename T, int N>
struct alignas(sizeof(T) * N) Pack {
    T v[N];
};

template <typename T, int N>
__device__ __forceinline__ void load_floats(const T* p, float (&out)[N]) {
    const Pack<T, N> pack = *reinterpret_cast<const Pack<T, N>*>(p);
#pragma unroll
    for (int i = 0; i < N; ++i) out[i] = to_float(pack.v[i]);
}

template <typename T, int N>
__device__ __forceinline__ void store_floats(T* p, const float (&in)[N]) {
    Pack<T, N> pack;
#pragma unroll
    for (int i = 0; i < N; ++i) pack.v[i] = from_float<T>(in[i]);
    *reinterpret_cast<Pack<T, N>*>(p) = pack;
}

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// True when rows of `cols` elements of T starting at every pointer given can be moved in 16-byte packs.
template <typename T, typename... Ptrs>
bool can_vectorize(int64_t cols, Ptrs... ptrs) {
    return cols % kVec<T> == 0 && (aligned16(ptrs) && ...);
}

// ---- dtype dispatch -----------------------------------------------------------
template <typename T> struct TypeTag { using type = T; };

// The checks of a caller's dtype take its bits (gg::enum_bits(dtype), core/enum_bits.h): a caller may pass any int32,
// which must not be loaded as a gg_dtype before it is known to be one. The gg_dtype overloads are deleted so that no
// entry point passes the enum itself.
inline const char* dtype_name(int32_t t) {
    switch (t) {
        case GG_DTYPE_FLOAT32: return "float32";
        case GG_DTYPE_FLOAT16: return "float16";
        case GG_DTYPE_BFLOAT16: return "bfloat16";
        case GG_DTYPE_INT32: return "int32";
        case GG_DTYPE_INT64: return "int64";
        case GG_DTYPE_FLOAT8_E4M3: return "float8_e4m3";
        case GG_DTYPE_FLOAT8_E5M2: return "float8_e5m2";
    }
    return "unknown";
}
const char* dtype_name(gg_dtype) = delete;

inline bool is_float_dtype(int32_t t) {
    return t == GG_DTYPE_FLOAT32 || t == GG_DTYPE_FLOAT16 || t == GG_DTYPE_BFLOAT16;
}
bool is_float_dtype(gg_dtype) = delete;

// The MoE and router entry points' float-dtype rule, with its one message: "<function>: dtype = <name> (<bits>) is
// not a float type". `dtype`: the caller's bits.
inline gg_status check_float_dtype(const char* function, int32_t dtype) {
    if (is_float_dtype(dtype)) return GG_STATUS_SUCCESS;
    return fail(GG_STATUS_INVALID_ARGUMENT, "%s: dtype = %s (%d) is not a float type", function, dtype_name(dtype),
                dtype);
}

// Calls f(TypeTag<T>{}) for the element type of `dtype`; the caller has validated it is a float type.
template <typename F>
gg_status dispatch_float(gg_dtype dtype, F&& f) {
    switch (dtype) {
        case GG_DTYPE_FLOAT32: return f(TypeTag<float>{});
        case GG_DTYPE_FLOAT16: return f(TypeTag<__half>{});
        case GG_DTYPE_BFLOAT16: return f(TypeTag<__nv_bfloat16>{});
        default: break;
    }
    return fail(GG_STATUS_INTERNAL_ERROR, "dispatch_float: unexpected dtype %d", static_cast<int>(dtype));
}

// ---- entry-point guard ----------------------------------------------------------
// Entry points run their body in gg::api_call (core/api_guard.h): it clears the thread's error and turns any C++
// exception into a status, so that none crosses the C ABI.

// ---- warp reductions (full warp; every lane gets the result, summed in the same butterfly order each time) ----
__device__ __forceinline__ float warp_sum_f(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max_f(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// ---- launch shapes -----------------------------------------------------------------
constexpr int kThreads = 256;

// Grid-stride kernels need no more blocks than keep every SM busy; more would only repeat per-block setup
// (the counts prefix). Queried per call: attribute reads neither synchronise nor enter a stream capture.
inline gg_status max_resident_blocks(int64_t* blocks) {
    int device = 0, sms = 0;
    GG_CUDA_CHECK(cudaGetDevice(&device));
    GG_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    *blocks = static_cast<int64_t>(sms > 0 ? sms : 1) * 16;
    return GG_STATUS_SUCCESS;
}

// Row kernels use a 2-D block of kThreads: x strides over the packs of one row, y over rows, so that short
// rows still fill the block.
struct RowShape {
    dim3 block;
    dim3 grid;
};

inline gg_status row_shape(int64_t rows, int64_t packs_per_row, RowShape* shape) {
    int tx = 1;
    while (tx < packs_per_row && tx < kThreads) tx <<= 1;
    const int ty = kThreads / tx;
    int64_t cap = 0;
    GG_TRY(max_resident_blocks(&cap));
    int64_t blocks = (rows + ty - 1) / ty;
    if (blocks > cap) blocks = cap;
    if (blocks < 1) blocks = 1;
    shape->block = dim3(static_cast<unsigned>(tx), static_cast<unsigned>(ty), 1);
    shape->grid = dim3(static_cast<unsigned>(blocks), 1, 1);
    return GG_STATUS_SUCCESS;
}

// Flat grid for element-wise kernels.
inline gg_status flat_blocks(int64_t items, unsigned* blocks) {
    int64_t cap = 0;
    GG_TRY(max_resident_blocks(&cap));
    int64_t b = (items + kThreads - 1) / kThreads;
    if (b > cap) b = cap;
    if (b < 1) b = 1;
    *blocks = static_cast<unsigned>(b);
    return GG_STATUS_SUCCESS;
}

// Grid for kernels that give each block `per_block` items (tokens, one per warp), capped like flat_blocks.
inline gg_status item_blocks(int64_t items, int64_t per_block, unsigned* blocks) {
    int64_t cap = 0;
    GG_TRY(max_resident_blocks(&cap));
    int64_t b = (items + per_block - 1) / per_block;
    if (b > cap) b = cap;
    if (b < 1) b = 1;
    *blocks = static_cast<unsigned>(b);
    return GG_STATUS_SUCCESS;
}

// Lets `kernel` use `bytes` of dynamic shared memory, opting in above the 48 KiB default where the device
// allows it; NOT_SUPPORTED (naming `what`) where it cannot.
template <typename Kernel>
gg_status allow_dynamic_smem(Kernel kernel, size_t bytes, const char* what) {
    constexpr size_t kDefault = 48 * 1024;
    if (bytes <= kDefault) return GG_STATUS_SUCCESS;
    int device = 0, optin = 0;
    GG_CUDA_CHECK(cudaGetDevice(&device));
    GG_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    if (bytes > static_cast<size_t>(optin))
        return fail(GG_STATUS_NOT_SUPPORTED, "%s needs %zu bytes of shared memory per block; device %d allows %d",
                    what, bytes, device, optin);
    GG_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
    return GG_STATUS_SUCCESS;
}

}  // namespace gg::moe
