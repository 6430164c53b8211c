// Per-group kernel arguments for the CUTLASS grouped-GEMM backends (sm80 and sm90 share this header).
//
// A grouped kernel wants, for every expert e, the GEMM size (M, N, K), pointers to its A, B and C and
// their leading dimensions, all in device memory. We build them on the device with one small kernel from
// the expert row offsets, so that host and device batch sizes take the same path and no call ever
// synchronises the host or allocates (the calls stay capturable in CUDA graphs):
//
//   host counts   -> offsets computed here, uploaded with cudaMemcpyAsync -> fill_group_arrays -> kernel
//   device counts -> scan_counts_and_fill_group_arrays (one block: scan, then fill)           -> kernel
//
// This header holds the types, the gmm semantics per group (describe_group) and the checks both backends
// share; group_arrays_fill.cuh builds the arrays. Header-only on purpose, in a folder of its own that neither backend
// owns: the sm90 TUs are compiled under other conditions than the sm80 ones, so neither folder links against the
// other. Calls without work never reach here: the dispatcher handles them (core/internal.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include <cuda_runtime.h>

#include "core/internal.h"

namespace gg::cutlass_grouped {

// Which tgale96 gmm form a call is; fixes the operand layouts of the kernel.
enum class Operands : int {
    kForward = 0,  // c[m,n] = a_e[rows,k] . b[e][k,n]      A row-major, B row-major
    kTransB = 1,   // c[m,n] = a_e[rows,k] . b[e][n,k]^T    A row-major, B column-major
    kTransA = 2,   // c[e][k,n] = a_e^T . b_e              A column-major (a_e^T), B row-major
};

inline Operands operands_of(const GmmProblem& p) {
    return p.trans_a ? Operands::kTransA : (p.trans_b ? Operands::kTransB : Operands::kForward);
}

// The GEMM one expert runs: sizes, element offsets of its operands from the base pointers, leading
// dimensions (elements), and whether its A/B come from the zero operand instead (see describe_group).
struct GroupDesc {
    int32_t m = 0, n = 0, k = 0;
    int64_t a_offset = 0, b_offset = 0, c_offset = 0;
    int64_t lda = 0, ldb = 0, ldc = 0;
    bool zero_operands = false;
};

// What describe_group needs to know about the call (plain values: it is passed to a kernel).
struct GroupRule {
    int64_t k = 0, n = 0;
    bool trans_a = false, trans_b = false, accumulate = false;
    // trans_a, expert with no rows, !accumulate: a K == 0 group is unsafe on both CUTLASS backends (the sm90
    // kernels leave their accumulators uninitialised; the sm80 multistage mainloop reads a k-tile past A), so
    // such a group runs K = 1 on a zero A column and zero B row instead (the epilogue then writes exact zeros).
    bool zero_operand_for_empty = false;
    // trans_a, expert with no rows, !accumulate: the group gets no tiles (M = 0) and its zeros are written apart, by a
    // memset-like kernel (cutlass_common/zero_empty_experts.cuh, cutlass-sm90), which does it near copy bandwidth where
    // the GEMM's K = 1 groups did not. Never set together with zero_operand_for_empty (make_group_rule).
    bool empty_filled_apart = false;
    // The expert with the most rows takes group 0 and expert 0 its group (group_slot), so that a tile walk that deals
    // groups in order starts the longest reductions first (weight gradients on cutlass-sm90: tile_choice.h,
    // largest_expert_first). The groups' order is the kernels' only; offsets and outputs stay per expert.
    bool largest_first = false;
    // trans_a, > 0: experts with fewer rows than this, empty ones included, get no tiles (M = 0): the decode
    // weight-gradient kernel, launched beside the GEMM, writes them (cutlass-sm90: tile_choice.h,
    // decode_weight_gradient_short_rows). 0: every expert is the GEMM's.
    int64_t gemm_min_rows = 0;
};

// The group that expert e's arrays occupy when `largest` (an expert index, or -1: none) is moved to group 0: the
// largest expert and expert 0 trade places, every other expert keeps its own.
__host__ __device__ inline int64_t group_slot(int64_t e, int64_t largest) {
    if (largest <= 0) return e;
    return e == largest ? 0 : (e == 0 ? largest : e);
}

// The expert with more rows, the lower index on ties (both halves of the library pick the same one).
__host__ __device__ inline bool more_rows(int64_t rows1, int64_t expert1, int64_t rows2, int64_t expert2) {
    return rows1 > rows2 || (rows1 == rows2 && expert1 < expert2);
}

// The tgale96 gmm semantics, for expert e with rows [row_begin, row_begin + rows).
// Offsets are 64-bit: a, b and c may each hold more than 2^31 elements.
__host__ __device__ inline GroupDesc describe_group(const GroupRule& r, int64_t e, int64_t row_begin, int64_t rows) {
    GroupDesc g;
    if (!r.trans_a) {
        // c[rows of e, :] = a[rows of e, :] . op(b[e]);  B is [k,n] row-major, or [n,k] row-major = [k,n] column-major.
        g.m = static_cast<int32_t>(rows);
        g.n = static_cast<int32_t>(r.n);
        g.k = static_cast<int32_t>(r.k);
        g.a_offset = row_begin * r.k;
        g.b_offset = e * r.k * r.n;
        g.c_offset = row_begin * r.n;
        g.lda = r.k;
        g.ldb = r.trans_b ? r.k : r.n;
        g.ldc = r.n;
        return g;
    }
    // c[e] [k,n] = a_e^T . b_e: M = k, N = n, K = rows. a_e [rows,k] row-major is a_e^T [k,rows] column-major, ld k.
    g.m = static_cast<int32_t>(r.k);
    g.n = static_cast<int32_t>(r.n);
    g.k = static_cast<int32_t>(rows);
    g.a_offset = row_begin * r.k;
    g.b_offset = row_begin * r.n;
    g.c_offset = e * r.k * r.n;
    g.lda = r.k;
    g.ldb = r.n;
    g.ldc = r.n;
    if (rows < r.gemm_min_rows) {
        g.m = 0;  // the decode weight-gradient kernel's expert (GroupRule::gemm_min_rows)
        return g;
    }
    if (rows == 0) {
        if (r.accumulate || r.empty_filled_apart) {
            g.m = 0;  // c[e] += 0: nothing to do, or c[e] = 0 written apart: give the group no tiles.
        } else if (r.zero_operand_for_empty) {
            g.k = 1;  // c[e] = 0 . 0 (see GroupRule::zero_operand_for_empty)
            g.zero_operands = true;
        }
        // else K == 0: the kernel writes alpha * 0 + beta * c = 0.
    }
    return g;
}

// The most experts the device-counts fill kernel of one thread per expert takes (group_arrays_fill.cuh:
// scan_counts_and_fill_group_arrays_small); more go to the one-block scan of any number.
constexpr int kSmallScanMaxExperts = 1024;

// Device arrays of one call, all inside the workspace block. Element types are what both CUTLASS APIs read:
// sm80 GemmCoord and sm90 Shape<int,int,int> are three ints (M, N, K); sm80 leading dimensions are int64
// and every sm90 stride type used here is a tuple with exactly one int64 (the leading dimension). The
// kernel TUs static_assert these layouts.
struct GroupArrays {
    int64_t* offsets = nullptr;        // [E + 1] expert row offsets
    int32_t* problem_sizes = nullptr;  // [E][3] (M, N, K)
    void** ptr_a = nullptr;            // [E]
    void** ptr_b = nullptr;            // [E]
    void** ptr_c = nullptr;            // [E] (C and D: the output is read back only with accumulate)
    int64_t* lda = nullptr;            // [E]
    int64_t* ldb = nullptr;            // [E]
    int64_t* ldc = nullptr;            // [E]
    void* zeros = nullptr;             // zero operand (zero_bytes), or null
    size_t zero_bytes = 0;
    void* kernel_workspace = nullptr;  // the CUTLASS kernel's own workspace (kernel_workspace_bytes), or null
    size_t kernel_workspace_bytes = 0;
    uint32_t* tile_claims = nullptr;   // cutlass-sm90's claimed-run counter, zeroed by the fill kernel
    int64_t claim_words = 1;           // counters at tile_claims, all zeroed by the fill kernel (the contiguous
                                       // kernel's split-K counts its chunks after the claim counter)
    // cutlass-sm90's device choice between its contiguous kernel and the grouped GEMM (tile_choice.h:
    // device_route), both null without one: the route word the fill kernel writes (contiguous_tiling.h:
    // kRouteContiguous or kRouteGrouped), and the contiguous kernel's [E][3] (M, N, K) by expert, the real rows
    // whichever kernel runs (problem_sizes above then gives the grouped GEMM's groups no rows when the contiguous
    // kernel was chosen).
    int32_t* route = nullptr;
    int32_t* contiguous_sizes = nullptr;
};

// Everything a kernel configuration needs to launch.
struct GroupedLaunch {
    GroupArrays arrays;
    int32_t problem_count = 0;
    // [E][3] (M, N, K) when the counts were on the host (lets a kernel size its grid), else null.
    const int32_t* host_problem_sizes = nullptr;
    float alpha = 1.0f;
    float beta = 0.0f;  // 1 with accumulate
    int device = 0;
    int sm_count = 0;
    cudaStream_t stream = nullptr;
    // cutlass-sm90 only: the work, in rows reduced, of each run of consecutive output tiles dealt to one persistent
    // cluster (cutlass_sm90/group_tile_order.cuh); 0 deals single tiles.
    int32_t tile_run_rows = 0;
    // cutlass-sm90 only, clusters of one CTA: > 0 lets each cluster claim its next run when it needs it, at most this
    // many tiles ahead (arrays.tile_claims); 0 keeps the static round-robin deal.
    int32_t tile_claim_ahead = 0;
    // cutlass-sm90 only, with claims: tiles that reduce over at least this many rows are long, and nothing is claimed
    // ahead of one (group_tile_order.cuh: GroupTileShapes::long_rows); 0: no limit.
    int32_t tile_long_rows = 0;
    // cutlass-sm90 only: each group's tiles are walked in bands this many tile units wide (group_tile_order.cuh);
    // 0: no bands.
    int32_t tile_band = 0;
    // cutlass-sm90 only: walk each group's tiles along N first instead of M (tile_choice.h: raster_along_n).
    bool raster_along_n = false;
};

// Host-side part of a call, computed before the workspace is acquired (the kernel choice may depend on it).
struct HostGroups {
    bool available = false;              // counts were on the host
    std::vector<int64_t> offsets;        // [E + 1]
    std::vector<int32_t> problem_sizes;  // [E][3], in group order (group_slot)
    int32_t largest = -1;                // the expert moved to group 0 (GroupRule::largest_first), or -1
};

// How a backend writes the zeros of empty experts in non-accumulating weight gradients (GroupRule).
enum class EmptyExperts : int {
    kZeroOperand = 0,  // K = 1 groups on a zero operand (cutlass-sm80)
    kFilledApart = 1,  // no tiles; the backend launches zero_empty_experts (cutlass-sm90)
};

inline GroupRule make_group_rule(const GmmProblem& p, EmptyExperts empty) {
    GroupRule r;
    r.k = p.k;
    r.n = p.n;
    r.trans_a = p.trans_a;
    r.trans_b = p.trans_b;
    r.accumulate = p.accumulate;
    const bool empty_writes_zeros = p.trans_a && !p.accumulate;
    r.zero_operand_for_empty = empty == EmptyExperts::kZeroOperand && empty_writes_zeros;
    r.empty_filled_apart = empty == EmptyExperts::kFilledApart && empty_writes_zeros;
    return r;
}

// Host counts (already validated by the API layer: non-negative, summing to m) -> offsets and problem sizes.
inline gg_status build_host_groups(const GmmProblem& p, const GroupRule& rule, HostGroups& out) {
    out = HostGroups{};
    if (p.counts_on_device) return GG_STATUS_SUCCESS;
    try {
        const int64_t experts = p.num_experts;
        out.offsets.resize(static_cast<size_t>(experts) + 1);
        out.problem_sizes.resize(static_cast<size_t>(experts) * 3);
        if (rule.largest_first) {
            out.largest = 0;
            for (int64_t e = 1; e < experts; ++e) {
                if (more_rows(p.batch_sizes[e], e, p.batch_sizes[out.largest], out.largest)) out.largest = static_cast<int32_t>(e);
            }
        }
        int64_t row = 0;
        for (int64_t e = 0; e < experts; ++e) {
            out.offsets[e] = row;
            const GroupDesc g = describe_group(rule, e, row, p.batch_sizes[e]);
            const int64_t slot = group_slot(e, out.largest);
            out.problem_sizes[3 * slot + 0] = g.m;
            out.problem_sizes[3 * slot + 1] = g.n;
            out.problem_sizes[3 * slot + 2] = g.k;
            row += p.batch_sizes[e];
        }
        out.offsets[experts] = row;
    } catch (const std::bad_alloc&) {
        return fail(GG_STATUS_OUT_OF_MEMORY, "cutlass: cannot allocate host tables for %lld experts",
                    static_cast<long long>(p.num_experts));
    }
    out.available = true;
    return GG_STATUS_SUCCESS;
}

// ---- checks and shortcuts both backends share --------------------------------------------------------

// Per-group sizes are int in both CUTLASS APIs, and so are the tile counters of their schedulers.
inline gg_status check_int_sizes(const GmmProblem& p, const char* backend) {
    constexpr int64_t kIntMax = 0x7fffffff;
    if (p.m > kIntMax || p.k > kIntMax || p.n > kIntMax || p.num_experts > kIntMax) {
        return fail(GG_STATUS_NOT_SUPPORTED,
                    "%s: m=%lld, k=%lld, n=%lld and num_experts=%lld must each be below 2^31", backend,
                    static_cast<long long>(p.m), static_cast<long long>(p.k), static_cast<long long>(p.n),
                    static_cast<long long>(p.num_experts));
    }
    // Upper bound on output tiles of the smallest tile used (64 x 128 is below every configuration here).
    const int64_t tiles_n = (p.n + 127) / 128;
    const int64_t tiles = p.trans_a ? p.num_experts * ((p.k + 63) / 64) * tiles_n
                                    : (p.m / 64 + p.num_experts) * tiles_n;
    if (tiles > kIntMax) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s: the call has about %lld output tiles, more than the 2^31 the kernel "
                    "schedulers count", backend, static_cast<long long>(tiles));
    }
    return GG_STATUS_SUCCESS;
}

