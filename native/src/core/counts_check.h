// On-device validation of device-resident batch sizes (gg_gmm_args.check_counts).
#pragma once

#include "core/handle.h"

namespace gg {

// What the check kernel found; lives in the handle's check buffer (device memory).
struct CountsReport {
    int64_t status;          // GG_STATUS_SUCCESS or GG_STATUS_INVALID_COUNTS
    int64_t first_negative;  // index of the first negative count, -1 if none
    int64_t negative_value;  // its value
    int64_t total;           // sum of the non-negative counts, saturated at INT64_MAX
};

// Launches the check (one block) that fills `report`; implemented in backends/counts.cu.
gg_status launch_counts_check(const int64_t* counts, int64_t num_experts, int64_t m, CountsReport* report,
                              cudaStream_t stream);

// Runs the check, waits for it (synchronises problem.stream) and returns GG_STATUS_INVALID_COUNTS with the
// offending index / sum when the counts are bad. Refused during stream capture.
gg_status check_device_counts(gg_handle& handle, const GmmProblem& problem);

}  // namespace gg
