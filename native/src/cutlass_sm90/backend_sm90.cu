// cutlass-sm90 backend: decides whether it can take a call, picks the tile configuration (tile_choice.h)
// and runs it. The kernels themselves are instantiated in the sm90_<dtype>_<operands>_<tile>[_store].cu files that
// CMake writes from sm90_tiles.def (native/cmake/sm90_kernels.cmake).
#include <cassert>
#include <type_traits>

#include "core/backend_table.h"
#include "cutlass_common/decode_forward.cuh"
#include "cutlass_common/decode_weight_gradient.cuh"
#include "cutlass_common/group_arrays_fill.cuh"
#include "cutlass_common/zero_empty_experts.cuh"
#include "cutlass_sm90/contiguous_gemm.h"
#include "cutlass_sm90/contiguous_tiling.h"
#include "cutlass_sm90/sm90_kernels.h"
#include "cutlass_sm90/split_k.cuh"
#include "cutlass_sm90/tile_choice.h"

// Which kernels this build compiled, and whether it reads the tuning knobs.
#include "cutlass_sm90/sm90_build_kind.h"

namespace gg {
namespace {

using cutlass_grouped::GroupedLaunch;
using cutlass_grouped::Operands;
using cutlass_sm90::Sm90Epilogue;
using cutlass_sm90::Sm90Knobs;
using cutlass_sm90::Sm90Tile;
// The backend's name for messages, from the backend table.
const char* const kBackend = gg::backend_name(GG_BACKEND_CUTLASS_SM90);

struct KernelEntry {
    gg_status (*workspace_bytes)(int32_t groups, int device, int sm_count, size_t* bytes);
    gg_status (*run)(const GroupedLaunch& launch);
};

// Whether a kernel was compiled: every one in a tuning build; in a release build (the kernels Auto chooses) or an
// experiment build (GG_SM90_KERNELS) those the generated list names, so that the others are never referenced and the
// library still links.
template <gg_dtype DType, Operands Ops, Sm90Tile Tile, Sm90Epilogue Epi>
struct Compiled : std::bool_constant<!GG_SM90_KERNEL_SUBSET> {};
#define GG_SM90_COMPILED(DTYPE, OPS, TILE, EPILOGUE)                                                           \
    template <>                                                                                              \
    struct Compiled<DTYPE, Operands::OPS, Sm90Tile::TILE, Sm90Epilogue::EPILOGUE> : std::true_type {};
GG_SM90_KERNEL_LIST(GG_SM90_COMPILED)
#undef GG_SM90_COMPILED

// A kernel's entry points; null when its file was left out of this build.
template <gg_dtype DType, Operands Ops, Sm90Tile Tile, Sm90Epilogue Epi>
constexpr KernelEntry entry_of() {
    if constexpr (Compiled<DType, Ops, Tile, Epi>::value) {
        using Kernel = cutlass_sm90::GroupedKernel<DType, Ops, Tile, Epi>;
        return {&Kernel::workspace_bytes, &Kernel::run};
    } else {
        return {nullptr, nullptr};
    }
}

template <gg_dtype DType, Operands Ops, Sm90Tile Tile>
constexpr KernelEntry entry(Sm90Epilogue epilogue) {
    return epilogue == Sm90Epilogue::kSource ? entry_of<DType, Ops, Tile, Sm90Epilogue::kSource>()
                                             : entry_of<DType, Ops, Tile, Sm90Epilogue::kStoreOnly>();
}

template <gg_dtype DType, Operands Ops>
constexpr KernelEntry entry(Sm90Tile tile, Sm90Epilogue epi) {
    switch (tile) {
#define GG_SM90_TILE(Enum, name, forward, transb, transa) \
    case Sm90Tile::Enum: return entry<DType, Ops, Sm90Tile::Enum>(epi);
#define GG_SM90_OWN_TILE(Enum, name) \
    case Sm90Tile::Enum: break;  // not a CUTLASS kernel: cutlass_sm90_run runs it
#include "cutlass_sm90/sm90_tiles.def"
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

// The <operands> of the kernel files' names.
const char* operands_name(Operands ops) {
    switch (ops) {
        case Operands::kForward: return "forward";
        case Operands::kTransB: return "transb";
        case Operands::kTransA: return "transa";
    }
    return "unknown";
}

KernelEntry pick_kernel(gg_dtype dtype, Operands ops, Sm90Tile tile, Sm90Epilogue epi) {
    return dtype == GG_DTYPE_BFLOAT16 ? entry<GG_DTYPE_BFLOAT16>(ops, tile, epi)
                                      : entry<GG_DTYPE_FLOAT16>(ops, tile, epi);
}

// Split-K's fp32 partial kernel (split_k.cuh) for `ops` on the split tile `Tile`; null when not compiled.
template <gg_dtype DType, Sm90Tile Tile>
KernelEntry partial_kernel_of(Operands ops) {
    switch (ops) {
        case Operands::kForward: return entry_of<DType, Operands::kForward, Tile, Sm90Epilogue::kPartialF32>();
        case Operands::kTransB: return entry_of<DType, Operands::kTransB, Tile, Sm90Epilogue::kPartialF32>();
        case Operands::kTransA: return entry_of<DType, Operands::kTransA, Tile, Sm90Epilogue::kPartialF32>();
    }
    return {nullptr, nullptr};
}

// The same for any split tile of the table (sm90_tiles.def: GG_SM90_SPLIT_TILE); null for a tile without a line.
template <gg_dtype DType>
KernelEntry partial_kernel_of(Operands ops, Sm90Tile tile) {
#define GG_SM90_SPLIT_TILE(Enum, name) \
    if (tile == Sm90Tile::Enum) return partial_kernel_of<DType, Sm90Tile::Enum>(ops);
#include "cutlass_sm90/sm90_tiles.def"
    return {nullptr, nullptr};
}

KernelEntry pick_partial_kernel(gg_dtype dtype, Operands ops, Sm90Tile tile) {
    return dtype == GG_DTYPE_BFLOAT16 ? partial_kernel_of<GG_DTYPE_BFLOAT16>(ops, tile)
                                      : partial_kernel_of<GG_DTYPE_FLOAT16>(ops, tile);
}

// A release build carries every partial kernel (sm90_tiles.def); an experiment build may not.
gg_status partial_not_compiled(const GmmProblem& p, Sm90Tile tile) {
    return fail(GG_STATUS_BACKEND_NOT_COMPILED, "%s: split-K's kernel %s_%s_%s_partial is not compiled into this %s "
                "build", kBackend, p.dtype == GG_DTYPE_BFLOAT16 ? "bf16" : "fp16",
                operands_name(cutlass_grouped::operands_of(p)), cutlass_sm90::tile_name(tile), GG_SM90_KERNEL_SET);
}

// The launch of split-K's partial GEMM on `tile`: `groups` groups of split's arrays into its fp32 partials, stored as
// they are (alpha 1, beta 0); the tile order is the weight gradient's or the forward's.
GroupedLaunch split_partial_launch(const Context& ctx, const GmmProblem& p, const cutlass_sm90::SplitArrays& split,
                                   Sm90Tile tile, int32_t groups, int sm_count, const Sm90Knobs& knobs,
                                   bool weight_gradient) {
    GroupedLaunch part;
    part.arrays = split.arrays;
    part.problem_count = groups;
    part.alpha = 1.0f;
    part.beta = 0.0f;
    part.device = ctx.device.ordinal;
    part.sm_count = sm_count;
    part.stream = p.stream;
    part.tile_claim_ahead = cutlass_sm90::tile_claim_ahead(p, tile, knobs);
    part.tile_long_rows = cutlass_sm90::tile_long_rows(p, knobs);
    part.raster_along_n = cutlass_sm90::raster_along_n(tile, weight_gradient, knobs);
    return part;
}

// A decode forward with every expert's k in `chunks` chunks (split_k.cuh): the group-array fill (for the offsets),
// fill_forward_split, the partial GEMM over min(E, m) x chunks groups into fp32 partials, reduce_forward_split into c.
gg_status run_forward_split(Context& ctx, const GmmProblem& p, const cutlass_grouped::GroupRule& rule,
                            const cutlass_grouped::HostGroups& host, Sm90Tile tile, int32_t chunks, int sm_count,
                            const Sm90Knobs& knobs) {
    const Sm90Tile split_tile = cutlass_sm90::split_tile_for(tile, /*weight_gradient=*/false);
    const KernelEntry partial = pick_partial_kernel(p.dtype, cutlass_grouped::operands_of(p), split_tile);
    if (partial.run == nullptr) return partial_not_compiled(p, split_tile);
    const int64_t groups = cutlass_sm90::forward_split_slots(p) * chunks;
    if (groups > 0x7fffffff) return fail(GG_STATUS_INTERNAL_ERROR, "%s: %lld split groups", kBackend,
                                         static_cast<long long>(groups));
    size_t partial_workspace = 0;
    GG_TRY(partial.workspace_bytes(static_cast<int32_t>(groups), ctx.device.ordinal, sm_count, &partial_workspace));
    const cutlass_sm90::SplitLayout layout(groups, chunks * p.m * p.n, partial_workspace);
    cutlass_grouped::GroupArrays arrays;
    GG_TRY(cutlass_grouped::prepare_group_arrays(ctx, p, rule, host, layout.total, arrays));
    const cutlass_sm90::SplitArrays split =
        cutlass_sm90::split_arrays_at(static_cast<char*>(arrays.kernel_workspace), layout, partial_workspace);
    // Chunks of whole 64-deep k steps, so that each chunk's operands stay 128-byte aligned for TMA.
    const cutlass_sm90::ChunkDepth depth = cutlass_sm90::chunk_depth(p.k, chunks, 64);
    GG_TRY(cutlass_sm90::launch_fill_forward_split(p, depth, arrays.offsets, split,
                                                   static_cast<int32_t>(dtype_size(p.dtype))));
    GG_TRY(partial.run(split_partial_launch(ctx, p, split, split_tile,
                                            static_cast<int32_t>(cutlass_sm90::forward_split_slots(p) * depth.used),
                                            sm_count, knobs, /*weight_gradient=*/false)));
    return cutlass_sm90::launch_reduce_forward_split(p, depth.used, ctx.device.sm_count, arrays.offsets, split);
}

// The contiguous kernel's split-K limit for p (contiguous_tiling.h: max_chunks_for) on the card's SMs, and the bytes of
// its partial sums (none when it cannot split); the caller places the partials and counters in the call's workspace.
// The column tiles and k steps it was computed from are kept for the host's estimate of the kernel's tiling.
struct ContiguousPlan {
    cutlass_sm90::ContiguousSplit split;
    size_t partial_bytes = 0;
    int64_t n_tiles = 0;  // 128-column tiles of p.n
    int64_t k_steps = 0;  // 64-deep steps of p.k
};

ContiguousPlan contiguous_plan(const Context& ctx, const GmmProblem& p) {
    ContiguousPlan plan;
    plan.n_tiles = (p.n + 127) / 128;
    plan.k_steps = (p.k + 63) / 64;
    plan.split.sms = static_cast<int>(ctx.device.sm_count);
    plan.split.max_chunks =
        cutlass_sm90::contiguous::max_chunks_for(p.m, plan.n_tiles, plan.k_steps, plan.split.sms);
    plan.partial_bytes =
        plan.split.max_chunks > 1 ? static_cast<size_t>(plan.split.max_chunks) * p.m * p.n * sizeof(float) : 0;
    return plan;
}

// Our own contiguous kernel (contiguous_gemm_sm90.cuh). It reads the experts' sizes from the preparation kernel's
// problem sizes and decides its tiling on the device (contiguous_tiling.h); its workspace is the split-K partial sums
// of the most chunks its rows allow, and the preparation kernel zeroes its claim and split counters.
gg_status run_contiguous_call(Context& ctx, const GmmProblem& p, const cutlass_grouped::GroupRule& rule,
                              const cutlass_grouped::HostGroups& host, Sm90Tile tile, int sm_count,
                              const Sm90Knobs& knobs) {
    namespace contig = cutlass_sm90::contiguous;
    if (rule.largest_first) {
        // The kernel reads the experts' sizes in expert order (the i-th group is expert i), so no expert may be moved
        // to group 0. Only the knob GG_SM90_FIRST=1 asks that of a forward; it would have run expert 0's rows with
        // the largest expert's sizes.
        cutlass_grouped::GroupRule in_order = rule;
        in_order.largest_first = false;
        cutlass_grouped::HostGroups in_order_host;
        GG_TRY(cutlass_grouped::build_host_groups(p, in_order, in_order_host));
        return run_contiguous_call(ctx, p, in_order, in_order_host, tile, sm_count, knobs);
    }
    ContiguousPlan plan = contiguous_plan(ctx, p);
    cutlass_sm90::ContiguousSplit& split = plan.split;
    const int64_t n_tiles = plan.n_tiles;
    cutlass_grouped::GroupArrays arrays;
    GG_TRY(cutlass_grouped::prepare_group_arrays(ctx, p, rule, host, plan.partial_bytes, arrays,
                                                 contig::claim_words_for(split.sms)));
    split.partials = static_cast<float*>(arrays.kernel_workspace);
    split.counters = arrays.tile_claims + 1;
    int64_t grid = sm_count;
    if (host.available) {
        // The same tiling the kernel will choose, from the host's counts: no CTA without a tile.
        contig::TileCounts counts;
        for (int64_t e = 0; e < p.num_experts; ++e) {
            const int64_t rows = host.problem_sizes[3 * e] > 0 ? host.problem_sizes[3 * e] : 0;  // as the kernel reads
            counts.rows256 += (rows + 255) / 256 * n_tiles;
            counts.rows128 += (rows + 127) / 128 * n_tiles;
            counts.rows64 += (rows + 63) / 64 * n_tiles;
        }
        const contig::Tiling tiling = contig::choose_tiling(counts, plan.k_steps, split.sms, split.max_chunks);
        const int64_t tiles = tiling.output_tiles * tiling.chunks;
        grid = tiles < grid ? tiles : grid;
    }
    uint32_t* claims = cutlass_sm90::tile_claim_ahead(p, tile, knobs) > 0 ? arrays.tile_claims : nullptr;
    return cutlass_sm90::run_contiguous(p, arrays.problem_sizes, claims, split, static_cast<int>(grid > 0 ? grid : 1));
}

// A kernel that this build left out (a release build has only the kernels Auto chooses, an experiment build those
// GG_SM90_KERNELS names).
gg_status kernel_not_compiled(const GmmProblem& p, Sm90Tile tile, Sm90Epilogue epilogue) {
    return fail(GG_STATUS_BACKEND_NOT_COMPILED, "%s: kernel %s_%s_%s%s is not compiled into this %s build (a release "
                "build has only the kernels Auto chooses; experiment builds those GG_SM90_KERNELS names; "
                "-DGG_SM90_TUNING=ON builds every kernel)", kBackend, p.dtype == GG_DTYPE_BFLOAT16 ? "bf16" : "fp16",
                operands_name(cutlass_grouped::operands_of(p)), cutlass_sm90::tile_name(tile),
                epilogue == Sm90Epilogue::kStoreOnly ? "_store" : "", GG_SM90_KERNEL_SET);
}

// The grouped GEMM's launch of p on `tile`, as Auto sets it up (tile_choice.h); the caller places its arrays.
// `host_sizes`: the host's [E][3] problem sizes, or null with device counts.
GroupedLaunch grouped_launch(const Context& ctx, const GmmProblem& p, Sm90Tile tile, const int32_t* host_sizes,
                             int sm_count, const Sm90Knobs& knobs) {
    GroupedLaunch launch;
    launch.problem_count = static_cast<int32_t>(p.num_experts);
    launch.host_problem_sizes = host_sizes;  // must outlive run(): the grid size is computed from it there
    launch.alpha = 1.0f;
    launch.beta = p.accumulate ? 1.0f : 0.0f;
    launch.device = ctx.device.ordinal;
    launch.sm_count = sm_count;
    launch.stream = p.stream;
    launch.tile_run_rows = cutlass_sm90::tile_run_rows(p, knobs);
    launch.tile_claim_ahead = cutlass_sm90::tile_claim_ahead(p, tile, knobs);
    launch.tile_long_rows = cutlass_sm90::tile_long_rows(p, knobs);
    launch.tile_band = cutlass_sm90::tile_band(p, tile, knobs);
    launch.raster_along_n = cutlass_sm90::raster_along_n(tile, p.trans_a, knobs);
    return launch;
}

// The grouped GEMM's kernel of a routed call for p (tile_choice.h: Sm90Route::grouped_tile, beside our contiguous
// kernel), with the epilogue Auto gives that tile; null when this build left it out.
KernelEntry routed_kernel(const GmmProblem& p, Sm90Tile tile, const Sm90Knobs& knobs) {
    return pick_kernel(p.dtype, cutlass_grouped::operands_of(p), tile, cutlass_sm90::choose_epilogue(p, tile, knobs));
}

// A forward with device counts that the device routes (tile_choice.h: device_route): one fill kernel tallies the
// experts' rows by the route's rule (contiguous_tiling.h: route_contiguous) and writes the route word, the contiguous kernel's
// sizes (every expert's rows) and the grouped GEMM's arrays (groups of no rows when the contiguous kernel was chosen);
// then the contiguous kernel and the grouped GEMM run on the stream, each after the one before with programmatic
// dependent launch, and the one not chosen finds no work (the contiguous kernel reads the route word right after its
// wait; the grouped GEMM's tile walk finds every group empty). No host synchronisation, so graph capture keeps working.
// The one workspace block holds both kernels' needs: the grouped GEMM's CUTLASS workspace, then the contiguous
// kernel's partial sums; claim word 0 is the grouped GEMM's, the contiguous kernel's claim counter and split counters
// follow it, so that neither kernel's counters are the other's.
gg_status run_routed_call(Context& ctx, const GmmProblem& p, const cutlass_grouped::GroupRule& rule,
                          const cutlass_grouped::HostGroups& host, const KernelEntry& kernel,
                          const cutlass_sm90::Sm90Route& route, int sm_count, const Sm90Knobs& knobs) {
    assert(cutlass_sm90::split_k_chunks(p, sm_count, knobs) < 2);  // split-K is the weight gradients'
    size_t kernel_workspace = 0;
    GG_TRY(kernel.workspace_bytes(static_cast<int32_t>(p.num_experts), ctx.device.ordinal, sm_count,
                                  &kernel_workspace));
    const size_t main_workspace = AlignedLayout::round_up(kernel_workspace);
    // The contiguous kernel's split-K partials, should it split: the second rule's calls (the decode tile's CTAs at most
    // half the SMs) are what it splits for; the first rule's do not split from min_rows_route rows with n a multiple of
    // 256 (its fewest tiles fill half the SMs), but the partials are placed all the same, so that a lower bound stays
    // correct (measured with the bound off: gmm_parity.py's routed shapes under memcheck,
    // docs/h100/device-route-0.15.0-dev/).
    ContiguousPlan plan = contiguous_plan(ctx, p);
    GroupedLaunch launch = grouped_launch(ctx, p, route.grouped_tile, /*host_sizes=*/nullptr, sm_count, knobs);
    GG_TRY(cutlass_grouped::prepare_group_arrays(ctx, p, rule, host, main_workspace + plan.partial_bytes,
                                                 launch.arrays,
                                                 1 + cutlass_sm90::contiguous::claim_words_for(plan.split.sms),
                                                 route.rule));
    char* workspace = static_cast<char*>(launch.arrays.kernel_workspace);
    plan.split.partials = plan.partial_bytes > 0 ? reinterpret_cast<float*>(workspace + main_workspace) : nullptr;
    plan.split.counters = launch.arrays.tile_claims + 2;
    uint32_t* claims = cutlass_sm90::tile_claim_ahead(p, Sm90Tile::kContiguous256x128, knobs) > 0
                           ? launch.arrays.tile_claims + 1
                           : nullptr;
    // The grid the contiguous kernel gets with device counts wherever it runs (run_contiguous_call).
    GG_TRY(cutlass_sm90::run_contiguous(p, launch.arrays.contiguous_sizes, claims, plan.split, sm_count,
                                        launch.arrays.route));
    launch.arrays.kernel_workspace = kernel_workspace > 0 ? workspace : nullptr;
    launch.arrays.kernel_workspace_bytes = kernel_workspace;
    return kernel.run(launch);
}

// With host counts, the tile the routing rule picks on the host (tile_choice.h: host_route_tile), or the host's own
// tile where the rule does not apply or picks a kernel this build left out.
Sm90Tile host_routed_tile(const Context& ctx, const GmmProblem& p, const int32_t* host_sizes, Sm90Tile host_tile,
                          int sm_count, const Sm90Knobs& knobs) {
    const Sm90Tile tile = cutlass_sm90::host_route_tile(p, host_sizes, host_tile, sm_count,
                                                          ctx.device.dram_bytes_per_s, knobs);
    return tile != host_tile && tile != Sm90Tile::kContiguous256x128 && routed_kernel(p, tile, knobs).run == nullptr
               ? host_tile
               : tile;
}

}  // namespace

// Calls without work, trans_a with trans_b, and devices other than compute capability 9.0 never get here: the
// dispatcher handles or rejects them (core/internal.h). Exceptions become a status in the API frame (core/api_guard.h).
gg_status cutlass_sm90_run(Context& ctx, const GmmProblem& p) {
    assert(p.m > 0 && p.k > 0 && p.n > 0 && !(p.trans_a && p.trans_b));
    const Sm90Knobs knobs = cutlass_sm90::call_knobs();
    // Decode-sized weight gradients: one kernel of our own, no group arrays, no preparation and no zero fill after it.
    if (cutlass_sm90::decode_weight_gradient(p, knobs)) {
        return cutlass_grouped::launch_decode_weight_gradient(p, cutlass_sm90::decode_weight_gradient_mixed(p, knobs));
    }
    // Decode-sized forwards: one kernel of our own, no group arrays and no preparation kernel.
    if (cutlass_sm90::decode_forward(p, knobs)) return cutlass_grouped::launch_decode_forward(p);
    // These kernels do not clear their accumulators when K == 0: empty experts of non-accumulating weight gradients get
    // no tiles, and zero_empty_experts writes their zeros after the GEMM (cutlass_common/zero_empty_experts.cuh).
    cutlass_grouped::GroupRule rule = cutlass_grouped::make_group_rule(p, cutlass_grouped::EmptyExperts::kFilledApart);
    rule.largest_first = cutlass_sm90::largest_expert_first(p, knobs);
    // Decode-sized weight gradients with a few long experts: the short ones on the decode kernel, first on the stream,
    // and only the long ones on the grouped GEMM below (their outputs are disjoint; the kernel also writes the empty
    // experts' zeros, so zero_empty_experts does not run).
    const int64_t short_rows = cutlass_sm90::decode_weight_gradient_short_rows(p, knobs);
    if (short_rows > 0) {
        GG_TRY(cutlass_grouped::launch_decode_weight_gradient(p, cutlass_sm90::decode_weight_gradient_mixed(p, knobs),
                                                              short_rows));
        rule.gemm_min_rows = short_rows + 1;
    }
    cutlass_grouped::HostGroups host;
    GG_TRY(cutlass_grouped::build_host_groups(p, rule, host));
    const int32_t* host_sizes = host.available ? host.problem_sizes.data() : nullptr;
    if (host_sizes != nullptr && cutlass_sm90::estimate_output_tiles(p, host_sizes, 128, 128) == 0) {
        // trans_a and every expert empty: with accumulate c stays as it is, else c is all zeros.
        if (rule.empty_filled_apart) {
            GG_CUDA_CHECK(cudaMemsetAsync(p.c, 0, static_cast<size_t>(p.num_experts * p.k * p.n) * dtype_size(p.dtype),
                                          p.stream));
        }
        return GG_STATUS_SUCCESS;
    }

    const Sm90Tile host_tile =
        cutlass_sm90::choose_tile(p, host_sizes, ctx.device.sm_count, ctx.device.dram_bytes_per_s, knobs);
    const int sm_count = ctx.device.sm_count * knobs.grid_factor;
    // Forwards that our contiguous kernel or a CUTLASS tile may run (tile_choice.h: route_for, the 128x256 or the decode
    // tile), chosen by the experts' rows: with device counts on the device, both kernels launched (a build without that
    // tile keeps the host's choice); with host counts here.
    const cutlass_sm90::Sm90Route route =
        cutlass_sm90::device_route(p, host_tile, sm_count, ctx.device.dram_bytes_per_s, knobs);
    if (cutlass_sm90::contiguous::route_active(route.rule)) {
        const KernelEntry routed = routed_kernel(p, route.grouped_tile, knobs);
        if (routed.run != nullptr) return run_routed_call(ctx, p, rule, host, routed, route, sm_count, knobs);
    }
    const Sm90Tile tile = host_routed_tile(ctx, p, host_sizes, host_tile, sm_count, knobs);
    const int32_t forward_chunks = cutlass_sm90::forward_split_chunks(p, tile, sm_count, knobs);
    if (forward_chunks >= 2) return run_forward_split(ctx, p, rule, host, tile, forward_chunks, sm_count, knobs);
    if (tile == Sm90Tile::kContiguous256x128) return run_contiguous_call(ctx, p, rule, host, tile, sm_count, knobs);
    const Sm90Epilogue epilogue = cutlass_sm90::choose_epilogue(p, tile, knobs);
    const KernelEntry kernel = pick_kernel(p.dtype, cutlass_grouped::operands_of(p), tile, epilogue);
    // Release builds leave out the kernels only the tuning knobs reach; experiment builds (GG_SM90_KERNELS) more.
    if (kernel.run == nullptr && GG_SM90_KERNEL_SUBSET) return kernel_not_compiled(p, tile, epilogue);
    if (kernel.run == nullptr) return fail(GG_STATUS_INTERNAL_ERROR, "%s: no kernel for this call", kBackend);

    const int32_t groups = static_cast<int32_t>(p.num_experts);
    size_t kernel_workspace = 0;
    GG_TRY(kernel.workspace_bytes(groups, ctx.device.ordinal, sm_count, &kernel_workspace));

    // Split-K of the largest expert (split_k.cuh): its arrays, partial GEMM workspace and fp32 partials follow the main
    // GEMM's CUTLASS workspace in the same block, acquired once for the whole call.
    const int32_t chunks = cutlass_sm90::split_k_chunks(p, sm_count, knobs);  // none beside the decode kernel
    KernelEntry partial{nullptr, nullptr};
    size_t partial_workspace = 0, split_bytes = 0;
    const size_t main_workspace = AlignedLayout::round_up(kernel_workspace);
    if (chunks >= 2) {
        partial = pick_partial_kernel(p.dtype, Operands::kTransA, cutlass_sm90::kSm90SplitTile);
        if (partial.run == nullptr) return partial_not_compiled(p, cutlass_sm90::kSm90SplitTile);
        GG_TRY(partial.workspace_bytes(chunks, ctx.device.ordinal, sm_count, &partial_workspace));
        split_bytes = cutlass_sm90::SplitLayout(chunks, chunks * p.k * p.n, partial_workspace).total;
    }

    GroupedLaunch launch = grouped_launch(ctx, p, tile, host_sizes, sm_count, knobs);
    cutlass_sm90::SplitArrays split;
    // The split's plan runs in the fill kernel itself, after the group arrays (it reads the offsets and clears the main
    // group of the expert it splits), so that the main GEMM's programmatic launch overlaps that kernel alone.
    auto plan_split = [&](const cutlass_grouped::GroupArrays& arrays) {
        cutlass_grouped::LargestExpertSplit plan;
        if (chunks < 2) return plan;
        const cutlass_sm90::SplitLayout layout(chunks, chunks * p.k * p.n, partial_workspace);
        split = cutlass_sm90::split_arrays_at(static_cast<char*>(arrays.kernel_workspace) + main_workspace, layout,
                                              partial_workspace);
        plan.split = split;
        plan.chunks = chunks;
        plan.min_share_inverse = cutlass_sm90::kSm90TilePolicy.split_min_share_inverse;
        plan.k = p.k;
        plan.n = p.n;
        return plan;
    };
    GG_TRY(cutlass_grouped::prepare_group_arrays(ctx, p, rule, host,
                                                 chunks >= 2 ? main_workspace + split_bytes : kernel_workspace,
                                                 launch.arrays, plan_split));
    if (chunks >= 2) {
        launch.arrays.kernel_workspace = kernel_workspace ? launch.arrays.kernel_workspace : nullptr;
        launch.arrays.kernel_workspace_bytes = kernel_workspace;
    }
    GG_TRY(kernel.run(launch));
    if (chunks >= 2) {
        // The chunks of the split expert as a second grouped GEMM into the fp32 partials (no tiles when the plan did
        // not split), then their sum into c; the zero fill below skips that expert, which has rows.
        GG_TRY(partial.run(split_partial_launch(ctx, p, split, cutlass_sm90::kSm90SplitTile, chunks, sm_count, knobs,
                                                /*weight_gradient=*/true)));
        GG_TRY(cutlass_sm90::launch_reduce_split_k(p, chunks, ctx.device.sm_count, split));
    }
    if (!rule.empty_filled_apart || short_rows > 0) return GG_STATUS_SUCCESS;
    // After the GEMM on the same stream, so that the GEMM's programmatic launch still overlaps the fill kernel it waits
    // for; the offsets it reads are the fill kernel's, in the call's workspace, which no later call touches before this
    // kernel has run (stream order). Host counts with no empty expert skip it.
    if (host.available) {
        bool any_empty = false;
        for (int64_t e = 0; e < p.num_experts && !any_empty; ++e) any_empty = p.batch_sizes[e] == 0;
        if (!any_empty) return GG_STATUS_SUCCESS;
    }
    return cutlass_grouped::launch_zero_empty_experts(launch.arrays.offsets, p.num_experts, p.c,
                                                      p.k * p.n * static_cast<int64_t>(dtype_size(p.dtype)), p.stream);
}

// The dispatcher has already checked the device (compute capability 9.0: sm_90a code runs there only) and rejected
// trans_a with trans_b (core/internal.h).
gg_status cutlass_sm90_supports(const Context&, const GmmProblem& p) {
    if (p.dtype != GG_DTYPE_BFLOAT16 && p.dtype != GG_DTYPE_FLOAT16) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s: dtype %d is not supported (bfloat16 and float16 only; use "
                    "cublas-loop for float32)", kBackend, static_cast<int>(p.dtype));
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

}  // namespace gg
