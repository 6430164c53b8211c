// Loads cuBLAS at first use (dlopen) and forwards the cuBLAS entry points this library calls to it.
//
// Where it looks, first to last (the first file that loads wins):
//   1. GG_CUBLAS_LIBRARY, when set: that file only (a deliberate choice is never second-guessed);
//   2. libcublas.so.<major> beside libgroupedgemm.so (an application may ship it there);
//   3. libcublas.so.<major> on the loader's path (LD_LIBRARY_PATH, the ld.so cache, the system folders);
//   4. the CUDA toolkit's usual folders (/usr/local/cuda-<major>.<minor>, /usr/local/cuda-<major>, /usr/local/cuda).
// <major> is the cuBLAS major version the library was compiled against: cuBLAS keeps its ABI within a major
// version, and the soname carries it, so only a compatible library can load.
#include "cublas/cublas_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "core/capture.h"
#include "core/handle.h"
#include "core/internal.h"
#include "gg_build_config.h"

namespace gg {
namespace {

#define GG_STR2(x) #x
#define GG_STR1(x) GG_STR2(x)
constexpr const char* kSoname = "libcublas.so." GG_STR1(CUBLAS_VER_MAJOR);

// The entry points, typed as the header declares them (the forwarders below are checked against it).
struct Entry {
    using Create = cublasStatus_t (*)(cublasHandle_t*);
    using Destroy = cublasStatus_t (*)(cublasHandle_t);
    using SetStream = cublasStatus_t (*)(cublasHandle_t, cudaStream_t);
    using SetWorkspace = cublasStatus_t (*)(cublasHandle_t, void*, size_t);
    using SetPointerMode = cublasStatus_t (*)(cublasHandle_t, cublasPointerMode_t);
    using SetMathMode = cublasStatus_t (*)(cublasHandle_t, cublasMath_t);
    using GemmEx = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                                      const void*, const void*, cudaDataType, int, const void*, cudaDataType, int,
                                      const void*, void*, cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t);
    using GemmStridedBatchedEx = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int,
                                                    int, const void*, const void*, cudaDataType, int, long long int,
                                                    const void*, cudaDataType, int, long long int, const void*,
                                                    void*, cudaDataType, int, long long int, int,
                                                    cublasComputeType_t, cublasGemmAlgo_t);
    using GemmGroupedBatchedEx = cublasStatus_t (*)(cublasHandle_t, const cublasOperation_t[],
                                                    const cublasOperation_t[], const int[], const int[], const int[],
                                                    const void*, const void* const[], cudaDataType_t, const int[],
                                                    const void* const[], cudaDataType_t, const int[], const void*,
                                                    void* const[], cudaDataType_t, const int[], int, const int[],
                                                    cublasComputeType_t);
};

struct Library {
    void* module = nullptr;
    std::string loaded_from;
    std::string failure;  // why nothing loaded: every place tried, with the loader's message
    Entry::Create create = nullptr;
    Entry::Destroy destroy = nullptr;
    Entry::SetStream set_stream = nullptr;
    Entry::SetWorkspace set_workspace = nullptr;
    Entry::SetPointerMode set_pointer_mode = nullptr;
    Entry::SetMathMode set_math_mode = nullptr;
    Entry::GemmEx gemm_ex = nullptr;
    Entry::GemmStridedBatchedEx gemm_strided_batched_ex = nullptr;
    Entry::GemmGroupedBatchedEx gemm_grouped_batched_ex = nullptr;  // optional: cuBLAS >= 12.5
};

// The folder holding this library, from the address of one of its functions ("" when unknown).
std::string own_folder() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&own_folder), &info) == 0 || info.dli_fname == nullptr) return "";
    const std::string file = info.dli_fname;
    const size_t slash = file.rfind('/');
    return slash == std::string::npos ? "" : file.substr(0, slash + 1);
}

