/*
 * GroupedGemm: grouped GEMM for Mixture-of-Experts layers, with a plain C ABI.
 *
 * This header is the single source of the C# bindings (bindings/ generates
 * src/GroupedGemm.Net/Interop/NativeMethods.g.cs from it). Keep it C11, keep
 * every type blittable, and bump GG_ABI_VERSION on any change that alters a
 * signature, a struct layout or an enum value.
 *
 * Conventions
 * - Every function returns gg_status; GG_STATUS_SUCCESS is 0. On failure a
 *   detailed message is kept per thread: gg_last_error_message().
 * - Tensors are row-major and contiguous. Sizes and offsets are 64-bit.
 * - An operand whose bytes would overflow 64 bits is refused with
 *   GG_STATUS_INVALID_ARGUMENT before any CUDA call; the MoE, convert,
 *   quantize and optimiser functions bound every operand (counts included)
 *   at INT64_MAX / 16 elements, whatever its element type.
 * - `stream` parameters are cudaStream_t values passed as void*; NULL is the
 *   legacy default stream. Pointers from other frameworks (TorchSharp,
 *   ManagedCuda, ILGPU, raw CUdeviceptr) are accepted as they are.
 * - Nothing in this library calls abort() or exit(), and no C++ exception
 *   crosses this ABI.
 *
 * Threads
 * - The free functions (memory, streams, events, device queries, MoE
 *   kernels) may be called from any thread at any time.
 * - A gg_handle_t owns a cuBLAS handle and a device workspace. Its calls run
 *   one at a time: a call takes the handle's lock, and on the device it waits
 *   (cudaStreamWaitEvent, no host synchronisation) for the handle's previous
 *   call when that one ran on another stream. So one handle may serve several
 *   threads and streams, but its calls never overlap on the device; give each
 *   stream its own handle where they should. Calls on different handles are
 *   independent and run concurrently.
 *
 * Graphs
 * - A call made while its stream is being captured takes no part in that
 *   ordering (a capture cannot wait on work outside it): it gets its own slice
 *   of device scratch, owned by the handle, which its graph uses on every
 *   replay and which nothing else ever writes. Replays may therefore run on
 *   any stream, concurrently with uncaptured calls on the same handle, with
 *   other graphs, and after gg_handle_reserve or any growth of the workspace.
 *   Executable graphs instantiated from one captured graph share its slices:
 *   do not run two of them at once (CUDA itself orders the launches of one
 *   executable graph).
 *   A slice is reused by later captured calls once every graph that captured
 *   it (the graph and each executable graph made from it) has been destroyed
 *   and its launches have ended; gg_handle_destroy frees them all: destroy the
 *   handle after the last replay of every graph that captured one of its calls
 *   has finished.
 *   A captured call also never fails with GG_STATUS_WORKSPACE_TOO_SMALL.
 * - Calls that go through cuBLAS (gg_gemm, the cuBLAS backends of gg_gmm) use
 *   the handle's cuBLAS workspace, captured or not: do not replay a graph that
 *   holds such a call concurrently with another call on the same handle.
 * - The tensors a graph captured must stay allocated while it can be replayed.
 */
#ifndef GROUPEDGEMM_H
#define GROUPEDGEMM_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(GG_BUILDING_LIBRARY)
#    define GG_API __declspec(dllexport)
#  else
#    define GG_API __declspec(dllimport)
#  endif
#else
#  define GG_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define GG_VERSION_MAJOR 0
#define GG_VERSION_MINOR 17
#define GG_VERSION_PATCH 1
/** Bumped on every binary-incompatible change; the managed side refuses a library whose value differs. */
#define GG_ABI_VERSION 4

/* ------------------------------------------------------------------------ */
/* Status, versions, build information                                      */
/* ------------------------------------------------------------------------ */

/** Result of every call. */
typedef enum gg_status {
    /** The call succeeded. */
    GG_STATUS_SUCCESS = 0,
    /** An argument is null, negative, inconsistent or out of range; the message names it. */
    GG_STATUS_INVALID_ARGUMENT = 1,
    /** The chosen backend cannot take this call (dtype, layout, alignment, counts location, device). */
    GG_STATUS_NOT_SUPPORTED = 2,
    /** The chosen backend was not compiled into this build of the library. */
    GG_STATUS_BACKEND_NOT_COMPILED = 3,
    /** No usable CUDA driver was found, or it is older than the runtime the library was built with. */
    GG_STATUS_NO_DRIVER = 4,
    /** The driver works but there is no CUDA device (or not the one asked for). */
    GG_STATUS_NO_DEVICE = 5,
    /** A device or pinned host allocation failed. */
    GG_STATUS_OUT_OF_MEMORY = 6,
    /** A CUDA runtime call failed; the message carries its name and text. */
    GG_STATUS_CUDA_ERROR = 7,
    /** A cuBLAS call failed; the message carries its status. */
    GG_STATUS_CUBLAS_ERROR = 8,
    /** A CUTLASS kernel refused its arguments or failed to initialise. */
    GG_STATUS_CUTLASS_ERROR = 9,
    /** Device-resident batch sizes failed the on-device check (negative, or not summing to the row count). */
    GG_STATUS_INVALID_COUNTS = 10,
    /** A pointer belongs to another device than the handle's. */
    GG_STATUS_WRONG_DEVICE = 11,
    /** The workspace reserved in the handle is too small and cannot grow now (a stream capture is active). */
    GG_STATUS_WORKSPACE_TOO_SMALL = 12,
    /** A bug in the library: please report the message. */
    GG_STATUS_INTERNAL_ERROR = 13
} gg_status;

