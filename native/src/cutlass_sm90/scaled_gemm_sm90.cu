// gg_gmm_scaled's cutlass-sm90 kernels: support rule, tile choice, group arrays and launch. The configurations are
// sm90_fp8_tiles.def's rows, each for both weight layouts; the switch in run_tile instantiates every one of them.
#include <cinttypes>
#include <cstdio>
#include <cstring>

// Whether this build reads the tuning knobs.
#include "cutlass_sm90/sm90_build_kind.h"

#include "backends/counts_scan.cuh"
#include "cutlass_common/group_arrays.cuh"
#include "cutlass_sm90/block_scale_order.h"
#include "cutlass_sm90/leading_dimension.cuh"
#include "cutlass_sm90/scaled_gemm_sm90.cuh"
#include "cutlass_sm90/scaled_gemm_sm90.h"
#include "cutlass_sm90/scaled_sm90_workspace.h"
#include "cutlass_sm90/split_k.cuh"
#include "cutlass_sm90/tile_choice.h"

namespace gg::cutlass_sm90 {
namespace {

// The tile policy, from bench/fp8_bench.py on an H100 (the five configurations, uniform routing, every tile forced;
// docs/perf-notes.md, "FP8 on Hopper"): the two-CTA cluster for experts of many tile rows (qwen-like 1536 rows per
// expert: 1003 against 954 TFLOP/s; deepseek-like 2048: 921 against 833; mixtral-like 8192: 975 against 929), the
// cluster-free tile for small ones, where a 2x1 cluster's rounding of each expert's tile rows up to an even count costs
// more than the multicast saves (small-experts, 256 rows: 620 against 541; seed-300M, 205 rows: 319 against 321). The
// threshold lies between the 256 and 1536 rows measured; nothing in between was. Knob (tuning and experiment builds):
// GG_SM90_FP8_TILE=<name of sm90_fp8_tiles.def>.
constexpr int64_t kFp8ClusterMinRowsPerExpert = 768;

Sm90Fp8Tile choose_fp8_tile(const GmmProblem& p, const Sm90Knobs& knobs) {
    if (knobs.fp8_tile != nullptr) {
#define GG_SM90_FP8_TILE(Enum, name, tm, tn, tk, cm, cn, pp) \
        if (std::strcmp(knobs.fp8_tile, #name) == 0) return Sm90Fp8Tile::Enum;
#include "cutlass_sm90/sm90_fp8_tiles.def"
    }
    return mean_rows_per_expert(p) >= kFp8ClusterMinRowsPerExpert ? Sm90Fp8Tile::kCooperative128x128Cluster2x1
                                                                   : Sm90Fp8Tile::kCooperative128x128;
}

// Config's grouped-mode arguments for `groups` groups of the shapes at `shapes` on the context's device, nothing else
// set: what sizing the workspace (scaled_kernel_bytes) and a launch (grouped_arguments) both start from.
template <class Config>
typename Config::Gemm::Arguments kernel_arguments(const Context& ctx, int64_t groups,
                                                  typename Config::UnderlyingShape* shapes) {
    cutlass::KernelHardwareInfo hw;
    hw.device_id = ctx.device.ordinal;
    hw.sm_count = ctx.device.sm_count;
    typename Config::Gemm::Arguments args;
    args.mode = cutlass::gemm::GemmUniversalMode::kGrouped;
    args.hw_info = hw;
    args.problem_shape = typename Config::ProblemShape{static_cast<int>(groups), shapes, nullptr};
    return args;
}

// The bytes of Config's CUTLASS workspace for `groups` groups: arguments with null arrays size it (it depends on the
// group and SM counts only).
template <class Config>
size_t scaled_kernel_bytes(const Context& ctx, int64_t groups) {
    return Config::Gemm::get_workspace_size(kernel_arguments<Config>(ctx, groups, nullptr));
}

// The layout of Config's arrays for `groups` groups and its kernel's workspace: each piece on a 256-byte boundary (the
// kernel's TMA descriptors must be 64-byte aligned; scaled_sm90_workspace.h).
template <class Config>
ScaledWorkspacePlan scaled_plan(int64_t groups, size_t kernel_bytes) {
    return ScaledWorkspacePlan(groups, sizeof(typename Config::UnderlyingShape), sizeof(typename Config::StrideA),
                               sizeof(typename Config::StrideB), sizeof(typename Config::StrideD), kernel_bytes);
}

// Config's per-group arrays in the block at `base`, laid out by `plan` for `groups` groups.
template <class Config>
ScaledGroupArrays<Config> scaled_arrays_at(char* base, const ScaledWorkspacePlan& plan, int64_t groups) {
    ScaledGroupArrays<Config> arr;
    arr.offsets = reinterpret_cast<int64_t*>(base + plan.offsets);
    arr.shapes = reinterpret_cast<typename Config::UnderlyingShape*>(base + plan.shapes);
    // Five pointer arrays of `groups` entries each, one after the other.
    char* ptrs = base + plan.ptrs;
    const size_t array_bytes = static_cast<size_t>(groups) * sizeof(void*);
    arr.ptr_a = reinterpret_cast<const typename Config::ElementA**>(ptrs);
    arr.ptr_b = reinterpret_cast<const typename Config::ElementB**>(ptrs + array_bytes);
    arr.ptr_d = reinterpret_cast<typename Config::ElementD**>(ptrs + 2 * array_bytes);
    arr.ptr_a_scale = reinterpret_cast<const float**>(ptrs + 3 * array_bytes);
    arr.ptr_b_scale = reinterpret_cast<const float**>(ptrs + 4 * array_bytes);
    arr.stride_a = reinterpret_cast<int64_t*>(base + plan.stride_a);
    arr.stride_b = reinterpret_cast<int64_t*>(base + plan.stride_b);
    arr.stride_d = reinterpret_cast<int64_t*>(base + plan.stride_d);
    return arr;
}

// The expert offsets and every expert's group: host counts' offsets uploaded (device counts are scanned by the fill
// kernel), then fill_scaled_groups.
template <class Config>
gg_status fill_expert_groups(const ScaledGmmProblem& sp, const ScaledGroupArrays<Config>& arr,
                             const BlockScaleFill& block = {}) {
    const GmmProblem& p = sp.base;
    const size_t ue = static_cast<size_t>(p.num_experts);
    if (!p.counts_on_device) {
        std::vector<int64_t> host(ue + 1, 0);
        for (int64_t i = 0; i < p.num_experts; ++i) host[i + 1] = host[i] + p.batch_sizes[i];
        GG_CUDA_CHECK(cudaMemcpyAsync(arr.offsets, host.data(), (ue + 1) * sizeof(int64_t), cudaMemcpyHostToDevice,
                                      p.stream));
    }
    fill_scaled_groups<Config, Config::kTransB><<<1, kCountsScanThreads, 0, p.stream>>>(
        p.counts_on_device ? p.batch_sizes : nullptr, p.num_experts, p.m, p.k, p.n, static_cast<const uint8_t*>(p.a),
        static_cast<const uint8_t*>(p.b), static_cast<cutlass::bfloat16_t*>(p.c), sp.a_scale, sp.b_scale, arr, block);
    GG_LAUNCH_CHECK("fill_scaled_groups");
    return GG_STATUS_SUCCESS;
}

// Runs Config's grouped GEMM on `args`: the workspace reserved checked against the kernel's need, then can_implement,
// initialize and run, every status checked. CUTLASS returns kErrorInternal for a failed CUDA call without clearing it:
// cutlass_failure takes (and clears) that error into the message, so that it is not reported again by the next launch
// check of another call.
template <class Config>
gg_status run_gemm(typename Config::Gemm::Arguments& args, cudaStream_t stream, void* kernel_workspace,
                   size_t kernel_bytes) {
    using Gemm = typename Config::Gemm;
    const char* kName = "cutlass-sm90 (fp8)";
    char what[96];
    const size_t need = Gemm::get_workspace_size(args);
    if (need > kernel_bytes) {
        return fail(GG_STATUS_INTERNAL_ERROR, "%s %s: kernel workspace of %zu bytes reserved, %zu needed", kName,
                    Config::Traits::kName, kernel_bytes, need);
    }
    cutlass::Status status = Gemm::can_implement(args);
    if (status != cutlass::Status::kSuccess) {
        std::snprintf(what, sizeof what, "%s can_implement", Config::Traits::kName);
        return cutlass_grouped::cutlass_failure(kName, what, cutlassGetStatusString(status));
    }
    Gemm gemm;
    status = gemm.initialize(args, kernel_workspace, stream);
    if (status != cutlass::Status::kSuccess) {
        std::snprintf(what, sizeof what, "%s initialize", Config::Traits::kName);
        return cutlass_grouped::cutlass_failure(kName, what, cutlassGetStatusString(status));
    }
    status = gemm.run(stream);
    if (status != cutlass::Status::kSuccess) {
        std::snprintf(what, sizeof what, "%s run", Config::Traits::kName);
        return cutlass_grouped::cutlass_failure(kName, what, cutlassGetStatusString(status));
    }
    return GG_STATUS_SUCCESS;
}

// Config's arguments over the `groups` groups of `arr` that both scalings share: problem shapes, operands, output and
// tile walk (row-wise scales go in the epilogue's visitor, block scales in the mainloop: launch_scaled, run_block).
template <class Config>
typename Config::Gemm::Arguments grouped_arguments(const Context& ctx, int64_t groups, const ScaledGroupArrays<Config>& arr,
                                                   const Sm90Knobs& knobs) {
    typename Config::Gemm::Arguments args = kernel_arguments<Config>(ctx, groups, arr.shapes);
    args.mainloop.ptr_A = arr.ptr_a;
    args.mainloop.dA = reinterpret_cast<typename Config::StrideA*>(arr.stride_a);
    args.mainloop.ptr_B = arr.ptr_b;
    args.mainloop.dB = reinterpret_cast<typename Config::StrideB*>(arr.stride_b);
    args.epilogue.ptr_C = nullptr;
    args.epilogue.dC = reinterpret_cast<typename Config::StrideC*>(arr.stride_d);
    args.epilogue.ptr_D = arr.ptr_d;
    args.epilogue.dD = reinterpret_cast<typename Config::StrideD*>(arr.stride_d);
    // The tile walk of the 2x1-cluster tile: along N, unswizzled. CUTLASS's group scheduler walks each group's tiles
    // along M by default, so a group whose A outgrows L2 (a dominant expert: deepseek-like under zipf holds ~86k rows,
    // 616 MB of A) reads A from DRAM once per column of tiles. On an H100 (bench/fp8_bench.py, docs/perf-notes.md "FP8
    // on Hopper"), along N against along M, TFLOP/s: deepseek-like zipf 1016 against 729 (torch 911), uniform 987
    // against 964; mixtral-like zipf 1038 against 965, uniform 1043 against 1006; qwen-like zipf 927 against 881,
    // uniform 922 against 952 (the one loss, 3%). Stripes of 4 or 8 tiles (max_swizzle_size) lost 5-50% either way.
    // The cluster-free tile (smaller experts) was not measured along N and keeps CUTLASS's order.
    // Knobs: GG_SM90_FP8_RASTER, GG_SM90_FP8_SWIZZLE.
    using RasterOptions = cutlass::gemm::kernel::detail::RasterOrderOptions;
    const bool along_n = knobs.fp8_raster_along_n.value_or(Config::Traits::kClusterM > 1);
    args.scheduler.raster_order = along_n ? RasterOptions::AlongN : RasterOptions::AlongM;
    if (knobs.fp8_swizzle) args.scheduler.max_swizzle_size = *knobs.fp8_swizzle;
    return args;
}

// Config's grouped GEMM over the `groups` groups of `arr`, with row-wise scales, its CUTLASS workspace at
// `kernel_workspace` (kernel_bytes reserved there).
template <class Config>
gg_status launch_scaled(const Context& ctx, cudaStream_t stream, int64_t groups, const ScaledGroupArrays<Config>& arr,
                        void* kernel_workspace, size_t kernel_bytes, const Sm90Knobs& knobs) {
    if (!array_layouts_match<Config>()) {
        return fail(GG_STATUS_INTERNAL_ERROR, "cutlass-sm90 (fp8): CUTLASS stride or shape types do not have the byte "
                    "layout the group arrays are written in");
    }
    typename Config::Gemm::Arguments args = grouped_arguments<Config>(ctx, groups, arr, knobs);
    // Visitor arguments, children first: {b_scale row broadcast, {a_scale column broadcast, acc, multiply}, multiply}.
    auto& fusion = args.epilogue.thread;
    fusion.op_0.ptr_row = arr.ptr_b_scale;
    fusion.op_1.op_0.ptr_col = arr.ptr_a_scale;
    return run_gemm<Config>(args, stream, kernel_workspace, kernel_bytes);
}

// One grouped GEMM of every expert on Config's tile.
template <class Config>
gg_status run_config(Context& ctx, const ScaledGmmProblem& sp, const Sm90Knobs& knobs) {
    const GmmProblem& p = sp.base;
    const size_t kernel_bytes = scaled_kernel_bytes<Config>(ctx, p.num_experts);
    const ScaledWorkspacePlan plan = scaled_plan<Config>(p.num_experts, kernel_bytes);
    void* block = nullptr;
    GG_TRY(workspace_acquire(*ctx.workspace, plan.total, p, &block));
    char* base = static_cast<char*>(block);
    const ScaledGroupArrays<Config> arr = scaled_arrays_at<Config>(base, plan, p.num_experts);
    GG_TRY(fill_expert_groups<Config>(sp, arr));
    return launch_scaled<Config>(ctx, p.stream, p.num_experts, arr, base + plan.kernel, kernel_bytes, knobs);
}

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

// a_scale [m, k_blocks] (K-major) into each expert's compact MN-major block (block_scale_order.h). Rows past the last
// expert's end (device counts that sum to less than m) belong to no group.
__global__ void transpose_a_block_scales(const float* a_scale, const int64_t* offsets, int64_t experts, int64_t m,
                                         int64_t k_blocks, float* out) {
    const int64_t end = offsets[experts];
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < m * k_blocks;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t row = i / k_blocks, kb = i - row * k_blocks;
        if (row >= end) continue;
        const int64_t e = expert_of_row(offsets, experts, row), first = offsets[e];
        out[a_block_scale_index(first, offsets[e + 1] - first, k_blocks, row, kb)] = a_scale[i];
    }
}

// b_scale [E][n_blocks][k_blocks] (K-major) into [E][k_blocks][n_blocks] (n blocks fastest; block_scale_order.h).
__global__ void transpose_b_block_scales(const float* b_scale, int64_t experts, int64_t k_blocks, int64_t n_blocks,
                                         float* out) {
    const int64_t per_expert = k_blocks * n_blocks;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < experts * per_expert;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t e = i / per_expert, r = i - e * per_expert, nb = r / k_blocks, kb = r - nb * k_blocks;
        out[b_block_scale_index(e, k_blocks, n_blocks, nb, kb)] = b_scale[i];
    }
}

// Blocks of 256 threads for `elements` grid-stride elements, at most 4096.
unsigned elementwise_grid(int64_t elements) {
    const int64_t blocks = (elements + 255) / 256;
    return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 4096 ? 4096 : blocks));
}

