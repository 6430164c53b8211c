// CUTLASS 3.x pointer-array grouped GEMM for Hopper (sm_90a), after CUTLASS example 57_hopper_grouped_gemm:
// TMA loads and stores, warp-specialized persistent kernels, problem shapes and per-group pointers and
// strides on the device (filled by cutlass_common/group_arrays.cuh), fp32 accumulation, our own tile order
// (group_tile_order.cuh).
// Included only by the thin per-configuration TUs that native/cmake/sm90_kernels.cmake writes into the build folder.
#pragma once

#include <cstring>
#include <type_traits>

#include "cutlass/cutlass.h"

#include "cute/tensor.hpp"
#include "cutlass/bfloat16.h"
#include "cutlass/epilogue/collective/collective_builder.hpp"
#include "cutlass/epilogue/fusion/operations.hpp"
#include "cutlass/gemm/collective/collective_builder.hpp"
#include "cutlass/gemm/device/gemm_universal_adapter.h"
#include "cutlass/gemm/dispatch_policy.hpp"
#include "cutlass/gemm/group_array_problem_shape.hpp"
#include "cutlass/gemm/kernel/gemm_universal.hpp"
#include "cutlass/half.h"
#include "cutlass/kernel_hardware_info.h"

#include "core/backend_table.h"
#include "cutlass_common/cutlass_element.cuh"
#include "cutlass_sm90/group_tile_order.cuh"
#include "cutlass_sm90/grouped_kernel_types.cuh"
#include "cutlass_sm90/leading_dimension.cuh"
#include "cutlass_sm90/sm90_kernels.h"

#if !defined(CUTLASS_ARCH_MMA_MODIFIABLE_TMA_SM90_SUPPORTED)
#error "cutlass-sm90 needs CUDA 12.3 or newer (device-side TMA descriptor updates)"
#endif

