// FP8 (OCP E4M3 / E5M2) <-> float on the device, for every architecture the library builds (sm_80 has no FP8
// instructions: cuda_fp8.h converts in software there, through half, which holds every FP8 value exactly).
#pragma once

#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include "groupedgemm/groupedgemm.h"

namespace gg::fp8 {

// Largest finite value of each format (E4M3: 448, E5M2: 57344).
constexpr float kMaxE4M3 = 448.0f;
constexpr float kMaxE5M2 = 57344.0f;

inline float max_finite(gg_dtype t) { return t == GG_DTYPE_FLOAT8_E5M2 ? kMaxE5M2 : kMaxE4M3; }

template <gg_dtype T> struct Format;
template <> struct Format<GG_DTYPE_FLOAT8_E4M3> { static constexpr __nv_fp8_interpretation_t kind = __NV_E4M3; };
template <> struct Format<GG_DTYPE_FLOAT8_E5M2> { static constexpr __nv_fp8_interpretation_t kind = __NV_E5M2; };

template <gg_dtype T>
__device__ __forceinline__ float decode(uint8_t bits) {
    const __half_raw h = __nv_cvt_fp8_to_halfraw(static_cast<__nv_fp8_storage_t>(bits), Format<T>::kind);
    return __half2float(__half(h));
}

// Round to nearest even, saturated to the format's finite range (NaN stays NaN).
template <gg_dtype T>
__device__ __forceinline__ uint8_t encode(float v) {
    return static_cast<uint8_t>(__nv_cvt_float_to_fp8(v, __NV_SATFINITE, Format<T>::kind));
}

}  // namespace gg::fp8