// One grouped GEMM of every expert with block scales (BlockScaledGemmConfig): the row-wise call's arrays, then in the
// same block both scales transposed and the groups' scale layouts (BlockScaleWorkspace). The fill writes the offsets
// and every group's pointers, the transposes read the offsets, the GEMM reads all of it (stream order).
template <class Config>
gg_status run_block(Context& ctx, const ScaledGmmProblem& sp, const Sm90Knobs& knobs) {
    using LayoutA = typename Config::LayoutSFA;
    using LayoutB = typename Config::LayoutSFB;
    const GmmProblem& p = sp.base;
    const int64_t k_blocks = (p.k + Config::kScaleBlock - 1) / Config::kScaleBlock;
    const int64_t n_blocks = (p.n + Config::kScaleBlock - 1) / Config::kScaleBlock;
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
    transpose_a_block_scales<<<elementwise_grid(p.m * k_blocks), 256, 0, p.stream>>>(sp.a_scale, arr.offsets,
                                                                                     p.num_experts, p.m, k_blocks,
                                                                                     a_scales);
    GG_LAUNCH_CHECK("transpose_a_block_scales");
    transpose_b_block_scales<<<elementwise_grid(p.num_experts * k_blocks * n_blocks), 256, 0, p.stream>>>(
        sp.b_scale, p.num_experts, k_blocks, n_blocks, b_scales);
    GG_LAUNCH_CHECK("transpose_b_block_scales");

    typename Config::Gemm::Arguments args = grouped_arguments<Config>(ctx, p.num_experts, arr, knobs);
    args.mainloop.ptr_SFA = arr.ptr_a_scale;
    args.mainloop.layout_SFA = reinterpret_cast<LayoutA*>(block.layouts_a);
    args.mainloop.ptr_SFB = arr.ptr_b_scale;
    args.mainloop.layout_SFB = reinterpret_cast<LayoutB*>(block.layouts_b);
    args.epilogue.thread.alpha = 1.0f;
    args.epilogue.thread.beta = 0.0f;
    return run_gemm<Config>(args, p.stream, base + plan.kernel, kernel_bytes);
}

