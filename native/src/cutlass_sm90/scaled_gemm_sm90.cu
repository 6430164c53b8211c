// gg_gmm_scaled's cutlass-sm90 kernels: the support rule, Auto's rule, the dispatch to the three paths, and the
// row-wise grouped GEMM on sm90_fp8_tiles.def's tiles (the switch in run_tile instantiates every one of them). The
// decode split is scaled_split_sm90.cu's, block scales scaled_block_sm90.cu's; what all three launch with,
// scaled_launch_sm90.cuh.
#include <cinttypes>
#include <cstdio>
#include <cstring>

// Whether this build reads the tuning knobs.
#include "cutlass_sm90/sm90_build_kind.h"

#include "cutlass_sm90/scaled_gemm_sm90.h"
#include "cutlass_sm90/scaled_launch_sm90.cuh"
#include "cutlass_sm90/scaled_sm90_paths.h"
#include "cutlass_sm90/tile_choice.h"

namespace gg::cutlass_sm90 {
namespace {

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
    if (p.scale_mode == GG_SCALE_BLOCKWISE) return run_scaled_block(ctx, p, knobs);
    // trans_b only (scaled_sm90_supports), as below.
    const int32_t chunks = fp8_forward_split_chunks(p.base, ctx.device.sm_count, knobs);
    if (chunks >= 2) return run_scaled_split(ctx, p, chunks, knobs);
    const Sm90Fp8Tile tile = choose_fp8_tile(p.base, knobs);
    // trans_b only (scaled_sm90_supports): FP8 wgmma reads both operands K-major, and CUTLASS's ptr-array grouped
    // builder has no transposing (RS) path for an N-major FP8 B.
    return run_tile<true>(ctx, p, tile, knobs);
}

}  // namespace gg
