// gg_gmm_scaled's decode split on cutlass-sm90: every live expert's k in chunks on the cluster-free tile, the chunks'
// products scaled into fp32 partials and summed (tile_choice.h: fp8_forward_split_chunks decides when).
#include <cinttypes>
#include <cstdint>

// Whether this build reads the tuning knobs.
#include "cutlass_sm90/sm90_build_kind.h"

#include "cutlass_sm90/scaled_launch_sm90.cuh"
#include "cutlass_sm90/scaled_sm90_paths.h"
#include "cutlass_sm90/split_k.cuh"
#include "cutlass_sm90/tile_choice.h"

namespace gg::cutlass_sm90 {
namespace {

// A decode forward with every live expert's k in `chunks` chunks (tile_choice.h: fp8_forward_split_chunks) on the
// cluster-free tile: the experts' offsets (fill_expert_groups), split_k.cuh's fill_forward_split into min(E, m) x chunks
// groups with their scale pointers, the partial kernel (each chunk's product scaled into fp32 partials[chunk][row]),
// and split_k.cuh's reduce_forward_split (their sum, rounded to bf16 once). The block: the experts' arrays (no kernel
// workspace: no GEMM runs over them), the split groups' arrays and their kernel's workspace, the partials.
template <bool TransB>
gg_status run_split(Context& ctx, const ScaledGmmProblem& sp, int32_t chunks, const Sm90Knobs& knobs) {
    using Experts = ScaledGemmConfig<Sm90Fp8Tile::kCooperative128x128, TransB>;
    using Partial = ScaledGemmConfig<Sm90Fp8Tile::kCooperative128x128, TransB, float>;
    const GmmProblem& p = sp.base;
    // Chunks of whole 128-deep k steps (the tile's), so that each chunk's rows start 128-byte aligned for TMA.
    const ChunkDepth depth = chunk_depth(p.k, chunks, 128);
    const int64_t groups = forward_split_slots(p) * depth.used;
    if (groups > 0x7fffffff) {
        return fail(GG_STATUS_INTERNAL_ERROR, "cutlass-sm90 (fp8): %lld split groups", static_cast<long long>(groups));
    }
    const size_t partial_kernel_bytes = scaled_kernel_bytes<Partial>(ctx, groups);
    const ScaledWorkspacePlan experts_plan = scaled_plan<Experts>(p.num_experts, 0);
    const ScaledWorkspacePlan split_plan = scaled_plan<Partial>(groups, partial_kernel_bytes);
    const size_t partials_at = experts_plan.total + split_plan.total;
    const size_t partial_bytes = static_cast<size_t>(depth.used) * static_cast<size_t>(p.m * p.n) * sizeof(float);
    void* block = nullptr;
    GG_TRY(workspace_acquire(*ctx.workspace, partials_at + partial_bytes, p, &block));
    char* base = static_cast<char*>(block);

    const ScaledGroupArrays<Experts> experts = scaled_arrays_at<Experts>(base, experts_plan, p.num_experts);
    GG_TRY(fill_expert_groups<Experts>(sp, experts));
    char* split_base = base + experts_plan.total;
    const ScaledGroupArrays<Partial> part = scaled_arrays_at<Partial>(split_base, split_plan, groups);
    // fill_forward_split writes the groups through the bf16/fp16 split's view of the same words (int[3] shapes, pointer
    // arrays, int64 leading dimensions: array_layouts_match), and zeroes a claim counter that CUTLASS's own scheduler
    // here does not read: the split plan's offsets, which its groups do not use.
    cutlass_grouped::SplitArrays view;
    view.arrays.problem_sizes = reinterpret_cast<int32_t*>(part.shapes);
    view.arrays.ptr_a = reinterpret_cast<void**>(const_cast<typename Partial::ElementA**>(part.ptr_a));
    view.arrays.ptr_b = reinterpret_cast<void**>(const_cast<typename Partial::ElementB**>(part.ptr_b));
    view.arrays.ptr_c = reinterpret_cast<void**>(part.ptr_d);
    view.arrays.lda = part.stride_a;
    view.arrays.ldb = part.stride_b;
    view.arrays.ldc = part.stride_d;
    view.arrays.tile_claims = reinterpret_cast<uint32_t*>(part.offsets);
    view.partials = reinterpret_cast<float*>(base + partials_at);
    SplitScales scales;
    scales.a_scale = sp.a_scale;
    scales.b_scale = sp.b_scale;
    scales.ptr_a_scale = part.ptr_a_scale;
    scales.ptr_b_scale = part.ptr_b_scale;
    GG_TRY(launch_fill_forward_split(p, depth, experts.offsets, view, /*operand_bytes=*/1, scales));
    GG_TRY(launch_scaled<Partial>(ctx, p.stream, groups, part, split_base + split_plan.kernel, partial_kernel_bytes,
                                  knobs));
    return launch_reduce_forward_split(p, depth.used, ctx.device.sm_count, experts.offsets, view);
}

}  // namespace

gg_status run_scaled_split(Context& ctx, const ScaledGmmProblem& sp, int32_t chunks, const Sm90Knobs& knobs) {
    // trans_b only (scaled_sm90_supports).
    return run_split<true>(ctx, sp, chunks, knobs);
}

}  // namespace gg::cutlass_sm90
