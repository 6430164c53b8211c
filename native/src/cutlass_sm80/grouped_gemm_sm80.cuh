// CUTLASS 2.x grouped GEMM (cutlass::gemm::device::GemmGrouped), the kernel tgale96/grouped_gemm uses:
// tensor-op 16x8x16, threadblock 128x128x32, warp 64x64x32, fp32 accumulation, device-side scheduling.
// Included only by the thin per-configuration TUs of this folder.
#pragma once

#include <atomic>
#include <type_traits>

#include "cutlass/bfloat16.h"
#include "cutlass/cutlass.h"
#include "cutlass/half.h"
#include "cutlass/epilogue/thread/linear_combination.h"
#include "cutlass/gemm/device/gemm_grouped.h"
#include "cutlass/gemm/kernel/default_gemm_grouped.h"
#include "cutlass/gemm/kernel/gemm_grouped.h"

#include "core/backend_table.h"
#include "cutlass_common/cutlass_element.cuh"
#include "cutlass_sm80/sm80_kernels.h"

namespace gg::cutlass_sm80 {

using cutlass_grouped::CutlassElement;

// One kernel configuration: element type, operand layouts (from the gmm form) and access width.
template <gg_dtype DType, Operands Ops, int Alignment>
struct GroupedGemmConfig {
    using Element = typename CutlassElement<DType>::type;
    using ElementAccumulator = float;

    // Row-major tensors throughout; trans_a reads a_e as a_e^T (column-major), trans_b reads b[e] as column-major.
    using LayoutA = std::conditional_t<Ops == Operands::kTransA, cutlass::layout::ColumnMajor, cutlass::layout::RowMajor>;
    using LayoutB = std::conditional_t<Ops == Operands::kTransB, cutlass::layout::ColumnMajor, cutlass::layout::RowMajor>;
    using LayoutC = cutlass::layout::RowMajor;

    using ThreadblockShape = cutlass::gemm::GemmShape<128, 128, 32>;
    using WarpShape = cutlass::gemm::GemmShape<64, 64, 32>;
    using InstructionShape = cutlass::gemm::GemmShape<16, 8, 16>;
    // cp.async moves 4, 8 or 16 bytes: the 1-element (2-byte) kernel needs the 2-stage mainloop, which loads
    // through registers.
    static constexpr int kStages = Alignment >= 2 ? 4 : 2;

    using EpilogueOp = cutlass::epilogue::thread::LinearCombination<Element, Alignment, ElementAccumulator,
                                                                    ElementAccumulator>;

    using GemmKernel = typename cutlass::gemm::kernel::DefaultGemmGrouped<
        Element, LayoutA, cutlass::ComplexTransform::kNone, Alignment,
        Element, LayoutB, cutlass::ComplexTransform::kNone, Alignment,
        Element, LayoutC, ElementAccumulator,
        cutlass::arch::OpClassTensorOp, cutlass::arch::Sm80,
        ThreadblockShape, WarpShape, InstructionShape,
        EpilogueOp,
        // Unused by the grouped kernels; passed to fill the parameter list.
        cutlass::gemm::threadblock::GemmBatchedIdentityThreadblockSwizzle,
        kStages,
        // Problem sizes live on the device (device counts): the schedule must be computed there too.
        cutlass::gemm::kernel::GroupScheduleMode::kDeviceOnly>::GemmKernel;

    using Gemm = cutlass::gemm::device::GemmGrouped<GemmKernel>;

    static_assert(!GemmKernel::ProblemVisitor::kRequiresPrecomputation,
                  "device-only scheduling needs no host precomputation (and no host problem sizes)");
    static_assert(sizeof(cutlass::gemm::GemmCoord) == 3 * sizeof(int32_t), "GroupArrays::problem_sizes layout");
    static_assert(std::is_same_v<typename LayoutA::Stride::LongIndex, int64_t> &&
                      std::is_same_v<typename LayoutB::Stride::LongIndex, int64_t> &&
                      std::is_same_v<typename LayoutC::Stride::LongIndex, int64_t>,
                  "GroupArrays leading dimensions are int64");
};

// Largest grid that keeps every block resident (the kernel is persistent), cached per device.
template <typename Config>
gg_status resident_blocks_per_sm(int device, int* blocks) {
    using GemmKernel = typename Config::GemmKernel;
    constexpr int kMaxDevices = 64;
    static std::atomic<int> cache[kMaxDevices];
    if (device >= 0 && device < kMaxDevices) {
        const int cached = cache[device].load(std::memory_order_relaxed);
        if (cached > 0) {
            *blocks = cached;
            return GG_STATUS_SUCCESS;
        }
    }
    const int smem_bytes = static_cast<int>(sizeof(typename GemmKernel::SharedStorage));
    if (smem_bytes >= (48 << 10)) {
        GG_CUDA_CHECK(cudaFuncSetAttribute(cutlass::Kernel<GemmKernel>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           smem_bytes));
    }
    int per_sm = 0;
    GG_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, cutlass::Kernel<GemmKernel>,
                                                                GemmKernel::kThreadCount, smem_bytes));
    if (per_sm <= 0) {
        return fail(GG_STATUS_CUTLASS_ERROR, "cutlass-sm80: the kernel cannot be resident on device %d "
                    "(%d bytes of shared memory per block)", device, smem_bytes);
    }
    if (device >= 0 && device < kMaxDevices) cache[device].store(per_sm, std::memory_order_relaxed);
    *blocks = per_sm;
    return GG_STATUS_SUCCESS;
}