/** Element types. */
typedef enum gg_dtype {
    GG_DTYPE_FLOAT32 = 0,
    GG_DTYPE_FLOAT16 = 1,
    GG_DTYPE_BFLOAT16 = 2,
    GG_DTYPE_INT32 = 3,
    GG_DTYPE_INT64 = 4,
    /** OCP FP8 E4M3 (finite, max 448): the operands of gg_gmm_scaled and the output of the quantize kernels. */
    GG_DTYPE_FLOAT8_E4M3 = 5,
    /** OCP FP8 E5M2 (max 57344, with inf): gradients; operands of gg_gmm_scaled's portable kernel. */
    GG_DTYPE_FLOAT8_E5M2 = 6
} gg_dtype;

/** Grouped GEMM implementations. */
typedef enum gg_backend {
    /** The fastest compiled backend that can take the call on the device at hand. */
    GG_BACKEND_AUTO = 0,
    /** One cublasGemmEx per expert (host batch sizes only). */
    GG_BACKEND_CUBLAS_LOOP = 1,
    /** One cublasGemmGroupedBatchedEx call (CUDA >= 12.5, host batch sizes only). */
    GG_BACKEND_CUBLAS_GROUPED = 2,
    /** CUTLASS 2.x GemmGrouped for sm_80 and newer; host or device batch sizes. */
    GG_BACKEND_CUTLASS_SM80 = 3,
    /** CUTLASS 3.x TMA warp-specialized pointer-array grouped GEMM for sm_90a; host or device batch sizes. */
    GG_BACKEND_CUTLASS_SM90 = 4
} gg_backend;

/** Number of gg_backend values, GG_BACKEND_AUTO included. */
#define GG_BACKEND_COUNT 5

/** Where the batch sizes (int64, one per expert) live. */
typedef enum gg_counts_location {
    /** Host memory: validated before launch, no device round trip. */
    GG_COUNTS_HOST = 0,
    /** Device memory: no host synchronisation and no allocation; the call can be captured in a CUDA graph. */
    GG_COUNTS_DEVICE = 1
} gg_counts_location;

/** Element-wise activations of the MoE kernels. */
typedef enum gg_activation {
    GG_ACTIVATION_NONE = 0,
    GG_ACTIVATION_RELU = 1,
    /** GELU with the exact erf form (PyTorch's default nn.GELU()). */
    GG_ACTIVATION_GELU = 2,
    /** SiLU, x * sigmoid(x). */
    GG_ACTIVATION_SILU = 3
} gg_activation;

/** What was compiled into this library. */
typedef struct gg_build_info {
    /** GG_ABI_VERSION of the library. */
    int32_t abi_version;
    /** CUDA toolkit the library was compiled with, as CUDART_VERSION (12080 = 12.8). */
    int32_t cuda_toolkit_version;
    /** cuBLAS the library was compiled against, as CUBLAS_VERSION. */
    int32_t cublas_version;
    /** Bit i set when gg_backend i is compiled in (bit 0, Auto, is always set). */
    int32_t compiled_backends;
    /** Number of compute capabilities compiled (entries of gg_build_architecture). */
    int32_t architecture_count;
    /** Reserved, zero. */
    int32_t reserved;
} gg_build_info;

/** Text of a status code (static storage, never NULL). */
GG_API const char* gg_status_string(gg_status status);

/** Detailed message of the last failed call on this thread ("" if none); valid until the next call on this thread. */
GG_API const char* gg_last_error_message(void);

/** GG_ABI_VERSION the library was built with. */
GG_API int32_t gg_abi_version(void);

/** Library version as "major.minor.patch" (static storage). */
GG_API const char* gg_version_string(void);

/** Fills `info` with what this build contains. */
GG_API gg_status gg_get_build_info(gg_build_info* info);

/** The `index`-th compiled architecture as written to nvcc (e.g. "80", "90a"), static storage; NULL if out of range. */
GG_API const char* gg_build_architecture(int32_t index);

/** Name of a backend ("auto", "cublas-loop", ...), static storage; NULL if unknown. */
GG_API const char* gg_backend_name(gg_backend backend);

/* ------------------------------------------------------------------------ */
/* Devices                                                                  */
/* ------------------------------------------------------------------------ */

/** Properties of one CUDA device. */
typedef struct gg_device_properties {
    int32_t ordinal;
    /** Compute capability, major and minor (9, 0 for H100). */
    int32_t major;
    int32_t minor;
    int32_t multiprocessor_count;
    /** Total device memory in bytes. */
    int64_t total_memory;
    /** L2 cache size in bytes. */
    int64_t l2_cache_size;
    /** Largest opt-in shared memory per block, bytes. */
    int64_t shared_memory_per_block_optin;
} gg_device_properties;

/** Version of the installed CUDA driver (CUDA_VERSION style), or GG_STATUS_NO_DRIVER. */
GG_API gg_status gg_driver_version(int32_t* version);

