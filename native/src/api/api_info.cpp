// Status texts, the last error, versions and what this build contains.
#include "core/api_guard.h"
#include "core/backend_table.h"
#include "core/dispatch.h"
#include "core/driver_hints.h"
#include "core/enum_bits.h"
#include "gg_build_config.h"

static_assert(GG_BUILD_PROJECT_VERSION_MAJOR == GG_VERSION_MAJOR && GG_BUILD_PROJECT_VERSION_MINOR == GG_VERSION_MINOR &&
                  GG_BUILD_PROJECT_VERSION_PATCH == GG_VERSION_PATCH,
              "project(VERSION) in CMakeLists.txt and GG_VERSION_* in groupedgemm.h differ");

namespace {

#define GG_STR2(x) #x
#define GG_STR(x) GG_STR2(x)

constexpr const char* kArchitectures[] = {GG_BUILD_ARCHITECTURES_LIST};
constexpr int32_t kArchitectureCount = GG_BUILD_ARCHITECTURES_COUNT;
static_assert(sizeof(kArchitectures) / sizeof(kArchitectures[0]) == GG_BUILD_ARCHITECTURES_COUNT,
              "architecture list and count disagree");

}  // namespace

// These functions return no status and never touch the last error, so that
// gg_status_string(status) followed by gg_last_error_message() still shows the message.
extern "C" {

const char* gg_status_string(gg_status status) {
    // Switched on as bits (core/enum_bits.h): the caller may pass any int32, and one that is no status has a text too.
    switch (gg::enum_bits(status)) {
        case GG_STATUS_SUCCESS: return "success";
        case GG_STATUS_INVALID_ARGUMENT: return "invalid argument";
        case GG_STATUS_NOT_SUPPORTED: return "not supported by the chosen backend";
        case GG_STATUS_BACKEND_NOT_COMPILED: return "backend not compiled into this library";
        case GG_STATUS_NO_DRIVER: return "no usable CUDA driver";
        case GG_STATUS_NO_DEVICE: return "no CUDA device";
        case GG_STATUS_OUT_OF_MEMORY: return "out of memory";
        case GG_STATUS_CUDA_ERROR: return "CUDA error";
        case GG_STATUS_CUBLAS_ERROR: return "cuBLAS error";
        case GG_STATUS_CUTLASS_ERROR: return "CUTLASS error";
        case GG_STATUS_INVALID_COUNTS: return "invalid batch sizes";
        case GG_STATUS_WRONG_DEVICE: return "pointer on another device";
        case GG_STATUS_WORKSPACE_TOO_SMALL: return "workspace too small";
        case GG_STATUS_INTERNAL_ERROR: return "internal error";
    }
    return "unknown status";
}

const char* gg_last_error_message(void) { return gg::last_error_message(); }

int32_t gg_abi_version(void) { return GG_ABI_VERSION; }

const char* gg_version_string(void) {
    return GG_STR(GG_VERSION_MAJOR) "." GG_STR(GG_VERSION_MINOR) "." GG_STR(GG_VERSION_PATCH);
}

gg_status gg_get_build_info(gg_build_info* info) {
    return gg::api_call("gg_get_build_info", [&]() -> gg_status {
        GG_REQUIRE(info != nullptr, "info is NULL");
        gg_build_info r{};
        r.abi_version = GG_ABI_VERSION;
        r.cuda_toolkit_version = CUDART_VERSION;
        r.cublas_version = CUBLAS_VERSION;
        r.compiled_backends = gg::compiled_backend_mask();
        r.architecture_count = kArchitectureCount;
        r.reserved = 0;
        *info = r;
        return GG_STATUS_SUCCESS;
    });
}

const char* gg_build_architecture(int32_t index) {
    return index >= 0 && index < kArchitectureCount ? kArchitectures[index] : nullptr;
}

// Looked up as bits (core/enum_bits.h): the caller may pass any int32, which gets NULL.
const char* gg_backend_name(gg_backend backend) { return gg::backend_name(gg::enum_bits(backend)); }

}  // extern "C"
