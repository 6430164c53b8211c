// The weight gradient of a decode-sized call in one kernel: dW[e] (k x n) = a_e^T . b_e, where expert e has only a few
// rows (rows of a and b: 1-16 tokens at top-k), written with the zeros of the experts without rows.
//
// Why: at those sizes the grouped GEMM path runs three kernels one after another (the group-array fill, the GEMM, whose
// tiles reduce over 1-4 rows and are all prologue and epilogue, and zero_empty_experts), and its output of E x k x n
// elements is the whole cost: granite-3.0's down-projection at one token writes 63 MB in 40-46 us where the copy
// bandwidth allows 21 and torch._grouped_mm takes about 30 (H100 sweep, docs/perf-notes.md). Here every output element
// is a sum of a few products, so one launch reads the experts' rows (a few KB, from L2 after the first block) and
// streams dW out in 16-byte stores, empty experts' zeros included. Each block finds its expert's rows from the device
// counts itself, so no preparation kernel runs before it.
//
// Block b owns a 64 x 256 tile of one expert's dW (experts major or mixed: decode_grad_place): 8 warps of 8 rows,
// each lane 8 consecutive columns, one 16-byte vector. A tile of an expert without rows is stored as zeros (or left
// alone with accumulate). The rows are read in order, so the sum is the same for every call of a given problem.
//
// With `max_rows` > 0 the kernel writes only the experts of at most that many rows (empty ones included) and leaves the
// longer ones to the grouped GEMM launched beside it, whose group arrays give those experts alone tiles
// (group_arrays.cuh: GroupRule::gemm_min_rows; tile_choice.h: decode_weight_gradient_short_rows): an expert's blocks
// walk its rows on CUDA cores, which pays where every row is a few products and not for a dominant expert.
// Included only by the backend dispatch TUs; the policy that sends calls here is tile_choice.h's.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

#include "backends/counts_scan.cuh"
#include "core/internal.h"
#include "cutlass_common/decode_weight_gradient_tiles.h"
#include "moe/moe_common.cuh"

namespace gg::cutlass_grouped {

// The blocks of a call: every expert's tiles.
inline int64_t decode_grad_blocks(int64_t experts, int64_t k, int64_t n) {
    return experts * decode_grad_tiles_i(k) * decode_grad_tiles_j(n);
}

// dW's 16-byte vectors as 8 floats, through streaming (evict-first) accesses: see the kernel's stores. The element
// conversions and packs are the MoE kernels' (moe/moe_common.cuh).
template <typename T>
using DecodeGradPack = moe::Pack<T, kDecodeGradVector>;

template <typename T>
__device__ __forceinline__ void load_floats_streaming(const T* p, float (&out)[kDecodeGradVector]) {
    static_assert(sizeof(DecodeGradPack<T>) == sizeof(uint4), "a pack is one 16-byte vector");
    const uint4 raw = __ldcs(reinterpret_cast<const uint4*>(p));
    const DecodeGradPack<T>& pack = reinterpret_cast<const DecodeGradPack<T>&>(raw);
#pragma unroll
    for (int i = 0; i < kDecodeGradVector; ++i) out[i] = moe::to_float(pack.v[i]);
}

template <typename T>
__device__ __forceinline__ void store_floats_streaming(T* p, const float (&in)[kDecodeGradVector]) {
    DecodeGradPack<T> pack;
#pragma unroll
    for (int i = 0; i < kDecodeGradVector; ++i) pack.v[i] = moe::from_float<T>(in[i]);
    __stcs(reinterpret_cast<uint4*>(p), reinterpret_cast<const uint4&>(pack));
}

__device__ __forceinline__ int64_t warp_sum_saturating(int64_t v) {
#pragma unroll
    for (int d = 16; d > 0; d >>= 1) v = scan_saturating_add(v, __shfl_xor_sync(0xffffffffu, v, d));
    return v;
}

// a [m, k], b [m, n], c [E, k, n], all row-major; k and n multiples of 8 and a, b, c 16-byte aligned (the cutlass-sm90
// backend's own requirements). Expert e's rows are the device counts' scan as the fill kernels take it: negatives count
// as 0, sums saturate, both ends clamp to m.
template <typename T>
__global__ void __launch_bounds__(kDecodeGradThreads)
decode_weight_gradient(const int64_t* __restrict__ counts, int64_t experts, int64_t m, const T* __restrict__ a,
                       const T* __restrict__ b, T* __restrict__ c, int64_t k, int64_t n, bool accumulate,
                       bool experts_mixed, int64_t max_rows) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const DecodeGradPlace place = decode_grad_place(blockIdx.x, warp, lane, experts, k, n, experts_mixed);
    const int64_t e = place.e, i0 = place.i0, j = place.j;

