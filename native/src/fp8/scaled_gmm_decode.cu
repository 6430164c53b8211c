// gg_gmm_scaled's decode kernel (GG_SCALED_KERNEL_DECODE): calls of a few rows per expert (decode: 1-8 tokens), where
// the work is streaming the live experts' weights once and a GEMM tile of 128 rows computes mostly padding. One
// launch, no workspace with device counts: every block scans the counts itself (backends/decode_scan.cuh), so the
// call has no preparation kernel before it, where the grouped GEMMs run two or three launches.
//
// The work: groups of up to 16 rows of one expert (an expert of r rows makes ceil(r / 16) groups), times blocks of
// kBlockCols output columns (group along x, column blocks y, y + gridDim.y, ... along y: decode_groups.h). A block
// finds its group from the scan; its 8 warps are 2 along n (16 columns each) by 4 along k (each a quarter of the
// 128-deep chunks). Each chunk is one FP8 mma.sync m16n8k32 per 32 k and 8 columns (fp32 accumulation), fed straight
// from global memory: a lane loads two 16-byte pieces of each chunk of its weight row (trans_b: w[e] is n x k, k
// contiguous) and of its two activation rows, and the mma's k positions are permuted alike on both operands (a dot
// product does not care in which order k is summed), so no shared memory staging is needed.
// Block scales (DeepGEMM's 1x128 and 128x128): a chunk is one 128-deep scale block, so each chunk's fp32 sum is scaled
// by its two scales and added to the total, as the portable kernel and CUTLASS's blockwise mainloop promote. Row-wise
// scales multiply the total at the end. The four k slices meet in shared memory; the output is rounded to bf16 once.
// Rows past the clamped sum of the counts (bad device counts) are written as zeros, as the portable kernel writes them.
//
// FP8 mma.sync exists from compute capability 8.9 (and CUDA 12.4 to build it): the kernel body is compiled for those
// architectures only, and scaled_decode_supports asks which code the device loaded (cudaFuncGetAttributes), so a device
// that would run the sm_80 build of this file (an Ada card) or JIT its compute_80 PTX is refused rather than given an
// empty kernel.
#include <atomic>
#include <cstdint>

#include <cuda_bf16.h>

#include "backends/decode_fragment_maps.h"
#include "backends/decode_fragments.cuh"
#include "backends/decode_scan.cuh"
#include "fp8/scaled_gmm.h"
#include "fp8/scaled_kernel_args.cuh"

// mma.sync with e4m3 / e5m2 operands needs PTX ISA 8.4 (CUDA 12.4) and sm_89; GG_DECODE_BODY: the kernel's body is in
// this compilation (GG_DECODE_CHECK_BODY compiles it without the mma instruction, to type-check it with an older
// toolkit; such an object never runs).
#if defined(__CUDACC_VER_MAJOR__) && (__CUDACC_VER_MAJOR__ > 12 || (__CUDACC_VER_MAJOR__ == 12 && __CUDACC_VER_MINOR__ >= 4))
#define GG_DECODE_TOOLKIT 1
#else
#define GG_DECODE_TOOLKIT 0
#endif
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890 && (GG_DECODE_TOOLKIT || defined(GG_DECODE_CHECK_BODY))
#define GG_DECODE_BODY 1
#else
#define GG_DECODE_BODY 0
#endif

namespace gg {
namespace {

using decode_groups::kGroupRows;  // rows of one mma (m16)
constexpr int kColsPerWarp = 16;               // two mma column groups of 8
constexpr int kColumnWarps = 2;                // warps along n
constexpr int kKSlices = 4;                    // warps along k
constexpr int kWarps = kColumnWarps * kKSlices;
constexpr int kThreads = kWarps * 32;
constexpr int kBlockCols = kColumnWarps * kColsPerWarp;
static_assert(kBlockCols == decode_groups::kBlockColumns, "the grid's column blocks");
constexpr int kChunk = 128;                    // k per chunk: one scale block, four mma k steps of 32
static_assert(kChunk == kScaleBlock, "a chunk is one scale block");

template <gg_dtype TA, gg_dtype TB>
__device__ __forceinline__ void mma_fp8(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if GG_DECODE_BODY && GG_DECODE_TOOLKIT
#define GG_DECODE_MMA(ta, tb)                                                                                          \
    asm volatile("mma.sync.aligned.m16n8k32.row.col.f32." ta "." tb ".f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "     \
                 "{%8, %9}, {%0, %1, %2, %3};\n"                                                                       \
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])                                                      \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1))
    if constexpr (TA == GG_DTYPE_FLOAT8_E4M3 && TB == GG_DTYPE_FLOAT8_E4M3) GG_DECODE_MMA("e4m3", "e4m3");
    else if constexpr (TA == GG_DTYPE_FLOAT8_E4M3) GG_DECODE_MMA("e4m3", "e5m2");
    else if constexpr (TB == GG_DTYPE_FLOAT8_E4M3) GG_DECODE_MMA("e5m2", "e4m3");
    else GG_DECODE_MMA("e5m2", "e5m2");
