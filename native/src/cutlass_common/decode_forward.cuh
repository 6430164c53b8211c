// Forwards of a decode-sized call (bf16 / fp16, forward or trans_b, device counts) in one kernel of our own: c rows =
// a rows . w[e] (or w[e]^T) for experts that hold a few rows each (1-16 tokens at top-k).
//
// Why: such a call streams the live experts' weights once and does almost no arithmetic, while a GEMM tile of 64-128
// rows computes mostly padding, and the grouped GEMM path runs a preparation kernel (the group arrays) before it. Here
// each block scans the device counts itself (backends/decode_scan.cuh), so the call is one launch, and the weights are
// read once in 16-byte loads, straight into mma.sync fragments with no shared-memory staging.
//
// The work: groups of up to 16 rows of one expert (decode_groups.h) times blocks of kDecodeFwdCols = 32 output columns;
// block (x, y) takes group x and column blocks y, y + gridDim.y, ... (decode_groups.h says why in that order, and why a
// block takes several). Its 8 warps split k: warp w
// takes the 64-deep chunks w, w + 8, ...; each is four m16n8k16 steps for each of the block's four 8-column groups
// (fp32 accumulation). The activations are k-contiguous rows, loaded as backends/decode_fragments.cuh says, with its
// permutation of k.
//   trans_b (w[e] is n x k): the weights' rows are k-contiguous too, loaded the same way (mma column g of group h is
//     output column 8h + g).
//   forward (w[e] is k x n, n contiguous): lane (g, t) loads 16 bytes of weight row k_of(j, half, g), columns 8t to
//     8t + 7: its four words are its fragment (row g, columns 2t, 2t + 1) of four 8 x 8 matrices, one per column group,
//     that movmatrix.trans turns into mma B fragments. k_of picks the physical rows that the activations' permutation
//     puts at the mma's logical k, and mma column c of group h is output column 8(c / 2) + 2h + c % 2.
// The 8 warps' sums meet in shared memory in a fixed order, so a given problem always gives the same bits, rounded to
// the element type once (after adding c's old value with accumulate). Rows past the clamped sum of the counts (bad
// device counts) are left as they are, as the grouped GEMM path leaves them.
// Included only by the backend dispatch TUs (bf16 mma.sync and movmatrix: sm_80 and newer); the policy that sends
// calls here is cutlass_sm90/tile_choice.h's (decode_forward).
#pragma once

#include <cstdint>
#include <type_traits>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "backends/decode_fragment_maps.h"
#include "backends/decode_fragments.cuh"
#include "backends/decode_scan.cuh"
#include "core/internal.h"
#include "moe/moe_common.cuh"

namespace gg::cutlass_grouped {

constexpr int kDecodeFwdWarps = 8;  // k slices
constexpr int kDecodeFwdThreads = kDecodeFwdWarps * 32;
constexpr int kDecodeFwdGroups = 4;                     // 8-column mma groups per warp
constexpr int kDecodeFwdCols = 8 * kDecodeFwdGroups;    // output columns per block
static_assert(kDecodeFwdCols == decode_groups::kBlockColumns, "the grid's column blocks");
constexpr int kDecodeFwdChunk = 64;                     // k per chunk: 128 bytes, four m16n8k16 steps
using decode_groups::kGroupRows;

template <typename T>
__device__ __forceinline__ void decode_mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
                     "{%8, %9}, {%0, %1, %2, %3};\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    } else {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
                     "{%8, %9}, {%0, %1, %2, %3};\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
#else
    (void)d, (void)a, (void)b0, (void)b1;
#endif
}

// The transpose of the 8 x 8 matrix of 16-bit elements whose row lane / 4 holds elements 2 (lane % 4) and + 1 in `v`,
// in the same layout.
__device__ __forceinline__ uint32_t transpose_8x8(uint32_t v) {
    uint32_t r = v;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 750
    asm volatile("movmatrix.sync.aligned.m8n8.trans.b16 %0, %1;\n" : "=r"(r) : "r"(v));
#endif
    return r;
}

// One chunk's operands in registers: the activations' two rows (lo: g, hi: g + 8) and the weights.
struct DecodeFwdChunk {
    uint32_t x_lo[8], x_hi[8];
    uint32_t w[kDecodeFwdGroups][8];  // trans_b: group h's weight row; forward: word h of load (j, half) at [2j + half]
};

template <typename T, bool TransB>
struct DecodeFwdLane {
    const uint8_t* x_lo;  // this lane's two activation rows (bytes)
    const uint8_t* x_hi;
    bool live_lo, live_hi;
    const uint8_t* w;  // trans_b: unused; forward: expert e's weights (bytes)
    const uint8_t* w_row[kDecodeFwdGroups];  // trans_b: the lane's weight row of each column group
    bool live_col[kDecodeFwdGroups];
    int64_t row_bytes;  // k * sizeof(T)
    int64_t k, n, col0;
    int g, t;

