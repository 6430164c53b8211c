// gg_gmm_scaled with DeepGEMM's block scales on cutlass-sm90 (BlockScaledGemmConfig: CUTLASS's blockwise-scaled FP8
// mainloop): the scales transposed into the order that mainloop reads and each group's scale layouts written as
// int32 words learnt on the host, then one grouped GEMM of every expert.
#include <cinttypes>
#include <cstdint>
#include <cstring>

// Whether this build reads the tuning knobs.
#include "cutlass_sm90/sm90_build_kind.h"

#include "cutlass_sm90/block_scale_order.h"
#include "cutlass_sm90/scaled_launch_sm90.cuh"
#include "cutlass_sm90/scaled_sm90_paths.h"

namespace gg::cutlass_sm90 {
namespace {

// The int32 words of the Layout that make(rows) builds, as LayoutWords: learnt from 1, 2 and 1000 rows, `ok` when
// the words of the third are those the first two predict.
template <class Layout, class Make>
LayoutWords layout_words(Make make) {
    static_assert(sizeof(Layout) % sizeof(int32_t) == 0 && sizeof(Layout) / sizeof(int32_t) <= kMaxLayoutWords,
                  "a scale layout must be a few int32 words");
    constexpr int kWords = static_cast<int>(sizeof(Layout) / sizeof(int32_t));
    const Layout one = make(1), two = make(2), many = make(1000);
    int32_t w1[kWords], w2[kWords], w3[kWords];
    std::memcpy(w1, &one, sizeof(Layout));
    std::memcpy(w2, &two, sizeof(Layout));
    std::memcpy(w3, &many, sizeof(Layout));
    LayoutWords w;
    w.words = kWords;
    w.ok = true;
    for (int i = 0; i < kWords; ++i) {
        w.per_row[i] = w2[i] - w1[i];
        w.base[i] = w1[i] - w.per_row[i];
        w.ok = w.ok && static_cast<int64_t>(w.base[i]) + 1000 * static_cast<int64_t>(w.per_row[i]) == w3[i];
    }
    return w;
}

// Both scales into the order the mainloop reads (block_scale_order.h), in one launch (a decode call's GEMM is a few
// microseconds, so each launch before it counts): elements [0, m * k_blocks) are a_scale [m, k_blocks] (K-major) into
// each expert's compact MN-major block, rows past the last expert's end (device counts that sum to less than m)
// belonging to no group; the rest are b_scale [E][n_blocks][k_blocks] (K-major) into [E][k_blocks][n_blocks], for the
// experts that hold rows.
__global__ void transpose_block_scales(const float* a_scale, const int64_t* offsets, int64_t experts, int64_t m,
                                       int64_t k_blocks, const float* b_scale, int64_t n_blocks, float* a_out,
                                       float* b_out) {
    const int64_t end = offsets[experts], a_count = m * k_blocks, per_expert = k_blocks * n_blocks;
    const int64_t total = a_count + experts * per_expert;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        if (i < a_count) {
            const int64_t row = i / k_blocks, kb = i - row * k_blocks;
            if (row >= end) continue;
            const int64_t e = expert_of_row(offsets, experts, row), first = offsets[e];
            a_out[a_block_scale_index(first, offsets[e + 1] - first, k_blocks, row, kb)] = a_scale[i];
        } else {
            const int64_t j = i - a_count, e = j / per_expert;
            // An expert without rows has no tiles, so the GEMM reads none of its scales: a decode call moves only
            // its few live experts' (8 of 256 at one token of deepseek-v3 over 0.9 MB for all).
            if (offsets[e + 1] == offsets[e]) continue;
            const int64_t r = j - e * per_expert, nb = r / k_blocks, kb = r - nb * k_blocks;
            b_out[b_block_scale_index(e, k_blocks, n_blocks, nb, kb)] = b_scale[j];
        }
    }
}

// Blocks of 256 threads for `elements` grid-stride elements, at most 4096.
unsigned elementwise_grid(int64_t elements) {
    const int64_t blocks = (elements + 255) / 256;
    return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 4096 ? 4096 : blocks));
}

