// Builds the per-group arrays of group_arrays.cuh on the device: workspace layout, offsets upload or
// computation, and the fill kernel. Included only by the two backend dispatch TUs (backend_sm80.cu,
// backend_sm90.cu), not by the kernel TUs, so the small kernel is compiled once per backend.
#pragma once

#include "backends/counts_scan.cuh"
#include "core/aligned_layout.h"
#include "cutlass_common/block_largest_expert.cuh"
#include "cutlass_common/block_route_choice.cuh"
#include "cutlass_common/group_arrays.cuh"
#include "cutlass_common/largest_expert_split.cuh"

namespace gg::cutlass_grouped {

// Writes the arrays of expert e, whose rows are [begin, begin + rows), into group `slot` (group_slot).
__device__ __forceinline__ void write_group(int64_t e, int64_t slot, int64_t begin, int64_t rows, const GroupRule& rule,
                                            const char* a, const char* b, char* c, int32_t element_bytes,
                                            const GroupArrays& out) {
    const GroupDesc g = describe_group(rule, e, begin, rows);
    out.problem_sizes[3 * slot + 0] = g.m;
    out.problem_sizes[3 * slot + 1] = g.n;
    out.problem_sizes[3 * slot + 2] = g.k;
    const int64_t es = element_bytes;
    out.ptr_a[slot] = g.zero_operands ? out.zeros : const_cast<char*>(a) + g.a_offset * es;
    out.ptr_b[slot] = g.zero_operands ? out.zeros : const_cast<char*>(b) + g.b_offset * es;
    out.ptr_c[slot] = c + g.c_offset * es;
    out.lda[slot] = g.lda;
    out.ldb[slot] = g.ldb;
    out.ldc[slot] = g.ldc;
}

// Clears the call's scratch: the zero operand, 16-byte words first, first + step, ..., and the claim counters of
// cutlass-sm90's tile walks, which the GEMM after this kernel reads only once this grid is complete.
__device__ __forceinline__ void clear_scratch(int64_t first, int64_t step, const GroupArrays& out) {
    if (out.tile_claims != nullptr) {
        for (int64_t i = first; i < out.claim_words; i += step) out.tile_claims[i] = 0;
    }
    const int64_t zero_words = static_cast<int64_t>(out.zero_bytes / sizeof(uint4));
    for (int64_t i = first; i < zero_words; i += step) {
        static_cast<uint4*>(out.zeros)[i] = make_uint4(0, 0, 0, 0);
    }
}

// Writes the arrays of experts first, first + step, ... from the offsets already in out.offsets; `largest` (or -1)
// takes group 0 (group_slot).
__device__ __forceinline__ void fill_group_arrays_range(int64_t first, int64_t step, const GroupRule& rule,
                                                        int32_t experts, int32_t largest, const char* a, const char* b,
                                                        char* c, int32_t element_bytes, const GroupArrays& out) {
    clear_scratch(first, step, out);
    for (int64_t e = first; e < experts; e += step) {
        const int64_t begin = out.offsets[e];
        // block_scan_counts reads the device counts twice; if the caller changed them in between, one expert's end
        // could come before its start. Such a group is empty rather than negative (offsets stay within [0, m]).
        const int64_t end = out.offsets[e + 1];
        write_group(e, group_slot(e, largest), begin, end > begin ? end - begin : 0, rule, a, b, c, element_bytes, out);
    }
}

// Offsets already on the device (host counts): thread per expert writes the arrays; `largest`: the host's
// (HostGroups::largest).
// `static`: each backend TU gets its own copy, so neither backend folder links against the other.
static __global__ void fill_group_arrays(GroupRule rule, int32_t experts, int32_t largest, const char* a, const char* b,
                                         char* c, int32_t element_bytes, GroupArrays out) {
    fill_group_arrays_range(static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x,
                            static_cast<int64_t>(gridDim.x) * blockDim.x, rule, experts, largest, a, b, c,
                            element_bytes, out);
}

// Whether a device-counts fill kernel looks for the largest expert: to move it to group 0, or for the split's plan.
__device__ __forceinline__ bool needs_largest_expert(const GroupRule& rule, const LargestExpertSplit& plan) {
    return rule.largest_first || plan.chunks >= 2;
}

// Device counts, any number of experts: one block scans them into the offsets (block_scan_counts) and then
// writes the arrays; then, for a call that may split its largest expert, the split's plan (largest_expert_split.cuh).
static __global__ void __launch_bounds__(kCountsScanThreads)
scan_counts_and_fill_group_arrays(const int64_t* counts, int64_t m, int32_t* check_flag, GroupRule rule,
                                  int32_t experts, const char* a, const char* b, char* c, int32_t element_bytes,
                                  GroupArrays out, LargestExpertSplit plan) {
    block_scan_counts(counts, experts, m, out.offsets, check_flag, nullptr);
    __syncthreads();  // the offsets other threads of this block wrote
    // Kernel arguments: the whole block takes the same branches.
    const int32_t largest = needs_largest_expert(rule, plan) ? block_largest_expert(out.offsets, experts) : 0;
    const int32_t first = rule.largest_first ? largest : -1;
    fill_group_arrays_range(threadIdx.x, blockDim.x, rule, experts, first, a, b, c, element_bytes, out);
    if (plan.chunks >= 2) {
        plan_largest_expert_split(out.offsets, largest, group_slot(largest, first), m, a, b, element_bytes,
                                  out.problem_sizes, plan);
    }
}

// Device counts, at most kSmallScanMaxExperts experts (every MoE model we know): one thread per expert, a
// warp-shuffle scan, and each thread writes its own expert's arrays from registers. The GEMM waits for this
// kernel, so its few microseconds are on the critical path of every call; this is the short version of
// block_scan_counts with the same semantics (negatives count as 0, sums saturate, offsets clamp to m, and
// a negative count or a sum other than m raises the check flag). Its limit, kSmallScanMaxExperts, is in group_arrays.cuh
// (the sm90 tile choice asks it too: only this kernel makes the device route choice).

__device__ __forceinline__ int64_t warp_inclusive_scan(int64_t v, int lane) {
    for (int d = 1; d < 32; d <<= 1) {
        const int64_t up = __shfl_up_sync(0xffffffffu, v, d);
        if (lane >= d) v = scan_saturating_add(v, up);
    }
    return v;
}

// cutlass-sm90's device route choice (GroupArrays::route; tile_choice.h: device_route), from the rows of thread t's
// expert (t < experts) by the call's rule: every thread of the block calls it. Writes the route word and the
// contiguous kernel's sizes of expert t, by expert (the order that kernel reads), and returns the rows that expert's
// group of the grouped GEMM gets: none when the contiguous kernel takes the call, so that the kernel not chosen finds
// no work (forwards: a group of no rows has no tiles, as an empty expert's always had).
__device__ __forceinline__ int64_t route_call(int32_t t, int32_t experts, int64_t begin, int64_t rows,
                                              const cutlass_sm90::contiguous::RouteRule& route, const GroupRule& rule,
                                              const GroupArrays& out) {
    const bool contiguous = block_route_contiguous(t < experts ? rows : 0, route);
    if (t == 0) *out.route = contiguous ? cutlass_sm90::contiguous::kRouteContiguous
                                        : cutlass_sm90::contiguous::kRouteGrouped;
    if (t < experts) {
        const GroupDesc g = describe_group(rule, t, begin, rows);
        out.contiguous_sizes[3 * t + 0] = g.m;
        out.contiguous_sizes[3 * t + 1] = g.n;
        out.contiguous_sizes[3 * t + 2] = g.k;
    }
    return contiguous ? 0 : rows;
}

// `route` active (route_active): the device route choice above (cutlass-sm90 forwards only, never with a split plan).
static __global__ void __launch_bounds__(kSmallScanMaxExperts)
scan_counts_and_fill_group_arrays_small(const int64_t* counts, int64_t m, int32_t* check_flag, GroupRule rule,
                                        int32_t experts, const char* a, const char* b, char* c,
                                        int32_t element_bytes, GroupArrays out, LargestExpertSplit plan,
                                        cutlass_sm90::contiguous::RouteRule route) {
    __shared__ int64_t warp_totals[32];
    __shared__ int negative_seen;
    const int t = threadIdx.x, lane = t & 31, warp = t >> 5, warps = blockDim.x >> 5;
    if (t == 0) negative_seen = 0;

    const int64_t raw = t < experts ? counts[t] : 0;
    const int64_t count = raw > 0 ? raw : 0;
    const int64_t inclusive_in_warp = warp_inclusive_scan(count, lane);
    const int64_t shifted = __shfl_up_sync(0xffffffffu, inclusive_in_warp, 1);  // every lane must take part
    const int64_t before_in_warp = lane == 0 ? 0 : shifted;
    if (lane == 31) warp_totals[warp] = inclusive_in_warp;
    __syncthreads();
    if (warp == 0) {
        const int64_t total_of_warp = lane < warps ? warp_totals[lane] : 0;
        const int64_t inclusive = warp_inclusive_scan(total_of_warp, lane);
        __syncwarp();
        warp_totals[lane] = inclusive;
    }
    __syncthreads();
    const int64_t before_warp = warp == 0 ? 0 : warp_totals[warp - 1];
    const int64_t total = warp_totals[warps - 1];

    clear_scratch(t, blockDim.x, out);
    // Clamping each prefix to m clamps each group so that none runs past row m.
    const int64_t begin = scan_min64(scan_saturating_add(before_in_warp, before_warp), m);
    const int64_t end = scan_min64(scan_saturating_add(inclusive_in_warp, before_warp), m);
    // Kernel arguments: the whole block takes the same branches.
    const int32_t largest = needs_largest_expert(rule, plan) ? block_largest_expert(t < experts ? end - begin : -1, t) : 0;
    const int32_t first = rule.largest_first ? largest : -1;
    // A kernel argument: the whole block takes the branch (the choice synchronises it).
    const int64_t group_rows = cutlass_sm90::contiguous::route_active(route)
                                   ? route_call(t, experts, begin, end - begin, route, rule, out)
                                   : end - begin;
    if (t < experts) {
        if (raw < 0) atomicOr(&negative_seen, 1);
        out.offsets[t] = begin;
        if (t == experts - 1) out.offsets[experts] = end;
        write_group(t, group_slot(t, first), begin, group_rows, rule, a, b, c, element_bytes, out);
    }
    if (check_flag != nullptr) {
        __syncthreads();
        if (t == 0 && (negative_seen != 0 || total != m)) *check_flag = GG_STATUS_INVALID_COUNTS;
    }
    // `plan` is the same for every thread, so the whole block takes the branch (the plan synchronises it).
    if (plan.chunks >= 2) {
        plan_largest_expert_split(out.offsets, largest, group_slot(largest, first), m, a, b, element_bytes,
                                  out.problem_sizes, plan);
    }
}

// Byte layout of the workspace block: each array on its own 256-byte boundary (core/aligned_layout.h).
// With a device route choice (`route`), the route word and the contiguous kernel's sizes follow the claim counters.
struct WorkspacePlan {
    size_t offsets = 0, problem_sizes = 0, ptr_a = 0, ptr_b = 0, ptr_c = 0, lda = 0, ldb = 0, ldc = 0;
    size_t zeros = 0, kernel_workspace = 0, tile_claims = 0, route = 0, contiguous_sizes = 0, total = 0;