    __device__ __forceinline__ void load(int64_t chunk, DecodeFwdChunk& f) const {
        const int64_t byte0 = chunk * kDecodeFwdChunk * static_cast<int64_t>(sizeof(T));
        decode_groups::load_lane_bytes(x_lo, byte0, t, row_bytes, live_lo, f.x_lo);
        decode_groups::load_lane_bytes(x_hi, byte0, t, row_bytes, live_hi, f.x_hi);
        if constexpr (TransB) {
#pragma unroll
            for (int h = 0; h < kDecodeFwdGroups; ++h) {
                decode_groups::load_lane_bytes(w_row[h], byte0, t, row_bytes, live_col[h], f.w[h]);
            }
        } else {
            const int64_t col = col0 + 8 * t;  // n % 8 == 0: the 8 columns are all in or all out
#pragma unroll
            for (int j = 0; j < 4; ++j) {
#pragma unroll
                for (int half = 0; half < 2; ++half) {
                    const int64_t kk = chunk * kDecodeFwdChunk + decode_groups::forward_k_of(j, half, g);
                    uint4 v = make_uint4(0, 0, 0, 0);
                    if (kk < k && col < n) {
                        v = __ldg(reinterpret_cast<const uint4*>(w + (kk * n + col) * static_cast<int64_t>(sizeof(T))));
                    }
                    f.w[0][2 * j + half] = v.x;
                    f.w[1][2 * j + half] = v.y;
                    f.w[2][2 * j + half] = v.z;
                    f.w[3][2 * j + half] = v.w;
                }
            }
        }
    }

    __device__ __forceinline__ static void compute(const DecodeFwdChunk& f, float (&acc)[kDecodeFwdGroups][4]) {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const uint32_t a[4] = {f.x_lo[2 * j], f.x_hi[2 * j], f.x_lo[2 * j + 1], f.x_hi[2 * j + 1]};
#pragma unroll
            for (int h = 0; h < kDecodeFwdGroups; ++h) {
                if constexpr (TransB) {
                    decode_mma<T>(acc[h], a, f.w[h][2 * j], f.w[h][2 * j + 1]);
                } else {
                    decode_mma<T>(acc[h], a, transpose_8x8(f.w[h][2 * j]), transpose_8x8(f.w[h][2 * j + 1]));
                }
            }
        }
    }

    // The output column (within the block) of mma column c of group h.
    __device__ __forceinline__ static int column_of(int h, int c) {
        return decode_groups::decode_output_column(TransB, h, c);
    }
};

// a [m, k]; b [E, k, n] (forward) or [E, n, k] (trans_b); c [m, n]; k and n multiples of 8, a and b 16-byte aligned,
// E <= kMaxExperts, m <= kMaxRows (the launch checks them).
template <typename T, bool TransB, bool Walk>
__global__ void __launch_bounds__(kDecodeFwdThreads, 2)
decode_forward(const int64_t* __restrict__ counts, int64_t num_experts, int64_t m, const T* __restrict__ a,
               const T* __restrict__ b, T* __restrict__ c, int64_t k, int64_t n, bool accumulate) {
    __shared__ decode_groups::ScanShared<kDecodeFwdThreads> scan;
    __shared__ float partial[kDecodeFwdWarps][kGroupRows][kDecodeFwdCols + 1];
    decode_groups::scan_counts<kDecodeFwdThreads>(counts, num_experts, m, scan);
    const int32_t group = static_cast<int32_t>(blockIdx.x);
    if (group >= scan.groups[num_experts]) return;
    const decode_groups::Group mine = decode_groups::find_group(scan.offsets, scan.groups, num_experts, group);
    const int64_t e = mine.expert, row0 = mine.row0, row_end = mine.row_end;

    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    DecodeFwdLane<T, TransB> L;
    L.g = lane >> 2;
    L.t = lane & 3;
    L.k = k;
    L.n = n;
    L.row_bytes = k * static_cast<int64_t>(sizeof(T));
    const int64_t row_lo = row0 + L.g, row_hi = row_lo + 8;
    L.live_lo = row_lo < row_end;
    L.live_hi = row_hi < row_end;
    const uint8_t* a_bytes = reinterpret_cast<const uint8_t*>(a);
    L.x_lo = a_bytes + (L.live_lo ? row_lo : 0) * L.row_bytes;
    L.x_hi = a_bytes + (L.live_hi ? row_hi : 0) * L.row_bytes;
    const uint8_t* w_bytes = reinterpret_cast<const uint8_t*>(b) + e * k * n * static_cast<int64_t>(sizeof(T));
    L.w = w_bytes;

    // One column block of this group.
    auto column_block = [&](int64_t cb) {
        L.col0 = cb * kDecodeFwdCols;
#pragma unroll
        for (int h = 0; h < kDecodeFwdGroups; ++h) {
            const int64_t col = L.col0 + 8 * h + L.g;
            L.live_col[h] = col < n;
            L.w_row[h] = w_bytes + (L.live_col[h] ? col : 0) * L.row_bytes;
        }

        float acc[kDecodeFwdGroups][4] = {};
        decode_groups::walk_chunks_two_in_flight<DecodeFwdChunk>(
            warp, (k + kDecodeFwdChunk - 1) / kDecodeFwdChunk, kDecodeFwdWarps,
            [&](int64_t chunk, DecodeFwdChunk& f) { L.load(chunk, f); },
            [&](const DecodeFwdChunk& f) { L.compute(f, acc); });

        // The mma's output fragment: rows g and g + 8, mma columns 2t and 2t + 1 of each group.
#pragma unroll
        for (int h = 0; h < kDecodeFwdGroups; ++h) {
            const int c0 = L.column_of(h, 2 * L.t), c1 = L.column_of(h, 2 * L.t + 1);
            partial[warp][L.g][c0] = acc[h][0];
            partial[warp][L.g][c1] = acc[h][1];
            partial[warp][L.g + 8][c0] = acc[h][2];
            partial[warp][L.g + 8][c1] = acc[h][3];
        }
        __syncthreads();
        for (int i = threadIdx.x; i < kGroupRows * kDecodeFwdCols; i += kDecodeFwdThreads) {
            const int r = i / kDecodeFwdCols, cc = i % kDecodeFwdCols;
            const int64_t row = row0 + r, col = L.col0 + cc;
            if (row >= row_end || col >= n) continue;
            float v = 0.0f;
#pragma unroll
            for (int s = 0; s < kDecodeFwdWarps; ++s) v += partial[s][r][cc];
            T* out = c + row * n + col;
            if (accumulate) v += moe::to_float(*out);
            *out = moe::from_float<T>(v);
        }
    };
    // Walk: column blocks y, y + gridDim.y, ... (decode_groups::grid_column_blocks); otherwise block y alone, as a
    // separate instance because the loop's live state spilled registers in the chunk walk (CUDA 11.8, trans_b: 31 local
    // loads against 4), which the calls of one column block a block (one token: Auto's) need not pay.
    if constexpr (Walk) {
        const int64_t col_blocks = decode_groups::column_blocks(n);
        for (int64_t cb = blockIdx.y; cb < col_blocks; cb += gridDim.y) {
            column_block(cb);
            __syncthreads();  // the next column block writes partial
        }
    } else {
        column_block(blockIdx.y);
    }
}

