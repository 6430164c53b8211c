// A fake pointer query, and a valid gg_gmm call on it, for the validation tests that run without a GPU: [0x10000000, 0x20000000) is device 0,
// [0x20000000, 0x30000000) device 1, everything else host memory. dev0/dev1 make pointers in those ranges.
#pragma once

#include <cstdint>

#include "core/validate.h"

namespace gg_test {

inline gg_status fake_query(const void* ptr, const char*, gg::PointerInfo* info) {
    const auto p = reinterpret_cast<uintptr_t>(ptr);
    *info = gg::PointerInfo{};
    if (p >= 0x10000000 && p < 0x20000000) {
        info->is_device = true;
        info->device = 0;
    } else if (p >= 0x20000000 && p < 0x30000000) {
        info->is_device = true;
        info->device = 1;
    }
    return GG_STATUS_SUCCESS;
}

inline void* dev0(uintptr_t offset) { return reinterpret_cast<void*>(0x10000000 + offset); }
inline void* dev1(uintptr_t offset) { return reinterpret_cast<void*>(0x20000000 + offset); }

// A valid bf16 forward call: a[8,16], b[3,16,32], c[8,32] on device 0, host counts {4, 0, 4}.
inline int64_t host_counts[3] = {4, 0, 4};
inline gg_gmm_args valid_gmm() {
    gg_gmm_args a{};
    a.a = dev0(0);
    a.b = dev0(0x100000);
    a.c = dev0(0x200000);
    a.batch_sizes = host_counts;
    a.m = 8;
    a.k = 16;
    a.n = 32;
    a.num_experts = 3;
    a.dtype = GG_DTYPE_BFLOAT16;
    a.counts_location = GG_COUNTS_HOST;
    return a;
}

}  // namespace gg_test