std::vector<std::string> candidates() {
    const char* forced = std::getenv("GG_CUBLAS_LIBRARY");
    if (forced != nullptr && *forced != '\0') return {forced};
    std::vector<std::string> list;
    const std::string folder = own_folder();
    if (!folder.empty()) list.push_back(folder + kSoname);
    list.push_back(kSoname);
    const std::string roots[] = {"/usr/local/cuda-" GG_BUILD_CUDA_TOOLKIT_TEXT,
                                 "/usr/local/cuda-" GG_STR1(CUBLAS_VER_MAJOR), "/usr/local/cuda"};
    for (const std::string& root : roots) {
        list.push_back(root + "/lib64/" + kSoname);
        list.push_back(root + "/targets/x86_64-linux/lib/" + kSoname);
    }
    return list;
}

// Looks `symbol` up; on failure names it in `missing`.
template <typename Fn>
bool resolve(Library& lib, Fn* slot, const char* symbol, std::string* missing = nullptr) {
    *slot = reinterpret_cast<Fn>(dlsym(lib.module, symbol));
    if (*slot == nullptr && missing != nullptr) *missing = symbol;
    return *slot != nullptr;
}

Library load() {
    Library lib;
    std::string tried;
    for (const std::string& path : candidates()) {
        void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (module == nullptr) {
            const char* why = dlerror();
            tried += "\n   " + path + ": " + (why != nullptr ? why : "not loadable");
            continue;
        }
        lib.module = module;
        lib.loaded_from = path;
        break;
    }
    if (lib.module == nullptr) {
        lib.failure = "no " + std::string(kSoname) + " could be loaded; tried:" + tried;
        return lib;
    }
    std::string missing;
    const bool required = resolve(lib, &lib.create, "cublasCreate_v2", &missing) &&
                          resolve(lib, &lib.destroy, "cublasDestroy_v2", &missing) &&
                          resolve(lib, &lib.set_stream, "cublasSetStream_v2", &missing) &&
                          resolve(lib, &lib.set_workspace, "cublasSetWorkspace_v2", &missing) &&
                          resolve(lib, &lib.set_pointer_mode, "cublasSetPointerMode_v2", &missing) &&
                          resolve(lib, &lib.set_math_mode, "cublasSetMathMode", &missing) &&
                          resolve(lib, &lib.gemm_ex, "cublasGemmEx", &missing) &&
                          resolve(lib, &lib.gemm_strided_batched_ex, "cublasGemmStridedBatchedEx", &missing);
    if (!required) {
        Library unusable;
        unusable.failure = lib.loaded_from + " loaded but has no " + missing + ": it is not a cuBLAS " +
                           GG_STR1(CUBLAS_VER_MAJOR) ".x library";
        dlclose(lib.module);
        return unusable;
    }
    (void)resolve(lib, &lib.gemm_grouped_batched_ex, "cublasGemmGroupedBatchedEx");
    return lib;
}

const Library& library() {
    static std::once_flag once;
    static Library lib;
    std::call_once(once, [] { lib = load(); });
    return lib;
}

}  // namespace

gg_status cublas_require(const char* needed_for) {
    const Library& lib = library();
    if (lib.module != nullptr) return GG_STATUS_SUCCESS;
    return fail(GG_STATUS_CUBLAS_ERROR,
                "%s needs cuBLAS, which is not available: %s\n"
                "This library was built with CUDA %s and loads cuBLAS %d.x (%s) at first use. Install it (NVIDIA's CUDA "
                "repository: the libcublas-%d-* package, or the CUDA toolkit), put its folder on LD_LIBRARY_PATH, or "
                "point GG_CUBLAS_LIBRARY at the file. The CUTLASS backends and the MoE kernels need only the NVIDIA "
                "driver and keep working without it.",
                needed_for, lib.failure.c_str(), GG_BUILD_CUDA_TOOLKIT_TEXT, CUBLAS_VER_MAJOR, kSoname,
                CUBLAS_VER_MAJOR);
}

bool cublas_has_grouped_batched() { return library().gemm_grouped_batched_ex != nullptr; }

