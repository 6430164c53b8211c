// cutlass-sm90 backend: decides whether it can take a call, picks the tile configuration (tile_choice.h)
// and runs it. The kernels themselves are in the sm90_<dtype>_<operands>_<tile>.cu files.
#include <exception>

#include "cutlass_sm80/group_arrays_fill.cuh"
#include "cutlass_sm90/sm90_kernels.h"

namespace gg {
namespace {

using cutlass_grouped::GroupedLaunch;
using cutlass_grouped::Operands;
using cutlass_sm90::Sm90Epilogue;
using cutlass_sm90::Sm90Tile;
constexpr const char* kBackend = "cutlass-sm90";

struct KernelEntry {
    gg_status (*workspace_bytes)(int32_t groups, int device, int sm_count, size_t* bytes);
    gg_status (*run)(const GroupedLaunch& launch);
};

template <gg_dtype DType, Operands Ops, Sm90Tile Tile>
constexpr KernelEntry entry(Sm90Epilogue epilogue) {
    using Source = cutlass_sm90::GroupedKernel<DType, Ops, Tile, Sm90Epilogue::kSource>;
    using StoreOnly = cutlass_sm90::GroupedKernel<DType, Ops, Tile, Sm90Epilogue::kStoreOnly>;
    return epilogue == Sm90Epilogue::kSource ? KernelEntry{&Source::workspace_bytes, &Source::run}
                                             : KernelEntry{&StoreOnly::workspace_bytes, &StoreOnly::run};
}

template <gg_dtype DType, Operands Ops>
constexpr KernelEntry entry(Sm90Tile tile, Sm90Epilogue epi) {
    switch (tile) {
        case Sm90Tile::kCooperative128x256: return entry<DType, Ops, Sm90Tile::kCooperative128x256>(epi);
        case Sm90Tile::kPingpong128x128: return entry<DType, Ops, Sm90Tile::kPingpong128x128>(epi);
        case Sm90Tile::kCooperative128x256Cluster1x1:
            return entry<DType, Ops, Sm90Tile::kCooperative128x256Cluster1x1>(epi);
        case Sm90Tile::kCooperative256x128: return entry<DType, Ops, Sm90Tile::kCooperative256x128>(epi);
        case Sm90Tile::kPingpong128x128Cluster1x2: return entry<DType, Ops, Sm90Tile::kPingpong128x128Cluster1x2>(epi);
        case Sm90Tile::kCooperative128x256K32: return entry<DType, Ops, Sm90Tile::kCooperative128x256K32>(epi);
        case Sm90Tile::kCooperative128x256K32Cluster1x1:
            return entry<DType, Ops, Sm90Tile::kCooperative128x256K32Cluster1x1>(epi);
    }
    return {nullptr, nullptr};
}

template <gg_dtype DType>
constexpr KernelEntry entry(Operands ops, Sm90Tile tile, Sm90Epilogue epi) {
    switch (ops) {
        case Operands::kForward: return entry<DType, Operands::kForward>(tile, epi);
        case Operands::kTransB: return entry<DType, Operands::kTransB>(tile, epi);
        case Operands::kTransA: return entry<DType, Operands::kTransA>(tile, epi);
    }
    return {nullptr, nullptr};
}

KernelEntry pick_kernel(gg_dtype dtype, Operands ops, Sm90Tile tile, Sm90Epilogue epi) {
    return dtype == GG_DTYPE_BFLOAT16 ? entry<GG_DTYPE_BFLOAT16>(ops, tile, epi)
                                      : entry<GG_DTYPE_FLOAT16>(ops, tile, epi);
}

gg_status run_checked(Context& ctx, const GmmProblem& p) {
    bool done = false;
    GG_TRY(cutlass_grouped::handle_empty_products(p, &done));
    if (done) return GG_STATUS_SUCCESS;

    // These kernels do not clear their accumulators when K == 0: empty trans_a experts get a zero operand.
    const cutlass_grouped::GroupRule rule = cutlass_grouped::make_group_rule(p, /*zero_operand_for_empty=*/true);
    cutlass_grouped::HostGroups host;
    GG_TRY(cutlass_grouped::build_host_groups(p, rule, host));
    const int32_t* host_sizes = host.available ? host.problem_sizes.data() : nullptr;
    if (host_sizes != nullptr && cutlass_sm90::estimate_output_tiles(p, host_sizes, 128, 128) == 0) {
        return GG_STATUS_SUCCESS;  // trans_a with accumulate and every expert empty: c stays as it is
    }

    const Sm90Tile tile = cutlass_sm90::choose_tile(p, host_sizes, ctx.device.sm_count);
    const int sm_count = ctx.device.sm_count * cutlass_sm90::grid_factor();
    const Sm90Epilogue epilogue = cutlass_sm90::choose_epilogue(p, tile);
    const KernelEntry kernel = pick_kernel(p.dtype, cutlass_grouped::operands_of(p), tile, epilogue);
    if (kernel.run == nullptr) return fail(GG_STATUS_INTERNAL_ERROR, "%s: no kernel for this call", kBackend);

    const int32_t groups = static_cast<int32_t>(p.num_experts);
    size_t kernel_workspace = 0;
    GG_TRY(kernel.workspace_bytes(groups, ctx.device.ordinal, sm_count, &kernel_workspace));

    GroupedLaunch launch;
    GG_TRY(cutlass_grouped::prepare_group_arrays(ctx, p, rule, host, kernel_workspace, launch.arrays));
    launch.problem_count = groups;
    launch.host_problem_sizes = host_sizes;  // must outlive run(): the grid size is computed from it there
    launch.alpha = 1.0f;
    launch.beta = p.accumulate ? 1.0f : 0.0f;
    launch.device = ctx.device.ordinal;
    launch.sm_count = sm_count;
    launch.stream = p.stream;
    launch.tile_run_rows = cutlass_sm90::tile_run_rows(p);
    launch.tile_claim_ahead = cutlass_sm90::tile_claim_ahead(p, tile);
    return kernel.run(launch);
}

}  // namespace

gg_status cutlass_sm90_supports(const Context& ctx, const GmmProblem& p) {
    // The kernels are built for sm_90a, whose code runs on compute capability 9.0 only.
    if (ctx.device.cc_major != 9 || ctx.device.cc_minor != 0) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s: needs a compute capability 9.0 device (H100/H200), device %d is "
                    "%d.%d", kBackend, ctx.device.ordinal, ctx.device.cc_major, ctx.device.cc_minor);
    }
    if (p.dtype != GG_DTYPE_BFLOAT16 && p.dtype != GG_DTYPE_FLOAT16) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s: dtype %d is not supported (bfloat16 and float16 only; use "
                    "cublas-loop for float32)", kBackend, static_cast<int>(p.dtype));
    }
    if (p.trans_a && p.trans_b) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s: trans_a together with trans_b is not defined", kBackend);
    }
    // TMA needs 16-byte aligned rows: every leading dimension is k or n, every group offset a multiple of them.
    if (p.k % 8 != 0 || p.n % 8 != 0) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s: k=%lld and n=%lld must be multiples of 8 (16-byte TMA rows); "
                    "cutlass-sm80 takes other shapes", kBackend, static_cast<long long>(p.k),
                    static_cast<long long>(p.n));
    }
    if (!cutlass_grouped::aligned(p.a, 16) || !cutlass_grouped::aligned(p.b, 16) || !cutlass_grouped::aligned(p.c, 16)) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s: a (%p), b (%p) and c (%p) must be 16-byte aligned", kBackend, p.a,
                    p.b, static_cast<const void*>(p.c));
    }
    GG_TRY(cutlass_grouped::check_int_sizes(p, kBackend));
    return cutlass_grouped::check_capture(p, kBackend);
}

gg_status cutlass_sm90_run(Context& ctx, const GmmProblem& p) {
    try {
        return run_checked(ctx, p);
    } catch (const std::exception& e) {
        return fail(GG_STATUS_INTERNAL_ERROR, "%s: unexpected exception: %s", kBackend, e.what());
    } catch (...) {
        return fail(GG_STATUS_INTERNAL_ERROR, "%s: unexpected exception", kBackend);
    }
}

}  // namespace gg