template <gg_dtype DType, Operands Ops, int Alignment>
gg_status run_grouped(const GroupedLaunch& launch) {
    using Config = GroupedGemmConfig<DType, Ops, Alignment>;
    using Gemm = typename Config::Gemm;
    using ElementA = typename Gemm::ElementA;
    using ElementB = typename Gemm::ElementB;
    using ElementC = typename Gemm::ElementC;

    int per_sm = 0;
    GG_TRY(resident_blocks_per_sm<Config>(launch.device, &per_sm));
    int64_t threadblocks = static_cast<int64_t>(launch.sm_count) * per_sm;

    // With host sizes, never launch more blocks than tiles: idle blocks still walk the whole problem list.
    if (launch.host_problem_sizes != nullptr) {
        int64_t tiles = 0;
        for (int32_t g = 0; g < launch.problem_count; ++g) {
            cutlass::gemm::GemmCoord problem(launch.host_problem_sizes[3 * g + 0], launch.host_problem_sizes[3 * g + 1],
                                             launch.host_problem_sizes[3 * g + 2]);
            tiles += Gemm::problem_tile_count(problem);
        }
        if (tiles == 0) return GG_STATUS_SUCCESS;  // e.g. trans_a with accumulate and every expert empty
        if (tiles < threadblocks) threadblocks = tiles;
    }
    if (threadblocks < 1) threadblocks = 1;

    const GroupArrays& arr = launch.arrays;
    typename Gemm::EpilogueOutputOp::Params epilogue(launch.alpha, launch.beta);
    typename Gemm::Arguments args(
        reinterpret_cast<cutlass::gemm::GemmCoord*>(arr.problem_sizes),
        launch.problem_count,
        static_cast<int>(threadblocks),
        epilogue,
        reinterpret_cast<ElementA**>(arr.ptr_a),
        reinterpret_cast<ElementB**>(arr.ptr_b),
        reinterpret_cast<ElementC**>(arr.ptr_c),  // C: read only when beta != 0
        reinterpret_cast<ElementC**>(arr.ptr_c),  // D
        arr.lda, arr.ldb, arr.ldc, arr.ldc,
        /*host_problem_sizes=*/nullptr);

    const char* const kBackend = gg::backend_name(GG_BACKEND_CUTLASS_SM80);
    cutlass::Status status = Gemm::can_implement(args);
    if (status != cutlass::Status::kSuccess) {
        return cutlass_grouped::cutlass_failure(kBackend, "GemmGrouped::can_implement", cutlassGetStatusString(status));
    }
    Gemm gemm;
    // kDeviceOnly scheduling needs no workspace (get_workspace_size is 0).
    status = gemm.initialize(args, /*workspace=*/nullptr, launch.stream);
    if (status != cutlass::Status::kSuccess) {
        return cutlass_grouped::cutlass_failure(kBackend, "GemmGrouped::initialize", cutlassGetStatusString(status));
    }
    status = gemm.run(launch.stream);
    if (status != cutlass::Status::kSuccess) {
        return cutlass_grouped::cutlass_failure(kBackend, "GemmGrouped::run", cutlassGetStatusString(status));
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace gg::cutlass_sm80

// Explicit instantiation of one configuration: the whole body of a thin TU.
#define GG_SM80_INSTANTIATE(DTYPE, OPS, ALIGN)                                                           \
    template gg_status gg::cutlass_sm80::run_grouped<DTYPE, gg::cutlass_grouped::Operands::OPS, ALIGN>( \
        const gg::cutlass_grouped::GroupedLaunch&);
