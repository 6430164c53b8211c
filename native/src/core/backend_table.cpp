// The backend table: one entry per backend (id, name, the devices it runs on, whether it is compiled in or why
// not, its entry points). Dispatch (core/dispatch.cpp), Auto's order, gg_backend_name, the compiled-backends mask of
// gg_get_build_info and the build manifest's backend list all read it; contributing.md ("A backend") lists what
// else a new backend touches.
#include "core/backend_table.h"

#include "gg_build_config.h"

#define GG_TABLE_STR2(x) #x
#define GG_TABLE_STR(x) GG_TABLE_STR2(x)

// The last four fields of an entry (not_compiled, in_build, supports, run): a backend compiled in has entry points;
// one left out has the reason instead.
#define GG_COMPILED(prefix) "", true, &prefix##_supports, &prefix##_run
#define GG_NOT_COMPILED(reason) reason, false, nullptr, nullptr

namespace gg {

// ---- what each backend needs to be compiled in (one block per backend) ------------------------------------------
GG_BACKEND_ENTRY_POINTS(cublas_loop);
#define GG_CUBLAS_LOOP_BUILD GG_COMPILED(cublas_loop)

#if CUBLAS_VERSION >= 120500
GG_BACKEND_ENTRY_POINTS(cublas_grouped);
#define GG_CUBLAS_GROUPED_BUILD GG_COMPILED(cublas_grouped)
#else
#define GG_CUBLAS_GROUPED_BUILD                                                                                  \
    GG_NOT_COMPILED("cublasGemmGroupedBatchedEx needs CUDA >= 12.5 and this library was built with cuBLAS " \
                    GG_TABLE_STR(CUBLAS_VER_MAJOR) "." GG_TABLE_STR(CUBLAS_VER_MINOR) " (CUDA "                 \
                    GG_BUILD_CUDA_COMPILER_VERSION ")")
#endif

// GG_HAVE_CUTLASS_SM80/90 and the reasons come from native/CMakeLists.txt (CUTLASS section).
#if defined(GG_HAVE_CUTLASS_SM80)
GG_BACKEND_ENTRY_POINTS(cutlass_sm80);
#define GG_CUTLASS_SM80_BUILD GG_COMPILED(cutlass_sm80)
#else
#define GG_CUTLASS_SM80_BUILD GG_NOT_COMPILED(GG_CUTLASS_SM80_REASON)
#endif

#if defined(GG_HAVE_CUTLASS_SM90)
GG_BACKEND_ENTRY_POINTS(cutlass_sm90);
#define GG_CUTLASS_SM90_BUILD GG_COMPILED(cutlass_sm90)
#else
#define GG_CUTLASS_SM90_BUILD GG_NOT_COMPILED(GG_CUTLASS_SM90_REASON)
#endif

namespace {

constexpr DeviceRule kAnyDevice{};

// Auto's order, tried first to last. Tune it from benchmarks (bench/, native/tests/gmm_parity.py --perf), nothing
// else. Auto's one exception (forward products of large experts go to cublas-loop) is prefers_cublas_loop in
// core/dispatch.cpp.
constexpr BackendEntry kBackends[] = {
    // Hopper TMA warp-specialized grouped GEMM; host or device counts.
    {GG_BACKEND_CUTLASS_SM90, "cutlass-sm90", {90, 90, "runs only on compute capability 9.0 (sm_90a: H100, H200)"},
     GG_CUTLASS_SM90_BUILD},
    // CUTLASS 2.x GemmGrouped; host or device counts.
    {GG_BACKEND_CUTLASS_SM80, "cutlass-sm80", {80, 0, "needs compute capability 8.0 or newer"}, GG_CUTLASS_SM80_BUILD},
    // One cublasGemmEx per expert; host counts. cuBLAS 13.1 on an H200: the per-expert loop ran 2-2.5x faster than
    // the grouped API on the large forward configurations (qwen/deepseek/mixtral-like, bench/ run of 2026-11-26),
    // so it comes before cublas-grouped.
    {GG_BACKEND_CUBLAS_LOOP, "cublas-loop", kAnyDevice, GG_CUBLAS_LOOP_BUILD},
    // One cublasGemmGroupedBatchedEx; host counts.
    {GG_BACKEND_CUBLAS_GROUPED, "cublas-grouped", kAnyDevice, GG_CUBLAS_GROUPED_BUILD},
};

constexpr size_t kBackendCount = sizeof(kBackends) / sizeof(kBackends[0]);
static_assert(kBackendCount == GG_BACKEND_COUNT - 1, "every gg_backend but Auto needs one entry in kBackends");

// Every id once: with the count above, each backend of the enum has exactly one entry.
constexpr bool ids_distinct() {
    for (size_t i = 0; i < kBackendCount; ++i) {
        if (kBackends[i].id <= GG_BACKEND_AUTO || kBackends[i].id >= GG_BACKEND_COUNT) return false;
        for (size_t j = i + 1; j < kBackendCount; ++j) {
            if (kBackends[i].id == kBackends[j].id) return false;
        }
    }
    return true;
}
static_assert(ids_distinct(), "kBackends must hold each gg_backend but Auto exactly once");

// The build manifest's backend list (GG_BUILD_BACKENDS, written by native/CMakeLists.txt for tools that read the
// library file without loading it) names exactly the backends compiled in, in gg_backend order.
constexpr bool manifest_lists_compiled_backends(const char* manifest) {
    size_t at = 0;
    bool first = true;
    for (int id = GG_BACKEND_AUTO + 1; id < GG_BACKEND_COUNT; ++id) {
        for (const BackendEntry& entry : kBackends) {
            if (entry.id != id || !entry.compiled()) continue;
            if (!first && manifest[at++] != ',') return false;
            first = false;
            for (const char* c = entry.name; *c != '\0'; ++c) {
                if (manifest[at++] != *c) return false;
            }
        }
    }
    return manifest[at] == '\0';
}
static_assert(manifest_lists_compiled_backends(GG_BUILD_BACKENDS),
              "GG_BUILD_BACKENDS (native/CMakeLists.txt) and the compiled entries of kBackends differ");

}  // namespace

BackendList backends() { return {kBackends, kBackends + kBackendCount}; }

const BackendEntry* find_backend(int32_t backend) {
    for (const BackendEntry& entry : kBackends) {
        if (entry.id == backend) return &entry;
    }
    return nullptr;
}

const char* backend_name(int32_t backend) {
    if (backend == GG_BACKEND_AUTO) return "auto";
    const BackendEntry* entry = find_backend(backend);
    return entry != nullptr ? entry->name : nullptr;
}

}  // namespace gg
