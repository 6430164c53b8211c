// A one-line description of this build, embedded as plain text in libgroupedgemm.so, so that tools read it from the
// file without loading it (no driver needed): the package build (build.cake, Pack) reads it to version and describe
// the package, and `strings libgroupedgemm.so | grep groupedgemm-build` shows it to anyone. The same facts are
// available at run time through gg_get_build_info and gg_build_architecture.
#include "core/driver_hints.h"
#include "gg_build_config.h"

namespace {

#define GG_MANIFEST_STR2(x) #x
#define GG_MANIFEST_STR(x) GG_MANIFEST_STR2(x)

// Fields are `key=value` separated by ';'; the line starts with "groupedgemm-build:" and ends with ";end".
// `used`: nothing references it, and it must survive into the library all the same.
[[gnu::used]] const char kBuildManifest[] =
    "groupedgemm-build:version=" GG_MANIFEST_STR(GG_BUILD_PROJECT_VERSION_MAJOR) "." GG_MANIFEST_STR(
        GG_BUILD_PROJECT_VERSION_MINOR) "." GG_MANIFEST_STR(GG_BUILD_PROJECT_VERSION_PATCH)
    ";cuda=" GG_BUILD_CUDA_TOOLKIT_TEXT ";nvcc=" GG_BUILD_CUDA_COMPILER_VERSION
    ";architectures=" GG_BUILD_ARCHITECTURE_SPEC ";backends=" GG_BUILD_BACKENDS
    ";sm90-kernels=" GG_BUILD_SM90_KERNEL_SET ";min-driver=" GG_MIN_DRIVER
    ";cublas=loaded at first use (libcublas.so." GG_MANIFEST_STR(CUBLAS_VER_MAJOR) ");end";

}  // namespace
