// The visible CUDA devices: the one check that a device ordinal names one (device queries, handle creation).
#pragma once

#include "core/internal.h"

namespace gg {

// *count = the number of visible devices: 0 when the driver works but reports none. Other failures (no driver, a
// broken one) as their status.
gg_status visible_devices(int* count);

// SUCCESS when `device` names a visible device; NO_DEVICE saying why not (none visible, ordinal out of range), or
// the driver's failure.
gg_status require_visible_device(int32_t device);

}  // namespace gg
