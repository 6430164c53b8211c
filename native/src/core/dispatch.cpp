// Backend selection and the steps every gg_gmm call goes through before its backend runs.
#include "core/dispatch.h"

#include <string>

#include "core/counts_check.h"
#include "core/driver_hints.h"
#include "gg_build_config.h"

namespace gg {
namespace {

// Auto's order, tried first to last; the first backend that can take the call runs it.
// Tune this table from benchmarks (bench/, native/tests/gmm_parity.py --perf), nothing else.
constexpr gg_backend kAutoOrder[] = {
    GG_BACKEND_CUTLASS_SM90,    // Hopper TMA warp-specialized grouped GEMM; host or device counts
    GG_BACKEND_CUTLASS_SM80,    // CUTLASS 2.x GemmGrouped; host or device counts
    // cuBLAS 13.1 on an H200: the per-expert loop ran 2-2.5x faster than the grouped API on the large
    // forward configurations (qwen/deepseek/mixtral-like, bench/ run of 2026-11-26), so it comes first.
    GG_BACKEND_CUBLAS_LOOP,     // one cublasGemmEx per expert; host counts
    GG_BACKEND_CUBLAS_GROUPED,  // one cublasGemmGroupedBatchedEx; host counts
};

// Auto's exception to kAutoOrder: forward products whose experts are each a large GEMM (host counts only; the
// loop needs them). Weight gradients stay on the grouped kernels, which were level or better there.
bool prefers_cublas_loop(const GmmProblem& p) {
    constexpr int64_t kMinRowsPerExpert = 1024;
    constexpr int64_t kMinInnerAndOuter = 1024;
    return !p.counts_on_device && !p.trans_a && p.num_experts > 0 && p.m >= kMinRowsPerExpert * p.num_experts &&
           p.n >= kMinInnerAndOuter && p.k >= kMinInnerAndOuter;
}

const char* backend_label(gg_backend b) {
    switch (b) {
        case GG_BACKEND_AUTO: return "auto";
        case GG_BACKEND_CUBLAS_LOOP: return "cublas-loop";
        case GG_BACKEND_CUBLAS_GROUPED: return "cublas-grouped";
        case GG_BACKEND_CUTLASS_SM80: return "cutlass-sm80";
        case GG_BACKEND_CUTLASS_SM90: return "cutlass-sm90";
    }
    return "unknown";
}

// Compute capabilities a backend's kernels run on.
gg_status device_gate(const Context& ctx, gg_backend backend) {
    const DeviceInfo& d = ctx.device;
    switch (backend) {
        case GG_BACKEND_CUTLASS_SM90:
            if (d.cc_major != 9 || d.cc_minor != 0) {
                return fail(GG_STATUS_NOT_SUPPORTED,
                            "cutlass-sm90 runs only on compute capability 9.0 (sm_90a: H100, H200); device %d is %d.%d",
                            d.ordinal, d.cc_major, d.cc_minor);
            }
            return GG_STATUS_SUCCESS;
        case GG_BACKEND_CUTLASS_SM80:
            if (d.cc_major < 8) {
                return fail(GG_STATUS_NOT_SUPPORTED, "cutlass-sm80 needs compute capability 8.0 or newer; device %d is %d.%d",
                            d.ordinal, d.cc_major, d.cc_minor);
            }
            return GG_STATUS_SUCCESS;
        default: return GG_STATUS_SUCCESS;
    }
}

gg_status call_supports(const Context& ctx, const GmmProblem& p, gg_backend backend) {
    switch (backend) {
        case GG_BACKEND_CUBLAS_LOOP: return cublas_loop_supports(ctx, p);
        case GG_BACKEND_CUBLAS_GROUPED: return cublas_grouped_supports(ctx, p);
        case GG_BACKEND_CUTLASS_SM80: return cutlass_sm80_supports(ctx, p);
        case GG_BACKEND_CUTLASS_SM90: return cutlass_sm90_supports(ctx, p);
        default: return fail(GG_STATUS_INVALID_ARGUMENT, "backend = %d is not a backend", static_cast<int>(backend));
    }
}

gg_status call_run(Context& ctx, const GmmProblem& p, gg_backend backend) {
    switch (backend) {
        case GG_BACKEND_CUBLAS_LOOP: return cublas_loop_run(ctx, p);
        case GG_BACKEND_CUBLAS_GROUPED: return cublas_grouped_run(ctx, p);
        case GG_BACKEND_CUTLASS_SM80: return cutlass_sm80_run(ctx, p);
        case GG_BACKEND_CUTLASS_SM90: return cutlass_sm90_run(ctx, p);
        default: return fail(GG_STATUS_INTERNAL_ERROR, "run_gmm: backend %d was not resolved", static_cast<int>(backend));
    }
}

// Calls whose output is fully determined without a product: returns true when it handled the call.
gg_status handle_empty_work(const GmmProblem& p, bool* handled) {
    *handled = false;
    const size_t es = dtype_size(p.dtype);
    if (!p.trans_a) {
        if (p.m == 0 || p.n == 0) {
            *handled = true;  // c has no elements
        } else if (p.k == 0) {
            *handled = true;  // c = a[m,0] . b[0,n] = 0
            if (!p.accumulate) GG_TRY(zero_fill(p.c, static_cast<size_t>(p.m) * static_cast<size_t>(p.n) * es, p.stream));
        }
        return GG_STATUS_SUCCESS;
    }
    if (p.k == 0 || p.n == 0) {
        *handled = true;  // c[E,k,n] has no elements
    } else if (p.m == 0) {
        *handled = true;  // every expert is empty: c[e] = 0
        if (!p.accumulate) {
            GG_TRY(zero_fill(p.c, static_cast<size_t>(p.num_experts) * static_cast<size_t>(p.k) * static_cast<size_t>(p.n) * es,
                             p.stream));
        }
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace

bool backend_compiled(gg_backend backend) {
    switch (backend) {
        case GG_BACKEND_AUTO:
        case GG_BACKEND_CUBLAS_LOOP: return true;
        case GG_BACKEND_CUBLAS_GROUPED:
#if CUBLAS_VERSION >= 120500
            return true;
#else
            return false;
#endif
        case GG_BACKEND_CUTLASS_SM80:
#if defined(GG_HAVE_CUTLASS_SM80)
            return true;
#else
            return false;
#endif
        case GG_BACKEND_CUTLASS_SM90:
#if defined(GG_HAVE_CUTLASS_SM90)
            return true;
#else
            return false;
#endif
    }
    return false;
}

int32_t compiled_backend_mask() {
    int32_t mask = 0;
    for (int b = 0; b < GG_BACKEND_COUNT; ++b) {
        if (backend_compiled(static_cast<gg_backend>(b))) mask |= 1 << b;
    }
    return mask;
}

gg_status require_compiled(gg_backend backend) {
    if (backend_compiled(backend)) return GG_STATUS_SUCCESS;
    switch (backend) {
        case GG_BACKEND_CUBLAS_GROUPED:
            return fail(GG_STATUS_BACKEND_NOT_COMPILED,
                        "cublas-grouped is not compiled in: cublasGemmGroupedBatchedEx needs CUDA >= 12.5 and this "
                        "library was built with cuBLAS %d.%d (CUDA %s)",
                        CUBLAS_VERSION / 10000, (CUBLAS_VERSION / 100) % 100, GG_BUILD_CUDA_COMPILER_VERSION);
        case GG_BACKEND_CUTLASS_SM80:
            return fail(GG_STATUS_BACKEND_NOT_COMPILED, "cutlass-sm80 is not compiled in: %s", GG_CUTLASS_SM80_REASON);
        case GG_BACKEND_CUTLASS_SM90:
            return fail(GG_STATUS_BACKEND_NOT_COMPILED, "cutlass-sm90 is not compiled in: %s", GG_CUTLASS_SM90_REASON);
        default: return fail(GG_STATUS_INVALID_ARGUMENT, "backend = %d is not a backend", static_cast<int>(backend));
    }
}

gg_status backend_supports(const Context& ctx, const GmmProblem& problem, gg_backend backend) {
    if (backend == GG_BACKEND_AUTO) {
        gg_backend chosen = GG_BACKEND_AUTO;
        return select_backend(ctx, problem, GG_BACKEND_AUTO, &chosen);
    }
    GG_TRY(require_compiled(backend));
    GG_TRY(device_gate(ctx, backend));
    return call_supports(ctx, problem, backend);
}

gg_status select_backend(const Context& ctx, const GmmProblem& problem, gg_backend requested, gg_backend* chosen) {
    if (requested != GG_BACKEND_AUTO) {
        GG_TRY(backend_supports(ctx, problem, requested));
        *chosen = requested;
        return GG_STATUS_SUCCESS;
    }
    // Nothing fits: report every backend's reason. The status is the first that is not "not compiled",
    // since that one says what the caller could change.
    std::string reasons;
    gg_status status = GG_STATUS_BACKEND_NOT_COMPILED;
    bool have_status = false;
    // Host counts and large per-expert products: one cuBLAS GEMM per expert beat every grouped kernel and
    // torch._grouped_mm on an H200 (qwen/deepseek/mixtral-like forward: 0.99-1.10x torch against 0.96-1.04x for
    // cutlass-sm90; docs/perf-notes.md), since each expert is a full-size GEMM and cuBLAS picks its kernel per shape.
    if (prefers_cublas_loop(problem) && backend_supports(ctx, problem, GG_BACKEND_CUBLAS_LOOP) == GG_STATUS_SUCCESS) {
        clear_error();
        *chosen = GG_BACKEND_CUBLAS_LOOP;
        return GG_STATUS_SUCCESS;
    }
    for (gg_backend candidate : kAutoOrder) {
        const gg_status s = backend_supports(ctx, problem, candidate);
        if (s == GG_STATUS_SUCCESS) {
            clear_error();
            *chosen = candidate;
            return GG_STATUS_SUCCESS;
        }
        if (!have_status && s != GG_STATUS_BACKEND_NOT_COMPILED) {
            status = s;
            have_status = true;
        }
        reasons += reasons.empty() ? "" : "; ";
        reasons += backend_label(candidate);
        reasons += ": ";
        reasons += last_error_message();
    }
    return fail(status, "no backend can take this call (%s)", reasons.c_str());
}

gg_status run_gmm(gg_handle& handle, const GmmProblem& p, gg_backend backend) {
    if (p.counts_on_device && p.check_counts) GG_TRY(check_device_counts(handle, p));
    bool handled = false;
    GG_TRY(handle_empty_work(p, &handled));
    if (handled) return GG_STATUS_SUCCESS;
    if (!p.counts_on_device && p.trans_a && !p.accumulate) GG_TRY(zero_empty_experts_host(p));
    Context ctx = handle.context();
    return call_run(ctx, p, backend);
}

}  // namespace gg