    WorkspacePlan(int64_t experts, size_t zero_bytes, size_t kernel_workspace_bytes, int64_t claim_words,
                  bool with_route = false) {
        const size_t e = static_cast<size_t>(experts);
        AlignedLayout block;
        offsets = block.take((e + 1) * sizeof(int64_t));
        problem_sizes = block.take(e * 3 * sizeof(int32_t));
        ptr_a = block.take(e * sizeof(void*));
        ptr_b = block.take(e * sizeof(void*));
        ptr_c = block.take(e * sizeof(void*));
        lda = block.take(e * sizeof(int64_t));
        ldb = block.take(e * sizeof(int64_t));
        ldc = block.take(e * sizeof(int64_t));
        zeros = block.take(zero_bytes);
        kernel_workspace = block.take(kernel_workspace_bytes);
        tile_claims = block.take(static_cast<size_t>(claim_words) * sizeof(uint32_t));
        if (with_route) {
            route = block.take(sizeof(int32_t));
            contiguous_sizes = block.take(e * 3 * sizeof(int32_t));
        }
        total = block.total();
    }
};

// Bytes of zero operand a call needs: one A column (k elements) and one B row (n elements) share it.
inline size_t zero_operand_bytes(const GmmProblem& p, const GroupRule& rule) {
    if (!rule.zero_operand_for_empty) return 0;
    const size_t elements = static_cast<size_t>(p.k > p.n ? p.k : p.n);
    return (elements * dtype_size(p.dtype) + 15) / 16 * 16;
}

// Acquires the workspace, brings the offsets to the device and fills the per-group arrays on `p.stream`.
// Everything, the CUTLASS kernel's own `kernel_workspace_bytes` included, lives in one block acquired once
// per call: acquiring twice could reallocate the block under work already enqueued. `plan_split(out)`, called once the
// arrays' places are known, gives the split plan the fill kernel runs after it (device counts only: host counts never
// split, since the kernels' host tile counts would disagree with the device's); a plan of fewer than 2 chunks: none.
// `claim_words`: counters at out.tile_claims (at least 1), zeroed with the rest. `route` active: the fill kernel also
// makes cutlass-sm90's device route choice by that rule (route_call; out.route and out.contiguous_sizes get
// their places): forwards with device counts of at most kSmallScanMaxExperts experts and no split plan only.
template <typename PlanSplit>
inline gg_status prepare_group_arrays(Context& ctx, const GmmProblem& p, const GroupRule& rule, const HostGroups& host,
                                      size_t kernel_workspace_bytes, GroupArrays& out, PlanSplit&& plan_split,
                                      int64_t claim_words = 1, cutlass_sm90::contiguous::RouteRule route_rule = {}) {
    if (ctx.workspace == nullptr) {
        return fail(GG_STATUS_INTERNAL_ERROR, "cutlass: the handle has no workspace");
    }
    const bool route = cutlass_sm90::contiguous::route_active(route_rule);
    if (route && (host.available || p.trans_a || p.num_experts > kSmallScanMaxExperts)) {
        return fail(GG_STATUS_INTERNAL_ERROR, "cutlass: a device route choice for a %s with %s counts and %lld experts "
                    "(forwards with device counts of at most %d experts only)", p.trans_a ? "weight gradient" : "forward",
                    host.available ? "host" : "device", static_cast<long long>(p.num_experts), kSmallScanMaxExperts);
    }
    const size_t zero_bytes = zero_operand_bytes(p, rule);
    if (claim_words < 1) claim_words = 1;
    const WorkspacePlan plan(p.num_experts, zero_bytes, kernel_workspace_bytes, claim_words, route);
    void* block = nullptr;
    GG_TRY(workspace_acquire(*ctx.workspace, plan.total, p, &block));
    char* base = static_cast<char*>(block);

    out = GroupArrays{};
    out.offsets = reinterpret_cast<int64_t*>(base + plan.offsets);
    out.problem_sizes = reinterpret_cast<int32_t*>(base + plan.problem_sizes);
    out.ptr_a = reinterpret_cast<void**>(base + plan.ptr_a);
    out.ptr_b = reinterpret_cast<void**>(base + plan.ptr_b);
    out.ptr_c = reinterpret_cast<void**>(base + plan.ptr_c);
    out.lda = reinterpret_cast<int64_t*>(base + plan.lda);
    out.ldb = reinterpret_cast<int64_t*>(base + plan.ldb);
    out.ldc = reinterpret_cast<int64_t*>(base + plan.ldc);
    out.zeros = zero_bytes ? base + plan.zeros : nullptr;
    out.zero_bytes = zero_bytes;
    out.kernel_workspace = kernel_workspace_bytes ? base + plan.kernel_workspace : nullptr;
    out.kernel_workspace_bytes = kernel_workspace_bytes;
    out.tile_claims = reinterpret_cast<uint32_t*>(base + plan.tile_claims);
    out.claim_words = claim_words;
    out.route = route ? reinterpret_cast<int32_t*>(base + plan.route) : nullptr;
    out.contiguous_sizes = route ? reinterpret_cast<int32_t*>(base + plan.contiguous_sizes) : nullptr;

    const char* a = static_cast<const char*>(p.a);
    const char* b = static_cast<const char*>(p.b);
    char* c = static_cast<char*>(p.c);
    const int32_t element_bytes = static_cast<int32_t>(dtype_size(p.dtype));
    const int32_t experts = static_cast<int32_t>(p.num_experts);
    const LargestExpertSplit split_plan = plan_split(static_cast<const GroupArrays&>(out));
    if (split_plan.chunks >= 2 && (host.available || split_plan.chunks > 32 || route)) {
        return fail(GG_STATUS_INTERNAL_ERROR, "cutlass: a split plan of %d chunks with %s counts%s (device counts, at "
                    "most 32 chunks and no route choice only)", split_plan.chunks, host.available ? "host" : "device",
                    route ? " and a route choice" : "");
    }
    if (!host.available) {
        int32_t* check_flag = p.check_counts ? ctx.device_check_flag : nullptr;
        if (experts <= kSmallScanMaxExperts) {
            // At least one warp: the plan's chunk threads (at most 32) and its warp reduction.
            const unsigned threads = static_cast<unsigned>((experts + 31) / 32 * 32);
            scan_counts_and_fill_group_arrays_small<<<1, threads, 0, p.stream>>>(p.batch_sizes, p.m, check_flag, rule,
                                                                                experts, a, b, c, element_bytes, out,
                                                                                split_plan, route_rule);
            GG_LAUNCH_CHECK("scan_counts_and_fill_group_arrays_small");
        } else {
            scan_counts_and_fill_group_arrays<<<1, kCountsScanThreads, 0, p.stream>>>(
                p.batch_sizes, p.m, check_flag, rule, experts, a, b, c, element_bytes, out, split_plan);
            GG_LAUNCH_CHECK("scan_counts_and_fill_group_arrays");
        }
        return GG_STATUS_SUCCESS;
    }

    // A pageable source is fine: cudaMemcpyAsync returns once it has staged the data, so `host` may go.
    const size_t offset_bytes = (static_cast<size_t>(p.num_experts) + 1) * sizeof(int64_t);
    GG_CUDA_CHECK(cudaMemcpyAsync(out.offsets, host.offsets.data(), offset_bytes, cudaMemcpyHostToDevice, p.stream));

    constexpr int kThreads = 256;
    const int64_t zero_words = static_cast<int64_t>(zero_bytes / sizeof(uint4));
    const int64_t work = p.num_experts > zero_words ? p.num_experts : zero_words;
    int64_t blocks = (work + kThreads - 1) / kThreads;
    if (blocks > 1024) blocks = 1024;  // grid-stride loops cover the rest
    if (blocks < 1) blocks = 1;
    fill_group_arrays<<<static_cast<unsigned>(blocks), kThreads, 0, p.stream>>>(rule, experts, host.largest, a, b, c,
                                                                                 element_bytes, out);
    GG_LAUNCH_CHECK("fill_group_arrays");
    return GG_STATUS_SUCCESS;
}

// The same, for a call that cannot split its largest expert.
inline gg_status prepare_group_arrays(Context& ctx, const GmmProblem& p, const GroupRule& rule, const HostGroups& host,
                                      size_t kernel_workspace_bytes, GroupArrays& out, int64_t claim_words = 1,
                                      cutlass_sm90::contiguous::RouteRule route_rule = {}) {
    return prepare_group_arrays(
        ctx, p, rule, host, kernel_workspace_bytes, out, [](const GroupArrays&) { return LargestExpertSplit{}; },
        claim_words, route_rule);
}

}  // namespace gg::cutlass_grouped
