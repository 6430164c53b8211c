// CUTLASS 3.x FP8 pointer-array grouped GEMM for Hopper (sm_90a), e4m3 x e4m3 -> bf16 with row-wise scales
// (torch._scaled_grouped_mm semantics): the FP8 mainloop with promotion (not fast accumulation), and an epilogue
// visitor tree that multiplies the fp32 accumulator by a_scale[row] (column broadcast, one pointer per group) and
// b_scale[e, column] (row broadcast, one pointer per group) before the one rounding to bf16.
// Included through scaled_launch_sm90.cuh by the three FP8 path files (scaled_gemm_sm90.cu, scaled_split_sm90.cu,
// scaled_block_sm90.cu); the configurations come from sm90_fp8_tiles.def.
#pragma once

#include <type_traits>

#include "cutlass/cutlass.h"

#include "cute/tensor.hpp"
#include "cutlass/bfloat16.h"
#include "cutlass/detail/blockwise_scale_layout.hpp"
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
#include "cutlass_sm90/grouped_kernel_types.cuh"
#include "cutlass_sm90/sm90_fp8_tiles.h"

#if !defined(CUTLASS_ARCH_MMA_MODIFIABLE_TMA_SM90_SUPPORTED)
#error "cutlass-sm90 needs CUDA 12.3 or newer (device-side TMA descriptor updates)"
#endif

namespace gg::cutlass_sm90 {

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
// decode forward's partial sums (scaled_split_sm90.cu: run_split), scaled in the same epilogue and summed by
// split_k.cuh's reduce_forward_split, which rounds them to bf16 once.
template <Sm90Fp8Tile Tile, bool TransB, class ElementOut>
struct ScaledGemmCollectives {
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
};

// The row-wise configuration: its collectives and the kernel types (grouped_kernel_types.cuh).
template <Sm90Fp8Tile Tile, bool TransB, class ElementOut = cutlass::bfloat16_t>
struct ScaledGemmConfig : ScaledGemmCollectives<Tile, TransB, ElementOut>,
                          GroupedKernelTypes<ScaledGemmCollectives<Tile, TransB, ElementOut>> {};

// Block scales (DeepGEMM semantics: a_scale [m, k/128], one float per row and 128-deep k block; b_scale
// [E, n/128, k/128], one per 128 x 128 block of each expert's [n, k] weights): CUTLASS's FP8 ptr-array mainloop with
// blockwise scaling, which multiplies each k block's fp32 partial product by its two scales before adding it to the
// accumulator (so the scales must be known per k block, not folded into the epilogue as the row-wise ones are). It
// reads the scales MN-major (Sm90BlockwiseScaleConfig: rows fastest for A, n blocks fastest for B), each group's
// compact ([k/128][rows] and [k/128][n/128]), and builds each group's scale layout from the group's shape itself; ours
// are K-major, so scaled_block_sm90.cu transposes them per expert into the call's workspace first. The epilogue only
// rounds to bf16. trans_b only, as the row-wise configurations.
template <Sm90Fp8Tile Tile>
struct BlockScaledGemmCollectives {
    using Traits = Fp8TileTraits<Tile>;
    static constexpr bool kTransB = true;
    using ElementA = cutlass::float_e4m3_t;
    using ElementB = cutlass::float_e4m3_t;
    using ElementD = cutlass::bfloat16_t;
    using ElementAccumulator = float;
    using LayoutA = cutlass::layout::RowMajor;
    using LayoutB = cutlass::layout::ColumnMajor;
    using LayoutD = cutlass::layout::RowMajor;
    static constexpr int kAlignmentAB = 16;
    static constexpr int kAlignmentD = 16 / static_cast<int>(sizeof(ElementD));
    // The scale granularity along k, and along n of B: DeepGEMM's block edge, as the validation declares it.
    static constexpr int kScaleBlock = static_cast<int>(::gg::kScaleBlock);
    using TileShape = typename Traits::TileShape;
    using ClusterShape = typename Traits::ClusterShape;
    static_assert(cute::size<1>(TileShape{}) % kScaleBlock == 0 && cute::size<2>(TileShape{}) % kScaleBlock == 0,
                  "a tile must hold whole 128 x 128 scale blocks along n and k");
    using ScaleConfig = cutlass::detail::Sm90BlockwiseScaleConfig<1, kScaleBlock, kScaleBlock>;
    using LayoutSFA = decltype(ScaleConfig::deduce_layoutSFA());
    using LayoutSFB = decltype(ScaleConfig::deduce_layoutSFB());
    using KernelSchedule = cutlass::gemm::KernelPtrArrayTmaWarpSpecializedCooperativeFP8Blockwise;
    using EpilogueSchedule = cutlass::epilogue::PtrArrayTmaWarpSpecializedCooperative;
    using ProblemShape = cutlass::gemm::GroupProblemShape<cute::Shape<int, int, int>>;
    using Epilogue = cutlass::epilogue::fusion::LinearCombination<ElementD, float, void, float>;

