// The contiguous sm90 grouped GEMM: our own persistent kernel for the MoE layout, where the rows of x are grouped
// by expert and w holds the experts' weights back to back. Built from CuTe's TMA and wgmma atoms; included by
// contiguous_gemm_sm90.cu only.
//
// Why our own kernel beside CUTLASS's grouped ones (docs/perf-notes.md v16):
// - One TMA descriptor over all of x and one over all of w (a 3-D tensor: n, k, expert), built once on the host.
//   CUTLASS's grouped kernels rewrite per-group descriptors in global memory whenever a CTA moves to another
//   expert, which on qwen-like's 64 experts is nearly every tile (3-4% of the time).
// - A reads its tile in four 64-row slabs and skips the slabs past the expert's last row; a warp group whose
//   128 rows are all past it, or its second 64-row atom, skips those wgmmas. The rows a tile holds beyond its
//   expert but before the slab's end belong to the next expert (or are past x, zero-filled by TMA): their
//   products land in accumulator rows that are never stored.
// - The epilogue goes through shared memory and writes whole 16-byte chunks, each warp instruction two full
//   256-byte row segments, and only rows of the tile's expert. Written straight from the accumulators (4 bytes a
//   lane, 16 bytes a row) the same kernel ran whole tiles at 0.89 of dense instead of 0.98.
//
// - Tiles are claimed from a counter as CTAs need them. Dealt round-robin, every CTA runs 34 or 35 of qwen-like's
//   4598 tiles whatever they cost, so the cheaper tail tiles above saved nothing: the kernel took as long as its
//   CTAs with 35 mostly whole tiles.
//
// The tile is 256x128x64 with four stages: one producer warp group (a single thread issues TMA and claims tiles),
// two consumer warp groups, each owning 128 contiguous rows of the tile as two 64x128 wgmma atoms. The tiles are
// numbered expert by expert (row blocks in order, the column tiles of a row block together, the k chunks of a column
// tile together); CTA c runs tile c first, then the tiles it claims (or, without a counter, c + grid, c + 2 grid, ...).
// The producer hands each tile number to the consumers through a small ring in shared memory.
//
// A call with few tiles (a decode step whose rows sit in one or two experts) would leave most SMs idle, so every CTA
// first decides from the experts' row counts (contiguous_tiling.h: choose_tiling, the same on every CTA) how many of
// an expert's rows a tile holds (256, 128 or 64: the rest of the tile's slabs are skipped as past the expert) and into
// how many k chunks each output tile is split. A split tile stores its fp32 products in the call's partial sums and
// counts itself done on its output tile's counter (zeroed by the preparation kernel); the warp group that finishes last
// adds the chunks in order and writes the output, so the result does not depend on which chunk finished first.
#pragma once

#include <cstdint>
#include <type_traits>

#include <cuda_runtime.h>

#include "cute/tensor.hpp"
#include "cute/arch/copy_sm90_desc.hpp"
#include "cute/arch/copy_sm90_tma.hpp"
#include "cute/atom/copy_traits_sm90_tma.hpp"
#include "cute/atom/mma_atom.hpp"
#include "cute/atom/mma_traits_sm90_gmma.hpp"
#include "cutlass/arch/barrier.h"
#include "cutlass/arch/reg_reconfig.h"
#include "cutlass/array.h"

#include "core/internal.h"
#include "cutlass_sm90/contiguous_gemm.h"
#include "cutlass_sm90/contiguous_tiling.h"
#include "cutlass_sm90/tile_choice.h"