template <bool TransB>
gg_status run_tile(Context& ctx, const ScaledGmmProblem& p, Sm90Fp8Tile tile, const Sm90Knobs& knobs) {
    switch (tile) {
#define GG_SM90_FP8_TILE(Enum, name, tm, tn, tk, cm, cn, pp) \
    case Sm90Fp8Tile::Enum: return run_config<ScaledGemmConfig<Sm90Fp8Tile::Enum, TransB>>(ctx, p, knobs);
#include "cutlass_sm90/sm90_fp8_tiles.def"
    }
    return fail(GG_STATUS_INTERNAL_ERROR, "cutlass-sm90 (fp8): tile %d is not in sm90_fp8_tiles.def", static_cast<int>(tile));
}

}  // namespace

template <class Config, bool TransB>
__global__ void __launch_bounds__(kCountsScanThreads)
fill_scaled_groups(const int64_t* counts, int64_t num_experts, int64_t m, int64_t k, int64_t n, const uint8_t* a,
                   const uint8_t* b, cutlass::bfloat16_t* d, const float* a_scale, const float* b_scale,
                   ScaledGroupArrays<Config> arr, BlockScaleFill block) {
    if (counts != nullptr) {
        block_scan_counts(counts, num_experts, m, arr.offsets, nullptr, nullptr);
        __syncthreads();
    }
    for (int64_t e = threadIdx.x; e < num_experts; e += blockDim.x) {
        // block_scan_counts reads the device counts twice; if the caller changed them in between, an expert's end could
        // come before its start. Such a group is empty, never negative (offsets stay within [0, m]).
        const int64_t row0 = arr.offsets[e], end = arr.offsets[e + 1], rows = end > row0 ? end - row0 : 0;
        arr.shapes[e] = typename Config::UnderlyingShape(static_cast<int>(rows), static_cast<int>(n), static_cast<int>(k));
        arr.ptr_a[e] = reinterpret_cast<const typename Config::ElementA*>(a + row0 * k);
        arr.ptr_b[e] = reinterpret_cast<const typename Config::ElementB*>(b + e * k * n);
        arr.ptr_d[e] = d + row0 * n;
        if (block.a_scales == nullptr) {
            arr.ptr_a_scale[e] = a_scale + row0;
            arr.ptr_b_scale[e] = b_scale + e * n;
        } else {
            // The transposed scales (run_block) and the group's layouts, word by word (LayoutWords).
            arr.ptr_a_scale[e] = block.a_scales + row0 * block.k_blocks;
            arr.ptr_b_scale[e] = block.b_scales + e * block.k_blocks * block.n_blocks;
            for (int i = 0; i < block.words_a.words; ++i) {
                block.layouts_a[e * block.words_a.words + i] =
                    block.words_a.base[i] + static_cast<int32_t>(rows) * block.words_a.per_row[i];
            }
            for (int i = 0; i < block.words_b.words; ++i) {
                block.layouts_b[e * block.words_b.words + i] =
                    block.words_b.base[i] + static_cast<int32_t>(rows) * block.words_b.per_row[i];
            }
        }
        arr.stride_a[e] = k;
        arr.stride_b[e] = TransB ? k : n;
        arr.stride_d[e] = n;
    }
}

}  // namespace gg::cutlass_sm90

