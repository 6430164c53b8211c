// Split-K of a weight gradient's largest expert (cutlass-sm90, device counts). dW[e] = a_e^T . b_e reduces over the
// expert's rows; when one expert holds most of the rows and its K x N output makes fewer tiles than the card has SMs,
// those tiles run alone for most of the call (qwen3-30b-a3b's up-projection at 4096 tokens with a dominant expert: 96
// tiles on 132 SMs, 0.42x torch in the H100 sweep). Here its rows are cut into S chunks that run as S groups of a second
// grouped GEMM into fp32 partial sums, and one kernel adds them into dW[e]:
//
//   fill kernel (group arrays, then the split's plan) -> main GEMM (the expert has no tiles when split) -> partial GEMM
//   (S groups, fp32) -> reduce_split_k -> zero_empty_experts
//
// The plan (cutlass_common/largest_expert_split.cuh, run by the counts-scan kernel that fills the group arrays) finds the
// largest expert from the device offsets and decides on the device (it holds at least 1 / min_share_inverse of the
// rows), so no call synchronises the host and every step can be captured in a CUDA graph; when it does not split, the
// partial GEMM's groups have no tiles and reduce_split_k, launched as a programmatic dependent of the partial GEMM,
// returns at once. How many chunks, and whether a call may split at all, is tile_choice.h's split_k_chunks.
//
// Decode forwards (a few rows over long reductions, tile_choice.h: forward_split_chunks) split every expert's k instead:
// fill kernel -> fill_forward_split -> partial GEMM (min(E, m) x S groups, fp32) -> reduce_forward_split; no main GEMM.
// FP8 decode forwards (scaled_split_sm90.cu: run_split) take the same fill and sum, their partial kernel applying the
// scales. Included by backend_sm90.cu and scaled_split_sm90.cu.
#pragma once

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "core/aligned_layout.h"
#include "cutlass_common/group_arrays.cuh"
#include "cutlass_common/largest_expert_split.cuh"
#include "cutlass_sm90/tile_choice.h"

namespace gg::cutlass_sm90 {

// The split's own arrays and scratch, after the main GEMM's CUTLASS workspace in the call's workspace block: the same
// per-group arrays as GroupArrays (S groups), the decision, the partial GEMM's CUTLASS workspace and the fp32 partials.
struct SplitLayout {
    size_t problem_sizes = 0, ptr_a = 0, ptr_b = 0, ptr_d = 0, lda = 0, ldb = 0, ldd = 0, claims = 0, decision = 0;
    size_t kernel_workspace = 0, partials = 0, total = 0;

