// Auto's search over candidates (gg_gmm's backends, gg_gmm_scaled's kernels): the first candidate that takes the
// call wins; when none does, the failure lists every candidate's reason, and its status is the first that is not
// "not compiled", since that one says what the caller could change.
#pragma once

#include <string>

#include "core/driver_hints.h"
#include "core/internal.h"

namespace gg {

class CandidateSearch {
public:
    // Records one candidate's answer to "do you support this call?". True when it does (its refusal texts of earlier
    // candidates are then cleared from the error state); otherwise its message joins the reasons, after "name: " when
    // a name is given.
    bool accepts(gg_status answer, const char* name = nullptr) {
        if (answer == GG_STATUS_SUCCESS) {
            clear_error();
            return true;
        }
        if (!have_status_ && answer != GG_STATUS_BACKEND_NOT_COMPILED) {
            status_ = answer;
            have_status_ = true;
        }
        reasons_ += reasons_.empty() ? "" : "; ";
        if (name != nullptr) {
            reasons_ += name;
            reasons_ += ": ";
        }
        reasons_ += last_error_message();
        return false;
    }

    // The failure after every candidate refused: "<what> (<reasons>)".
    gg_status refused_by_all(const char* what) const { return fail(status_, "%s (%s)", what, reasons_.c_str()); }

private:
    std::string reasons_;
    gg_status status_ = GG_STATUS_BACKEND_NOT_COMPILED;
    bool have_status_ = false;
};

}  // namespace gg
