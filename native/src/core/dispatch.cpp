// Backend selection and the steps every gg_gmm call goes through before its backend runs.
#include "core/dispatch.h"

#include <string>

#include "core/backend_table.h"
#include "core/candidate_search.h"
#include "core/counts_check.h"
#include "core/driver_hints.h"

namespace gg {
namespace {

// Auto's exception to its order (the order of core/backend_table.cpp): forward products whose experts are each a
// large GEMM (host counts only; the loop needs them). Weight gradients stay on the grouped kernels, which were level
// or better there.
bool prefers_cublas_loop(const GmmProblem& p) {
    constexpr int64_t kMinRowsPerExpert = 1024;
    constexpr int64_t kMinInnerAndOuter = 1024;
    return !p.counts_on_device && !p.trans_a && p.num_experts > 0 && p.m >= kMinRowsPerExpert * p.num_experts &&
           p.n >= kMinInnerAndOuter && p.k >= kMinInnerAndOuter;
}

// The devices a backend's kernels run on (its entry's DeviceRule).
gg_status device_gate(const Context& ctx, const BackendEntry& backend) {
    const DeviceInfo& d = ctx.device;
    const DeviceRule& rule = backend.device;
    const int cc = 10 * d.cc_major + d.cc_minor;
    if (cc < rule.min_cc || (rule.max_cc != 0 && cc > rule.max_cc)) {
        return fail(GG_STATUS_NOT_SUPPORTED, "%s %s; device %d is %d.%d", backend.name, rule.rule, d.ordinal, d.cc_major,
                    d.cc_minor);
    }
    return GG_STATUS_SUCCESS;
}

gg_status not_a_backend(gg_backend backend) {
    return fail(GG_STATUS_INVALID_ARGUMENT, "backend = %d is not a backend", static_cast<int>(backend));
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

int32_t compiled_backend_mask() {
    int32_t mask = 1 << GG_BACKEND_AUTO;
    for (const BackendEntry& entry : backends()) {
        if (entry.compiled()) mask |= 1 << entry.id;
    }
    return mask;
}

gg_status require_compiled(gg_backend backend) {
    if (backend == GG_BACKEND_AUTO) return GG_STATUS_SUCCESS;
    const BackendEntry* entry = find_backend(backend);
    if (entry == nullptr) return not_a_backend(backend);
    if (entry->compiled()) return GG_STATUS_SUCCESS;
    return fail(GG_STATUS_BACKEND_NOT_COMPILED, "%s is not compiled in: %s", entry->name, entry->not_compiled);
}

gg_status backend_supports(const Context& ctx, const GmmProblem& problem, gg_backend backend) {
    if (backend == GG_BACKEND_AUTO) {
        gg_backend chosen = GG_BACKEND_AUTO;
        return select_backend(ctx, problem, GG_BACKEND_AUTO, &chosen);
    }
    GG_TRY(require_compiled(backend));
    const BackendEntry& entry = *find_backend(backend);  // require_compiled failed for anything else
    GG_TRY(device_gate(ctx, entry));
    return entry.supports(ctx, problem);
}

gg_status select_backend(const Context& ctx, const GmmProblem& problem, gg_backend requested, gg_backend* chosen) {
    if (requested != GG_BACKEND_AUTO) {
        GG_TRY(backend_supports(ctx, problem, requested));
        *chosen = requested;
        return GG_STATUS_SUCCESS;
    }
    // Host counts and large per-expert products: one cuBLAS GEMM per expert beat every grouped kernel and
    // torch._grouped_mm on an H200 (qwen/deepseek/mixtral-like forward: 0.99-1.10x torch against 0.96-1.04x for
    // cutlass-sm90; docs/perf-notes.md), since each expert is a full-size GEMM and cuBLAS picks its kernel per shape.
    if (prefers_cublas_loop(problem) && backend_supports(ctx, problem, GG_BACKEND_CUBLAS_LOOP) == GG_STATUS_SUCCESS) {
        clear_error();
        *chosen = GG_BACKEND_CUBLAS_LOOP;
        return GG_STATUS_SUCCESS;
    }
    CandidateSearch search;  // nothing fits: every backend's reason
    for (const BackendEntry& entry : backends()) {
        if (search.accepts(backend_supports(ctx, problem, entry.id), entry.name)) {
            *chosen = entry.id;
            return GG_STATUS_SUCCESS;
        }
    }
    return search.refused_by_all("no backend can take this call");
}

gg_status run_gmm(gg_handle& handle, const GmmProblem& p, gg_backend backend) {
    if (p.counts_on_device && p.check_counts) GG_TRY(check_device_counts(handle, p));
    bool handled = false;
    GG_TRY(handle_empty_work(p, &handled));
    if (handled) return GG_STATUS_SUCCESS;
    if (!p.counts_on_device && p.trans_a && !p.accumulate) GG_TRY(zero_empty_experts_host(p));
    const BackendEntry* entry = find_backend(backend);
    if (entry == nullptr || !entry->compiled()) {
        return fail(GG_STATUS_INTERNAL_ERROR, "run_gmm: backend %d was not resolved", static_cast<int>(backend));
    }
    Context ctx = handle.context();
    return entry->run(ctx, p);
}

}  // namespace gg