    // `groups` groups of the partial GEMM, `partial_floats` fp32 partial sums; each piece on a 256-byte boundary
    // (core/aligned_layout.h).
    SplitLayout(int64_t groups, int64_t partial_floats, size_t kernel_workspace_bytes) {
        const size_t s = static_cast<size_t>(groups);
        AlignedLayout block;
        problem_sizes = block.take(s * 3 * sizeof(int32_t));
        ptr_a = block.take(s * sizeof(void*));
        ptr_b = block.take(s * sizeof(void*));
        ptr_d = block.take(s * sizeof(void*));
        lda = block.take(s * sizeof(int64_t));
        ldb = block.take(s * sizeof(int64_t));
        ldd = block.take(s * sizeof(int64_t));
        claims = block.take(sizeof(uint32_t));
        decision = block.take(2 * sizeof(int32_t));
        kernel_workspace = block.take(kernel_workspace_bytes);
        partials = block.take(static_cast<size_t>(partial_floats) * sizeof(float));
        total = block.total();
    }
};

using cutlass_grouped::SplitArrays;

// The split's arrays at `base` (a SplitLayout's block), as the partial GEMM reads them.
inline SplitArrays split_arrays_at(char* base, const SplitLayout& l, size_t kernel_workspace_bytes) {
    SplitArrays s;
    s.arrays.problem_sizes = reinterpret_cast<int32_t*>(base + l.problem_sizes);
    s.arrays.ptr_a = reinterpret_cast<void**>(base + l.ptr_a);
    s.arrays.ptr_b = reinterpret_cast<void**>(base + l.ptr_b);
    s.arrays.ptr_c = reinterpret_cast<void**>(base + l.ptr_d);
    s.arrays.lda = reinterpret_cast<int64_t*>(base + l.lda);
    s.arrays.ldb = reinterpret_cast<int64_t*>(base + l.ldb);
    s.arrays.ldc = reinterpret_cast<int64_t*>(base + l.ldd);
    s.arrays.tile_claims = reinterpret_cast<uint32_t*>(base + l.claims);
    s.arrays.kernel_workspace = kernel_workspace_bytes ? base + l.kernel_workspace : nullptr;
    s.arrays.kernel_workspace_bytes = kernel_workspace_bytes;
    s.decision = reinterpret_cast<int32_t*>(base + l.decision);
    s.partials = reinterpret_cast<float*>(base + l.partials);
    return s;
}

// The FP8 split's per-group scale pointers (scaled_split_sm90.cu: run_split), which its partial kernel's epilogue reads:
// a group's a_scale from its expert's first row, its expert's row of b_scale. All null for the bf16/fp16 split.
struct SplitScales {
    const float* a_scale = nullptr;
    const float* b_scale = nullptr;
    const float** ptr_a_scale = nullptr;
    const float** ptr_b_scale = nullptr;
};

// Decode forwards (tile_choice.h: forward_split_chunks, fp8_forward_split_chunks): every expert's k in `chunks` chunks
// of chunk_k (tile_choice.h: chunk_depth). At most `slots` experts have rows (slots = min(E, m): each has at
// least one of the m rows), and only they get groups: the r-th expert with rows (in expert order) owns groups
// r * chunks + s = (its rows, n, chunk s) into partials[s][its rows][n]; slots left over get groups without tiles. The
// tile walk reads every group's shape on its way to its tiles, so min(E, m) x chunks groups instead of E x chunks keep
// that walk short (gpt-oss at one token: 44 groups, not 1408). One block: a running count of the experts with rows.
// Zeroes the partial GEMM's claim counter.
constexpr int kFillSplitThreads = 1024;

static __global__ void __launch_bounds__(kFillSplitThreads)
fill_forward_split(const int64_t* offsets, int32_t experts, int32_t chunks, int64_t chunk_k, int64_t slots, int64_t m,
                   int64_t k, int64_t n, bool trans_b, const char* a, const char* b, int32_t element_bytes,
                   SplitArrays split, SplitScales scales) {
    __shared__ int32_t warp_live[kFillSplitThreads / 32];
    __shared__ int64_t live_before;  // experts with rows before this pass's first
    const int t = threadIdx.x, lane = t & 31, warp = t >> 5, warps = blockDim.x >> 5;
    const int64_t es = element_bytes;
    if (t == 0) {
        *split.arrays.tile_claims = 0;
        live_before = 0;
    }
    __syncthreads();
    for (int64_t e0 = 0; e0 < experts; e0 += blockDim.x) {
        const int64_t e = e0 + t;
        int64_t begin = 0, rows = 0;
        if (e < experts) {
            begin = offsets[e];
            const int64_t end = offsets[e + 1];
            rows = end > begin ? end - begin : 0;
        }
        const unsigned live = __ballot_sync(0xffffffffu, rows > 0);
        if (lane == 0) warp_live[warp] = __popc(live);
        __syncthreads();
        int64_t rank = live_before + __popc(live & ((1u << lane) - 1));
        int32_t pass_total = 0;
        for (int w = 0; w < warps; ++w) {
            if (w < warp) rank += warp_live[w];
            pass_total += warp_live[w];
        }
        if (rows > 0 && rank < slots) {
            for (int64_t s = 0; s < chunks; ++s) {
                const int64_t g = rank * chunks + s;
                const int64_t k0 = s * chunk_k, kc = k - k0 < chunk_k ? k - k0 : chunk_k;
                split.arrays.problem_sizes[3 * g + 0] = static_cast<int32_t>(rows);
                split.arrays.problem_sizes[3 * g + 1] = static_cast<int32_t>(n);
                split.arrays.problem_sizes[3 * g + 2] = static_cast<int32_t>(kc);
                // a[rows of e][k0, k0 + kc); b[e] rows k0.. ([k][n]) or columns k0.. ([n][k]); partials[s][rows of e].
                split.arrays.ptr_a[g] = const_cast<char*>(a) + (begin * k + k0) * es;
                split.arrays.ptr_b[g] = const_cast<char*>(b) + (e * k * n + (trans_b ? k0 : k0 * n)) * es;
                split.arrays.ptr_c[g] = split.partials + s * m * n + begin * n;
                split.arrays.lda[g] = k;
                split.arrays.ldb[g] = trans_b ? k : n;
                split.arrays.ldc[g] = n;
                if (scales.ptr_a_scale != nullptr) {
                    scales.ptr_a_scale[g] = scales.a_scale + begin;
                    scales.ptr_b_scale[g] = scales.b_scale + e * n;
                }
            }
        }
        __syncthreads();  // every thread has read live_before and warp_live
        if (t == 0) live_before += pass_total;
        __syncthreads();
    }
    // Slots without an expert: groups without tiles, on valid pointers.
    const int64_t used = live_before < slots ? live_before : slots;
    for (int64_t g = used * chunks + t; g < slots * chunks; g += blockDim.x) {
        split.arrays.problem_sizes[3 * g + 0] = 0;
        split.arrays.problem_sizes[3 * g + 1] = static_cast<int32_t>(n);
        split.arrays.problem_sizes[3 * g + 2] = 1;
        split.arrays.ptr_a[g] = const_cast<char*>(a);
        split.arrays.ptr_b[g] = const_cast<char*>(b);
        split.arrays.ptr_c[g] = split.partials;
        split.arrays.lda[g] = k;
        split.arrays.ldb[g] = trans_b ? k : n;
        split.arrays.ldc[g] = n;
        if (scales.ptr_a_scale != nullptr) {
            scales.ptr_a_scale[g] = scales.a_scale;
            scales.ptr_b_scale[g] = scales.b_scale;
        }
    }
}

// Element conversions of the reduction.
template <gg_dtype DType>
struct SplitElement;
template <>
struct SplitElement<GG_DTYPE_BFLOAT16> {
    using type = __nv_bfloat16;
    static __device__ float load(type v) { return __bfloat162float(v); }
    static __device__ type store(float v) { return __float2bfloat16_rn(v); }
};
template <>
struct SplitElement<GG_DTYPE_FLOAT16> {
    using type = __half;
    static __device__ float load(type v) { return __half2float(v); }
    static __device__ type store(float v) { return __float2half_rn(v); }
};

constexpr int kReduceThreads = 256;

// o[0..3] = the chunks' partials[s * quads + i] summed in fp32 (+ o[0..3] with accumulate), rounded once.
template <gg_dtype DType>
__device__ __forceinline__ void add_partials(const float4* partials, int32_t chunks, int64_t quads, int64_t i,
                                             typename SplitElement<DType>::type* o, bool accumulate) {
    using E = SplitElement<DType>;
    float4 sum = partials[i];
    for (int32_t s = 1; s < chunks; ++s) {
        const float4 p = partials[s * quads + i];
        sum.x += p.x;
        sum.y += p.y;
        sum.z += p.z;
        sum.w += p.w;
    }
    if (accumulate) {
        sum.x += E::load(o[0]);
        sum.y += E::load(o[1]);
        sum.z += E::load(o[2]);
        sum.w += E::load(o[3]);
    }
    o[0] = E::store(sum.x);
    o[1] = E::store(sum.y);
    o[2] = E::store(sum.z);
    o[3] = E::store(sum.w);
}

// dW[expert] = sum of the chunks' fp32 partials (+ dW[expert] with accumulate), rounded once, four elements a thread
// and step (k x n is a multiple of 64: k and n are multiples of 8). Returns at once when the split plan did not split.
template <gg_dtype DType>
__global__ void __launch_bounds__(kReduceThreads)
reduce_split_k(const int32_t* decision, const float4* partials, int32_t chunks, int64_t quads, void* c, bool accumulate) {
    // Launched as a programmatic dependent of the partial GEMM (launch_reduce_split_k): its blocks may start before that
    // grid ends, and wait here until it has ended and its partials are visible.
    asm volatile("griddepcontrol.wait;" ::: "memory");
    if (decision[1] == 0) return;
    using T = typename SplitElement<DType>::type;
    T* out = static_cast<T*>(c) + static_cast<int64_t>(decision[0]) * quads * 4;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < quads;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        add_partials<DType>(partials, chunks, quads, i, out + 4 * i, accumulate);
    }
}

