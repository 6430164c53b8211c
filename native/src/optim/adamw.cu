// AdamW on the device (PyTorch's torch.optim.AdamW, single-tensor update order, as the sample's float64 AdamW):
// decoupled weight decay p <- p - lr*wd*p, then m <- b1*m + (1-b1)*g, v <- b2*v + (1-b2)*g*g,
// p <- p - lr * (m / bc1) / (sqrt(v / bc2) + eps), in fp32 over fp32 master weights and moments; the gradient may
// be fp32, fp16 or bf16, and an optional copy of the updated weights in any float type is written in the same pass
// (the bf16 parameters a bf16 layer computes with). No allocation, no synchronisation; the bias corrections are
// scalars or, for a CUDA graph replayed over steps, read from device memory.
#include <cmath>

#include "core/optim_args.h"
#include "core/pointer_checks.h"
#include "moe/moe_common.cuh"

namespace gg::optim {
namespace {

using moe::flat_blocks;
using moe::from_float;
using moe::kThreads;
using moe::to_float;

struct AdamwScalars {
    float lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2;
};

template <typename G, typename C>
__global__ void __launch_bounds__(kThreads)
adamw_kernel(float* __restrict__ param, float* __restrict__ exp_avg, float* __restrict__ exp_avg_sq,
             const G* __restrict__ grad, C* __restrict__ copy, int64_t n, AdamwScalars s,
             const float* __restrict__ device_corrections) {
    const float bc1 = device_corrections != nullptr ? device_corrections[0] : s.bias_correction1;
    const float bc2 = device_corrections != nullptr ? device_corrections[1] : s.bias_correction2;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
        const float g = to_float(grad[i]);
        float p = param[i];
        p -= s.lr * s.weight_decay * p;
        const float m = s.beta1 * exp_avg[i] + (1.0f - s.beta1) * g;
        const float v = s.beta2 * exp_avg_sq[i] + (1.0f - s.beta2) * g * g;
        p -= s.lr * (m / bc1) / (sqrtf(v / bc2) + s.eps);
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        param[i] = p;
        if (copy != nullptr) copy[i] = from_float<C>(p);
    }
}

template <typename G, typename C>
gg_status launch(float* param, float* exp_avg, float* exp_avg_sq, const void* grad, void* copy, int64_t n,
                 const AdamwScalars& s, const float* device_corrections, cudaStream_t stream) {
    unsigned blocks = 0;
    GG_TRY(flat_blocks(n, &blocks));
    adamw_kernel<G, C><<<blocks, kThreads, 0, stream>>>(param, exp_avg, exp_avg_sq, static_cast<const G*>(grad),
                                                         static_cast<C*>(copy), n, s, device_corrections);
    GG_CUDA_CHECK(cudaGetLastError());
    return GG_STATUS_SUCCESS;
}

}  // namespace
}  // namespace gg::optim

extern "C" GG_API gg_status gg_adamw_step(float* param, float* exp_avg, float* exp_avg_sq, const void* grad,
                                          gg_dtype grad_dtype, void* param_copy, gg_dtype copy_dtype, int64_t n,
                                          float lr, float beta1, float beta2, float eps, float weight_decay,
                                          float bias_correction1, float bias_correction2,
                                          const float* device_corrections, void* stream) {
    using namespace gg::moe;
    constexpr const char* fn = "gg_adamw_step";
    return gg::api_call(fn, [&]() -> gg_status {
        GG_TRY(gg::validate_adamw_args(fn, n, lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2,
                                       device_corrections != nullptr));
        const int32_t grad_bits = gg::enum_bits(grad_dtype);  // any int32 may come: core/enum_bits.h
        const int32_t copy_bits = gg::enum_bits(copy_dtype);
        if (!is_float_dtype(grad_bits))
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "%s: grad_dtype = %s (%d) must be a float type", fn,
                            dtype_name(grad_bits), grad_bits);
        if (param_copy != nullptr && !is_float_dtype(copy_bits))
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "%s: copy_dtype = %s (%d) must be a float type", fn,
                            dtype_name(copy_bits), copy_bits);
        if (n == 0) return GG_STATUS_SUCCESS;
        if (param == nullptr || exp_avg == nullptr || exp_avg_sq == nullptr || grad == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT,
                            "%s: param (%p), exp_avg (%p), exp_avg_sq (%p) and grad (%p) must not be NULL", fn,
                            static_cast<void*>(param), static_cast<void*>(exp_avg), static_cast<void*>(exp_avg_sq),
                            grad);
        const gg::Operand p_op{param, "param", 4, n}, m_op{exp_avg, "exp_avg", 4, n},
            v_op{exp_avg_sq, "exp_avg_sq", 4, n}, g_op{grad, "grad", gg::dtype_size(grad_dtype), n},
            c_op{param_copy, "param_copy", param_copy ? gg::dtype_size(copy_dtype) : 1, param_copy ? n : 0},
            k_op{device_corrections, "device_corrections", 4, device_corrections ? 2 : 0};
        GG_TRY(gg::check_current_device_operands(fn, {p_op, m_op, v_op, g_op, c_op, k_op}));
        // Every buffer written (param, exp_avg, exp_avg_sq, param_copy) must be apart from every other buffer.
        for (const gg::Operand* out : {&p_op, &m_op, &v_op, &c_op})
            for (const gg::Operand* other : {&p_op, &m_op, &v_op, &g_op, &c_op, &k_op})
                if (out != other) GG_TRY(gg::check_no_overlap(fn, *out, *other));
        const gg::optim::AdamwScalars s{lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2};
        auto stream_ = static_cast<cudaStream_t>(stream);
        return dispatch_float(grad_dtype, [&](auto g_tag) -> gg_status {
            using G = typename decltype(g_tag)::type;
            return dispatch_float(param_copy ? copy_dtype : GG_DTYPE_FLOAT32, [&](auto c_tag) -> gg_status {
                using C = typename decltype(c_tag)::type;
                return gg::optim::launch<G, C>(param, exp_avg, exp_avg_sq, grad, param_copy, n, s,
                                               device_corrections, stream_);
            });
        });
    });
}