/** Number of CUDA devices: GG_STATUS_NO_DRIVER without a driver; success with 0 when the driver sees none. */
GG_API gg_status gg_device_count(int32_t* count);

/** Properties of device `device`. */
GG_API gg_status gg_device_get_properties(int32_t device, gg_device_properties* properties);

/** Copies the device's name, NUL-terminated and truncated to `capacity` bytes, into `name`. */
GG_API gg_status gg_device_get_name(int32_t device, char* name, size_t capacity);

/** Makes `device` current for the calling thread. */
GG_API gg_status gg_set_device(int32_t device);

/** The device current on the calling thread. */
GG_API gg_status gg_get_device(int32_t* device);

/** Free and total memory of the current device, bytes. */
GG_API gg_status gg_mem_get_info(size_t* free_bytes, size_t* total_bytes);

/** Where `ptr` lives: *device is its device ordinal (-1 for host memory), *is_device 1 for device or managed memory. */
GG_API gg_status gg_pointer_get_device(const void* ptr, int32_t* device, int32_t* is_device);

/* ------------------------------------------------------------------------ */
/* Memory, streams, events, graphs                                          */
/* ------------------------------------------------------------------------ */

/** Allocates `bytes` of device memory on the current device (cudaMalloc). A zero-byte request yields NULL and success. */
GG_API gg_status gg_malloc(void** ptr, size_t bytes);

/** Frees memory from gg_malloc; NULL is allowed. */
GG_API gg_status gg_free(void* ptr);

/** Allocates page-locked host memory. */
GG_API gg_status gg_malloc_host(void** ptr, size_t bytes);

/** Frees memory from gg_malloc_host; NULL is allowed. */
GG_API gg_status gg_free_host(void* ptr);

/** Copies `bytes` between any two of host and device memory (direction inferred), ordered on `stream`. Host-to-device from pageable memory returns once the source may be reused; device-to-pageable-host returns once the copy is done. */
GG_API gg_status gg_memcpy(void* dst, const void* src, size_t bytes, void* stream);

/** Sets `bytes` bytes at `ptr` to `value`, ordered on `stream`. */
GG_API gg_status gg_memset(void* ptr, int32_t value, size_t bytes, void* stream);

/** Creates a non-blocking stream on the current device. */
GG_API gg_status gg_stream_create(void** stream);

/** Destroys a stream from gg_stream_create. */
GG_API gg_status gg_stream_destroy(void* stream);

/** Waits for all work on `stream`; reports asynchronous kernel errors. */
GG_API gg_status gg_stream_synchronize(void* stream);

/** Waits for all work on the current device. */
GG_API gg_status gg_device_synchronize(void);

/** Creates a timing event. */
GG_API gg_status gg_event_create(void** event);

/** Destroys an event. */
GG_API gg_status gg_event_destroy(void* event);

/** Records `event` on `stream`. */
GG_API gg_status gg_event_record(void* event, void* stream);

/** Waits for `event`. */
GG_API gg_status gg_event_synchronize(void* event);

/** Milliseconds between two recorded, completed events. */
GG_API gg_status gg_event_elapsed_ms(void* start, void* end, float* milliseconds);

/** Begins capturing `stream` into a CUDA graph (thread-local capture mode). */
GG_API gg_status gg_stream_begin_capture(void* stream);

/** Ends the capture and instantiates the graph; *graph_exec receives an executable graph. */
GG_API gg_status gg_stream_end_capture(void* stream, void** graph_exec);

/** Launches an executable graph on `stream`. */
GG_API gg_status gg_graph_launch(void* graph_exec, void* stream);

/** Destroys an executable graph. */
GG_API gg_status gg_graph_destroy(void* graph_exec);

/* ------------------------------------------------------------------------ */
/* Handle                                                                   */
/* ------------------------------------------------------------------------ */

/** Opaque handle: a device, a cuBLAS handle, a device workspace, a default backend. */
typedef struct gg_handle* gg_handle_t;

/** Creates a handle on `device` and reserves workspace for 1024 experts. */
GG_API gg_status gg_handle_create(gg_handle_t* handle, int32_t device);

/** Destroys a handle (waits for nothing: synchronise its streams first). NULL is allowed. */
GG_API gg_status gg_handle_destroy(gg_handle_t handle);

/** The handle's device ordinal. */
GG_API gg_status gg_handle_get_device(gg_handle_t handle, int32_t* device);

/** Backend used by calls that pass GG_BACKEND_AUTO (default: GG_BACKEND_AUTO, the library's choice). */
GG_API gg_status gg_handle_set_backend(gg_handle_t handle, gg_backend backend);

/** Grows the handle's shared workspace so that uncaptured calls with up to `max_experts` experts (and the
 *  sizes of ordinary models) do not allocate. Allocates the new block before freeing the old one, so a failure
 *  leaves the handle as it was. max_experts must be in [1, 2^31) and its workspace (4 MiB + 512 bytes per
 *  expert) no larger than the device's memory. Captured calls never need it: they get their own scratch. */
GG_API gg_status gg_handle_reserve(gg_handle_t handle, int64_t max_experts);

/* ------------------------------------------------------------------------ */
/* Grouped GEMM                                                             */
/* ------------------------------------------------------------------------ */

