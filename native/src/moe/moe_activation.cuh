// Element-wise activations of the MoE kernels and their derivatives, fp32, matching PyTorch's definitions (NaN propagates).
#pragma once

#include "moe/moe_common.cuh"

namespace gg::moe {

template <gg_activation A>
__device__ __forceinline__ float activate(float x) {
    if constexpr (A == GG_ACTIVATION_RELU) {
        return x < 0.0f ? 0.0f : x;  // not fmaxf: relu(NaN) stays NaN as in torch
    } else if constexpr (A == GG_ACTIVATION_GELU) {
        return 0.5f * x * (1.0f + erff(x * 0.70710678118654752440f));  // exact erf form, nn.GELU()
    } else if constexpr (A == GG_ACTIVATION_SILU) {
        return x / (1.0f + expf(-x));
    } else {
        return x;
    }
}

// d act(x) / dx in fp32, the derivative of activate<A> (ReLU: 0 below zero, 1 from zero on, as activate<A> passes
// x = 0 through; NaN stays NaN through the product with the incoming gradient).
template <gg_activation A>
__device__ __forceinline__ float activate_grad(float x) {
    if constexpr (A == GG_ACTIVATION_RELU) {
        return x < 0.0f ? 0.0f : 1.0f;
    } else if constexpr (A == GG_ACTIVATION_GELU) {
        // Phi(x) + x phi(x): the normal CDF (exact erf form) plus x times the normal density.
        return 0.5f * (1.0f + erff(x * 0.70710678118654752440f)) + x * 0.39894228040143267794f * expf(-0.5f * x * x);
    } else if constexpr (A == GG_ACTIVATION_SILU) {
        const float sig = 1.0f / (1.0f + expf(-x));
        return sig * (1.0f + x * (1.0f - sig));
    } else {
        return 1.0f;
    }
}

// v = the N elements at `src` plus, when `bias` is not NULL, the N at `bias`: an epilogue's input x + bias[expert].
template <typename T, int N>
__device__ __forceinline__ void load_biased(const T* src, const T* bias, float (&v)[N]) {
    load_floats<T, N>(src, v);
    if (bias == nullptr) return;
    float b[N];
    load_floats<T, N>(bias, b);
#pragma unroll
    for (int k = 0; k < N; ++k) v[k] += b[k];
}

// Takes the caller's bits (gg::enum_bits(activation), core/enum_bits.h), as is_float_dtype does: any int32 may come.
inline bool is_valid_activation(int32_t a) {
    return a == GG_ACTIVATION_NONE || a == GG_ACTIVATION_RELU || a == GG_ACTIVATION_GELU || a == GG_ACTIVATION_SILU;
}
bool is_valid_activation(gg_activation) = delete;

// Calls f(std::integral_constant<gg_activation, A>{}) for the activation; the caller has validated it.
template <typename F>
gg_status dispatch_activation(gg_activation a, F&& f) {
    switch (a) {
        case GG_ACTIVATION_NONE: return f(std::integral_constant<gg_activation, GG_ACTIVATION_NONE>{});
        case GG_ACTIVATION_RELU: return f(std::integral_constant<gg_activation, GG_ACTIVATION_RELU>{});
        case GG_ACTIVATION_GELU: return f(std::integral_constant<gg_activation, GG_ACTIVATION_GELU>{});
        case GG_ACTIVATION_SILU: return f(std::integral_constant<gg_activation, GG_ACTIVATION_SILU>{});
    }
    return fail(GG_STATUS_INTERNAL_ERROR, "dispatch_activation: unexpected activation %d", static_cast<int>(a));
}

}  // namespace gg::moe