#undef GG_DECODE_MMA
#else
    (void)d;
    (void)a;
    (void)b0;
    (void)b1;
#endif
}

template <gg_dtype TA, gg_dtype TB, bool Blockwise>
__global__ void __launch_bounds__(kThreads, 2) scaled_gmm_decode_kernel(ScaledKernelArgs p) {
#if GG_DECODE_BODY
    __shared__ decode_groups::ScanShared<kThreads> scan;
    __shared__ float partial[kKSlices][kGroupRows][kBlockCols + 1];
    decode_groups::scan_counts<kThreads>(p.counts, p.num_experts, p.m, scan);
    const int64_t* offsets = scan.offsets;
    const int32_t* groups = scan.groups;

    const int32_t group = static_cast<int32_t>(blockIdx.x);
    const int32_t total_groups = groups[p.num_experts];
    // Column blocks y, y + gridDim.y, ... (decode_groups::grid_column_blocks).
    const int64_t col_blocks = decode_groups::column_blocks(p.n);
    if (group >= total_groups) {
        // The first block past the groups in each column block writes zeros to the rows no expert holds (counts that
        // sum to less than m once clamped); the others have nothing to do.
        if (group == total_groups) {
            const int64_t end = offsets[p.num_experts];
            for (int64_t cb = blockIdx.y; cb < col_blocks; cb += gridDim.y) {
                const int64_t col0 = cb * kBlockCols;
                for (int64_t i = threadIdx.x; i < (p.m - end) * kBlockCols; i += kThreads) {
                    const int64_t row = end + i / kBlockCols, col = col0 + i % kBlockCols;
                    if (col < p.n) p.c[row * p.n + col] = __float2bfloat16_rn(0.0f);
                }
            }
        }
        return;
    }
    const decode_groups::Group mine = decode_groups::find_group(offsets, groups, p.num_experts, group);
    const int64_t e = mine.expert, row0 = mine.row0, row_end = mine.row_end;

    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int col_warp = warp % kColumnWarps, slice = warp / kColumnWarps;
    const int64_t row_lo = row0 + g, row_hi = row0 + g + 8;
    const bool live_lo = row_lo < row_end, live_hi = row_hi < row_end;
    const uint8_t* a_lo = p.a + (live_lo ? row_lo : 0) * p.k;
    const uint8_t* a_hi = p.a + (live_hi ? row_hi : 0) * p.k;
    for (int64_t cb = blockIdx.y; cb < col_blocks; cb += gridDim.y) {
        const int64_t col0 = cb * kBlockCols;
        const int64_t warp_col0 = col0 + col_warp * kColsPerWarp;
        const uint8_t* b_row[2];
        bool live_col[2];
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int64_t col = warp_col0 + 8 * h + g;
            live_col[h] = col < p.n;
            b_row[h] = p.b + (e * p.n + (live_col[h] ? col : 0)) * p.k;
        }
        // One chunk's operands and (block scales) its scales, loaded together (two chunks in flight a warp:
        // walk_chunks_two_in_flight).
        struct Chunk {
            uint32_t x_lo[8], x_hi[8], w[2][8];
            float sa_lo, sa_hi, sb[2];
        };
        auto load = [&](int64_t chunk, Chunk& f) {
            const int64_t chunk0 = chunk * kChunk;
            decode_groups::load_lane_bytes(a_lo, chunk0, t, p.k, live_lo, f.x_lo);
            decode_groups::load_lane_bytes(a_hi, chunk0, t, p.k, live_hi, f.x_hi);
#pragma unroll
            for (int h = 0; h < 2; ++h) decode_groups::load_lane_bytes(b_row[h], chunk0, t, p.k, live_col[h], f.w[h]);
            if constexpr (Blockwise) {
                f.sa_lo = live_lo ? p.a_scale[row_lo * p.k_blocks + chunk] : 0.0f;
                f.sa_hi = live_hi ? p.a_scale[row_hi * p.k_blocks + chunk] : 0.0f;
#pragma unroll
                for (int h = 0; h < 2; ++h) {
                    // The 8 columns of a column group share one 128-wide block (they start at a multiple of 8).
                    const int64_t nb = (warp_col0 + 8 * h) / kScaleBlock;
                    f.sb[h] = warp_col0 + 8 * h < p.n ? p.b_scale[(e * p.n_blocks + nb) * p.k_blocks + chunk] : 0.0f;
                }
            }
        };
        float total[2][4] = {};
        auto consume = [&](const Chunk& f) {
            float acc[2][4] = {};
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                // Step j takes this lane's words 2j and 2j + 1 of both operands (decode_fragments.cuh: the k permutation).
                const uint32_t a[4] = {f.x_lo[2 * j], f.x_hi[2 * j], f.x_lo[2 * j + 1], f.x_hi[2 * j + 1]};
#pragma unroll
                for (int h = 0; h < 2; ++h) mma_fp8<TA, TB>(acc[h], a, f.w[h][2 * j], f.w[h][2 * j + 1]);
            }
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                if constexpr (Blockwise) {
                    total[h][0] = fmaf(acc[h][0], f.sa_lo * f.sb[h], total[h][0]);
                    total[h][1] = fmaf(acc[h][1], f.sa_lo * f.sb[h], total[h][1]);
                    total[h][2] = fmaf(acc[h][2], f.sa_hi * f.sb[h], total[h][2]);
                    total[h][3] = fmaf(acc[h][3], f.sa_hi * f.sb[h], total[h][3]);
                } else {
#pragma unroll
                    for (int i = 0; i < 4; ++i) total[h][i] += acc[h][i];
                }
            }
        };
        decode_groups::walk_chunks_two_in_flight<Chunk>(slice, (p.k + kChunk - 1) / kChunk, kKSlices, load, consume);
        // The mma's output fragment: rows g and g + 8, columns 2t and 2t + 1 of each 8-column group.
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int c = col_warp * kColsPerWarp + decode_groups::decode_output_column(true, h, 2 * t);
            partial[slice][g][c] = total[h][0];
            partial[slice][g][c + 1] = total[h][1];
            partial[slice][g + 8][c] = total[h][2];
            partial[slice][g + 8][c + 1] = total[h][3];
        }
        __syncthreads();
        for (int i = threadIdx.x; i < kGroupRows * kBlockCols; i += kThreads) {
            const int r = i / kBlockCols, c = i % kBlockCols;
            const int64_t row = row0 + r, col = col0 + c;
            if (row >= row_end || col >= p.n) continue;
            float v = 0.0f;
#pragma unroll
            for (int s = 0; s < kKSlices; ++s) v += partial[s][r][c];
            if constexpr (!Blockwise) v *= p.a_scale[row] * p.b_scale[e * p.n + col];
            p.c[row * p.n + col] = __float2bfloat16_rn(v);
        }
        __syncthreads();  // the next column block writes partial
    }
