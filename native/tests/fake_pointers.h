// A fake pointer query for the validation tests that run without a GPU: [0x10000000, 0x20000000) is device 0,
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

}  // namespace gg_test
