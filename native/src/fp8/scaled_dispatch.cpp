// Which kernel runs a gg_gmm_scaled call, and the steps before it (counts and scale checks).
#include "core/candidate_search.h"
#include "core/counts_check.h"
#include "core/driver_hints.h"
#include "backends/decode_groups.h"
#include "fp8/scaled_gmm.h"
#if defined(GG_HAVE_CUTLASS_SM90)
#include "cutlass_sm90/scaled_gemm_sm90.h"
#endif

namespace gg {
namespace {

// The CUTLASS sm90 FP8 kernels (cutlass_sm90/scaled_gemm_sm90.cu and the path files beside it) exist in builds with the cutlass-sm90 backend.
gg_status sm90_supports(const Context& ctx, const ScaledGmmProblem& p) {
#if defined(GG_HAVE_CUTLASS_SM90)
    return scaled_sm90_supports(ctx, p);
#else
    (void)ctx;
    (void)p;
    return fail(GG_STATUS_BACKEND_NOT_COMPILED,
                "GG_SCALED_KERNEL_CUTLASS_SM90 is not compiled in: this build has no cutlass-sm90 backend (CUDA >= 12.3, "
                "90a in the architectures and CUTLASS are needed); use GG_SCALED_KERNEL_PORTABLE or AUTO");
#endif
}

// What Auto may give the CUTLASS sm90 kernels: what they take, less what the policy keeps off them for now.
gg_status sm90_auto_supports(const Context& ctx, const ScaledGmmProblem& p) {
#if defined(GG_HAVE_CUTLASS_SM90)
    return scaled_sm90_auto_supports(ctx, p);
#else
    return sm90_supports(ctx, p);
#endif
}

// What Auto gives the decode kernel: the calls it takes within kDecodeAutoMaxRows rows and kDecodeAutoMaxWeightBytes of
// live weights.
gg_status decode_auto_supports(const Context& ctx, const ScaledGmmProblem& p) {
    const GmmProblem& b = p.base;
    if (b.m > kDecodeAutoMaxRows) {
        return fail(GG_STATUS_NOT_SUPPORTED, "GG_SCALED_KERNEL_DECODE: Auto gives it calls of at most %lld rows; m = %lld",
                    static_cast<long long>(kDecodeAutoMaxRows), static_cast<long long>(b.m));
    }
    const double bytes = decode_groups::weight_bytes_bound(b.m, b.num_experts, b.k, b.n, 1);
    if (bytes > kDecodeAutoMaxWeightBytes) {
        return fail(GG_STATUS_NOT_SUPPORTED,
                    "GG_SCALED_KERNEL_DECODE: Auto gives it calls of at most %.0f MiB of live weights; %.0f MiB",
                    kDecodeAutoMaxWeightBytes / (1 << 20), bytes / (1 << 20));
    }
    return scaled_decode_supports(ctx, p);
}

gg_status supports(const Context& ctx, const ScaledGmmProblem& p, gg_scaled_kernel kernel) {
    switch (kernel) {
        case GG_SCALED_KERNEL_CUTLASS_SM90: return sm90_supports(ctx, p);
        case GG_SCALED_KERNEL_PORTABLE: return scaled_portable_supports(ctx, p);
        case GG_SCALED_KERNEL_DECODE: return scaled_decode_supports(ctx, p);
        default: return fail(GG_STATUS_INVALID_ARGUMENT, "kernel = %d is not a scaled kernel", static_cast<int>(kernel));
    }
}

// Both kernels upload host counts' offsets with cudaMemcpyAsync from pageable memory, which a stream capture refuses
// (and the refusal invalidates the caller's capture): host counts are for calls outside a capture, as in gg_gmm's
// CUTLASS backends (cutlass_common/group_arrays.cuh, check_capture).
gg_status check_host_counts_capture(const ScaledGmmProblem& p) {
    if (p.base.counts_on_device || !p.base.capturing) return GG_STATUS_SUCCESS;
    return fail(GG_STATUS_NOT_SUPPORTED,
                "gg_gmm_scaled: host batch sizes (counts_location = GG_COUNTS_HOST) cannot be used while the stream is "
                "being captured; pass device batch sizes (GG_COUNTS_DEVICE)");
}

}  // namespace

gg_status select_scaled_kernel(const Context& ctx, const ScaledGmmProblem& p, gg_scaled_kernel requested,
                               gg_scaled_kernel* chosen) {
    GG_TRY(check_host_counts_capture(p));
    if (requested != GG_SCALED_KERNEL_AUTO) {
        GG_TRY(supports(ctx, p, requested));
        *chosen = requested;
        return GG_STATUS_SUCCESS;
    }
    CandidateSearch search;  // each kernel's message names the kernel
    for (gg_scaled_kernel candidate : {GG_SCALED_KERNEL_DECODE, GG_SCALED_KERNEL_CUTLASS_SM90, GG_SCALED_KERNEL_PORTABLE}) {
        gg_status status = GG_STATUS_SUCCESS;
        if (candidate == GG_SCALED_KERNEL_DECODE) status = decode_auto_supports(ctx, p);
        else if (candidate == GG_SCALED_KERNEL_CUTLASS_SM90) status = sm90_auto_supports(ctx, p);
        else status = supports(ctx, p, candidate);
        if (search.accepts(status)) {
            *chosen = candidate;
            return GG_STATUS_SUCCESS;
        }
    }
    return search.refused_by_all("no scaled kernel can take this call");
}

gg_status run_scaled_gmm(gg_handle& handle, const ScaledGmmProblem& p, gg_scaled_kernel kernel) {
    if (p.base.counts_on_device && p.base.check_counts) GG_TRY(check_device_counts(handle, p.base));
    if (p.check_scales) GG_TRY(check_device_scales(handle, p));
    if (p.base.m == 0 || p.base.n == 0) return GG_STATUS_SUCCESS;  // c has no elements
    Context ctx = handle.context();
    switch (kernel) {
        case GG_SCALED_KERNEL_PORTABLE: return scaled_portable_run(ctx, p);
        case GG_SCALED_KERNEL_DECODE: return scaled_decode_run(ctx, p);
#if defined(GG_HAVE_CUTLASS_SM90)
        case GG_SCALED_KERNEL_CUTLASS_SM90: return scaled_sm90_run(ctx, p);
#endif
        default:
            return fail(GG_STATUS_INTERNAL_ERROR, "run_scaled_gmm: kernel %d was not resolved", static_cast<int>(kernel));
    }
}

}  // namespace gg