namespace gg::cutlass_sm90 {

using cutlass_grouped::CutlassElement;

// Tile, cluster and schedules of each Sm90Tile (see tile_choice.h for when each runs).
template <int TileM, int TileN, int ClusterM, int ClusterN, bool Pingpong, int TileK = 64>
struct TileTraitsOf {
    // A TMA box spans at most 256 elements a dimension, and every tile is built for all three operand forms, whose
    // K-major operands (A in the forward, B with trans_b) load a whole tile side in one box. CUTLASS reports a bad
    // box only at run time, on stderr, and the kernel then waits forever on its first load (a 128x352 trans_b tile
    // did, docs/perf-notes.md v14).
    static_assert(TileM <= 256 && TileN <= 256, "a tile side above 256 needs TMA boxes CUTLASS does not split");
    using TileShape = cute::Shape<cute::Int<TileM>, cute::Int<TileN>, cute::Int<TileK>>;
    using ClusterShape = cute::Shape<cute::Int<ClusterM>, cute::Int<ClusterN>, cute::_1>;
    using KernelSchedule = std::conditional_t<Pingpong, cutlass::gemm::KernelPtrArrayTmaWarpSpecializedPingpong,
                                              cutlass::gemm::KernelPtrArrayTmaWarpSpecializedCooperative>;
    using EpilogueSchedule = std::conditional_t<Pingpong, cutlass::epilogue::PtrArrayTmaWarpSpecializedPingpong,
                                                cutlass::epilogue::PtrArrayTmaWarpSpecializedCooperative>;
    // The store-only epilogue's subtile: 64 columns, over both consumer warp groups' rows (cooperative) or one
    // warp group's 64 (ping-pong). 128 columns measured no better, 256 worse (docs/perf-notes.md v8).
    static constexpr int kStoreOnlyColumns = 64;
    static_assert(TileN % kStoreOnlyColumns == 0, "the store-only epilogue's subtile must divide the tile's N");
    using StoreOnlyEpilogueTile = cute::Shape<cute::Int<Pingpong ? 64 : 128>, cute::Int<kStoreOnlyColumns>>;
};
template <Sm90Tile Tile>
struct TileTraits;
//                                                                     tile M, N  cluster M, N  ping-pong  tile K
template <>
struct TileTraits<Sm90Tile::kCooperative128x256> : TileTraitsOf<128, 256, 2, 1, false> {};
template <>
struct TileTraits<Sm90Tile::kPingpong128x128> : TileTraitsOf<128, 128, 1, 1, true> {};
template <>
struct TileTraits<Sm90Tile::kCooperative128x256Cluster1x1> : TileTraitsOf<128, 256, 1, 1, false> {};
template <>
struct TileTraits<Sm90Tile::kCooperative256x128> : TileTraitsOf<256, 128, 1, 1, false> {};
template <>
struct TileTraits<Sm90Tile::kPingpong128x128Cluster1x2> : TileTraitsOf<128, 128, 1, 2, true> {};
template <>
struct TileTraits<Sm90Tile::kCooperative128x256K32> : TileTraitsOf<128, 256, 2, 1, false, 32> {};
template <>
struct TileTraits<Sm90Tile::kCooperative128x256K32Cluster1x1> : TileTraitsOf<128, 256, 1, 1, false, 32> {};
template <>
struct TileTraits<Sm90Tile::kCooperative128x192> : TileTraitsOf<128, 192, 1, 1, false> {};
template <>
struct TileTraits<Sm90Tile::kPingpong64x128K128> : TileTraitsOf<64, 128, 1, 1, true, 128> {};

// One kernel configuration's collectives (GroupedGemmConfig, below, adds the kernel types).
template <gg_dtype DType, Operands Ops, Sm90Tile Tile, Sm90Epilogue Epi>
struct GroupedGemmCollectives {
    using Element = typename CutlassElement<DType>::type;
    using ElementAccumulator = float;
    static constexpr Sm90Tile kTile = Tile;
    static constexpr Operands kOps = Ops;
    static constexpr bool kSource = Epi == Sm90Epilogue::kSource;
    // Without a source (C `void`), CUTLASS drops the C buffers and the C load pipeline; such a kernel takes beta = 0
    // only, which run() checks.
    using ElementC = std::conditional_t<kSource, Element, void>;
    // Split-K's partial kernels write fp32 sums (split_k.cuh adds them into the output); the others the element type.
    using ElementD = std::conditional_t<Epi == Sm90Epilogue::kPartialF32, float, Element>;
    using EpilogueTile = std::conditional_t<kSource, cutlass::epilogue::collective::EpilogueTileAuto,
                                            typename TileTraits<Tile>::StoreOnlyEpilogueTile>;

    // Row-major tensors throughout; trans_a reads a_e as a_e^T (column-major), trans_b reads b[e] as column-major.
    using LayoutA = std::conditional_t<Ops == Operands::kTransA, cutlass::layout::ColumnMajor, cutlass::layout::RowMajor>;
    using LayoutB = std::conditional_t<Ops == Operands::kTransB, cutlass::layout::ColumnMajor, cutlass::layout::RowMajor>;
    using LayoutC = cutlass::layout::RowMajor;
    // TMA moves 16-byte aligned rows.
    static constexpr int kAlignment = 128 / cutlass::sizeof_bits<Element>::value;
    static constexpr int kAlignmentD = 128 / cutlass::sizeof_bits<ElementD>::value;

    using TileShape = typename TileTraits<Tile>::TileShape;
    using ClusterShape = typename TileTraits<Tile>::ClusterShape;
    // (M, N, K) per group; this type also selects our tile scheduler (group_tile_order.cuh).
    using ProblemShape = GroupTileShapes;

    using CollectiveEpilogue = typename cutlass::epilogue::collective::CollectiveBuilder<
        cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp,
        TileShape, ClusterShape,
        EpilogueTile,
        ElementAccumulator, ElementAccumulator,
        ElementC, LayoutC*, kAlignment,  // C (read only when beta != 0)
        ElementD, LayoutC*, kAlignmentD,  // D
        typename TileTraits<Tile>::EpilogueSchedule,
        cutlass::epilogue::fusion::LinearCombination<ElementD, ElementAccumulator>>::CollectiveOp;

