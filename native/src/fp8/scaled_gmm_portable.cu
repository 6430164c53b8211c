// gg_gmm_scaled's portable kernel: a plain shared-memory tiled GEMM that decodes FP8 in the kernel and multiplies in
// fp32, for every device the library runs on (compute capability 8.0 and newer). Correctness first: it is the
// reference the CUTLASS sm90 kernel is checked against on the device, and the path of devices without FP8 MMA.
//
// One block computes a 64x64 tile of c over global rows. A tile may straddle experts: it runs the K loop once per
// expert segment it holds, with the rows of other experts loaded as zero, and adds each segment's result scaled by
// that expert's column scales to its own rows only (so a non-finite scale of one expert reaches no other expert's
// rows). Rows past the clamped sum of the counts (bad device counts) are written as zeros.
//
// Block scales (GG_SCALE_BLOCKWISE, DeepGEMM's semantics: a_scale [M, ceil(K/128)] per row and 128-deep block of K,
// b_scale [E, ceil(N/128), ceil(K/128)] per expert and 128x128 block of (N, K) in either weight layout): the fp32 sum of
// each 128-deep block of K is scaled by its two scales and added to the output's fp32 sum, as FP8 wgmma kernels promote
// their accumulators per block. Four 32-deep k steps make one block.
#include <vector>

#include "backends/counts_scan.cuh"
#include "fp8/fp8_convert.cuh"
#include "fp8/scaled_gmm.h"
#include "fp8/scaled_kernel_args.cuh"