namespace gg::cutlass_sm90::contiguous {

using namespace cute;

constexpr int kTileM = 256, kTileN = 128, kTileK = 64, kStages = 4;
constexpr int kSlabRows = 64, kSlabs = kTileM / kSlabRows;
constexpr int kThreads = 384;              // producer warp group + two consumer warp groups
constexpr int kConsumerThreads = 256;
constexpr int kRing = 4;                   // tile numbers the producer may publish ahead of the consumers
constexpr int kMaxExperts = kContiguousMaxExperts;
constexpr int kColumnChunks = kTileN / 8;  // 16-byte chunks of a tile row in the output

template <class T, bool TransB>
struct Config {
    using AtomA = GMMA::Layout_K_SW128_Atom<T>;
    using AtomB = std::conditional_t<TransB, GMMA::Layout_K_SW128_Atom<T>, GMMA::Layout_MN_SW128_Atom<T>>;
    // A stage as the wgmmas see it (256 rows) and as TMA fills it (64-row slabs): the same bytes, rows in order.
    using SmemA = decltype(tile_to_shape(AtomA{}, Shape<Int<kTileM>, Int<kTileK>, Int<kStages>>{}));
    using SmemASlab = decltype(tile_to_shape(AtomA{}, Shape<Int<kSlabRows>, Int<kTileK>>{}));
    using SmemASlabs = decltype(tile_to_shape(AtomA{}, Shape<Int<kSlabRows>, Int<kTileK>, Int<kSlabs * kStages>>{}));
    // An n-major B (the forward's w[e], k x n row-major) is tiled k first, so that each 64-column block of a stage
    // is one contiguous TMA box; tiled n first, each box was 8 k rows and the forward ran at 0.57 of dense.
    using StepB = std::conditional_t<TransB, Step<_1, _2, _3>, Step<_2, _1, _3>>;
    using SmemBStage = decltype(tile_to_shape(AtomB{}, Shape<Int<kTileN>, Int<kTileK>>{}, take<0, 2>(StepB{})));
    using SmemB = decltype(tile_to_shape(AtomB{}, Shape<Int<kTileN>, Int<kTileK>, Int<kStages>>{}, StepB{}));
    // One warp group's 128 rows: two 64x128 atoms along M.
    using Mma = decltype(make_tiled_mma(GMMA::ss_op_selector<T, T, float, Shape<_64, Int<kTileN>, Int<kTileK>>,
                                                             GMMA::Major::K,
                                                             TransB ? GMMA::Major::K : GMMA::Major::MN>()));

    static auto x_tensor(T const* x, int m, int k) {
        return make_tensor(make_gmem_ptr(x), make_shape(m, k), make_stride(int64_t(k), _1{}));
    }
    // w as (n, k, expert): forward w[e] is k x n row-major, trans_b w[e] is n x k row-major.
    static auto w_tensor(T const* w, int n, int k, int experts) {
        if constexpr (TransB) {
            return make_tensor(make_gmem_ptr(w), make_shape(n, k, experts),
                               make_stride(int64_t(k), _1{}, int64_t(n) * k));
        } else {
            return make_tensor(make_gmem_ptr(w), make_shape(n, k, experts),
                               make_stride(_1{}, int64_t(n), int64_t(n) * k));
        }
    }
    static auto make_tma_a(T const* x, int m, int k) {
        return make_tma_copy(SM90_TMA_LOAD{}, x_tensor(x, m, k), SmemASlab{});
    }
    static auto make_tma_b(T const* w, int n, int k, int experts) {
        return make_tma_copy(SM90_TMA_LOAD{}, w_tensor(w, n, k, experts), SmemBStage{});
    }
    using TmaA = decltype(make_tma_a(nullptr, 1, 1));
    using TmaB = decltype(make_tma_b(nullptr, 1, 1, 1));

    struct Params {
        TmaA tma_a;
        TmaB tma_b;
        T* out;
        // [experts][3] (m, n, k) as the preparation kernel wrote them: counts clamped to the rows of x.
        int32_t const* problem_sizes;
        // Zero at launch (the preparation kernel clears it); null: the static round-robin deal.
        uint32_t* claims;
        // Split-K: max_chunks x m x n fp32 partial sums (null when max_chunks is 1) and two counters an output tile,
        // zero at launch (the preparation kernel clears them with the claim counter).
        float* partials;
        uint32_t* counters;
        int experts, m, n, k, n_tiles, k_tiles;
        int sms, max_chunks;  // the card's SMs, which choose_tiling fills, and the partial sums' chunks
        // A call the device routes (contiguous_tiling.h: route_contiguous): the preparation kernel's route word, and
        // kRouteGrouped there means CUTLASS's grouped GEMM, launched after this kernel, runs the call. Null: always run.
        int32_t const* route;
    };