// c[r][:] = sum of the chunks' partials[s][r][:] (+ c with accumulate) for the rows the experts cover (offsets[E]:
// rows past it, which only wrong counts leave, keep their values as on the unsplit path), four elements a step.
template <gg_dtype DType>
__global__ void __launch_bounds__(kReduceThreads)
reduce_forward_split(const int64_t* covered_rows, const float4* partials, int32_t chunks, int64_t quads, int64_t n,
                     void* c, bool accumulate) {
    using T = typename SplitElement<DType>::type;
    const int64_t covered_quads = *covered_rows * n / 4;
    const int64_t end = covered_quads < quads ? covered_quads : quads;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < end;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        add_partials<DType>(partials, chunks, quads, i, static_cast<T*>(c) + 4 * i, accumulate);
    }
}

// Enqueues fill_forward_split (after the group-array fill kernel, which wrote the offsets), for operands of
// `operand_bytes` bytes an element (p.dtype is the output's type, which FP8 operands do not share).
inline gg_status launch_fill_forward_split(const GmmProblem& p, ChunkDepth depth, const int64_t* offsets,
                                           const SplitArrays& split, int32_t operand_bytes,
                                           const SplitScales& scales = {}) {
    fill_forward_split<<<1, kFillSplitThreads, 0, p.stream>>>(
        offsets, static_cast<int32_t>(p.num_experts), depth.used, depth.chunk_k, forward_split_slots(p), p.m, p.k, p.n,
        p.trans_b, static_cast<const char*>(p.a), static_cast<const char*>(p.b), operand_bytes, split, scales);
    GG_LAUNCH_CHECK("fill_forward_split");
    return GG_STATUS_SUCCESS;
}

