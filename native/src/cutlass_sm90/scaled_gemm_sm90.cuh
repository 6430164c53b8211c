// CUTLASS 3.x FP8 pointer-array grouped GEMM for Hopper (sm_90a), e4m3 x e4m3 -> bf16 with row-wise scales
// (torch._scaled_grouped_mm semantics): the FP8 mainloop with promotion (not fast accumulation), and an epilogue
// visitor tree that multiplies the fp32 accumulator by a_scale[row] (column broadcast, one pointer per group) and
// b_scale[e, column] (row broadcast, one pointer per group) before the one rounding to bf16.
// Included only by scaled_gemm_sm90.cu; the configurations come from sm90_fp8_tiles.def.
#pragma once

#include <type_traits>

#include "cutlass/cutlass.h"

#include "cute/tensor.hpp"
#include "cutlass/bfloat16.h"
#include "cutlass/epilogue/collective/collective_builder.hpp"
#include "cutlass/epilogue/fusion/sm90_callbacks_tma_warpspecialized.hpp"
#include "cutlass/float8.h"
#include "cutlass/gemm/collective/collective_builder.hpp"
#include "cutlass/gemm/device/gemm_universal_adapter.h"
#include "cutlass/gemm/dispatch_policy.hpp"
#include "cutlass/gemm/group_array_problem_shape.hpp"
#include "cutlass/gemm/kernel/gemm_universal.hpp"
#include "cutlass/kernel_hardware_info.h"

#include "backends/counts_scan.cuh"
#include "core/scaled_validate.h"

#if !defined(CUTLASS_ARCH_MMA_MODIFIABLE_TMA_SM90_SUPPORTED)
#error "cutlass-sm90 needs CUDA 12.3 or newer (device-side TMA descriptor updates)"
#endif

namespace gg::cutlass_sm90 {

enum class Sm90Fp8Tile : int {
#define GG_SM90_FP8_TILE(Enum, name, tm, tn, tk, cm, cn, pp) Enum,
#include "cutlass_sm90/sm90_fp8_tiles.def"
};

template <Sm90Fp8Tile Tile>
struct Fp8TileTraits;
#define GG_SM90_FP8_TILE(Enum, name, tm, tn, tk, cm, cn, pp)                                                     \
    template <>                                                                                                  \
    struct Fp8TileTraits<Sm90Fp8Tile::Enum> {                                                                    \
        using TileShape = cute::Shape<cute::Int<tm>, cute::Int<tn>, cute::Int<tk>>;                             \
        using ClusterShape = cute::Shape<cute::Int<cm>, cute::Int<cn>, cute::_1>;                               \
        static constexpr bool kPingpong = pp;                                                                    \
        static constexpr int kClusterM = cm;                                                                     \
        static constexpr const char* kName = #name;                                                              \
    };
#include "cutlass_sm90/sm90_fp8_tiles.def"

// One configuration: a tile, a layout of the weights and the output's type. Only trans_b ([E, N, K], K-major) is
// instantiated: FP8 wgmma reads both operands K-major, and CUTLASS's ptr-array builder has no transposing path for
// N-major FP8 weights ("Only mixed input grouped RS GEMM is supported"). The output is bf16, or fp32 for the split
// decode forward's partial sums (scaled_gemm_sm90.cu: run_split), scaled in the same epilogue and summed by
// split_k.cuh's reduce_forward_split, which rounds them to bf16 once.
template <Sm90Fp8Tile Tile, bool TransB, class ElementOut = cutlass::bfloat16_t>
struct ScaledGemmConfig {
    using Traits = Fp8TileTraits<Tile>;
    static constexpr bool kTransB = TransB;
    using ElementA = cutlass::float_e4m3_t;
    using ElementB = cutlass::float_e4m3_t;
    using ElementD = ElementOut;
    using ElementAccumulator = float;
    using LayoutA = cutlass::layout::RowMajor;
    using LayoutB = std::conditional_t<TransB, cutlass::layout::ColumnMajor, cutlass::layout::RowMajor>;
    using LayoutD = cutlass::layout::RowMajor;
    static constexpr int kAlignmentAB = 16;  // 16-byte TMA rows of one-byte elements
    static constexpr int kAlignmentD = 16 / static_cast<int>(sizeof(ElementD));  // 16-byte TMA rows
    using TileShape = typename Traits::TileShape;
    using ClusterShape = typename Traits::ClusterShape;
    using KernelSchedule = std::conditional_t<Traits::kPingpong, cutlass::gemm::KernelPtrArrayTmaWarpSpecializedPingpong,
                                              cutlass::gemm::KernelPtrArrayTmaWarpSpecializedCooperative>;
    using EpilogueSchedule = std::conditional_t<Traits::kPingpong, cutlass::epilogue::PtrArrayTmaWarpSpecializedPingpong,
                                                cutlass::epilogue::PtrArrayTmaWarpSpecializedCooperative>;
    using ProblemShape = cutlass::gemm::GroupProblemShape<cute::Shape<int, int, int>>;

