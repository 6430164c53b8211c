// gg_gmm_scaled (FP8 grouped GEMM with scales) and its question: can this kernel take the call.
#include "core/api_guard.h"
#include "core/call_order.h"
#include "core/capture.h"
#include "core/device_guard.h"
#include "core/enum_bits.h"
#include "fp8/scaled_gmm.h"

namespace {

// Validates into `problem`, makes the handle's device current for the guard's lifetime, asks once about capture.
gg_status prepare(const gg_handle& handle, const gg_scaled_gmm_args& args, gg::DeviceGuard& guard,
                  gg::ScaledGmmProblem* problem) {
    GG_TRY(gg::validate_scaled_gmm(args, handle.device.ordinal, gg::query_pointer_cuda, problem));
    GG_TRY(guard.enter(handle.device.ordinal));
    return gg::stream_capturing(problem->base.stream, &problem->base.capturing);
}

}  // namespace

extern "C" {

gg_status gg_gmm_scaled(gg_handle_t handle, const gg_scaled_gmm_args* args) {
    return gg::api_call("gg_gmm_scaled", [&]() -> gg_status {
        GG_REQUIRE(handle != nullptr, "handle is NULL");
        GG_REQUIRE(args != nullptr, "args is NULL");
        gg::ScaledGmmProblem problem;
        gg::DeviceGuard guard;
        GG_TRY(prepare(*handle, *args, guard, &problem));
        gg_scaled_kernel chosen = GG_SCALED_KERNEL_AUTO;
        GG_TRY(gg::select_scaled_kernel(handle->context(), problem, args->kernel, &chosen));
        gg::CallOrder order;
        GG_TRY(order.enter(*handle, problem.base.stream, problem.base.capturing));
        return gg::run_scaled_gmm(*handle, problem, chosen);
    });
}

gg_status gg_gmm_scaled_supported(gg_handle_t handle, const gg_scaled_gmm_args* args, gg_scaled_kernel kernel) {
    return gg::api_call("gg_gmm_scaled_supported", [&]() -> gg_status {
        GG_REQUIRE(handle != nullptr, "handle is NULL");
        GG_REQUIRE(args != nullptr, "args is NULL");
        // Read as bits until checked (core/enum_bits.h): the caller may pass any int32.
        GG_TRY(gg::check_scaled_kernel(gg::enum_bits(kernel)));
        gg::ScaledGmmProblem problem;
        gg::DeviceGuard guard;
        GG_TRY(prepare(*handle, *args, guard, &problem));
        gg_scaled_kernel chosen = GG_SCALED_KERNEL_AUTO;
        return gg::select_scaled_kernel(handle->context(), problem, kernel, &chosen);
    });
}

}  // extern "C"