// Enqueues reduce_forward_split (after the partial GEMM), on enough blocks to cover m x n / 4 once, at most 8 per SM.
inline gg_status launch_reduce_forward_split(const GmmProblem& p, int32_t chunks, int sm_count, const int64_t* offsets,
                                             const SplitArrays& split) {
    const int64_t quads = p.m * p.n / 4;
    int64_t blocks = (quads + kReduceThreads - 1) / kReduceThreads;
    const int64_t cap = 8 * static_cast<int64_t>(sm_count > 0 ? sm_count : 1);
    if (blocks > cap) blocks = cap;
    if (blocks < 1) blocks = 1;
    const auto* partials = reinterpret_cast<const float4*>(split.partials);
    const int64_t* covered = offsets + p.num_experts;
    if (p.dtype == GG_DTYPE_BFLOAT16) {
        reduce_forward_split<GG_DTYPE_BFLOAT16><<<static_cast<unsigned>(blocks), kReduceThreads, 0, p.stream>>>(
            covered, partials, chunks, quads, p.n, p.c, p.accumulate);
    } else {
        reduce_forward_split<GG_DTYPE_FLOAT16><<<static_cast<unsigned>(blocks), kReduceThreads, 0, p.stream>>>(
            covered, partials, chunks, quads, p.n, p.c, p.accumulate);
    }
    GG_LAUNCH_CHECK("reduce_forward_split");
    return GG_STATUS_SUCCESS;
}

// Enqueues reduce_split_k after the partial GEMM: the partials summed into dW of the expert split, when one was.
inline gg_status launch_reduce_split_k(const GmmProblem& p, int32_t chunks, int sm_count, const SplitArrays& split) {
    const int64_t quads = p.k * p.n / 4;
    int64_t blocks = (quads + kReduceThreads - 1) / kReduceThreads;
    const int64_t cap = 8 * static_cast<int64_t>(sm_count > 0 ? sm_count : 1);
    if (blocks > cap) blocks = cap;
    const auto* partials = reinterpret_cast<const float4*>(split.partials);
    // Programmatic dependent launch: the launch overlaps the partial GEMM, whose CTAs trigger it as they finish (at once
    // when the device did not split), instead of starting only after that grid; the kernel waits for the grid itself.
    cudaLaunchAttribute attribute;
    attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attribute.val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t config = {};
    config.gridDim = dim3(static_cast<unsigned>(blocks));
    config.blockDim = dim3(kReduceThreads);
    config.stream = p.stream;
    config.attrs = &attribute;
    config.numAttrs = 1;
    const int32_t* decision = split.decision;
    void* c = p.c;
    const bool accumulate = p.accumulate;
    if (p.dtype == GG_DTYPE_BFLOAT16) {
        GG_CUDA_CHECK(cudaLaunchKernelEx(&config, &reduce_split_k<GG_DTYPE_BFLOAT16>, decision, partials, chunks, quads, c,
                                         accumulate));
    } else {
        GG_CUDA_CHECK(cudaLaunchKernelEx(&config, &reduce_split_k<GG_DTYPE_FLOAT16>, decision, partials, chunks, quads, c,
                                         accumulate));
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace gg::cutlass_sm90