namespace gg {
namespace {

constexpr int kTileM = 64;
constexpr int kTileN = 64;
constexpr int kTileK = 32;
constexpr int kThreadsX = 16;  // threads along n; each owns columns tx + 16 j
constexpr int kThreadsY = 16;  // threads along m; each owns rows ty + 16 i
constexpr int kPer = 4;
static_assert(kScaleBlock % kTileK == 0, "a scale block is whole k steps");
constexpr int kThreads = kThreadsX * kThreadsY;
static_assert(kTileM == kThreadsY * kPer && kTileN == kThreadsX * kPer, "tile = threads x outputs per thread");

__global__ void __launch_bounds__(kCountsScanThreads)
scaled_offsets_kernel(const int64_t* __restrict__ counts, int64_t num_experts, int64_t m, int64_t* __restrict__ offsets) {
    block_scan_counts(counts, num_experts, m, offsets, nullptr, nullptr);
}

// First expert whose rows end after `row` (offsets are non-decreasing); num_experts when none.
__device__ int64_t expert_after(const int64_t* offsets, int64_t num_experts, int64_t row) {
    int64_t lo = 0, hi = num_experts;
    while (lo < hi) {
        const int64_t mid = (lo + hi) / 2;
        if (offsets[mid + 1] > row) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

template <gg_dtype TA, gg_dtype TB, bool Blockwise>
__global__ void __launch_bounds__(kThreads) scaled_gmm_portable_kernel(ScaledKernelArgs p) {
    __shared__ float as[kTileM][kTileK + 1];
    __shared__ float bs[kTileK][kTileN + 1];
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * kThreadsX + tx;
    const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kTileM;
    const int64_t col0 = static_cast<int64_t>(blockIdx.y) * kTileN;
    const int64_t row_end = min(row0 + kTileM, p.m);

    float out[kPer][kPer] = {};
    for (int64_t e = expert_after(p.offsets, p.num_experts, row0); e < p.num_experts && p.offsets[e] < row_end; ++e) {
        const int64_t seg0 = max(row0, p.offsets[e]);
        const int64_t seg1 = min(row_end, p.offsets[e + 1]);
        if (seg0 >= seg1) continue;  // an empty expert
        const uint8_t* b = p.b + e * p.k * p.n;
        float acc[kPer][kPer] = {};
        float scaled[kPer][kPer] = {};  // block scales: the sum of the finished 128-deep blocks, scaled
        for (int64_t k0 = 0; k0 < p.k; k0 += kTileK) {
            for (int i = tid; i < kTileM * kTileK; i += kThreads) {
                const int r = i / kTileK, kk = i % kTileK;
                const int64_t row = row0 + r, kg = k0 + kk;
                as[r][kk] = row >= seg0 && row < seg1 && kg < p.k ? fp8::decode<TA>(p.a[row * p.k + kg]) : 0.0f;
            }
            for (int i = tid; i < kTileK * kTileN; i += kThreads) {
                // Forward: consecutive threads walk n (contiguous in b[e,k,n]); trans_b: they walk k (contiguous in
                // b[e,n,k]).
                const int kk = p.trans_b ? i % kTileK : i / kTileN;
                const int j = p.trans_b ? i / kTileK : i % kTileN;
                const int64_t kg = k0 + kk, col = col0 + j;
                float v = 0.0f;
                if (kg < p.k && col < p.n) v = fp8::decode<TB>(p.trans_b ? b[col * p.k + kg] : b[kg * p.n + col]);
                bs[kk][j] = v;
            }
            __syncthreads();
#pragma unroll 8
            for (int kk = 0; kk < kTileK; ++kk) {
                float av[kPer], bv[kPer];
#pragma unroll
                for (int i = 0; i < kPer; ++i) av[i] = as[ty + kThreadsY * i][kk];
#pragma unroll
                for (int j = 0; j < kPer; ++j) bv[j] = bs[kk][tx + kThreadsX * j];
#pragma unroll
                for (int i = 0; i < kPer; ++i)
#pragma unroll
                    for (int j = 0; j < kPer; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
            }
            __syncthreads();
            if constexpr (Blockwise) {
                // The last k step of a 128-deep block (or of K): scale the block's sum into `scaled`, start the next.
                if ((k0 + kTileK) % kScaleBlock == 0 || k0 + kTileK >= p.k) {
                    const int64_t kb = k0 / kScaleBlock;
#pragma unroll
                    for (int i = 0; i < kPer; ++i) {
                        const int64_t row = row0 + ty + kThreadsY * i;
                        const bool live = row >= seg0 && row < seg1;
                        const float sa = live ? p.a_scale[row * p.k_blocks + kb] : 0.0f;
#pragma unroll
                        for (int j = 0; j < kPer; ++j) {
                            const int64_t col = col0 + tx + kThreadsX * j;
                            if (live && col < p.n) {
                                const float sb = p.b_scale[(e * p.n_blocks + col / kScaleBlock) * p.k_blocks + kb];
                                scaled[i][j] = fmaf(acc[i][j], sa * sb, scaled[i][j]);
                            }
                            acc[i][j] = 0.0f;
                        }
                    }
                }
            }
        }
#pragma unroll
        for (int i = 0; i < kPer; ++i) {
            const int64_t row = row0 + ty + kThreadsY * i;
            if (row < seg0 || row >= seg1) continue;
            const float sa = Blockwise ? 1.0f : p.a_scale[row];
#pragma unroll
            for (int j = 0; j < kPer; ++j) {
                const int64_t col = col0 + tx + kThreadsX * j;
                if (col >= p.n) continue;
                if constexpr (Blockwise) out[i][j] = scaled[i][j];
                else out[i][j] = acc[i][j] * (sa * p.b_scale[e * p.n + col]);
            }
        }
    }
#pragma unroll
    for (int i = 0; i < kPer; ++i) {
        const int64_t row = row0 + ty + kThreadsY * i;
        if (row >= p.m) continue;
#pragma unroll
        for (int j = 0; j < kPer; ++j) {
            const int64_t col = col0 + tx + kThreadsX * j;
            if (col < p.n) p.c[row * p.n + col] = __float2bfloat16_rn(out[i][j]);
        }
    }
}

template <gg_dtype TA, bool Blockwise>
gg_status launch_for_b(gg_dtype tb, const ScaledKernelArgs& args, dim3 grid, cudaStream_t s) {
    const dim3 block(kThreadsX, kThreadsY);
    if (tb == GG_DTYPE_FLOAT8_E4M3) scaled_gmm_portable_kernel<TA, GG_DTYPE_FLOAT8_E4M3, Blockwise><<<grid, block, 0, s>>>(args);
    else scaled_gmm_portable_kernel<TA, GG_DTYPE_FLOAT8_E5M2, Blockwise><<<grid, block, 0, s>>>(args);
    GG_LAUNCH_CHECK("scaled_gmm_portable_kernel");
    return GG_STATUS_SUCCESS;
}

template <bool Blockwise>
gg_status launch_for_a(gg_dtype ta, gg_dtype tb, const ScaledKernelArgs& args, dim3 grid, cudaStream_t s) {
    if (ta == GG_DTYPE_FLOAT8_E4M3) return launch_for_b<GG_DTYPE_FLOAT8_E4M3, Blockwise>(tb, args, grid, s);
    return launch_for_b<GG_DTYPE_FLOAT8_E5M2, Blockwise>(tb, args, grid, s);
}

}  // namespace

gg_status scaled_portable_supports(const Context& ctx, const ScaledGmmProblem& p) {
    if (ctx.device.cc_major < 8) {
        return fail(GG_STATUS_NOT_SUPPORTED, "GG_SCALED_KERNEL_PORTABLE needs compute capability 8.0 or newer; device %d is %d.%d",
                    ctx.device.ordinal, ctx.device.cc_major, ctx.device.cc_minor);
    }
    const int64_t col_tiles = (p.base.n + kTileN - 1) / kTileN;
    const int64_t row_tiles = (p.base.m + kTileM - 1) / kTileM;
    if (col_tiles > 65535 || row_tiles > INT32_MAX) {
        return fail(GG_STATUS_NOT_SUPPORTED, "GG_SCALED_KERNEL_PORTABLE: m = %lld, n = %lld exceed its grid (n <= %d)",
                    static_cast<long long>(p.base.m), static_cast<long long>(p.base.n), 65535 * kTileN);
    }
    return GG_STATUS_SUCCESS;
}

gg_status scaled_portable_run(Context& ctx, const ScaledGmmProblem& sp) {
    const GmmProblem& p = sp.base;
    const size_t offset_bytes = (static_cast<size_t>(p.num_experts) + 1) * sizeof(int64_t);
    void* block = nullptr;
    GG_TRY(workspace_acquire(*ctx.workspace, offset_bytes, p, &block));
    auto* offsets = static_cast<int64_t*>(block);
    if (p.counts_on_device) {
        scaled_offsets_kernel<<<1, kCountsScanThreads, 0, p.stream>>>(p.batch_sizes, p.num_experts, p.m, offsets);
        GG_LAUNCH_CHECK("scaled_offsets_kernel");
    } else {
        // Validated host counts (they sum to m): plain prefix sums. A pageable source is fine, cudaMemcpyAsync
        // stages it before returning.
        std::vector<int64_t> host(static_cast<size_t>(p.num_experts) + 1, 0);
        for (int64_t e = 0; e < p.num_experts; ++e) host[e + 1] = host[e] + p.batch_sizes[e];
        GG_CUDA_CHECK(cudaMemcpyAsync(offsets, host.data(), offset_bytes, cudaMemcpyHostToDevice, p.stream));
    }
    const ScaledKernelArgs args = scaled_kernel_args(sp, offsets, nullptr);
    const dim3 grid(static_cast<unsigned>((p.m + kTileM - 1) / kTileM), static_cast<unsigned>((p.n + kTileN - 1) / kTileN));
    if (sp.scale_mode == GG_SCALE_BLOCKWISE) return launch_for_a<true>(sp.a_dtype, sp.b_dtype, args, grid, p.stream);
    return launch_for_a<false>(sp.a_dtype, sp.b_dtype, args, grid, p.stream);
}

}  // namespace gg
