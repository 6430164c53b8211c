// The frame every C entry point runs in: clears the thread's last error, and turns any C++
// exception into a status so that none crosses the C ABI.
#pragma once

#include <exception>
#include <new>

#include "core/internal.h"

namespace gg {

template <class Body>
gg_status api_call(const char* function, Body&& body) noexcept {
    clear_error();
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return fail(GG_STATUS_OUT_OF_MEMORY, "%s: a host memory allocation failed", function);
    } catch (const std::exception& e) {
        return fail(GG_STATUS_INTERNAL_ERROR, "%s: internal error: %s (please report this)", function, e.what());
    } catch (...) {
        return fail(GG_STATUS_INTERNAL_ERROR, "%s: internal error: unknown exception (please report this)", function);
    }
}

// Argument checks: `GG_REQUIRE(ptr != nullptr, "...", ...)` returns INVALID_ARGUMENT with the message.
#define GG_REQUIRE(cond, ...)                                                  \
    do {                                                                      \
        if (!(cond)) return ::gg::fail(GG_STATUS_INVALID_ARGUMENT, __VA_ARGS__); \
    } while (0)

}  // namespace gg