    struct Shared {
        alignas(1024) T a[kStages * kTileM * kTileK];
        alignas(1024) T b[kStages * kTileN * kTileK];
        // The epilogue's staging: 8 rows of a tile's 128 columns per consumer warp, each row padded by 16 bytes so
        // that the lanes writing one column pair of 8 rows hit different banks.
        alignas(16) T out[kConsumerThreads / 32][8][kTileN + 8];
        uint64_t full[kStages];
        uint64_t empty[kStages];
        uint64_t ring_full[kRing];
        uint64_t ring_empty[kRing];
        int32_t ring[kRing];
        int32_t tile_start[kMaxExperts + 1];
        int32_t row_start[kMaxExperts + 1];
        int32_t tile_rows, chunks, chunk_steps;  // choose_tiling's answer for this call
        int32_t split_last[2];                   // per consumer warp group: it finished its output tile's last chunk
    };
    static constexpr int kSharedBytes = int(sizeof(Shared)) + 1024;  // + room to align the base to 1024 bytes
    static_assert(kSharedBytes <= 227 * 1024, "the tile's stages must fit an sm90 SM's shared memory");
};

struct TileInfo {
    int expert, row_block, col_block, chunk, row0, live;
    int k_begin, k_steps;  // the chunk's 64-deep k steps
};

// Tile t of the numbering above, with `cursor` the expert of this CTA's previous tile (t only grows).
template <class Shared>
__device__ bool tile_at(Shared const& s, int experts, int n_tiles, int m, int k_tiles, int32_t t, int& cursor,
                        TileInfo& ti) {
    if (t >= s.tile_start[experts]) return false;
    while (s.tile_start[cursor + 1] <= t) ++cursor;
    const int32_t local = t - s.tile_start[cursor];
    const int32_t per_row_block = n_tiles * s.chunks;
    ti.expert = cursor;
    ti.row_block = local / per_row_block;
    const int32_t rest = local - ti.row_block * per_row_block;
    ti.col_block = rest / s.chunks;
    ti.chunk = rest - ti.col_block * s.chunks;
    ti.row0 = s.row_start[cursor] + ti.row_block * s.tile_rows;
    const int32_t end = min(s.row_start[cursor + 1], m);
    ti.live = min(end - ti.row0, s.tile_rows);
    ti.k_begin = ti.chunk * s.chunk_steps;
    ti.k_steps = min(k_tiles - ti.k_begin, s.chunk_steps);
    return true;
}

// Warp-wide sum (every lane gets it).
__device__ __forceinline__ int32_t warp_sum(int32_t v) { return __reduce_add_sync(0xffffffffu, v); }

// The 128 threads of one consumer warp group (named barriers 1 and 2; 0 is __syncthreads).
__device__ __forceinline__ void warp_group_sync(int half) {
    asm volatile("bar.sync %0, 128;" ::"r"(1 + half) : "memory");
}

// A split tile's epilogue, for one consumer warp group (its rows half * 128 ...): its fp32 products go to the chunk's
// partial sums, then the group counts itself done on the output tile's counter; the group that brings the count to
// `chunks` adds every chunk's sums in chunk order and writes the output. Writers fence before counting and the last
// reads through L2 (ld.global.cg), the other chunks having been written by other SMs.
template <class P, class Shared, class Acc>
__device__ __forceinline__ void split_epilogue(P const& p, Shared& s, Acc const& acc, int32_t output_tile,
                                               TileInfo const& ti, int chunks, int col0, int half, int tid,
                                               int warp_in_wg, int lane) {
    using T = std::remove_pointer_t<decltype(p.out)>;
    const int64_t n = p.n;
    const int64_t chunk_stride = int64_t(p.m) * n;
    float* part = p.partials + int64_t(ti.chunk) * chunk_stride + int64_t(ti.row0) * n + col0;
    // Lane l of warp w holds, for atom a, rows a*64 + 16w + l/4 (+8) and columns 8j + 2(l%4) (+1) (wgmma's layout);
    // rows past the expert are not stored (with one atom, the second atom's rows are all past it).
    CUTLASS_PRAGMA_UNROLL
    for (int atom = 0; atom < 2; ++atom) {
        CUTLASS_PRAGMA_UNROLL
        for (int h = 0; h < 2; ++h) {
            const int r = half * 128 + atom * 64 + warp_in_wg * 16 + 8 * h + lane / 4;
            if (r >= ti.live) continue;
            CUTLASS_PRAGMA_UNROLL
            for (int j = 0; j < kTileN / 8; ++j) {
                const int col = j * 8 + 2 * (lane % 4);
                const int i = atom * 64 + j * 4 + h * 2;
                // n is a multiple of 8: a column pair is wholly inside or wholly past it.
                if (col0 + col < p.n) {
                    *reinterpret_cast<float2*>(part + int64_t(r) * n + col) = make_float2(acc(i), acc(i + 1));
                }
            }
        }
    }
    __threadfence();
    warp_group_sync(half);
    if (tid == 0) {
        const uint32_t before = atomicAdd(p.counters + 2 * output_tile + half, 1u);
        s.split_last[half] = before == static_cast<uint32_t>(chunks - 1) ? 1 : 0;
    }
    warp_group_sync(half);
    if (s.split_last[half] == 0) return;
    __threadfence();
    const int rows_here = min(ti.live - half * 128, 128);
    const int64_t row0 = int64_t(ti.row0) + half * 128;
    for (int q = tid; q < rows_here * kColumnChunks; q += kConsumerThreads / 2) {
        const int r = q / kColumnChunks, cc = (q % kColumnChunks) * 8;
        if (col0 + cc >= p.n) continue;
        float sum[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
        const float* src = p.partials + (row0 + r) * n + col0 + cc;
        for (int c = 0; c < chunks; ++c) {
            const float4 lo = __ldcg(reinterpret_cast<const float4*>(src + c * chunk_stride));
            const float4 hi = __ldcg(reinterpret_cast<const float4*>(src + c * chunk_stride) + 1);
            sum[0] += lo.x;
            sum[1] += lo.y;
            sum[2] += lo.z;
            sum[3] += lo.w;
            sum[4] += hi.x;
            sum[5] += hi.y;
            sum[6] += hi.z;
            sum[7] += hi.w;
        }
        cutlass::AlignedArray<T, 8> v;  // 16 bytes, one store
        CUTLASS_PRAGMA_UNROLL
        for (int i = 0; i < 8; ++i) v[i] = T(sum[i]);
        *reinterpret_cast<cutlass::AlignedArray<T, 8>*>(p.out + (row0 + r) * n + col0 + cc) = v;
    }
}

template <class C, class T>
__global__ void __launch_bounds__(kThreads, 1) contiguous_gemm_kernel(const __grid_constant__ typename C::Params p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    using Shared = typename C::Shared;
    extern __shared__ char smem_raw[];
    Shared& s = *reinterpret_cast<Shared*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t(1023));
    const int wg = threadIdx.x / 128;
    const int warp = threadIdx.x / 32;
    const int lane = threadIdx.x % 32;

    if (threadIdx.x == 0) {
        for (int i = 0; i < kStages; ++i) {
            cutlass::arch::ClusterTransactionBarrier::init(&s.full[i], 1);
            cutlass::arch::ClusterBarrier::init(&s.empty[i], kConsumerThreads);
        }
        for (int i = 0; i < kRing; ++i) {
            cutlass::arch::ClusterBarrier::init(&s.ring_full[i], 1);
            cutlass::arch::ClusterBarrier::init(&s.ring_empty[i], kConsumerThreads);
        }
        cutlass::arch::fence_barrier_init();
    }
    if (threadIdx.x == 32) {
        cute::prefetch_tma_descriptor(p.tma_a.get_tma_descriptor());
        cute::prefetch_tma_descriptor(p.tma_b.get_tma_descriptor());
    }
    // Launched with programmatic dependent launch: the preparation kernel that writes problem_sizes may still be
    // running until here.
    asm volatile("griddepcontrol.wait;" ::: "memory");
    // Routed to CUTLASS's grouped GEMM: nothing to do. Every thread leaves here, after the wait above (so that this
    // grid's completion still implies the preparation kernel's, which the grouped GEMM after it relies on) and before
    // any barrier wait or TMA load (thread 0 has only initialised the barriers, thread 32 prefetched the descriptors).
    if (p.route != nullptr && *p.route == kRouteGrouped) return;
    // The call's tiling (choose_tiling, from the tile counts of each row height), then the experts' row and tile
    // offsets, one warp scanning 32 experts at a time. The row counts are read from global memory once, in a loop whose
    // loads do not wait for each other, and kept in row_start until the scan replaces them: every CTA waits for this
    // before its first tile, and a second pass over global memory cost decode calls about 1 us (H100).
    if (warp == 2) {
        int32_t rows = 0, tiles = 0;
        int32_t lane256 = 0, lane128 = 0, lane64 = 0;
#pragma unroll 4
        for (int base = 0; base < p.experts; base += 32) {
            const int e = base + lane;
            if (e < p.experts) {
                const int32_t rows_e = max(p.problem_sizes[3 * e], 0);
                s.row_start[e] = rows_e;
                lane256 += (rows_e + 255) / 256;
                lane128 += (rows_e + 127) / 128;
                lane64 += (rows_e + 63) / 64;
            }
        }
        TileCounts counts;
        counts.rows256 = int64_t(warp_sum(lane256)) * p.n_tiles;
        counts.rows128 = int64_t(warp_sum(lane128)) * p.n_tiles;
        counts.rows64 = int64_t(warp_sum(lane64)) * p.n_tiles;
        const Tiling tiling = choose_tiling(counts, p.k_tiles, p.sms, p.max_chunks);
        const int32_t tile_rows = tiling.tile_rows, chunks = tiling.chunks;
        if (lane == 0) {
            s.tile_rows = tile_rows;
            s.chunks = chunks;
            s.chunk_steps = tiling.chunk_steps;
        }
        for (int base = 0; base < p.experts; base += 32) {
            const int e = base + lane;
            const int32_t rows_e = e < p.experts ? s.row_start[e] : 0;  // this lane's own stash
            const int32_t tiles_e = (rows_e + tile_rows - 1) / tile_rows * p.n_tiles * chunks;
            int32_t sum_rows = rows_e, sum_tiles = tiles_e;
            for (int o = 1; o < 32; o <<= 1) {
                const int32_t r = __shfl_up_sync(0xffffffffu, sum_rows, o);
                const int32_t t = __shfl_up_sync(0xffffffffu, sum_tiles, o);
                if (lane >= o) {
                    sum_rows += r;
                    sum_tiles += t;
                }
            }
            if (e < p.experts) {
                s.row_start[e] = rows + sum_rows - rows_e;
                s.tile_start[e] = tiles + sum_tiles - tiles_e;
            }
            rows += __shfl_sync(0xffffffffu, sum_rows, 31);
            tiles += __shfl_sync(0xffffffffu, sum_tiles, 31);
        }
        if (lane == 0) {
            s.row_start[p.experts] = rows;
            s.tile_start[p.experts] = tiles;
        }
    }
    __syncthreads();

    if (wg == 0) {
        // Producer: one thread issues every TMA load.
        cutlass::arch::warpgroup_reg_dealloc<40>();
        if (threadIdx.x != 0) return;
        Tensor mA = p.tma_a.get_tma_tensor(make_shape(p.m, p.k));
        Tensor mB = p.tma_b.get_tma_tensor(make_shape(p.n, p.k, p.experts));
        Tensor sA = make_tensor(make_smem_ptr(s.a), typename C::SmemASlabs{});  // (64, TK, slabs x stages)
        Tensor sB = make_tensor(make_smem_ptr(s.b), typename C::SmemB{});       // (TN, TK, stages)
        int stage = 0, cursor = 0, slot = 0;
        uint32_t phase = 0, ring_phase = 0;
        for (int32_t t = blockIdx.x;;) {
            // Publish the tile (past the last one: the consumers' signal to stop). The arrive releases the store.
            cutlass::arch::ClusterBarrier::wait(&s.ring_empty[slot], ring_phase ^ 1);
            s.ring[slot] = t;
            cutlass::arch::ClusterBarrier::arrive(&s.ring_full[slot]);
            if (++slot == kRing) {
                slot = 0;
                ring_phase ^= 1;
            }
            TileInfo ti;
            if (!tile_at(s, p.experts, p.n_tiles, p.m, p.k_tiles, t, cursor, ti)) break;
            // The tile's rows start anywhere in x: its slabs are addressed from that row, not from a 64-row grid.
            Tensor gA = local_tile(domain_offset(make_coord(ti.row0, 0), mA), Shape<Int<kSlabRows>, Int<kTileK>>{},
                                   make_coord(_, _));  // (64, TK, slabs, k tiles)
            Tensor gB = local_tile(mB(_, _, ti.expert), Shape<Int<kTileN>, Int<kTileK>>{},
                                   make_coord(_, _));  // (TN, TK, n tiles, k tiles)
            auto [tAgA, tAsA] = tma_partition(p.tma_a, group_modes<0, 2>(sA), group_modes<0, 2>(gA));
            auto [tBgB, tBsB] = tma_partition(p.tma_b, group_modes<0, 2>(sB), group_modes<0, 2>(gB));
            const int slabs = (ti.live + kSlabRows - 1) / kSlabRows;
            const uint32_t bytes = uint32_t(slabs * kSlabRows * kTileK + kTileN * kTileK) * uint32_t(sizeof(T));
            for (int k = ti.k_begin; k < ti.k_begin + ti.k_steps; ++k) {
                cutlass::arch::ClusterBarrier::wait(&s.empty[stage], phase ^ 1);
                cutlass::arch::ClusterTransactionBarrier::arrive_and_expect_tx(&s.full[stage], bytes);
                for (int slab = 0; slab < slabs; ++slab) {
                    copy(p.tma_a.with(s.full[stage]), tAgA(_, slab, k), tAsA(_, stage * kSlabs + slab));
                }
                copy(p.tma_b.with(s.full[stage]), tBgB(_, ti.col_block, k), tBsB(_, stage));
                if (++stage == kStages) {
                    stage = 0;
                    phase ^= 1;
                }
            }
            // Claimed numbers only grow, and start past every CTA's first tile: a CTA's tiles stay in order.
            t = p.claims != nullptr ? static_cast<int32_t>(gridDim.x + atomicAdd(p.claims, 1u)) : t + int32_t(gridDim.x);
        }
        return;
    }

    // Consumers: warp group 1 holds the tile's rows 0-127, warp group 2 rows 128-255.
    cutlass::arch::warpgroup_reg_alloc<232>();
    const int half = wg - 1;
    const int tid = threadIdx.x - 128 * wg;
    const int warp_in_wg = tid / 32;
    Tensor sA = make_tensor(make_smem_ptr(s.a), typename C::SmemA{});  // (TM, TK, stages)
    Tensor sB = make_tensor(make_smem_ptr(s.b), typename C::SmemB{});  // (TN, TK, stages)
    Tensor sA_half = local_tile(sA, Shape<_128, Int<kTileK>, Int<kStages>>{}, make_coord(half, 0, 0));
    typename C::Mma mma;
    auto thr = mma.get_thread_slice(tid);
    Tensor tCrA = thr.make_fragment_A(thr.partition_A(sA_half));  // (MMA, 2, k blocks, stages)
    Tensor tCrB = thr.make_fragment_B(thr.partition_B(sB));       // (MMA, 1, k blocks, stages)
    Tensor acc = partition_fragment_C(mma, Shape<_128, Int<kTileN>>{});  // (MMA, 2, 1)
    static_assert(decltype(size(acc))::value == 128, "128 accumulators a thread: two 64x128 atoms");
    auto& staging = s.out[half * 4 + warp_in_wg];
    int stage = 0, cursor = 0, slot = 0;
    uint32_t phase = 0, ring_phase = 0;

    // One tile's k loop (`steps` stages) with the first kAtoms 64-row atoms of this warp group (0: wait and release
    // only).
    auto mainloop = [&](auto atoms, int steps) {
        constexpr int kAtoms = decltype(atoms)::value;
        mma.accumulate_ = GMMA::ScaleOut::Zero;
        int previous = 0;
        for (int k = 0; k < steps; ++k) {
            cutlass::arch::ClusterBarrier::wait(&s.full[stage], phase);
            if constexpr (kAtoms > 0) {
                warpgroup_fence_operand(acc);
                warpgroup_arrive();
                CUTLASS_PRAGMA_UNROLL
                for (int kb = 0; kb < size<2>(tCrA); ++kb) {
                    if constexpr (kAtoms == 2) {
                        cute::gemm(mma, tCrA(_, _, kb, stage), tCrB(_, _, kb, stage), acc);
                    } else {
                        cute::gemm(mma, tCrA(_, 0, kb, stage), tCrB(_, 0, kb, stage), acc(_, 0, 0));
                    }
                    mma.accumulate_ = GMMA::ScaleOut::One;
                }
                warpgroup_commit_batch();
                // The previous stage's wgmmas are done once at most this one's batch is in flight.
                warpgroup_wait<1>();
                warpgroup_fence_operand(acc);
                if (k > 0) cutlass::arch::ClusterBarrier::arrive(&s.empty[previous]);
            } else {
                cutlass::arch::ClusterBarrier::arrive(&s.empty[stage]);
            }
            previous = stage;
            if (++stage == kStages) {
                stage = 0;
                phase ^= 1;
            }
        }
        if constexpr (kAtoms > 0) {
            warpgroup_wait<0>();
            warpgroup_fence_operand(acc);
            if (steps > 0) cutlass::arch::ClusterBarrier::arrive(&s.empty[previous]);
        }
    };

    for (;;) {
        cutlass::arch::ClusterBarrier::wait(&s.ring_full[slot], ring_phase);
        const int32_t t = s.ring[slot];
        cutlass::arch::ClusterBarrier::arrive(&s.ring_empty[slot]);
        if (++slot == kRing) {
            slot = 0;
            ring_phase ^= 1;
        }
        TileInfo ti;
        if (!tile_at(s, p.experts, p.n_tiles, p.m, p.k_tiles, t, cursor, ti)) break;
        const int live_here = ti.live - half * 128;
        if (live_here > 64) {
            mainloop(Int<2>{}, ti.k_steps);
        } else if (live_here > 0) {
            mainloop(Int<1>{}, ti.k_steps);
        } else {
            mainloop(Int<0>{}, ti.k_steps);
            continue;
        }
        const int col0 = ti.col_block * kTileN;
        const int chunks = s.chunks;
        if (chunks > 1) {
            split_epilogue(p, s, acc, t / chunks, ti, chunks, col0, half, tid, warp_in_wg, lane);
            continue;
        }

        // Epilogue. Lane l of warp w holds, for atom a, rows a*64 + 16w + l/4 (+8) and columns 8j + 2(l%4) (+1),
        // j = 0..15 (wgmma's accumulator layout). Eight rows at a time go through the warp's staging rows, then
        // out in 16-byte chunks: four chunks a lane, two whole rows a warp instruction.
        CUTLASS_PRAGMA_UNROLL
        for (int atom = 0; atom < 2; ++atom) {
            CUTLASS_PRAGMA_UNROLL
            for (int h = 0; h < 2; ++h) {
                const int r0 = half * 128 + atom * 64 + warp_in_wg * 16 + 8 * h;  // this pass's first row
                if (r0 >= ti.live) continue;  // the same for the whole warp
                CUTLASS_PRAGMA_UNROLL
                for (int j = 0; j < kTileN / 8; ++j) {
                    const int i = atom * 64 + j * 4 + h * 2;
                    cutlass::Array<T, 2> v;
                    v[0] = T(acc(i));
                    v[1] = T(acc(i + 1));
                    *reinterpret_cast<cutlass::Array<T, 2>*>(&staging[lane / 4][j * 8 + 2 * (lane % 4)]) = v;
                }
                __syncwarp();
                CUTLASS_PRAGMA_UNROLL
                for (int q = 0; q < 4; ++q) {
                    const int chunk = q * 32 + lane;  // 8 rows x 16 chunks of 8 columns
                    const int rr = chunk / 16, cc = (chunk % 16) * 8;
                    // n is a multiple of 8: a chunk is wholly inside or wholly past it.
                    if (r0 + rr < ti.live && col0 + cc < p.n) {
                        const uint4 v = *reinterpret_cast<const uint4*>(&staging[rr][cc]);
                        *reinterpret_cast<uint4*>(p.out + (int64_t(ti.row0) + r0 + rr) * p.n + col0 + cc) = v;
                    }
                }
                __syncwarp();
            }
        }
    }
#endif
}

// Launches the kernel for p (c = a @ b[e], or b[e]^T with trans_b) on p.stream, `grid` CTAs, with programmatic
// dependent launch; `route`: Params::route. The sizes fit int: the backend's check_int_sizes has passed.
template <class T, bool TransB>
gg_status launch(const GmmProblem& p, const int32_t* problem_sizes, uint32_t* claims, const ContiguousSplit& split,
                 int grid, const int32_t* route) {
    using C = Config<T, TransB>;
    const int experts = static_cast<int>(p.num_experts), m = static_cast<int>(p.m), n = static_cast<int>(p.n),
              k = static_cast<int>(p.k);
    typename C::Params params{C::make_tma_a(static_cast<T const*>(p.a), m, k),
                              C::make_tma_b(static_cast<T const*>(p.b), n, k, experts),
                              static_cast<T*>(p.c),
                              problem_sizes,
                              claims,
                              split.max_chunks > 1 ? split.partials : nullptr,
                              split.counters,
                              experts,
                              m,
                              n,
                              k,
                              (n + kTileN - 1) / kTileN,
                              (k + kTileK - 1) / kTileK,
                              split.sms,
                              split.max_chunks > 1 && split.partials != nullptr && split.counters != nullptr
                                  ? split.max_chunks
                                  : 1,
                              route};
    auto* kernel = &contiguous_gemm_kernel<C, T>;
    // Every call, as CUTLASS's adapter does: the opt-in above 48 KB of shared memory holds for the current device.
    GG_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, C::kSharedBytes));

    cudaLaunchAttribute attribute;
    attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attribute.val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t config = {};
    config.gridDim = dim3(static_cast<unsigned>(grid));
    config.blockDim = dim3(kThreads);
    config.dynamicSmemBytes = C::kSharedBytes;
    config.stream = p.stream;
    config.attrs = &attribute;
    config.numAttrs = 1;
    GG_CUDA_CHECK(cudaLaunchKernelEx(&config, kernel, params));
    return GG_STATUS_SUCCESS;
}

}  // namespace gg::cutlass_sm90::contiguous