#endif
}

template <gg_dtype TA, bool Blockwise>
auto kernel_for(gg_dtype tb) {
    return tb == GG_DTYPE_FLOAT8_E4M3 ? scaled_gmm_decode_kernel<TA, GG_DTYPE_FLOAT8_E4M3, Blockwise>
                                      : scaled_gmm_decode_kernel<TA, GG_DTYPE_FLOAT8_E5M2, Blockwise>;
}

// The kernel instance for these element types and scale mode.
void (*decode_kernel(gg_dtype ta, gg_dtype tb, bool blockwise))(ScaledKernelArgs) {
    if (ta == GG_DTYPE_FLOAT8_E4M3) return blockwise ? kernel_for<GG_DTYPE_FLOAT8_E4M3, true>(tb)
                                                     : kernel_for<GG_DTYPE_FLOAT8_E4M3, false>(tb);
    return blockwise ? kernel_for<GG_DTYPE_FLOAT8_E5M2, true>(tb) : kernel_for<GG_DTYPE_FLOAT8_E5M2, false>(tb);
}

// The architecture of the kernel code the device loaded: the lower of its binary's and of the PTX it came from (a
// device with no SASS of ours JIT-compiles compute_80 PTX, whose body here is empty). Asked once per device; the
// current device is the handle's (the entry points' device guard).
gg_status loaded_arch(int ordinal, int* arch) {
    constexpr int kCached = 64;
    static std::atomic<int> cached[kCached] = {};
    if (ordinal >= 0 && ordinal < kCached) {
        const int known = cached[ordinal].load(std::memory_order_relaxed);
        if (known != 0) {
            *arch = known;
            return GG_STATUS_SUCCESS;
        }
    }
    cudaFuncAttributes attributes{};
    GG_CUDA_CHECK(cudaFuncGetAttributes(&attributes, decode_kernel(GG_DTYPE_FLOAT8_E4M3, GG_DTYPE_FLOAT8_E4M3, false)));
    *arch = attributes.binaryVersion < attributes.ptxVersion ? attributes.binaryVersion : attributes.ptxVersion;
    if (ordinal >= 0 && ordinal < kCached) cached[ordinal].store(*arch, std::memory_order_relaxed);
    return GG_STATUS_SUCCESS;
}

}  // namespace