    using CollectiveMainloop = typename cutlass::gemm::collective::CollectiveBuilder<
        cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp,
        Element, LayoutA*, kAlignment,
        Element, LayoutB*, kAlignment,
        ElementAccumulator,
        TileShape, ClusterShape,
        cutlass::gemm::collective::StageCountAutoCarveout<
            static_cast<int>(sizeof(typename CollectiveEpilogue::SharedStorage))>,
        typename TileTraits<Tile>::KernelSchedule>::CollectiveOp;
};

// One kernel configuration: its collectives and the kernel types (grouped_kernel_types.cuh).
template <gg_dtype DType, Operands Ops, Sm90Tile Tile, Sm90Epilogue Epi>
struct GroupedGemmConfig : GroupedGemmCollectives<DType, Ops, Tile, Epi>,
                           GroupedKernelTypes<GroupedGemmCollectives<DType, Ops, Tile, Epi>> {};

// Arguments as in example 57, with every array on the device. `host_problem_sizes` (counts on the host)
// lets the scheduler launch no more CTAs than tiles; without it the grid is one CTA per SM.
template <class Config>
typename Config::Gemm::Arguments make_arguments(const GroupedLaunch& launch) {
    using Gemm = typename Config::Gemm;
    using Element = typename Config::Element;
    using Shape = typename Config::UnderlyingShape;
    const GroupArrays& arr = launch.arrays;

    cutlass::KernelHardwareInfo hw_info;
    hw_info.device_id = launch.device;
    hw_info.sm_count = launch.sm_count;

    typename Gemm::Arguments args;
    args.mode = cutlass::gemm::GemmUniversalMode::kGrouped;
    // Claims need the counter; the walk itself keeps the static deal for clusters of more than one CTA.
    const bool claims = launch.tile_claim_ahead > 0 && arr.tile_claims != nullptr;
    args.problem_shape = GroupTileShapes(launch.problem_count, reinterpret_cast<Shape*>(arr.problem_sizes),
                                         reinterpret_cast<const Shape*>(launch.host_problem_sizes),
                                         launch.tile_run_rows, claims ? arr.tile_claims : nullptr,
                                         claims ? launch.tile_claim_ahead : 1, launch.tile_band,
                                         launch.tile_long_rows);
    args.mainloop = {const_cast<const Element**>(reinterpret_cast<Element**>(arr.ptr_a)),
                     reinterpret_cast<typename Config::StrideA*>(arr.lda),
                     const_cast<const Element**>(reinterpret_cast<Element**>(arr.ptr_b)),
                     reinterpret_cast<typename Config::StrideB*>(arr.ldb)};
    using PtrC = decltype(args.epilogue.ptr_C);  // Element const** with a source, void const** without
    args.epilogue.ptr_C = Config::kSource ? reinterpret_cast<PtrC>(reinterpret_cast<uintptr_t>(arr.ptr_c)) : nullptr;
    args.epilogue.dC = reinterpret_cast<typename Config::StrideC*>(arr.ldc);
    args.epilogue.ptr_D = reinterpret_cast<typename Config::ElementD**>(arr.ptr_c);
    args.epilogue.dD = reinterpret_cast<typename Config::StrideD*>(arr.ldc);
    // One alpha and beta for every group.
    args.epilogue.thread.alpha = launch.alpha;
    args.epilogue.thread.beta = launch.beta;
    args.epilogue.thread.alpha_ptr = nullptr;
    args.epilogue.thread.beta_ptr = nullptr;
    args.epilogue.thread.alpha_ptr_array = nullptr;
    args.epilogue.thread.beta_ptr_array = nullptr;
    args.epilogue.thread.dAlpha = {cute::_0{}, cute::_0{}, 0};
    args.epilogue.thread.dBeta = {cute::_0{}, cute::_0{}, 0};
    args.hw_info = hw_info;
    // Tile order within each group, chosen by the backend (tile_choice.h: raster_along_n). No swizzle: CUTLASS sizes
    // it from the smaller side of the (tiles, 1) grid it sees for grouped problems, so any width comes out as 1.
    using Raster = cutlass::gemm::kernel::detail::RasterOrderOptions;
    args.scheduler.raster_order = launch.raster_along_n ? Raster::AlongN : Raster::AlongM;
    args.scheduler.max_swizzle_size = 1;
    return args;
}

template <gg_dtype DType, Operands Ops, Sm90Tile Tile, Sm90Epilogue Epi>
gg_status GroupedKernel<DType, Ops, Tile, Epi>::workspace_bytes(int32_t groups, int device, int sm_count,
                                                                size_t* bytes) {
    using Config = GroupedGemmConfig<DType, Ops, Tile, Epi>;
    // The size depends on the group count and SM count only: null arrays are fine here.
    GroupedLaunch probe;
    probe.problem_count = groups;
    probe.device = device;
    probe.sm_count = sm_count;
    *bytes = Config::Gemm::get_workspace_size(make_arguments<Config>(probe));
    return GG_STATUS_SUCCESS;
}

template <gg_dtype DType, Operands Ops, Sm90Tile Tile, Sm90Epilogue Epi>
gg_status GroupedKernel<DType, Ops, Tile, Epi>::run(const GroupedLaunch& launch) {
    using Config = GroupedGemmConfig<DType, Ops, Tile, Epi>;
    using Gemm = typename Config::Gemm;
    const char* const kBackend = gg::backend_name(GG_BACKEND_CUTLASS_SM90);

    if (!array_layouts_match<Config>()) {
        return fail(GG_STATUS_INTERNAL_ERROR, "cutlass-sm90: CUTLASS stride or shape types do not have the byte layout "
                    "the group arrays are written in");
    }
    if (!Config::kSource && launch.beta != 0.0f) {
        return fail(GG_STATUS_INTERNAL_ERROR, "cutlass-sm90: a store-only epilogue was chosen for an accumulating "
                    "call (beta %g)", static_cast<double>(launch.beta));
    }
    const typename Gemm::Arguments args = make_arguments<Config>(launch);

    const size_t need = Gemm::get_workspace_size(args);
    if (need > launch.arrays.kernel_workspace_bytes) {
        return fail(GG_STATUS_INTERNAL_ERROR, "cutlass-sm90: kernel workspace of %zu bytes reserved, %zu needed",
                    launch.arrays.kernel_workspace_bytes, need);
    }
    cutlass::Status status = Gemm::can_implement(args);
    if (status != cutlass::Status::kSuccess) {
        return cutlass_grouped::cutlass_failure(kBackend, "GemmUniversalAdapter::can_implement",
                                                cutlassGetStatusString(status));
    }
    Gemm gemm;
    status = gemm.initialize(args, launch.arrays.kernel_workspace, launch.stream);
    if (status != cutlass::Status::kSuccess) {
        return cutlass_grouped::cutlass_failure(kBackend, "GemmUniversalAdapter::initialize",
                                                cutlassGetStatusString(status));
    }
    // Programmatic dependent launch: the GEMM's launch and prologue overlap the fill kernel before it; the kernel
    // waits for that grid (cudaGridDependencySynchronize, compiled in by CUTLASS_ENABLE_GDC_FOR_SM90) before it
    // reads the group arrays. Worth a few microseconds on small problems (docs/perf-notes.md).
    status = gemm.run(launch.stream, /*cuda_adapter=*/nullptr, /*launch_with_pdl=*/true);
    if (status != cutlass::Status::kSuccess) {
        return cutlass_grouped::cutlass_failure(kBackend, "GemmUniversalAdapter::run", cutlassGetStatusString(status));
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace gg::cutlass_sm90

// Explicit instantiation of one configuration: the whole body of a thin TU.
#define GG_SM90_INSTANTIATE(DTYPE, OPS, TILE, EPILOGUE)                                                  \
    template struct gg::cutlass_sm90::GroupedKernel<DTYPE, gg::cutlass_grouped::Operands::OPS,            \
                                                    gg::cutlass_sm90::Sm90Tile::TILE,                      \
                                                    gg::cutlass_sm90::Sm90Epilogue::EPILOGUE>;