/**
 * One grouped GEMM, tgale96/grouped_gemm `gmm(a, b, batch_sizes, trans_a, trans_b)`.
 * E = num_experts, batch_sizes[e] rows per expert (sum = m), rows of `a` grouped by expert in order.
 *
 * trans_a = 0, trans_b = 0:  a[m,k], b[E,k,n] -> c[m,n],   c[rows of e] = a[rows of e] . b[e]
 * trans_a = 0, trans_b = 1:  a[m,k], b[E,n,k] -> c[m,n],   c[rows of e] = a[rows of e] . b[e]^T
 * trans_a = 1, trans_b = 0:  a[m,k], b[m,n]   -> c[E,k,n], c[e] = a[rows of e]^T . b[rows of e]
 * trans_a = 1 with trans_b = 1 is not defined and is rejected.
 *
 * accumulate = 1 adds to c instead of overwriting it (for gradient accumulation);
 * an expert with no rows then leaves its part of c unchanged, otherwise writes zeros.
 * num_experts is at most 2^31 - 1; c must not overlap a, b or device batch_sizes.
 */
typedef struct gg_gmm_args {
    const void* a;
    const void* b;
    void* c;
    /** E int64 counts, in host or device memory as counts_location says. */
    const int64_t* batch_sizes;
    int64_t m;
    int64_t k;
    int64_t n;
    int64_t num_experts;
    gg_dtype dtype;
    gg_counts_location counts_location;
    int32_t trans_a;
    int32_t trans_b;
    int32_t accumulate;
    /** Device counts only: validate the counts on the device, wait for the result and return
     *  GG_STATUS_INVALID_COUNTS if they are bad. This synchronises the stream (not for graph capture).
     *  Without it, bad device counts are clamped so that nothing is written outside c. */
    int32_t check_counts;
    /** Backend for this call; GG_BACKEND_AUTO defers to the handle's choice. */
    gg_backend backend;
    /** Reserved, zero. */
    int32_t reserved;
    /** cudaStream_t to run on. */
    void* stream;
} gg_gmm_args;

/** Runs a grouped GEMM. */
GG_API gg_status gg_gmm(gg_handle_t handle, const gg_gmm_args* args);

/** Success if `backend` can take `args` on the handle's device; otherwise the reason, as a status and message. */
GG_API gg_status gg_gmm_backend_supported(gg_handle_t handle, const gg_gmm_args* args, gg_backend backend);

/** The backend gg_gmm would use for `args` (resolves GG_BACKEND_AUTO). */
GG_API gg_status gg_gmm_select_backend(gg_handle_t handle, const gg_gmm_args* args, gg_backend* backend);

/* ------------------------------------------------------------------------ */
/* Scaled (FP8) grouped GEMM                                                */
/* ------------------------------------------------------------------------ */

/** How gg_gmm_scaled's scales map onto its operands. Scales are float32 device arrays; the dequantized value of an
 *  element is its FP8 value times its scale (torch._scaled_grouped_mm and DeepGEMM semantics). */
typedef enum gg_scale_mode {
    /** a_scale[m]: one per row of a; b_scale[E, n]: one per expert and output column (torch._scaled_grouped_mm). */
    GG_SCALE_ROWWISE = 0,
    /** DeepGEMM block scales: a_scale[m, ceil(k/128)] (1x128 along K) and b_scale[E, ceil(n/128), ceil(k/128)]
     *  (128x128 blocks of each expert's weight, indexed [n block, k block] for both layouts). Each 128-deep block
     *  of K is summed in fp32, scaled by its two scales and added to the fp32 output sum. The portable kernel takes
     *  every shape; GG_SCALED_KERNEL_CUTLASS_SM90 takes it where it takes row-wise scales (e4m3 x e4m3, trans_b, k and n
     *  multiples of 16; a last scale block shorter than 128 included), and returns GG_STATUS_NOT_SUPPORTED for the
     *  others;
     *  GG_SCALED_KERNEL_AUTO runs cutlass-sm90 where it takes the call and the portable kernel elsewhere. */
    GG_SCALE_BLOCKWISE = 1
} gg_scale_mode;

/** Which kernel runs gg_gmm_scaled. */
typedef enum gg_scaled_kernel {
    /** The fastest compiled kernel that takes the call on the handle's device. */
    GG_SCALED_KERNEL_AUTO = 0,
    /** A plain tiled CUDA kernel for compute capability 8.0 and newer (FP8 decoded in the kernel, fp32 math). */
    GG_SCALED_KERNEL_PORTABLE = 1,
    /** CUTLASS 3.x FP8 ptr-array grouped GEMM for sm_90a (e4m3 x e4m3, fp32 accumulation with promotion). */
    GG_SCALED_KERNEL_CUTLASS_SM90 = 2,
    /** Decode: FP8 mma.sync fed from global memory, one launch, for a few rows per expert (m <= 256, at most 1024
     *  experts, trans_b, k a multiple of 16, a and b 16-byte aligned; compute capability 8.9 or newer with code built
     *  for it, every FP8 pair, both scale modes). Each 128-deep block of K is summed in fp32 and, with block scales,
     *  scaled before it is added; GG_STATUS_NOT_SUPPORTED for other calls. */
    GG_SCALED_KERNEL_DECODE = 3
} gg_scaled_kernel;