gg_status scaled_decode_supports(const Context& ctx, const ScaledGmmProblem& sp) {
    const GmmProblem& p = sp.base;
    const char* kName = "GG_SCALED_KERNEL_DECODE";
    if (!GG_DECODE_TOOLKIT) {
        return fail(GG_STATUS_BACKEND_NOT_COMPILED,
                    "%s is not compiled in: FP8 mma needs CUDA 12.4 or newer to build (this library: CUDA %d.%d)", kName,
                    CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10);
    }
    int arch = 0;
    GG_TRY(loaded_arch(ctx.device.ordinal, &arch));
    if (arch < 89) {
        return fail(GG_STATUS_NOT_SUPPORTED,
                    "%s needs FP8 mma (compute capability 8.9 or newer, and code built for it); device %d (%d.%d) "
                    "runs this library's compute_%d code", kName, ctx.device.ordinal, ctx.device.cc_major,
                    ctx.device.cc_minor, arch);
    }
    if (!p.trans_b) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s takes trans_b = 1 only (weights [E, n, k], k contiguous)", kName);
    }
    if (p.m > kDecodeMaxRows) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s takes m <= %lld rows (decode); m = %lld", kName,
                    static_cast<long long>(kDecodeMaxRows), static_cast<long long>(p.m));
    }
    if (p.num_experts > kDecodeMaxExperts) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s takes num_experts <= %d; num_experts = %lld", kName,
                    kDecodeMaxExperts, static_cast<long long>(p.num_experts));
    }
    if (p.k % 16 != 0 || reinterpret_cast<uintptr_t>(p.a) % 16 != 0 || reinterpret_cast<uintptr_t>(p.b) % 16 != 0) {
        return fail(GG_STATUS_NOT_SUPPORTED,
                    "%s reads 16-byte pieces: k must be a multiple of 16 (k = %lld) and a, b 16-byte aligned", kName,
                    static_cast<long long>(p.k));
    }
    return GG_STATUS_SUCCESS;
}

gg_status scaled_decode_run(Context& ctx, const ScaledGmmProblem& sp) {
    const GmmProblem& p = sp.base;
    const int64_t* counts = p.batch_sizes;
    if (!p.counts_on_device) {
        // Validated host counts, uploaded for the kernel's own scan (refused while capturing: select_scaled_kernel).
        const size_t bytes = static_cast<size_t>(p.num_experts) * sizeof(int64_t);
        void* block = nullptr;
        GG_TRY(workspace_acquire(*ctx.workspace, bytes, p, &block));
        GG_CUDA_CHECK(cudaMemcpyAsync(block, p.batch_sizes, bytes, cudaMemcpyHostToDevice, p.stream));
        counts = static_cast<const int64_t*>(block);
    }
    const ScaledKernelArgs args = scaled_kernel_args(sp, nullptr, counts);
    const decode_groups::Grid g = decode_groups::grid_of(p.m, p.num_experts, p.n);
    const dim3 grid(static_cast<unsigned>(g.x), static_cast<unsigned>(g.y));
    decode_kernel(sp.a_dtype, sp.b_dtype, sp.scale_mode == GG_SCALE_BLOCKWISE)<<<grid, kThreads, 0, p.stream>>>(args);
    GG_LAUNCH_CHECK("scaled_gmm_decode_kernel");
    return GG_STATUS_SUCCESS;
}

}  // namespace gg
