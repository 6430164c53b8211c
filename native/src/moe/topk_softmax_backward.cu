// Backward of gg_moe_topk_softmax: the gradient of the router logits from the gradient of the kept weights (the
// top-k selection itself is not differentiated, as in PyTorch). With p = softmax(logits), w_j = p[e_j] and
// c = sum_j d_w_j * w_j:
//   renormalize = 0:  d_logits[i] = p_i * (sum_{j: e_j = i} d_w_j - c)
//   renormalize != 0: w_j = p[e_j] / sum_k p[e_k] is a softmax over the kept logits only, so
//                     d_logits[i] = sum_{j: e_j = i} w_j * (d_w_j - c), 0 for the experts not kept.
// w comes from the forward's weights (exactly what it computed); p, where needed, is recomputed from logits as the
// forward does. Slots whose expert id is outside [0, num_experts) are ignored. One warp per token; each logit is
// written once, sums run in a fixed order: deterministic.
#include "core/moe_args.h"
#include "core/pointer_checks.h"
#include "moe/moe_router_math.cuh"

namespace gg::moe {
namespace {

constexpr int kWarpsPerBlock = 8;

template <typename T>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
topk_softmax_backward_kernel(const T* __restrict__ logits, const float* __restrict__ weights,
                             const int32_t* __restrict__ experts, const float* __restrict__ d_weights, int64_t tokens,
                             int num_experts, int top_k, int renormalize, T* __restrict__ d_logits) {
    const int lane = threadIdx.x & 31;
    for (int64_t t = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5); t < tokens;
         t += static_cast<int64_t>(gridDim.x) * kWarpsPerBlock) {
        const float* w = weights + t * top_k;
        const float* dw = d_weights + t * top_k;
        const int32_t* ids = experts + t * top_k;
        float c = 0.0f;
        for (int j = lane; j < top_k; j += 32)
            if (ids[j] >= 0 && ids[j] < num_experts) c += dw[j] * w[j];
        c = warp_sum_f(c);
        float max_v = 0.0f, sum = 1.0f;
        const T* row = renormalize ? nullptr : logits + t * num_experts;
        if (!renormalize) softmax_stats(row, num_experts, lane, &max_v, &sum);
        T* out = d_logits + t * num_experts;
        for (int i = lane; i < num_experts; i += 32) {
            float g = 0.0f;
            for (int j = 0; j < top_k; ++j)
                if (ids[j] == i) g += renormalize ? w[j] * (dw[j] - c) : dw[j];
            float d;
            if (renormalize) {
                d = g;
            } else {
                const float p = expf(to_float(row[i]) - max_v) / sum;
                d = p * (g - c);
            }
            out[i] = from_float<T>(d);
        }
    }
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_topk_softmax_backward(const void* logits, const float* weights,
                                                         const int32_t* experts, const float* d_weights,
                                                         int64_t tokens, int64_t num_experts, int32_t top_k,
                                                         int32_t renormalize, void* d_logits, gg_dtype dtype,
                                                         void* stream) {
    using namespace gg::moe;
    constexpr const char* fn = "gg_moe_topk_softmax_backward";
    return gg::api_call(fn, [&]() -> gg_status {
        GG_TRY(check_float_dtype(fn, gg::enum_bits(dtype)));  // any int32 may come: core/enum_bits.h
        GG_TRY(gg::validate_router_sizes(fn, tokens, num_experts, top_k));
        if (tokens == 0) return GG_STATUS_SUCCESS;
        if ((logits == nullptr && !renormalize) || weights == nullptr || experts == nullptr || d_weights == nullptr ||
            d_logits == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT,
                            "%s: weights (%p), experts (%p), d_weights (%p), d_logits (%p) and, when renormalize = 0, "
                            "logits (%p) must not be NULL",
                            fn, static_cast<const void*>(weights), static_cast<const void*>(experts),
                            static_cast<const void*>(d_weights), d_logits, logits);
        const size_t es = gg::dtype_size(dtype);
        const int64_t slots = tokens * top_k;
        const gg::Operand logits_op{logits, "logits", es, renormalize ? 0 : tokens * num_experts},
            weights_op{weights, "weights", sizeof(float), slots}, experts_op{experts, "experts", sizeof(int32_t), slots},
            dw_op{d_weights, "d_weights", sizeof(float), slots}, out_op{d_logits, "d_logits", es, tokens * num_experts};
        GG_TRY(gg::check_current_device_operands(fn, {logits_op, weights_op, experts_op, dw_op, out_op}));
        for (const gg::Operand* in : {&logits_op, &weights_op, &experts_op, &dw_op})
            GG_TRY(gg::check_no_overlap(fn, out_op, *in));
        unsigned blocks = 0;
        GG_TRY(item_blocks(tokens, kWarpsPerBlock, &blocks));
        auto s = static_cast<cudaStream_t>(stream);
        return dispatch_float(dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            topk_softmax_backward_kernel<T><<<blocks, kWarpsPerBlock * 32, 0, s>>>(
                static_cast<const T*>(logits), weights, experts, d_weights, tokens, static_cast<int>(num_experts), top_k,
                renormalize, static_cast<T*>(d_logits));
            GG_CUDA_CHECK(cudaGetLastError());
            return GG_STATUS_SUCCESS;
        });
    });
}
