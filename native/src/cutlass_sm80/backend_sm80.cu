// cutlass-sm80 backend: decides whether it can take a call, picks the kernel configuration and runs it.
// The kernels themselves are in the sm80_<dtype>_<operands>_align<N>.cu files (see grouped_gemm_sm80.cuh).
#include <atomic>
#include <cassert>

#include "core/backend_table.h"
#include "cutlass_common/group_arrays_fill.cuh"
#include "cutlass_sm80/sm80_kernels.h"

namespace gg {
namespace {

using cutlass_grouped::GroupedLaunch;
using cutlass_grouped::Operands;
// The backend's name for messages, from the backend table.
const char* const kBackend = gg::backend_name(GG_BACKEND_CUTLASS_SM80);

// Does nothing. It is compiled for the same architectures as the GEMM kernels, so if the device cannot
// load it, it cannot load them either, and supports() can say so instead of run() failing.
__global__ void sm80_kernel_image_probe() {}

gg_status check_kernel_image(const DeviceInfo& device) {
    constexpr int kMaxDevices = 64;
    static std::atomic<int> known[kMaxDevices];  // 0 unknown, 1 loadable
    const bool cacheable = device.ordinal >= 0 && device.ordinal < kMaxDevices;
    if (cacheable && known[device.ordinal].load(std::memory_order_relaxed) == 1) return GG_STATUS_SUCCESS;

    cudaFuncAttributes attributes{};
    const cudaError_t err = cudaFuncGetAttributes(&attributes, sm80_kernel_image_probe);
    if (err == cudaErrorNoKernelImageForDevice || err == cudaErrorInvalidDeviceFunction) {
        (void)cudaGetLastError();
        return fail(GG_STATUS_NOT_SUPPORTED, "%s: this build has no kernel image for device %d (compute capability "
                    "%d.%d); rebuild the library with that architecture", kBackend, device.ordinal, device.cc_major,
                    device.cc_minor);
    }
    GG_CUDA_CHECK(err);
    if (cacheable) known[device.ordinal].store(1, std::memory_order_relaxed);
    return GG_STATUS_SUCCESS;
}

// The 16-byte kernels need every access, hence every row start of every operand, 16-byte aligned.
bool wide_accesses_possible(const GmmProblem& p) {
    return p.k % 8 == 0 && p.n % 8 == 0 && cutlass_grouped::aligned(p.a, 16) && cutlass_grouped::aligned(p.b, 16) &&
           cutlass_grouped::aligned(p.c, 16);
}

using RunFn = gg_status (*)(const GroupedLaunch&);

// [dtype: bf16, fp16][operands: forward, trans_b, trans_a][access: wide, narrow]
template <gg_dtype DType, Operands Ops>
constexpr RunFn kRunPair[2] = {&cutlass_sm80::run_grouped<DType, Ops, cutlass_sm80::kWideAlignment>,
                               &cutlass_sm80::run_grouped<DType, Ops, cutlass_sm80::kNarrowAlignment>};

RunFn pick_kernel(gg_dtype dtype, Operands ops, bool wide) {
    const int access = wide ? 0 : 1;
    const bool bf16 = dtype == GG_DTYPE_BFLOAT16;
    switch (ops) {
        case Operands::kForward:
            return bf16 ? kRunPair<GG_DTYPE_BFLOAT16, Operands::kForward>[access]
                        : kRunPair<GG_DTYPE_FLOAT16, Operands::kForward>[access];
        case Operands::kTransB:
            return bf16 ? kRunPair<GG_DTYPE_BFLOAT16, Operands::kTransB>[access]
                        : kRunPair<GG_DTYPE_FLOAT16, Operands::kTransB>[access];
        case Operands::kTransA:
            return bf16 ? kRunPair<GG_DTYPE_BFLOAT16, Operands::kTransA>[access]
                        : kRunPair<GG_DTYPE_FLOAT16, Operands::kTransA>[access];
    }
    return nullptr;
}

}  // namespace

// Calls without work, trans_a with trans_b, and devices below compute capability 8.0 never get here: the dispatcher
// handles or rejects them (core/internal.h). Exceptions become a status in the API frame (core/api_guard.h).
gg_status cutlass_sm80_run(Context& ctx, const GmmProblem& p) {
    assert(p.m > 0 && p.k > 0 && p.n > 0 && !(p.trans_a && p.trans_b));
    const RunFn run = pick_kernel(p.dtype, cutlass_grouped::operands_of(p), wide_accesses_possible(p));
    if (run == nullptr) return fail(GG_STATUS_INTERNAL_ERROR, "%s: no kernel for this call", kBackend);

    // Empty trans_a experts get a zero operand (K = 1), never a K == 0 group: CUTLASS's multistage prologue clears the
    // operand masks only while gemm_k_iterations == 0 and re-enables them at the first tile advance, so a K == 0 group
    // read a k-tile past its A (compute-sanitizer: 16-byte reads 4 KiB past a, all-in-one-expert weight gradient).
    const cutlass_grouped::GroupRule rule =
        cutlass_grouped::make_group_rule(p, cutlass_grouped::EmptyExperts::kZeroOperand);
    cutlass_grouped::HostGroups host;
    GG_TRY(cutlass_grouped::build_host_groups(p, rule, host));

    GroupedLaunch launch;
    GG_TRY(cutlass_grouped::prepare_group_arrays(ctx, p, rule, host, /*kernel_workspace_bytes=*/0, launch.arrays));
    launch.problem_count = static_cast<int32_t>(p.num_experts);
    launch.host_problem_sizes = host.available ? host.problem_sizes.data() : nullptr;
    launch.alpha = 1.0f;
    launch.beta = p.accumulate ? 1.0f : 0.0f;
    launch.device = ctx.device.ordinal;
    launch.sm_count = ctx.device.sm_count;
    launch.stream = p.stream;
    return run(launch);
}

// The dispatcher has already checked the compute capability (8.0 or newer) and rejected trans_a with trans_b
// (core/internal.h); whether this build has a kernel image for the device is ours to ask.
gg_status cutlass_sm80_supports(const Context& ctx, const GmmProblem& p) {
    if (p.dtype != GG_DTYPE_BFLOAT16 && p.dtype != GG_DTYPE_FLOAT16) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s: dtype %d is not supported (bfloat16 and float16 only; use "
                    "cublas-loop for float32)", kBackend, static_cast<int>(p.dtype));
    }
    GG_TRY(cutlass_grouped::check_int_sizes(p, kBackend));
    GG_TRY(cutlass_grouped::check_capture(p, kBackend));
    return check_kernel_image(ctx.device);
}

}  // namespace gg
