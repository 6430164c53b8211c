// Internal contract between the API layer (api_*.cpp, dispatch) and the backends.
// Nothing here is exported; only groupedgemm.h is the ABI.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "groupedgemm/groupedgemm.h"

namespace gg {

// ---- errors ---------------------------------------------------------------
// Records `status` with a printf-style message as this thread's last error and returns it.
gg_status fail(gg_status status, const char* format, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
// Clears this thread's last error (called at the start of every API entry point).
void clear_error();
// Maps a CUDA error to a status (out of memory, no driver, no device, ...) and records the message.
gg_status from_cuda(cudaError_t err, const char* what, const char* file, int line);
gg_status from_cublas(cublasStatus_t st, const char* what, const char* file, int line);

#define GG_CUDA_CHECK(expr)                                                          \
    do {                                                                             \
        cudaError_t gg_err_ = (expr);                                                \
        if (gg_err_ != cudaSuccess) return ::gg::from_cuda(gg_err_, #expr, __FILE__, __LINE__); \
    } while (0)

#define GG_CUBLAS_CHECK(expr)                                                        \
    do {                                                                             \
        cublasStatus_t gg_st_ = (expr);                                              \
        if (gg_st_ != CUBLAS_STATUS_SUCCESS) return ::gg::from_cublas(gg_st_, #expr, __FILE__, __LINE__); \
    } while (0)

// Checks the launch that was just made (cudaGetLastError).
#define GG_LAUNCH_CHECK(what) GG_CUDA_CHECK(cudaGetLastError())

#define GG_TRY(expr)                                  \
    do {                                              \
        gg_status gg_s_ = (expr);                     \
        if (gg_s_ != GG_STATUS_SUCCESS) return gg_s_; \
    } while (0)

// ---- element sizes ---------------------------------------------------------
inline size_t dtype_size(gg_dtype t) {
    switch (t) {
        case GG_DTYPE_FLOAT32: return 4;
        case GG_DTYPE_FLOAT16: return 2;
        case GG_DTYPE_BFLOAT16: return 2;
        case GG_DTYPE_INT32: return 4;
        case GG_DTYPE_INT64: return 8;
        case GG_DTYPE_FLOAT8_E4M3: return 1;
        case GG_DTYPE_FLOAT8_E5M2: return 1;
    }
    return 0;
}

// ---- device workspace owned by a handle -----------------------------------
class GraphScratchPool;  // core/graph_scratch.h
// Two kinds of memory, so that a captured graph never shares scratch with anything else:
// - the shared block (ptr, bytes): used by calls that run now; they are ordered one after the other on the
//   handle (core/call_order.h), so one block serves them all. It grows (allocate, then swap) between calls.
// - graph memory (graph): a call made while its stream is being captured gets its own slice, which the graph keeps
//   using on every replay. A slice is reused only after every graph that captured it (the template and each
//   executable graph made from it) is destroyed and its launches have ended (core/capture.h: release_with_capture),
//   so no later call, growth or other graph writes it while a replay may read it. The chunks are freed with the
//   handle (workspace_release).
struct Workspace {
    void* ptr = nullptr;
    size_t bytes = 0;
    std::shared_ptr<GraphScratchPool> graph;  // created at the first captured call
};

struct GmmProblem;
// Returns a device buffer of at least `bytes` (256-byte aligned) for one call. Not capturing (problem.capturing): the
// shared block, grown first if needed (which frees the previous block after synchronising the device). Capturing: a
// slice of graph memory, free again once no graph that captured the call can replay it (a new chunk is allocated in
// relaxed capture mode when no free range fits).
gg_status workspace_acquire(Workspace& ws, size_t bytes, const GmmProblem& problem, void** out);

// ---- the device a handle belongs to ---------------------------------------
struct DeviceInfo {
    int ordinal = 0;
    int cc_major = 0;
    int cc_minor = 0;
    int sm_count = 0;
    size_t smem_optin = 0;
    // Peak DRAM bandwidth from the memory clock and bus width (two transfers a clock); the sm90 tile choice tells
    // HBM3e cards (H200) from HBM3 ones (H100) by it.
    double dram_bytes_per_s = 0.0;
};

// ---- one normalised grouped-GEMM call --------------------------------------
// Validated by the API layer before any backend sees it:
//   pointers non-null (unless the product is empty), dtype a float type, trans_a && trans_b rejected,
//   m,k,n,E >= 0, E in [1, INT32_MAX], host counts non-negative and summing to m, pointers on the handle's device,
//   c not overlapping a, b or device counts.
struct GmmProblem {
    const void* a = nullptr;
    const void* b = nullptr;
    void* c = nullptr;
    const int64_t* batch_sizes = nullptr;  // host or device, see counts_on_device
    // Host counts: the library's own copy, taken once before validation; batch_sizes points into it, so that the
    // caller changing its array during the call cannot make the values the backends use differ from the validated
    // ones. Shared, so that copies of the problem keep batch_sizes valid.
    std::shared_ptr<const std::vector<int64_t>> host_counts;
    bool counts_on_device = false;
    bool check_counts = false;             // device counts: validate on device and report
    int64_t m = 0, k = 0, n = 0, num_experts = 0;
    gg_dtype dtype = GG_DTYPE_BFLOAT16;
    bool trans_a = false;
    bool trans_b = false;
    bool accumulate = false;
    cudaStream_t stream = nullptr;
    // The stream is being captured into a graph: asked once per call by the API layer (core/capture.h), after
    // validation; backends read it here instead of asking the stream again.
    bool capturing = false;
};

struct Context {
    DeviceInfo device;
    // The handle the call came through; the cuBLAS backends get its cuBLAS handle from it (cublas_for_stream).
    gg_handle* handle = nullptr;
    Workspace* workspace = nullptr;
    // Device int32 flag the device-count validation writes to (0 = ok, else a gg_status); lives in the handle.
    int32_t* device_check_flag = nullptr;
};

// Every backend provides a pair, declared by GG_BACKEND_ENTRY_POINTS(prefix) next to its entry in
// core/backend_table.cpp: `prefix_supports` returns SUCCESS or the reason (NOT_SUPPORTED with a message);
// `prefix_run` assumes supports() said yes. The dispatcher has checked that the backend is compiled in and that the
// device meets its entry's rule before either is called.
#define GG_BACKEND_ENTRY_POINTS(prefix)                                 \
    gg_status prefix##_supports(const Context&, const GmmProblem&); \
    gg_status prefix##_run(Context&, const GmmProblem&)

// ---- shared helpers the kernels backends use ------------------------------
// The part of c a call with zero work must still write (k == 0 forward: c = 0 unless accumulate;
// trans_a with an empty expert: c[e] = 0 unless accumulate). Backends call it for those cases.
gg_status zero_fill(void* ptr, size_t bytes, cudaStream_t stream);

}  // namespace gg

// ---- additions by the core (API / dispatch) layer ---------------------------------------------
namespace gg {

// Workspace budget. A backend must fit everything it keeps in the handle's workspace for a call with
// E experts into workspace_bytes_for_experts(E) bytes, so that gg_handle_reserve(E) (and the 1024
// experts reserved at handle creation) make such calls allocation-free and graph-capturable.
constexpr size_t kWorkspaceBaseBytes = size_t(4) << 20;  // per-call state independent of E (e.g. tile schedulers)
constexpr size_t kWorkspaceBytesPerExpert = 512;          // offsets, problem shapes, pointer and stride arrays
constexpr int64_t kDefaultReservedExperts = 1024;
size_t workspace_bytes_for_experts(int64_t num_experts);

// Before any backend runs, the dispatcher has already:
//  - handled calls with no work (m, k or n zero: c zero-filled where the semantics say so);
//  - with host counts and trans_a, zero-filled c[e] of every empty expert unless accumulate
//    (zero_empty_experts_host); backends may rely on it and need not write those c[e] again;
//  - with device counts and check_counts, validated the counts on the device and returned
//    GG_STATUS_INVALID_COUNTS if they were bad.
// Device counts without check_counts: backends clamp them (block_scan_counts, backends/counts_scan.cuh) and must
// zero c[e] of experts left empty (trans_a, unless accumulate) themselves.
// Before a backend's `supports` is asked, the dispatcher has checked the device's compute capability against the
// backend's kernels (cutlass-sm80: 8.0 or newer; cutlass-sm90: 9.0 only). So backends repeat none of these checks
// (debug assertions at most), and need no try/catch: every entry point runs in core/api_guard.h's frame.
gg_status zero_empty_experts_host(const GmmProblem& problem);

}  // namespace gg