namespace gg {

gg_status scaled_sm90_supports(const Context& ctx, const ScaledGmmProblem& p) {
    const char* kName = "GG_SCALED_KERNEL_CUTLASS_SM90";
    if (ctx.device.cc_major != 9 || ctx.device.cc_minor != 0) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s runs on compute capability 9.0 only; device %d is %d.%d", kName,
                    ctx.device.ordinal, ctx.device.cc_major, ctx.device.cc_minor);
    }
    if (p.a_dtype != GG_DTYPE_FLOAT8_E4M3 || p.b_dtype != GG_DTYPE_FLOAT8_E4M3) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s takes E4M3 x E4M3 only (a_dtype = %d, b_dtype = %d)", kName,
                    static_cast<int>(p.a_dtype), static_cast<int>(p.b_dtype));
    }
    const GmmProblem& b = p.base;
    if (p.scale_mode == GG_SCALE_BLOCKWISE && b.k % 128 != 0) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s takes block scales with k a multiple of 128 (whole scale blocks); k = "
                    "%" PRId64 ": the portable kernel takes the others", kName, b.k);
    }
    if (!b.trans_b) {
        return fail(GG_STATUS_NOT_SUPPORTED,
                    "%s takes trans_b = 1 only (weights [E, N, K], K-major, as FP8 wgmma reads them; CUTLASS's grouped "
                    "FP8 builder has no path for N-major weights): use GG_SCALED_KERNEL_PORTABLE or AUTO", kName);
    }
    if (b.k == 0) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s: k = 0 (an empty reduction) is left to the portable kernel", kName);
    }
    if (b.k % 16 != 0 || b.n % 16 != 0) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s needs k and n multiples of 16 (16-byte TMA rows); k = %" PRId64
                    ", n = %" PRId64, kName, b.k, b.n);
    }
    // m, n, k and the group count are int in CUTLASS's problem shapes, and so is its scheduler's tile count.
    GG_TRY(cutlass_grouped::check_int_sizes(b, kName));
    for (const void* ptr : {b.a, b.b, static_cast<const void*>(b.c)}) {
        if (reinterpret_cast<uintptr_t>(ptr) % 16 != 0) {
            return fail(GG_STATUS_NOT_SUPPORTED, "%s needs a, b and c 16-byte aligned (%p is not)", kName, ptr);
        }
    }
    return GG_STATUS_SUCCESS;
}