/**
 * One scaled grouped GEMM, torch._scaled_grouped_mm(x, w, scale_x, scale_w, offs, out_dtype=bfloat16) for
 * GG_SCALE_ROWWISE. E = num_experts, batch_sizes[e] rows per expert (sum = m), rows of `a` grouped by expert.
 *
 * trans_b = 0:  a[m,k], b[E,k,n] -> c[m,n],  c[r,j] = a_scale[r] * b_scale[e,j] * sum_i a[r,i] * b[e,i,j]
 * trans_b = 1:  a[m,k], b[E,n,k] -> c[m,n],  c[r,j] = a_scale[r] * b_scale[e,j] * sum_i a[r,i] * b[e,j,i]
 * (e the expert of row r). Products and sums in fp32; c is rounded to bf16 once.
 *
 * Checked on the host, always: types, sizes (num_experts at most 2^31 - 1), scale_mode, a_scale_count / b_scale_count
 * against the mode's shape, null pointers (scales included), alignment, residency on the handle's device, c overlapping
 * any input (device batch_sizes included).
 * Checked on the device only with check_scales = 1 (it synchronises the stream, so not during capture): every scale
 * finite. Without it a non-finite scale makes the rows / columns it scales non-finite, and nothing else.
 * Device counts are clamped, or checked with check_counts, exactly as in gg_gmm. No allocation after the handle's
 * reserve, no host synchronisation without the checks: graph-capturable with device counts (host counts are refused
 * with GG_STATUS_NOT_SUPPORTED while the stream is being captured).
 */
typedef struct gg_scaled_gmm_args {
    const void* a;
    const void* b;
    void* c;
    /** float32 scales of a and b, device memory; shapes as scale_mode says. */
    const float* a_scale;
    const float* b_scale;
    /** E int64 counts, in host or device memory as counts_location says. */
    const int64_t* batch_sizes;
    int64_t m;
    int64_t k;
    int64_t n;
    int64_t num_experts;
    /** Elements in a_scale and b_scale: must equal the scale_mode's shape (m and E*n for GG_SCALE_ROWWISE). */
    int64_t a_scale_count;
    int64_t b_scale_count;
    /** GG_DTYPE_FLOAT8_E4M3 or GG_DTYPE_FLOAT8_E5M2 (the CUTLASS kernel: E4M3 only). */
    gg_dtype a_dtype;
    gg_dtype b_dtype;
    /** GG_DTYPE_BFLOAT16 (the only output type for now). */
    gg_dtype c_dtype;
    gg_scale_mode scale_mode;
    gg_counts_location counts_location;
    int32_t trans_b;
    /** Device counts only: as gg_gmm_args.check_counts. */
    int32_t check_counts;
    /** 1: check on the device that every scale is finite, wait for the result and fail with GG_STATUS_INVALID_ARGUMENT
     *  naming the first bad one. Synchronises the stream (not for graph capture). */
    int32_t check_scales;
    gg_scaled_kernel kernel;
    /** Reserved, zero. */
    int32_t reserved;
    /** cudaStream_t to run on. */
    void* stream;
} gg_scaled_gmm_args;

/** Runs a scaled (FP8) grouped GEMM. */
GG_API gg_status gg_gmm_scaled(gg_handle_t handle, const gg_scaled_gmm_args* args);

/** Success if `kernel` can take `args` on the handle's device; otherwise the reason, as a status and message. */
GG_API gg_status gg_gmm_scaled_supported(gg_handle_t handle, const gg_scaled_gmm_args* args, gg_scaled_kernel kernel);

/* ------------------------------------------------------------------------ */
/* Dense GEMM (cuBLAS), for routers, shared experts and padded batched paths */
/* ------------------------------------------------------------------------ */

/**
 * Row-major strided-batched GEMM: for i < batch_count,
 * c_i[m,n] (+)= op(a_i) . op(b_i), a_i = a + i*stride_a elements ([m,k], or [k,m] with trans_a),
 * b_i = b + i*stride_b ([k,n], or [n,k] with trans_b), c_i = c + i*stride_c. fp32 accumulation.
 */
typedef struct gg_gemm_args {
    const void* a;
    const void* b;
    void* c;
    int64_t m;
    int64_t n;
    int64_t k;
    int64_t batch_count;
    int64_t stride_a;
    int64_t stride_b;
    int64_t stride_c;
    gg_dtype dtype;
    int32_t trans_a;
    int32_t trans_b;
    int32_t accumulate;
    void* stream;
} gg_gemm_args;

/** Runs a dense (strided-batched) GEMM through cuBLAS. */
GG_API gg_status gg_gemm(gg_handle_t handle, const gg_gemm_args* args);

/* ------------------------------------------------------------------------ */
/* MoE kernels: routing, permutation, activations, combine, padding         */
/* Element types: float32, float16, bfloat16 unless stated; fp32 math.      */
/* ------------------------------------------------------------------------ */

/** Router: softmax over each row of logits[tokens, num_experts], keep the top_k largest
 *  (ties to the lower expert index), optionally renormalise the kept weights to sum to 1.
 *  weights[tokens, top_k] (float32) and experts[tokens, top_k] (int32), in descending weight order; they must not
 *  overlap logits or each other. */
GG_API gg_status gg_moe_topk_softmax(const void* logits, gg_dtype dtype, int64_t tokens, int64_t num_experts,
                                     int32_t top_k, int32_t renormalize, float* weights, int32_t* experts,
                                     void* stream);