// One grouped GEMM of every expert with block scales (BlockScaledGemmConfig): the row-wise call's arrays, then in the
// same block both scales transposed and the groups' scale layouts (BlockScaleWorkspace). The fill writes the offsets
// and every group's pointers, the transpose reads the offsets, the GEMM reads all of it (stream order).
template <class Config>
gg_status run_block(Context& ctx, const ScaledGmmProblem& sp, const Sm90Knobs& knobs) {
    using LayoutA = typename Config::LayoutSFA;
    using LayoutB = typename Config::LayoutSFB;
    const GmmProblem& p = sp.base;
    const int64_t k_blocks = scale_blocks_of(p.k), n_blocks = scale_blocks_of(p.n);
    const int n = static_cast<int>(p.n), k = static_cast<int>(p.k);  // check_int_sizes (scaled_sm90_supports)
    BlockScaleFill block;
    block.words_a = layout_words<LayoutA>([&](int rows) {
        return LayoutA(Config::ScaleConfig::tile_atom_to_shape_SFA(cute::make_shape(rows, n, k, 1)));
    });
    block.words_b = layout_words<LayoutB>([&](int rows) {
        return LayoutB(Config::ScaleConfig::tile_atom_to_shape_SFB(cute::make_shape(rows, n, k, 1)));
    });
    if (!block.words_a.ok || !block.words_b.ok || !array_layouts_match<Config>()) {
        return fail(GG_STATUS_INTERNAL_ERROR, "cutlass-sm90 (fp8, block scales): CUTLASS's scale layouts, strides or "
                    "shapes do not have the byte layout the group arrays are written in");
    }
    const size_t kernel_bytes = scaled_kernel_bytes<Config>(ctx, p.num_experts);
    const ScaledWorkspacePlan plan = scaled_plan<Config>(p.num_experts, kernel_bytes);
    const BlockScaleWorkspace extra(plan.total, p.m, p.num_experts, k_blocks, n_blocks, sizeof(LayoutA), sizeof(LayoutB));
    void* workspace = nullptr;
    GG_TRY(workspace_acquire(*ctx.workspace, extra.total, p, &workspace));
    char* base = static_cast<char*>(workspace);
    const ScaledGroupArrays<Config> arr = scaled_arrays_at<Config>(base, plan, p.num_experts);
    float* a_scales = reinterpret_cast<float*>(base + extra.a_scales);
    float* b_scales = reinterpret_cast<float*>(base + extra.b_scales);
    block.a_scales = a_scales;
    block.b_scales = b_scales;
    block.k_blocks = k_blocks;
    block.n_blocks = n_blocks;
    block.layouts_a = reinterpret_cast<int32_t*>(base + extra.layouts_a);
    block.layouts_b = reinterpret_cast<int32_t*>(base + extra.layouts_b);
    GG_TRY(fill_expert_groups<Config>(sp, arr, block));
    const int64_t scale_count = p.m * k_blocks + p.num_experts * k_blocks * n_blocks;
    transpose_block_scales<<<elementwise_grid(scale_count), 256, 0, p.stream>>>(
        sp.a_scale, arr.offsets, p.num_experts, p.m, k_blocks, sp.b_scale, n_blocks, a_scales, b_scales);
    GG_LAUNCH_CHECK("transpose_block_scales");

    typename Config::Gemm::Arguments args = grouped_arguments<Config>(ctx, p.num_experts, arr, knobs);
    args.mainloop.ptr_SFA = arr.ptr_a_scale;
    args.mainloop.layout_SFA = reinterpret_cast<LayoutA*>(block.layouts_a);
    args.mainloop.ptr_SFB = arr.ptr_b_scale;
    args.mainloop.layout_SFB = reinterpret_cast<LayoutB*>(block.layouts_b);
    args.epilogue.thread.alpha = 1.0f;
    args.epilogue.thread.beta = 0.0f;
    return run_gemm<Config>(args, p.stream, base + plan.kernel, kernel_bytes);
}

}  // namespace

gg_status run_scaled_block(Context& ctx, const ScaledGmmProblem& sp, const Sm90Knobs& knobs) {
    // One configuration, the cluster-free 128x128x128 tile (no split: the scales are applied per k block in the
    // mainloop, which the split's partial kernel does not do).
    return run_block<BlockScaledGemmConfig<Sm90Fp8Tile::kCooperative128x128>>(ctx, sp, knobs);
}

}  // namespace gg::cutlass_sm90