    // Every warp finds the expert's rows itself (a few loads a lane from L2), so the block never synchronises.
    int64_t before = 0;
    for (int64_t q = lane; q < e; q += 32) {
        const int64_t v = counts[q];
        if (v > 0) before = scan_saturating_add(before, v);
    }
    before = warp_sum_saturating(before);
    const int64_t own = counts[e];
    const int64_t begin = scan_min64(before, m);
    const int64_t end = scan_min64(own > 0 ? scan_saturating_add(before, own) : before, m);
    if (end <= begin && accumulate) return;  // c[e] += 0
    if (max_rows > 0 && end - begin > max_rows) return;  // the grouped GEMM's expert

    if (!place.active) return;

    float acc[kDecodeGradRowsPerWarp][kDecodeGradVector];
#pragma unroll
    for (int ii = 0; ii < kDecodeGradRowsPerWarp; ++ii) {
#pragma unroll
        for (int jj = 0; jj < kDecodeGradVector; ++jj) acc[ii][jj] = 0.0f;
    }
    // Row r adds a[r, i0 .. i0 + 8) (one vector, the same for the whole warp) times b[r, j .. j + 8) to the 8 x 8 sums.
#pragma unroll 2
    for (int64_t r = begin; r < end; ++r) {
        float x[kDecodeGradVector], y[kDecodeGradVector];
        moe::load_floats<T, kDecodeGradVector>(a + r * k + i0, x);
        moe::load_floats<T, kDecodeGradVector>(b + r * n + j, y);
#pragma unroll
        for (int ii = 0; ii < kDecodeGradRowsPerWarp; ++ii) {
#pragma unroll
            for (int jj = 0; jj < kDecodeGradVector; ++jj) acc[ii][jj] = fmaf(x[ii], y[jj], acc[ii][jj]);
        }
    }

    // Streaming (evict-first) accesses for dW, which is read and written once: E x k x n elements, 63 MB to 2 GB on the
    // sweep's decode rows, would otherwise push the experts' rows of a and b, which every block of an expert reads, out
    // of L2.
    T* out = c + e * k * n + i0 * n + j;
#pragma unroll
    for (int ii = 0; ii < kDecodeGradRowsPerWarp; ++ii) {
        T* dst = out + static_cast<int64_t>(ii) * n;
        if (accumulate) {
            float old[kDecodeGradVector];
            load_floats_streaming(dst, old);
#pragma unroll
            for (int jj = 0; jj < kDecodeGradVector; ++jj) acc[ii][jj] += old[jj];
        }
        store_floats_streaming(dst, acc[ii]);
    }
}

// Enqueues the kernel for a weight gradient (p.trans_a) with device counts, bf16 or fp16, on p.stream, its blocks in the
// order `experts_mixed` says (decode_grad_place); `max_rows` > 0: only the experts of at most that many rows. The
// policy (tile_choice.h: decode_weight_gradient, decode_weight_gradient_short_rows) sends only calls whose blocks fit a
// one-dimensional grid.
inline gg_status launch_decode_weight_gradient(const GmmProblem& p, bool experts_mixed, int64_t max_rows = 0) {
    const int64_t blocks = decode_grad_blocks(p.num_experts, p.k, p.n);
    if (!p.trans_a || !p.counts_on_device || blocks < 1 || blocks > 0x7fffffff || p.k % kDecodeGradVector != 0 ||
        p.n % kDecodeGradVector != 0) {
        return fail(GG_STATUS_INTERNAL_ERROR, "decode_weight_gradient: not for this call (trans_a %d, device counts %d, "
                    "k=%lld, n=%lld, %lld blocks)", p.trans_a ? 1 : 0, p.counts_on_device ? 1 : 0,
                    static_cast<long long>(p.k), static_cast<long long>(p.n), static_cast<long long>(blocks));
    }
    const unsigned grid = static_cast<unsigned>(blocks);
    if (p.dtype == GG_DTYPE_BFLOAT16) {
        decode_weight_gradient<__nv_bfloat16><<<grid, kDecodeGradThreads, 0, p.stream>>>(
            p.batch_sizes, p.num_experts, p.m, static_cast<const __nv_bfloat16*>(p.a),
            static_cast<const __nv_bfloat16*>(p.b), static_cast<__nv_bfloat16*>(p.c), p.k, p.n, p.accumulate, experts_mixed,
            max_rows);
    } else if (p.dtype == GG_DTYPE_FLOAT16) {
        decode_weight_gradient<__half><<<grid, kDecodeGradThreads, 0, p.stream>>>(
            p.batch_sizes, p.num_experts, p.m, static_cast<const __half*>(p.a), static_cast<const __half*>(p.b),
            static_cast<__half*>(p.c), p.k, p.n, p.accumulate, experts_mixed, max_rows);
    } else {
        return fail(GG_STATUS_INTERNAL_ERROR, "decode_weight_gradient: dtype %d (bfloat16 and float16 only)",
                    static_cast<int>(p.dtype));
    }
    GG_LAUNCH_CHECK("decode_weight_gradient");
    return GG_STATUS_SUCCESS;
}

}  // namespace gg::cutlass_grouped
