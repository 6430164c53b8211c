// gg_gmm and its two questions: can this backend take the call, which backend would.
#include "core/api_guard.h"
#include "core/call_order.h"
#include "core/capture.h"
#include "core/device_guard.h"
#include "core/dispatch.h"
#include "core/enum_bits.h"
#include "core/validate.h"

namespace {

// The backend a call asks for: its own, else the handle's default. Only after validate_gmm has checked args.backend.
gg_backend requested_backend(const gg_handle& handle, const gg_gmm_args& args) {
    return args.backend != GG_BACKEND_AUTO ? args.backend : handle.backend;
}

// What every gg_gmm entry point does first: validates the arguments into `problem`, makes the handle's device
// current (for the guard's lifetime) and asks once whether the stream is being captured.
gg_status prepare(const gg_handle& handle, const gg_gmm_args& args, gg::DeviceGuard& guard, gg::GmmProblem* problem) {
    GG_TRY(gg::validate_gmm(args, handle.device.ordinal, gg::query_pointer_cuda, problem));
    GG_TRY(guard.enter(handle.device.ordinal));
    return gg::stream_capturing(problem->stream, &problem->capturing);
}

}  // namespace

extern "C" {

gg_status gg_gmm(gg_handle_t handle, const gg_gmm_args* args) {
    return gg::api_call("gg_gmm", [&]() -> gg_status {
        GG_REQUIRE(handle != nullptr, "handle is NULL");
        GG_REQUIRE(args != nullptr, "args is NULL");
        gg::GmmProblem problem;
        gg::DeviceGuard guard;
        GG_TRY(prepare(*handle, *args, guard, &problem));
        gg_backend chosen = GG_BACKEND_AUTO;
        GG_TRY(gg::select_backend(handle->context(), problem, requested_backend(*handle, *args), &chosen));
        // After the previous call on this handle, whatever its stream (issue 23).
        gg::CallOrder order;
        GG_TRY(order.enter(*handle, problem.stream, problem.capturing));
        return gg::run_gmm(*handle, problem, chosen);
    });
}

gg_status gg_gmm_backend_supported(gg_handle_t handle, const gg_gmm_args* args, gg_backend backend) {
    return gg::api_call("gg_gmm_backend_supported", [&]() -> gg_status {
        GG_REQUIRE(handle != nullptr, "handle is NULL");
        GG_REQUIRE(args != nullptr, "args is NULL");
        // Read as bits until checked (core/enum_bits.h): the caller may pass any int32.
        const int32_t value = gg::enum_bits(backend);
        GG_REQUIRE(value >= 0 && value < GG_BACKEND_COUNT, "backend = %d: must be in [0, %d)", value, GG_BACKEND_COUNT);
        gg::GmmProblem problem;
        gg::DeviceGuard guard;
        GG_TRY(prepare(*handle, *args, guard, &problem));
        return gg::backend_supports(handle->context(), problem, backend);
    });
}

gg_status gg_gmm_select_backend(gg_handle_t handle, const gg_gmm_args* args, gg_backend* backend) {
    return gg::api_call("gg_gmm_select_backend", [&]() -> gg_status {
        GG_REQUIRE(handle != nullptr, "handle is NULL");
        GG_REQUIRE(args != nullptr, "args is NULL");
        GG_REQUIRE(backend != nullptr, "backend is NULL");
        *backend = GG_BACKEND_AUTO;
        gg::GmmProblem problem;
        gg::DeviceGuard guard;
        GG_TRY(prepare(*handle, *args, guard, &problem));
        return gg::select_backend(handle->context(), problem, requested_backend(*handle, *args), backend);
    });
}

}  // extern "C"
