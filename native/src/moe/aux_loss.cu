// Switch-style load-balancing loss and its gradient w.r.t. the router logits. With p[t] = softmax(logits[t]),
// f_e = max(counts[e], 0) / (tokens * top_k) (the share of routed slots; counts are constant, not differentiated) and
// P_e = mean_t p[t, e]:
//   loss                  = coefficient * E * sum_e f_e * P_e  = coefficient * E / tokens * sum_t s_t,
//                           s_t = sum_e f_e * p[t, e]
//   d loss / d logits[t, i] = coefficient * E / tokens * p[t, i] * (f_i - s_t)
// The gradient kernel runs one warp per token; the loss is one block of 32 warps that sums the tokens in a fixed
// order (deterministic, no atomics, no workspace): with up to kThreadTokenExperts experts each thread takes whole
// tokens (the expert fractions in shared memory), above that a warp takes each token.
#include "core/moe_args.h"
#include "core/pointer_checks.h"
#include "moe/moe_router_math.cuh"

namespace gg::moe {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kLossWarps = 32;
// A warp per token leaves the loss's one block waiting on shuffles: at 80 experts and 2048 tokens it took 0.10 ms on an
// H100 (ncu, the MoE sample's seed step). Up to this many experts a thread takes a whole token instead.
constexpr int kThreadTokenExperts = 256;

__device__ __forceinline__ float expert_fraction(const int64_t* counts, int e, float inv_slots) {
    const int64_t c = counts[e];
    return c > 0 ? static_cast<float>(c) * inv_slots : 0.0f;
}

// s_t = sum_e f_e * p[t, e] for one token; every lane gets it (and the softmax statistics).
template <typename T>
__device__ __forceinline__ float balance_dot(const T* row, const int64_t* counts, int num_experts, float inv_slots,
                                             int lane, float* max_v, float* sum) {
    softmax_stats(row, num_experts, lane, max_v, sum);
    float s = 0.0f;
    for (int e = lane; e < num_experts; e += 32)
        s += expert_fraction(counts, e, inv_slots) * expf(to_float(row[e]) - *max_v);
    return warp_sum_f(s) / *sum;
}

template <typename T>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
aux_loss_grad_kernel(const T* __restrict__ logits, const int64_t* __restrict__ counts, int64_t tokens,
                     int num_experts, float inv_slots, float scale, int accumulate, T* __restrict__ d_logits) {
    const int lane = threadIdx.x & 31;
    for (int64_t t = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5); t < tokens;
         t += static_cast<int64_t>(gridDim.x) * kWarpsPerBlock) {
        const T* row = logits + t * num_experts;
        float max_v, sum;
        const float s_t = balance_dot(row, counts, num_experts, inv_slots, lane, &max_v, &sum);
        T* out = d_logits + t * num_experts;
        for (int i = lane; i < num_experts; i += 32) {
            const float p = expf(to_float(row[i]) - max_v) / sum;
            float d = scale * p * (expert_fraction(counts, i, inv_slots) - s_t);
            if (accumulate) d += to_float(out[i]);
            out[i] = from_float<T>(d);
        }
    }
}

template <typename T>
__global__ void __launch_bounds__(kLossWarps * 32)
aux_loss_value_kernel(const T* __restrict__ logits, const int64_t* __restrict__ counts, int64_t tokens,
                      int num_experts, float inv_slots, float scale, float* __restrict__ loss) {
    __shared__ float warp_totals[kLossWarps];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    float total = 0.0f;  // lane 0's running sum over this warp's tokens, in token order
    for (int64_t t = warp; t < tokens; t += kLossWarps) {
        float max_v, sum;
        total += balance_dot(logits + t * num_experts, counts, num_experts, inv_slots, lane, &max_v, &sum);
    }
    if (lane == 0) warp_totals[warp] = total;
    __syncthreads();
    if (threadIdx.x == 0) {
        float all = 0.0f;
        for (int i = 0; i < kLossWarps; ++i) all += warp_totals[i];
        *loss = scale * all;
    }
}