gg_status cublas_for_stream(gg_handle& handle, cudaStream_t stream, const char* needed_for, bool split_k_safe,
                            cublasHandle_t* out) {
    GG_TRY(cublas_require(needed_for));
    if (handle.cublas == nullptr) {
        // The first cuBLAS call on this handle may come inside a stream capture (a graph of host-count calls):
        // creating the handle and its workspace allocates, which a capture in global mode forbids on any stream of
        // this thread. Relaxed mode allows it for this thread; nothing here is enqueued on the capturing stream.
        cublasHandle_t created = nullptr;
        void* workspace = nullptr;
        const size_t workspace_bytes = handle.device.cc_major >= 9 ? (size_t(32) << 20) : (size_t(4) << 20);
        cublasStatus_t st = CUBLAS_STATUS_SUCCESS;
        cudaError_t err = cudaSuccess;
        {
            RelaxedCaptureScope relaxed;
            GG_TRY(relaxed.enter());
            st = cublasCreate(&created);
            if (st == CUBLAS_STATUS_SUCCESS) st = cublasSetPointerMode(created, CUBLAS_POINTER_MODE_HOST);
            // The library promises fp32 accumulation: no split-K reduction in the 16-bit output type, which cuBLAS
            // otherwise picks for long bf16 reductions (a weight gradient whose expert holds 2556 rows measured
            // 1.9e-2 relative error on an H100 against 1.7e-3 for every other backend).
            if (st == CUBLAS_STATUS_SUCCESS) {
                st = cublasSetMathMode(created, static_cast<cublasMath_t>(
                                                    CUBLAS_DEFAULT_MATH | CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION));
            }
            if (st == CUBLAS_STATUS_SUCCESS) err = cudaMalloc(&workspace, workspace_bytes);
        }
        if (st != CUBLAS_STATUS_SUCCESS || err != cudaSuccess) {
            if (created != nullptr) (void)cublasDestroy(created);
            if (st != CUBLAS_STATUS_SUCCESS) return from_cublas(st, "cublasCreate", __FILE__, __LINE__);
            return from_cuda(err, "cudaMalloc(cuBLAS workspace)", __FILE__, __LINE__);
        }
        handle.cublas = created;
        handle.cublas_workspace = workspace;
        handle.cublas_workspace_bytes = workspace_bytes;
        handle.cublas_stream_bound = false;
    }
    if (!handle.cublas_stream_bound || handle.cublas_stream != stream) {
        handle.cublas_stream_bound = false;
        GG_CUBLAS_CHECK(cublasSetStream(handle.cublas, stream));
        // cublasSetStream resets cuBLAS to its default workspace pool; give it ours again, so that cuBLAS never
        // allocates during a call (graph capture).
        GG_CUBLAS_CHECK(cublasSetWorkspace(handle.cublas, handle.cublas_workspace, handle.cublas_workspace_bytes));
        handle.cublas_workspace_given = true;
        handle.cublas_stream = stream;
        handle.cublas_stream_bound = true;
    }
    if (handle.cublas_workspace_given != split_k_safe) {
        // The same buffer with size 0 rather than a null pointer: a workspace that is not set at all is cuBLAS's pool.
        GG_CUBLAS_CHECK(cublasSetWorkspace(handle.cublas, handle.cublas_workspace,
                                           split_k_safe ? handle.cublas_workspace_bytes : 0));
        handle.cublas_workspace_given = split_k_safe;
    }
    *out = handle.cublas;
    return GG_STATUS_SUCCESS;
}

gg_status cublas_release(gg_handle& handle) {
    gg_status first = GG_STATUS_SUCCESS;
    if (handle.cublas != nullptr) {
        const cublasStatus_t st = cublasDestroy(handle.cublas);
        handle.cublas = nullptr;
        if (st != CUBLAS_STATUS_SUCCESS) first = from_cublas(st, "cublasDestroy", __FILE__, __LINE__);
    }
    if (handle.cublas_workspace != nullptr) {
        const cudaError_t err = cudaFree(handle.cublas_workspace);
        handle.cublas_workspace = nullptr;
        if (err != cudaSuccess && first == GG_STATUS_SUCCESS) {
            first = from_cuda(err, "cudaFree(cuBLAS workspace)", __FILE__, __LINE__);
        }
    }
    handle.cublas_stream_bound = false;
    return first;
}

}  // namespace gg