gg_status scaled_sm90_auto_supports(const Context& ctx, const ScaledGmmProblem& p) {
    GG_TRY(scaled_sm90_supports(ctx, p));
    if (p.scale_mode == GG_SCALE_BLOCKWISE && !cutlass_sm90::fp8_block_scales_in_auto(cutlass_sm90::call_knobs())) {
        return fail(GG_STATUS_NOT_SUPPORTED, "GG_SCALED_KERNEL_CUTLASS_SM90 runs block scales when asked for by name; "
                    "Auto leaves them to the portable kernel (GG_SM90_FP8_BLOCK=0)");
    }
    return GG_STATUS_SUCCESS;
}

gg_status scaled_sm90_run(Context& ctx, const ScaledGmmProblem& p) {
    using namespace cutlass_sm90;
    const Sm90Knobs knobs = call_knobs();
    // Block scales: one configuration, the cluster-free 128x128x128 tile (no split: the scales are applied per k block
    // in the mainloop, which the split's partial kernel does not do).
    if (p.scale_mode == GG_SCALE_BLOCKWISE) {
        return run_block<BlockScaledGemmConfig<Sm90Fp8Tile::kCooperative128x128>>(ctx, p, knobs);
    }
    // trans_b only (scaled_sm90_supports), as below.
    const int32_t chunks = fp8_forward_split_chunks(p.base, ctx.device.sm_count, knobs);
    if (chunks >= 2) return run_split<true>(ctx, p, chunks, knobs);
    const Sm90Fp8Tile tile = choose_fp8_tile(p.base, knobs);
    // trans_b only (scaled_sm90_supports): FP8 wgmma reads both operands K-major, and CUTLASS's ptr-array grouped
    // builder has no transposing (RS) path for an N-major FP8 B.
    return run_tile<true>(ctx, p, tile, knobs);
}

}  // namespace gg
