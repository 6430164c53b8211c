// What every cutlass-sm90 FP8 path of gg_gmm_scaled launches with: the grouped-mode arguments, the workspace plan and
// the per-group arrays in it, the fill kernel that writes the groups (row-wise or block scales), and the checked run of
// one CUTLASS grouped GEMM. Included by the three files of those paths: scaled_gemm_sm90.cu (row-wise, the tile choice
// and the support rule), scaled_split_sm90.cu (the decode split along k) and scaled_block_sm90.cu (block scales).
#pragma once

#include <cstdio>
#include <vector>

#include "backends/counts_scan.cuh"
#include "cutlass_common/group_arrays.cuh"
#include "cutlass_sm90/leading_dimension.cuh"
#include "cutlass_sm90/scaled_gemm_sm90.cuh"
#include "cutlass_sm90/scaled_sm90_workspace.h"
#include "cutlass_sm90/tuning_knobs.h"

namespace gg::cutlass_sm90 {

// Fills every group's entry from the offsets (scanned here from device counts when `counts` is set; already there
// for host counts). One block of kCountsScanThreads threads, which the launch bounds guarantee can start. `static`:
// each of the three path files gets its own copy (the row-wise and split files instantiate the same one).
template <class Config, bool TransB>
static __global__ void __launch_bounds__(kCountsScanThreads)
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

namespace {

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

}  // namespace
}  // namespace gg::cutlass_sm90
