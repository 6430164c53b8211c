// The status-and-message comparison of the validation tests that run without a GPU (validate, scaled_validate,
// safety_checks): one place for what "the call failed as it should" means and how a mismatch is printed.
#pragma once

#include <cstdio>
#include <string>

#include "core/driver_hints.h"

namespace gg_test {

// Whether `got` is `status` and the last error message contains `message` (any message when null). Prints "ok" with
// the message, or "FAIL" with what was got and wanted, so that a failing run says why.
inline bool status_is(const char* what, gg_status got, gg_status status, const char* message) {
    const std::string text = gg::last_error_message();
    if (got != status || (message != nullptr && text.find(message) == std::string::npos)) {
        std::fprintf(stderr, "FAIL %s: status %d (want %d), message \"%s\" (want \"%s\")\n", what, got, status,
                     text.c_str(), message ? message : "");
        return false;
    }
    std::printf("ok   %s: %s\n", what, text.empty() ? "(valid)" : text.c_str());
    return true;
}

}  // namespace gg_test