/** Device workspace bytes gg_moe_sort_by_expert needs for `slots` routed slots. */
GG_API gg_status gg_moe_sort_workspace_size(int64_t slots, int64_t num_experts, size_t* bytes);

/** Stable sort of routed slots by expert. experts[slots] (int32, slot = token * top_k + j).
 *  Writes counts[num_experts] (int64, device), sorted_slots[slots] (sorted row -> slot) and
 *  slot_rows[slots] (slot -> sorted row). No host synchronisation.
 *  A slot whose expert id is outside [0, num_experts) (a dropped token) is not counted and belongs to no row:
 *  its slot_rows entry is -1, and the sorted rows past sum(counts) have sorted_slots -1, so that
 *  gg_moe_gather_rows writes zeros there and gg_moe_combine adds nothing for such a slot. counts, sorted_slots,
 *  slot_rows and workspace must not overlap each other or experts. */
GG_API gg_status gg_moe_sort_by_expert(const int32_t* experts, int64_t slots, int64_t num_experts,
                                       int64_t* counts, int32_t* sorted_slots, int32_t* slot_rows,
                                       void* workspace, size_t workspace_bytes, void* stream);

/** dst[i, :] = src[index[i] / index_divisor, :] for i < rows; src[src_rows, cols] and dst[rows, cols].
 *  A negative index, or one whose source row is not below src_rows, writes a zero row. dst must not overlap src or
 *  index. */
GG_API gg_status gg_moe_gather_rows(const void* src, int64_t src_rows, const int32_t* index, int32_t index_divisor,
                                    int64_t rows, int64_t cols, void* dst, gg_dtype dtype, void* stream);

/** In place on x[rows, cols]: x = act(x + bias[expert of row]). The expert of a row comes from
 *  device counts[num_experts] (rows grouped in order) or, when counts is NULL, is row / rows_per_expert.
 *  bias[num_experts, cols] may be NULL. x must not overlap bias or counts. */
GG_API gg_status gg_moe_bias_activation(void* x, const void* bias, const int64_t* counts, int64_t rows_per_expert,
                                        int64_t rows, int64_t cols, int64_t num_experts, gg_activation activation,
                                        gg_dtype dtype, void* stream);

/** Gated form: gate_up[rows, 2*cols] holds the gate in columns [0, cols) and the up projection in
 *  [cols, 2*cols); out[rows, cols] = act(gate + bias_gate) * (up + bias_up), with bias[num_experts, 2*cols]
 *  (may be NULL) split the same way. Expert of a row as in gg_moe_bias_activation. out must not overlap gate_up, bias
 *  or counts. */
GG_API gg_status gg_moe_gated_activation(const void* gate_up, const void* bias, const int64_t* counts,
                                         int64_t rows_per_expert, int64_t rows, int64_t cols, int64_t num_experts,
                                         gg_activation activation, void* out, gg_dtype dtype, void* stream);

/** Weighted un-permute: out[t, :] = residual[t, :] + sum_j weights[t, j] * expert_out[slot_rows[t*top_k + j], :],
 *  expert_out[expert_rows, cols]. A slot row that is negative or not below expert_rows adds nothing.
 *  residual may be NULL; out may alias residual (exactly) but no other input. */
GG_API gg_status gg_moe_combine(const void* expert_out, int64_t expert_rows, const int32_t* slot_rows,
                                const float* weights, const void* residual, int64_t tokens, int32_t top_k,
                                int64_t cols, void* out, gg_dtype dtype, void* stream);

/** Sorted rows[sorted_rows, cols] (counts[e] rows per expert, in order) -> padded[num_experts, capacity, cols],
 *  padding zero-filled. Rows past capacity are dropped (counted in *dropped if dropped is not NULL; device
 *  int64). Counts that sum to more than sorted_rows are clamped (negatives count as 0): the experts that run
 *  past the buffer keep only the rows it holds, so nothing outside sorted is read. padded and dropped must not overlap
 *  sorted, counts or each other. */
GG_API gg_status gg_moe_pad(const void* sorted, int64_t sorted_rows, const int64_t* counts, int64_t num_experts,
                            int64_t capacity, int64_t cols, void* padded, int64_t* dropped, gg_dtype dtype,
                            void* stream);

/** padded[num_experts, capacity, cols] -> sorted rows[sorted_rows, cols] (rows of an expert past capacity are
 *  zero; rows past sum(counts) are left as they are). Counts are clamped as in gg_moe_pad: nothing outside
 *  sorted is written. sorted must not overlap padded or counts. */
GG_API gg_status gg_moe_unpad(const void* padded, const int64_t* counts, int64_t num_experts, int64_t capacity,
                              int64_t cols, void* sorted, int64_t sorted_rows, gg_dtype dtype, void* stream);

/** Largest of counts[num_experts] (device) into *max_count (device int64). */
GG_API gg_status gg_moe_max_count(const int64_t* counts, int64_t num_experts, int64_t* max_count, void* stream);

/* ------------------------------------------------------------------------ */
/* MoE backward: the gradients of the kernels above, for training.          */
/* Same element types, fp32 math; gradients that accumulate are float32.    */
/* Stream-ordered, no host synchronisation, no allocation: capturable.      */
/* ------------------------------------------------------------------------ */

