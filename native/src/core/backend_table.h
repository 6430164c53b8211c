// The backends of gg_gmm, one entry each (backend_table.cpp): everything the dispatcher, the build information
// and the messages know about a backend comes from its entry.
#pragma once

#include "core/internal.h"

namespace gg {

// The compute capabilities a backend's kernels run on, as 10 * major + minor: [min_cc, max_cc] (max_cc 0: no upper
// bound). `rule` says it for a message ("needs compute capability 8.0 or newer").
struct DeviceRule {
    int min_cc = 0;
    int max_cc = 0;
    const char* rule = "";
};

struct BackendEntry {
    gg_backend id;
    const char* name;  // gg_backend_name's text
    DeviceRule device;
    // Why the backend is not in this build ("" when it is).
    const char* not_compiled;
    // Whether it is: set with the entry points by the same macro (backend_table.cpp, GG_COMPILED), rather than read
    // off them, because `&f != nullptr` is no constant expression for gcc under -fsanitize=null (which keeps null
    // checks, so a function's address may be null there) and the table's static_asserts must also compile in the
    // sanitized test build. backend_table_test.cpp checks that the entry points are set exactly where it is.
    bool in_build;
    // The entry points (GG_BACKEND_ENTRY_POINTS); null when the backend is not compiled in.
    gg_status (*supports)(const Context&, const GmmProblem&);
    gg_status (*run)(Context&, const GmmProblem&);

    constexpr bool compiled() const { return in_build; }
};

// Every backend, in Auto's order: Auto tries them first to last and the first that can take the call runs it.
struct BackendList {
    const BackendEntry* first;
    const BackendEntry* last;  // one past the end
    const BackendEntry* begin() const { return first; }
    const BackendEntry* end() const { return last; }
};
BackendList backends();

// The entry of `backend`, or null for Auto and for values that are not a backend. An int32_t, not a gg_backend, so
// that gg_backend_name can ask about any value a caller passes (core/enum_bits.h).
const BackendEntry* find_backend(int32_t backend);

// gg_backend_name: "auto" for Auto, the entry's name for a backend, null otherwise (any int32_t, as find_backend).
const char* backend_name(int32_t backend);

}  // namespace gg