// Host counts cannot be uploaded inside a stream capture (a pageable copy cannot be captured).
inline gg_status check_capture(const GmmProblem& p, const char* backend) {
    if (p.counts_on_device) return GG_STATUS_SUCCESS;
    if (p.capturing) {  // asked once for the whole call by the API layer
        return fail(GG_STATUS_NOT_SUPPORTED, "%s: host batch sizes cannot be used while the stream is being captured "
                    "(pass device batch sizes)", backend);
    }
    return GG_STATUS_SUCCESS;
}

// A CUTLASS call that returned `status_text` (cutlassGetStatusString) instead of kSuccess. CUTLASS returns
// kErrorInternal for failed CUDA calls without clearing them: take (and clear) that error into the message.
inline gg_status cutlass_failure(const char* backend, const char* what, const char* status_text) {
    const cudaError_t cuda = cudaGetLastError();
    if (cuda != cudaSuccess) {
        return fail(GG_STATUS_CUTLASS_ERROR, "%s: %s: %s (CUDA: %s: %s)", backend, what, status_text,
                    cudaGetErrorName(cuda), cudaGetErrorString(cuda));
    }
    return fail(GG_STATUS_CUTLASS_ERROR, "%s: %s: %s", backend, what, status_text);
}

inline bool aligned(const void* ptr, size_t bytes) {
    return reinterpret_cast<uintptr_t>(ptr) % bytes == 0;
}

}  // namespace gg::cutlass_grouped
