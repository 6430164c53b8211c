// Which cutlass-sm90 kernels this build compiled, and whether it reads the tuning knobs (tuning_knobs.h): the header
// native/CMakeLists.txt generates from sm90_kernel_list.h.in. Without it (a compile outside CMake, such as
// scripts/check-sm90.sh) every kernel counts as compiled and the knobs are read, as in a tuning build. Included by
// every file that asks either question, so that this fallback is written once.
#pragma once

#if __has_include("sm90_kernel_list.h")
#include "sm90_kernel_list.h"
#endif
#ifndef GG_SM90_KERNEL_SUBSET
#define GG_SM90_KERNEL_SUBSET 0
#define GG_SM90_KERNEL_SET "tuning"
#define GG_SM90_TUNING_KNOBS 1
#define GG_SM90_KERNEL_LIST(X)
#endif

#include "cutlass_sm90/tuning_knobs.h"

namespace gg::cutlass_sm90 {

// The tuning knobs of this call (tuning_knobs.h): read on every call in tuning and experiment builds, where
// bench/tune_sm90.py, gmm_parity.py --sm90-tiles and fp8_bench.py change them between calls in one process; none in a
// release build, which reads no environment.
inline Sm90Knobs call_knobs() {
#if GG_SM90_TUNING_KNOBS
    return read_sm90_knobs();
#else
    return {};
#endif
}

}  // namespace gg::cutlass_sm90