    using CollectiveEpilogue = typename cutlass::epilogue::collective::CollectiveBuilder<
        cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, TileShape, ClusterShape,
        cutlass::epilogue::collective::EpilogueTileAuto, ElementAccumulator, float,
        void, LayoutD*, kAlignmentD,  // no source
        ElementD, LayoutD*, kAlignmentD, EpilogueSchedule, Epilogue>::CollectiveOp;

    using CollectiveMainloop = typename cutlass::gemm::collective::CollectiveBuilder<
        cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp,
        ElementA, cute::tuple<LayoutA*, LayoutSFA*>, kAlignmentAB,
        ElementB, cute::tuple<LayoutB*, LayoutSFB*>, kAlignmentAB,
        ElementAccumulator, TileShape, ClusterShape,
        cutlass::gemm::collective::StageCountAutoCarveout<
            static_cast<int>(sizeof(typename CollectiveEpilogue::SharedStorage))>,
        KernelSchedule>::CollectiveOp;
};

// The block-scaled configuration: its collectives and the kernel types (grouped_kernel_types.cuh).
template <Sm90Fp8Tile Tile>
struct BlockScaledGemmConfig : BlockScaledGemmCollectives<Tile>, GroupedKernelTypes<BlockScaledGemmCollectives<Tile>> {};

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

// A CUTLASS layout object as the int32 words a fill kernel writes, word i = base[i] + rows * per_row[i] for a group of
// `rows` rows: the fills build no CUTLASS object on the device (leading_dimension.cuh says why), so the host learns
// the words from layouts it builds for three row counts and checks that they are affine in the rows (scaled_block_sm90.cu:
// layout_words); `ok` false when they are not.
constexpr int kMaxLayoutWords = 16;
struct LayoutWords {
    int32_t words = 0;
    int32_t base[kMaxLayoutWords] = {};
    int32_t per_row[kMaxLayoutWords] = {};
    bool ok = false;
};

// What a block-scaled call's fill writes besides the row-wise fill's arrays (scaled_block_sm90.cu: run_block): each
// group's scale pointers into the transposed scales, and its scale layouts. a_scales null: a row-wise call.
struct BlockScaleFill {
    const float* a_scales = nullptr;  // [m * k_blocks]: expert e's compact [k_blocks][rows] block at offsets[e] * k_blocks
    const float* b_scales = nullptr;  // [E][k_blocks][n_blocks]
    int64_t k_blocks = 0, n_blocks = 0;
    int32_t* layouts_a = nullptr;  // [E] layouts of words_a.words words
    int32_t* layouts_b = nullptr;  // [E] layouts of words_b.words words
    LayoutWords words_a, words_b;
};

// The fill kernel that writes these arrays: scaled_launch_sm90.cuh's fill_scaled_groups.

}  // namespace gg::cutlass_sm90
