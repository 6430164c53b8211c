// What every cutlass-sm90 grouped configuration derives from its collectives in the same way: CUTLASS's kernel and its
// device adapter, the stride types the group arrays hold, and the per-group shape type. A configuration is a struct
// of its collectives (element types, layouts, tile, ProblemShape, CollectiveMainloop, CollectiveEpilogue) and these:
//
//     struct XConfig : XCollectives<...>, GroupedKernelTypes<XCollectives<...>> {};
//
// (grouped_gemm_sm90.cuh's bf16/fp16 GroupedGemmConfig, scaled_gemm_sm90.cuh's FP8 ScaledGemmConfig and
// BlockScaledGemmConfig), so that the chain is written once.
#pragma once

#include "cutlass/cutlass.h"
#include "cutlass/gemm/device/gemm_universal_adapter.h"
#include "cutlass/gemm/kernel/gemm_universal.hpp"

namespace gg::cutlass_sm90 {

template <class Collectives>
struct GroupedKernelTypes {
    using GemmKernel = cutlass::gemm::kernel::GemmUniversal<typename Collectives::ProblemShape,
                                                            typename Collectives::CollectiveMainloop,
                                                            typename Collectives::CollectiveEpilogue>;
    using Gemm = cutlass::gemm::device::GemmUniversalAdapter<GemmKernel>;
    using StrideA = typename GemmKernel::InternalStrideA;
    using StrideB = typename GemmKernel::InternalStrideB;
    using StrideC = typename GemmKernel::InternalStrideC;
    using StrideD = typename GemmKernel::InternalStrideD;
    // The group arrays hold int64 leading dimensions and int[3] shapes: each run checks that these types are those
    // bytes (leading_dimension.cuh: array_layouts_match).
    using UnderlyingShape = typename Collectives::ProblemShape::UnderlyingProblemShape;
};

}  // namespace gg::cutlass_sm90