// The loss with a thread per token (num_experts <= kThreadTokenExperts): thread i sums tokens i, i + 1024, ... in
// order, then the warps' and the block's sums in a fixed order.
template <typename T>
__global__ void __launch_bounds__(kLossWarps * 32)
aux_loss_value_thread_kernel(const T* __restrict__ logits, const int64_t* __restrict__ counts, int64_t tokens,
                             int num_experts, float inv_slots, float scale, float* __restrict__ loss) {
    __shared__ float fraction[kThreadTokenExperts];
    __shared__ float warp_totals[kLossWarps];
    for (int e = threadIdx.x; e < num_experts; e += blockDim.x) fraction[e] = expert_fraction(counts, e, inv_slots);
    __syncthreads();
    float total = 0.0f;
    for (int64_t t = threadIdx.x; t < tokens; t += blockDim.x) {
        const T* row = logits + t * num_experts;
        float max_v = -INFINITY;
        for (int e = 0; e < num_experts; ++e) max_v = fmaxf(max_v, to_float(row[e]));
        float sum = 0.0f, dot = 0.0f;
        for (int e = 0; e < num_experts; ++e) {
            const float p = expf(to_float(row[e]) - max_v);
            sum += p;
            dot += fraction[e] * p;
        }
        total += dot / sum;
    }
    total = warp_sum_f(total);
    if ((threadIdx.x & 31) == 0) warp_totals[threadIdx.x >> 5] = total;
    __syncthreads();
    if (threadIdx.x == 0) {
        float all = 0.0f;
        for (int i = 0; i < kLossWarps; ++i) all += warp_totals[i];
        *loss = scale * all;
    }
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_aux_loss(const void* logits, const int64_t* counts, int64_t tokens,
                                            int64_t num_experts, int32_t top_k, float coefficient, float* loss,
                                            void* d_logits, int32_t accumulate, gg_dtype dtype, void* stream) {
    using namespace gg::moe;
    constexpr const char* fn = "gg_moe_aux_loss";
    return gg::api_call(fn, [&]() -> gg_status {
        GG_TRY(check_float_dtype(fn, gg::enum_bits(dtype)));  // any int32 may come: core/enum_bits.h
        GG_TRY(gg::validate_router_sizes(fn, tokens, num_experts, top_k));
        if (tokens == 0 || (loss == nullptr && d_logits == nullptr)) return GG_STATUS_SUCCESS;
        if (logits == nullptr || counts == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "%s: logits (%p) and counts (%p) must not be NULL", fn, logits,
                            static_cast<const void*>(counts));
        const size_t es = gg::dtype_size(dtype);
        const gg::Operand logits_op{logits, "logits", es, tokens * num_experts},
            counts_op{counts, "counts", sizeof(int64_t), num_experts}, loss_op{loss, "loss", sizeof(float), loss != nullptr ? 1 : 0},
            out_op{d_logits, "d_logits", es, d_logits != nullptr ? tokens * num_experts : 0};
        GG_TRY(gg::check_current_device_operands(fn, {logits_op, counts_op, loss_op, out_op}));
        for (const gg::Operand* out : {&loss_op, &out_op})
            for (const gg::Operand* in : {&logits_op, &counts_op}) GG_TRY(gg::check_no_overlap(fn, *out, *in));
        GG_TRY(gg::check_no_overlap(fn, out_op, loss_op));
        const float inv_slots = static_cast<float>(1.0 / (static_cast<double>(tokens) * top_k));
        const float scale = static_cast<float>(static_cast<double>(coefficient) * static_cast<double>(num_experts) /
                                               static_cast<double>(tokens));
        const int experts_i = static_cast<int>(num_experts);
        auto s = static_cast<cudaStream_t>(stream);
        return dispatch_float(dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            const T* x = static_cast<const T*>(logits);
            if (d_logits != nullptr) {
                unsigned blocks = 0;
                GG_TRY(item_blocks(tokens, kWarpsPerBlock, &blocks));
                aux_loss_grad_kernel<T><<<blocks, kWarpsPerBlock * 32, 0, s>>>(
                    x, counts, tokens, experts_i, inv_slots, scale, accumulate, static_cast<T*>(d_logits));
                GG_CUDA_CHECK(cudaGetLastError());
            }
            if (loss != nullptr) {
                if (experts_i <= kThreadTokenExperts) {
                    aux_loss_value_thread_kernel<T><<<1, kLossWarps * 32, 0, s>>>(x, counts, tokens, experts_i, inv_slots,
                                                                                   scale, loss);
                } else {
                    aux_loss_value_kernel<T><<<1, kLossWarps * 32, 0, s>>>(x, counts, tokens, experts_i, inv_slots, scale,
                                                                            loss);
                }
                GG_CUDA_CHECK(cudaGetLastError());
            }
            return GG_STATUS_SUCCESS;
        });
    });
}