    // d = ElementD(b_scale[e, n] * (a_scale[row] * acc)): both scales are pointer arrays indexed by group.
    static constexpr auto kRound = cutlass::FloatRoundStyle::round_to_nearest;
    // Alignment 1: a group's scales start at a_scale + (its first row), any 4-byte address, so no vector loads.
    using RowScaleOfA = cutlass::epilogue::fusion::Sm90ColBroadcast<0, TileShape, float*, float,
                                                                    cute::Stride<cute::_1, cute::_0, cute::_0>, 1>;
    using ColumnScaleOfB = cutlass::epilogue::fusion::Sm90RowBroadcast<0, TileShape, float*, float>;
    using ScaledByA = cutlass::epilogue::fusion::Sm90EVT<
        cutlass::epilogue::fusion::Sm90Compute<cutlass::multiplies, float, float, kRound>, RowScaleOfA,
        cutlass::epilogue::fusion::Sm90AccFetch>;
    using Epilogue = cutlass::epilogue::fusion::Sm90EVT<
        cutlass::epilogue::fusion::Sm90Compute<cutlass::multiplies, ElementD, float, kRound>, ColumnScaleOfB, ScaledByA>;

    using CollectiveEpilogue = typename cutlass::epilogue::collective::CollectiveBuilder<
        cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, TileShape, ClusterShape,
        cutlass::epilogue::collective::EpilogueTileAuto, ElementAccumulator, float,
        void, LayoutD*, kAlignmentD,  // no source
        ElementD, LayoutD*, kAlignmentD, EpilogueSchedule, Epilogue>::CollectiveOp;

    using CollectiveMainloop = typename cutlass::gemm::collective::CollectiveBuilder<
        cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp,
        ElementA, LayoutA*, kAlignmentAB,
        ElementB, LayoutB*, kAlignmentAB,
        ElementAccumulator, TileShape, ClusterShape,
        cutlass::gemm::collective::StageCountAutoCarveout<
            static_cast<int>(sizeof(typename CollectiveEpilogue::SharedStorage))>,
        KernelSchedule>::CollectiveOp;

    using GemmKernel = cutlass::gemm::kernel::GemmUniversal<ProblemShape, CollectiveMainloop, CollectiveEpilogue>;
    using Gemm = cutlass::gemm::device::GemmUniversalAdapter<GemmKernel>;
    using StrideA = typename GemmKernel::InternalStrideA;
    using StrideB = typename GemmKernel::InternalStrideB;
    using StrideC = typename GemmKernel::InternalStrideC;
    using StrideD = typename GemmKernel::InternalStrideD;
    using UnderlyingShape = typename ProblemShape::UnderlyingProblemShape;
};

// The per-group arrays of one call, carved from the handle's workspace (every array 16-byte aligned).
template <class Config>
struct ScaledGroupArrays {
    int64_t* offsets = nullptr;  // [E + 1], clamped to m
    typename Config::UnderlyingShape* shapes = nullptr;
    const typename Config::ElementA** ptr_a = nullptr;
    const typename Config::ElementB** ptr_b = nullptr;
    typename Config::ElementD** ptr_d = nullptr;
    const float** ptr_a_scale = nullptr;
    const float** ptr_b_scale = nullptr;
    // Leading dimensions, the one int64 of each group's CUTLASS stride (leading_dimension.cuh says why not the stride
    // objects themselves).
    int64_t* stride_a = nullptr;
    int64_t* stride_b = nullptr;
    int64_t* stride_d = nullptr;
};

// Fills every group's entry from the offsets (scanned here from device counts when `counts` is set; already there
// for host counts). One block of kCountsScanThreads threads, which the launch bounds guarantee can start.
template <class Config, bool TransB>
__global__ void __launch_bounds__(kCountsScanThreads)
fill_scaled_groups(const int64_t* counts, int64_t num_experts, int64_t m, int64_t k, int64_t n, const uint8_t* a,
                   const uint8_t* b, cutlass::bfloat16_t* d, const float* a_scale, const float* b_scale,
                   ScaledGroupArrays<Config> arr);

}  // namespace gg::cutlass_sm90