// Enqueues the kernel for a forward or trans_b call with device counts, bf16 or fp16, on p.stream. The policy
// (tile_choice.h: decode_forward) sends only calls it takes; anything else is an internal error here.
inline gg_status launch_decode_forward(const GmmProblem& p) {
    const bool fits = !p.trans_a && p.counts_on_device && decode_groups::fits(p.m, p.num_experts) && p.n >= 1 &&
                      p.k % 8 == 0 && p.n % 8 == 0 && reinterpret_cast<uintptr_t>(p.a) % 16 == 0 &&
                      reinterpret_cast<uintptr_t>(p.b) % 16 == 0;
    if (!fits) {
        return fail(GG_STATUS_INTERNAL_ERROR, "decode_forward: not for this call (trans_a %d, device counts %d, m=%lld, "
                    "k=%lld, n=%lld, E=%lld)", p.trans_a ? 1 : 0, p.counts_on_device ? 1 : 0,
                    static_cast<long long>(p.m), static_cast<long long>(p.k), static_cast<long long>(p.n),
                    static_cast<long long>(p.num_experts));
    }
    const decode_groups::Grid g = decode_groups::grid_of(p.m, p.num_experts, p.n);
    const dim3 grid(static_cast<unsigned>(g.x), static_cast<unsigned>(g.y));
    const bool walk = g.y < decode_groups::column_blocks(p.n);
    auto launch = [&](auto kernel, auto element) {
        using T = decltype(element);
        kernel<<<grid, kDecodeFwdThreads, 0, p.stream>>>(p.batch_sizes, p.num_experts, p.m, static_cast<const T*>(p.a),
                                                         static_cast<const T*>(p.b), static_cast<T*>(p.c), p.k, p.n,
                                                         p.accumulate);
    };
    auto launch_for = [&](auto element, auto trans_b) {
        using T = decltype(element);
        if (walk) launch(decode_forward<T, decltype(trans_b)::value, true>, element);
        else launch(decode_forward<T, decltype(trans_b)::value, false>, element);
    };
    if (p.dtype == GG_DTYPE_BFLOAT16) {
        if (p.trans_b) launch_for(__nv_bfloat16{}, std::true_type{});
        else launch_for(__nv_bfloat16{}, std::false_type{});
    } else if (p.dtype == GG_DTYPE_FLOAT16) {
        if (p.trans_b) launch_for(__half{}, std::true_type{});
        else launch_for(__half{}, std::false_type{});
    } else {
        return fail(GG_STATUS_INTERNAL_ERROR, "decode_forward: dtype %d (bfloat16 and float16 only)",
                    static_cast<int>(p.dtype));
    }
    GG_LAUNCH_CHECK("decode_forward");
    return GG_STATUS_SUCCESS;
}

}  // namespace gg::cutlass_grouped