// ---- the cuBLAS entry points this library calls, forwarded to the loaded library ---------------------------------
// Same names and types as cublas_api.h declares (a mismatch is a compile error: two C functions of one name), hidden
// by the export map, so the backends' cuBLAS calls bind here instead of to a link-time libcublas. Each is reached
// only after cublas_require succeeded; NOT_INITIALIZED is the answer should one ever be called without it.
extern "C" {

#define GG_FORWARD(slot, ...)                                                 \
    const auto fn = gg::library().slot;                                      \
    return fn != nullptr ? fn(__VA_ARGS__) : CUBLAS_STATUS_NOT_INITIALIZED;

cublasStatus_t CUBLASWINAPI cublasCreate_v2(cublasHandle_t* handle) { GG_FORWARD(create, handle) }

cublasStatus_t CUBLASWINAPI cublasDestroy_v2(cublasHandle_t handle) { GG_FORWARD(destroy, handle) }

cublasStatus_t CUBLASWINAPI cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream) {
    GG_FORWARD(set_stream, handle, stream)
}

cublasStatus_t CUBLASWINAPI cublasSetWorkspace_v2(cublasHandle_t handle, void* workspace, size_t bytes) {
    GG_FORWARD(set_workspace, handle, workspace, bytes)
}

cublasStatus_t CUBLASWINAPI cublasSetPointerMode_v2(cublasHandle_t handle, cublasPointerMode_t mode) {
    GG_FORWARD(set_pointer_mode, handle, mode)
}

cublasStatus_t CUBLASWINAPI cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
    GG_FORWARD(set_math_mode, handle, mode)
}

cublasStatus_t CUBLASWINAPI cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                         int m, int n, int k, const void* alpha, const void* A, cudaDataType Atype,
                                         int lda, const void* B, cudaDataType Btype, int ldb, const void* beta, void* C,
                                         cudaDataType Ctype, int ldc, cublasComputeType_t computeType,
                                         cublasGemmAlgo_t algo) {
    GG_FORWARD(gemm_ex, handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C, Ctype, ldc,
               computeType, algo)
}

cublasStatus_t CUBLASWINAPI cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa,
                                                       cublasOperation_t transb, int m, int n, int k,
                                                       const void* alpha, const void* A, cudaDataType Atype, int lda,
                                                       long long int strideA, const void* B, cudaDataType Btype,
                                                       int ldb, long long int strideB, const void* beta, void* C,
                                                       cudaDataType Ctype, int ldc, long long int strideC,
                                                       int batchCount, cublasComputeType_t computeType,
                                                       cublasGemmAlgo_t algo) {
    GG_FORWARD(gemm_strided_batched_ex, handle, transa, transb, m, n, k, alpha, A, Atype, lda, strideA, B, Btype, ldb,
               strideB, beta, C, Ctype, ldc, strideC, batchCount, computeType, algo)
}

#if CUBLAS_VERSION >= 120500
cublasStatus_t CUBLASWINAPI cublasGemmGroupedBatchedEx(
    cublasHandle_t handle, const cublasOperation_t transa_array[], const cublasOperation_t transb_array[],
    const int m_array[], const int n_array[], const int k_array[], const void* alpha_array,
    const void* const Aarray[], cudaDataType_t Atype, const int lda_array[], const void* const Barray[],
    cudaDataType_t Btype, const int ldb_array[], const void* beta_array, void* const Carray[], cudaDataType_t Ctype,
    const int ldc_array[], int group_count, const int group_size[], cublasComputeType_t computeType) {
    GG_FORWARD(gemm_grouped_batched_ex, handle, transa_array, transb_array, m_array, n_array, k_array, alpha_array,
               Aarray, Atype, lda_array, Barray, Btype, ldb_array, beta_array, Carray, Ctype, ldc_array, group_count,
               group_size, computeType)
}
#endif

#undef GG_FORWARD

}  // extern "C"
