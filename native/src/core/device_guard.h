// Makes a device current for the lifetime of a scope and restores the caller's device afterwards,
// so that calling the library on a handle never changes the thread's current device.
#pragma once

#include "core/internal.h"

namespace gg {

class DeviceGuard {
public:
    DeviceGuard() = default;
    DeviceGuard(const DeviceGuard&) = delete;
    DeviceGuard& operator=(const DeviceGuard&) = delete;
    ~DeviceGuard() {
        if (switched_) (void)cudaSetDevice(previous_);
    }

    // Switches to `device` when it is not already current.
    gg_status enter(int device) {
        GG_CUDA_CHECK(cudaGetDevice(&previous_));
        if (previous_ != device) {
            GG_CUDA_CHECK(cudaSetDevice(device));
            switched_ = true;
        }
        return GG_STATUS_SUCCESS;
    }

private:
    int previous_ = 0;
    bool switched_ = false;
};

}  // namespace gg