/** Backward of gg_moe_combine. For every slot s = t*top_k + j routed to row r = slot_rows[s]:
 *  d_expert_out[r, :] = weights[s] * dy[t, :] and d_weights[s] = dot(dy[t, :], expert_out[r, :]) (float32).
 *  A dropped slot (r negative or not below expert_rows) gets d_weights 0 and writes no row; rows of d_expert_out
 *  that no slot maps to are left as they are. dy[tokens, cols], expert_out and d_expert_out [expert_rows, cols].
 *  d_expert_out or d_weights may be NULL (not computed); expert_out may be NULL when d_weights is, weights when
 *  d_expert_out is. d_expert_out may alias expert_out (exactly) but no other input. The residual's gradient is dy. */
GG_API gg_status gg_moe_combine_backward(const void* dy, const void* expert_out, int64_t expert_rows,
                                         const int32_t* slot_rows, const float* weights, int64_t tokens, int32_t top_k,
                                         int64_t cols, void* d_expert_out, float* d_weights, gg_dtype dtype,
                                         void* stream);

/** Backward of the dispatch gather (gg_moe_gather_rows with index = sorted_slots, index_divisor = top_k):
 *  d_src[t, :] = (accumulate ? d_src[t, :] : 0) + sum_j d_dst[slot_rows[t*top_k + j], :], summed in fp32 in slot
 *  order (deterministic). d_dst[dst_rows, cols], d_src[tokens, cols]; a slot row that is negative or not below
 *  dst_rows adds nothing. d_src must not overlap d_dst or slot_rows. */
GG_API gg_status gg_moe_gather_rows_backward(const void* d_dst, int64_t dst_rows, const int32_t* slot_rows,
                                             int64_t tokens, int32_t top_k, int64_t cols, int32_t accumulate,
                                             void* d_src, gg_dtype dtype, void* stream);

/** Backward of gg_moe_bias_activation: dx = dy * act'(x + bias[expert of row]) on [rows, cols], from the
 *  pre-activation x the forward was given (keep a copy: the forward works in place). Expert of a row and bias as in
 *  gg_moe_bias_activation. dx may alias x or dy (exactly). */
GG_API gg_status gg_moe_activation_backward(const void* x, const void* bias, const int64_t* counts,
                                            int64_t rows_per_expert, int64_t rows, int64_t cols, int64_t num_experts,
                                            gg_activation activation, const void* dy, void* dx, gg_dtype dtype,
                                            void* stream);

/** Backward of gg_moe_gated_activation: from gate_up[rows, 2*cols] (before the bias), bias and dy[rows, cols],
 *  d_gate_up[rows, 2*cols] = [dy * up' * act'(gate'), dy * act(gate')] (gate' and up' with their bias added), in the
 *  forward's layout. d_gate_up may alias gate_up (exactly). */
GG_API gg_status gg_moe_gated_activation_backward(const void* gate_up, const void* bias, const int64_t* counts,
                                                  int64_t rows_per_expert, int64_t rows, int64_t cols,
                                                  int64_t num_experts, gg_activation activation, const void* dy,
                                                  void* d_gate_up, gg_dtype dtype, void* stream);

/** Bias gradient: d_bias[e, :] (float32, [num_experts, cols]) = (accumulate ? d_bias[e, :] : 0) + the sum of the
 *  rows of dy[rows, cols] that belong to expert e (expert of a row as in gg_moe_bias_activation; counts are clamped to
 *  rows). Summed in fp32 in a fixed order (deterministic); an expert with no rows gets 0. */
GG_API gg_status gg_moe_bias_grad(const void* dy, const int64_t* counts, int64_t rows_per_expert, int64_t rows,
                                  int64_t cols, int64_t num_experts, int32_t accumulate, float* d_bias,
                                  gg_dtype dtype, void* stream);

/** Backward of gg_moe_topk_softmax (the selection is not differentiated): d_logits[tokens, num_experts] from
 *  d_weights[tokens, top_k] (float32) and the forward's weights and experts. With c = sum_j d_weights_j * weights_j:
 *  renormalize = 0: d_logits[i] = p_i * (sum over j with experts_j = i of d_weights_j - c), p = softmax(logits);
 *  renormalize != 0: d_logits[i] = sum over j with experts_j = i of weights_j * (d_weights_j - c) (logits unused,
 *  may be NULL). Slots whose expert is outside [0, num_experts) are ignored. logits and d_logits have `dtype`. */
GG_API gg_status gg_moe_topk_softmax_backward(const void* logits, const float* weights, const int32_t* experts,
                                              const float* d_weights, int64_t tokens, int64_t num_experts,
                                              int32_t top_k, int32_t renormalize, void* d_logits, gg_dtype dtype,
                                              void* stream);

/** Switch-style load-balancing loss over logits[tokens, num_experts] and the routed counts[num_experts] (device
 *  int64, from gg_moe_sort_by_expert): with f_e = counts[e] / (tokens * top_k) and P_e = the mean over tokens of
 *  softmax(logits)[t, e], *loss (device float32) = coefficient * num_experts * sum_e f_e * P_e, and
 *  d_logits[t, i] = (accumulate ? d_logits[t, i] : 0) + coefficient * num_experts / tokens * p[t, i] * (f_i - sum_e
 *  f_e * p[t, e]) (f is not differentiated). loss or d_logits may be NULL (not computed). */
