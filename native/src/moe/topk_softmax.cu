// Router: softmax over each row of logits, keep the top_k experts (ties to the lower index), optionally
// renormalise. One warp per token: reductions are shuffles, and any number of experts works because each
// of the top_k passes picks "the best entry ranked after the previous pick" instead of marking entries,
// so no per-token scratch is needed. Rows are cached in shared memory as fp32 when they fit.
#include <climits>
#include <cmath>

#include "core/moe_args.h"
#include "core/pointer_checks.h"
#include "moe/moe_common.cuh"

namespace gg::moe {
namespace {

constexpr int kWarpsPerBlock = 4;
constexpr size_t kMaxCacheBytes = 48 * 1024;

// Selection key: NaN ranks below every number so that top_k always finds top_k distinct entries.
__device__ __forceinline__ float rank_key(float v) { return isnan(v) ? -INFINITY : v; }

// (v, i) ranks before (w, j): larger value first, then lower index.
__device__ __forceinline__ bool ranks_before(float v, int i, float w, int j) { return v > w || (v == w && i < j); }

template <typename T>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
topk_softmax_kernel(const T* __restrict__ logits, int64_t tokens, int num_experts, int top_k, int renormalize,
                    bool cache_rows, float* __restrict__ weights, int32_t* __restrict__ experts) {
    extern __shared__ float cache[];
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    float* row_cache = cache_rows ? cache + static_cast<int64_t>(warp) * num_experts : nullptr;

    for (int64_t token = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + warp; token < tokens;
         token += static_cast<int64_t>(gridDim.x) * kWarpsPerBlock) {
        const T* row = logits + token * num_experts;
        auto value = [&](int e) { return row_cache ? row_cache[e] : to_float(row[e]); };

        float max_v = -INFINITY;
        for (int e = lane; e < num_experts; e += 32) {
            const float v = to_float(row[e]);
            if (row_cache) row_cache[e] = v;
            max_v = fmaxf(max_v, v);
        }
        for (int o = 16; o > 0; o >>= 1) max_v = fmaxf(max_v, __shfl_xor_sync(0xffffffffu, max_v, o));
        __syncwarp();

        float sum = 0.0f;
        for (int e = lane; e < num_experts; e += 32) sum += expf(value(e) - max_v);
        for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);

        float* out_w = weights + token * top_k;
        int32_t* out_e = experts + token * top_k;
        float prev_key = INFINITY;
        int prev_index = -1;
        float kept = 0.0f;
        for (int j = 0; j < top_k; ++j) {
            float best_key = -INFINITY;
            int best_index = INT_MAX;
            for (int e = lane; e < num_experts; e += 32) {
                const float k = rank_key(value(e));
                if (ranks_before(prev_key, prev_index, k, e) && ranks_before(k, e, best_key, best_index)) {
                    best_key = k;
                    best_index = e;
                }
            }
            for (int o = 16; o > 0; o >>= 1) {
                const float other_key = __shfl_xor_sync(0xffffffffu, best_key, o);
                const int other_index = __shfl_xor_sync(0xffffffffu, best_index, o);
                if (ranks_before(other_key, other_index, best_key, best_index)) {
                    best_key = other_key;
                    best_index = other_index;
                }
            }
            if (lane == 0) {
                const float w = expf(value(best_index) - max_v) / sum;
                out_w[j] = w;
                out_e[j] = best_index;
                kept += w;
            }
            prev_key = best_key;
            prev_index = best_index;
        }
        if (renormalize && lane == 0) {
            const float inv = 1.0f / kept;
            for (int j = 0; j < top_k; ++j) out_w[j] *= inv;
        }
        __syncwarp();  // the row cache is rewritten by the next token
    }
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_topk_softmax(const void* logits, gg_dtype dtype, int64_t tokens,
                                                int64_t num_experts, int32_t top_k, int32_t renormalize,
                                                float* weights, int32_t* experts, void* stream) {
    using namespace gg::moe;
    return gg::api_call("gg_moe_topk_softmax", [&]() -> gg_status {
        GG_TRY(check_float_dtype("gg_moe_topk_softmax", gg::enum_bits(dtype)));  // any int32 may come: core/enum_bits.h
        // The router's sizes, as its backward and the load-balancing loss check them (tokens * num_experts included).
        GG_TRY(gg::validate_router_sizes("gg_moe_topk_softmax", tokens, num_experts, top_k));
        if (tokens == 0) return GG_STATUS_SUCCESS;
        if (logits == nullptr || weights == nullptr || experts == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT,
                            "gg_moe_topk_softmax: logits (%p), weights (%p) and experts (%p) must not be NULL",
                            logits, static_cast<void*>(weights), static_cast<void*>(experts));
        const gg::Operand logits_op{logits, "logits", gg::dtype_size(dtype), tokens * num_experts},
            weights_op{weights, "weights", sizeof(float), tokens * top_k},
            experts_op{experts, "experts", sizeof(int32_t), tokens * top_k};
        // A warp writes its token's weights and experts (and reads the weights back to renormalise) while other warps
        // read their logits rows.
        GG_TRY(gg::check_no_overlap("gg_moe_topk_softmax", weights_op, logits_op));
        GG_TRY(gg::check_no_overlap("gg_moe_topk_softmax", experts_op, {logits_op, weights_op}));
        GG_TRY(gg::check_current_device_operands("gg_moe_topk_softmax", {logits_op, weights_op, experts_op}));
        const int experts_i = static_cast<int>(num_experts);
        const size_t cache_bytes = sizeof(float) * static_cast<size_t>(num_experts) * kWarpsPerBlock;
        const bool cache_rows = cache_bytes <= kMaxCacheBytes;
        int64_t cap = 0;
        GG_TRY(max_resident_blocks(&cap));
        int64_t blocks = (tokens + kWarpsPerBlock - 1) / kWarpsPerBlock;
        if (blocks > cap) blocks = cap;
        auto s = static_cast<cudaStream_t>(stream);
        return dispatch_float(dtype, [&](auto tag) -> gg_status {
            using T = typename decltype(tag)::type;
            topk_softmax_kernel<T><<<static_cast<unsigned>(blocks), kWarpsPerBlock * 32, cache_rows ? cache_bytes : 0, s>>>(
                static_cast<const T*>(logits), tokens, experts_i, top_k, renormalize, cache_rows, weights, experts);
            GG_CUDA_CHECK(cudaGetLastError());
            return GG_STATUS_SUCCESS;
        });
    });
}