GG_API gg_status gg_moe_aux_loss(const void* logits, const int64_t* counts, int64_t tokens, int64_t num_experts,
                                 int32_t top_k, float coefficient, float* loss, void* d_logits, int32_t accumulate,
                                 gg_dtype dtype, void* stream);

/** dst = src converted between float element types (n elements). dst may be src itself when both types have
 *  the same size, but must not overlap it otherwise. */
GG_API gg_status gg_convert(const void* src, gg_dtype src_dtype, void* dst, gg_dtype dst_dtype, int64_t n,
                            void* stream);

/* ---- FP8 quantization (MoE) ------------------------------------------------------------------------ */

/** Options of the FP8 quantize entry points, bits combined with |. */
typedef enum gg_quantize_flags {
    /** scale = amax / max(q_dtype). */
    GG_QUANTIZE_DEFAULT = 0,
    /** Each scale rounded up to a power of two, 2^ceil(log2(amax / max(q_dtype))) (DeepGEMM's UE8M0 scales, held in
     *  float32): dequantization is then an exponent shift, at the cost of at most one bit of the codes' range. */
    GG_QUANTIZE_POW2_SCALES = 1
} gg_quantize_flags;

/** Quantizes x[rows, cols] (float32, float16 or bfloat16) to q[rows, cols] (`q_dtype`: FP8 E4M3 or E5M2) with one
 *  float32 scale per row and block of `block_cols` columns (0: the whole row, torch._scaled_grouped_mm's row-wise
 *  scales; 128: DeepGEMM's 1x128 activation blocks; any positive width is taken).
 *  scales[rows, blocks], blocks = block_cols ? ceil(cols / block_cols) : 1, and scale_count must equal rows * blocks.
 *  scale = amax(|block|) / max(q_dtype) (1 for an all-zero block), q = round-to-nearest(x / scale) saturated to the
 *  type's finite range, so that q * scale reproduces x to FP8 precision. `flags` (gg_quantize_flags):
 *  GG_QUANTIZE_POW2_SCALES rounds each scale up to a power of two first; other bits are an error. A non-finite x
 *  makes its block's scale non-finite. When index is not NULL the rows are gathered first (the fused dispatch variant):
 *  row i reads src row index[i] / index_divisor of x[src_rows, cols]; a negative index or one whose row is not below
 *  src_rows gives a zero row (scale 1). Without index, src_rows must equal rows and index_divisor is not used. */
GG_API gg_status gg_moe_quantize_fp8_rows(const void* x, int64_t src_rows, const int32_t* index, int32_t index_divisor,
                                          int64_t rows, int64_t cols, int64_t block_cols, gg_dtype x_dtype, void* q,
                                          gg_dtype q_dtype, float* scales, int64_t scale_count, int32_t flags,
                                          void* stream);

/** Quantizes batch matrices w[batch, rows, cols] (float32, float16 or bfloat16; e.g. expert weights [E, k, n] or
 *  [E, n, k]) to q (`q_dtype`) with one float32 scale per block of block x block elements (128: DeepGEMM's weight
 *  blocks): scales[batch, ceil(rows/block), ceil(cols/block)], scale_count must equal that product. Scale,
 *  rounding and `flags` as in gg_moe_quantize_fp8_rows. */
GG_API gg_status gg_moe_quantize_fp8_blocks(const void* w, int64_t batch, int64_t rows, int64_t cols, int64_t block,
                                            gg_dtype w_dtype, void* q, gg_dtype q_dtype, float* scales,
                                            int64_t scale_count, int32_t flags, void* stream);

/* ---- optimiser ------------------------------------------------------------------------------------ */

/** One AdamW step over n elements (PyTorch's torch.optim.AdamW update order), in fp32:
 *  param -= lr * weight_decay * param; exp_avg = beta1 * exp_avg + (1 - beta1) * g;
 *  exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g;
 *  param -= lr * (exp_avg / bias_correction1) / (sqrt(exp_avg_sq / bias_correction2) + eps),
 *  with g = grad[i] (`grad_dtype`: float32, float16 or bfloat16) and bias_correction_k = 1 - beta_k^step for the step
 *  t >= 1 being taken. param, exp_avg and exp_avg_sq are float32 device buffers updated in place (the master weights
 *  and moments; zero the moments before the first step). param_copy, when not NULL, receives the updated param
 *  converted to `copy_dtype` (e.g. the bf16 weights a bf16 layer computes with) in the same pass.
 *  device_corrections, when not NULL, is a device float[2] {bias_correction1, bias_correction2} read by the kernel
 *  instead of the two scalars (which are then not checked), so that a CUDA graph that captured the call can be
 *  replayed over steps. lr, eps, weight_decay finite and >= 0; beta1, beta2 in [0, 1); corrections in (0, 1]. No
 *  allocation, no synchronisation; written buffers must not overlap any other. */
GG_API gg_status gg_adamw_step(float* param, float* exp_avg, float* exp_avg_sq, const void* grad, gg_dtype grad_dtype,
                               void* param_copy, gg_dtype copy_dtype, int64_t n, float lr, float beta1, float beta2,
                               float eps, float weight_decay, float bias_correction1, float bias_correction2,
                               const float* device_corrections, void* stream);

#ifdef __cplusplus
}
#endif

#endif /* GROUPEDGEMM_H */
