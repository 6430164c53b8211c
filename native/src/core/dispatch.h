// Which backend runs a gg_gmm call, and running it.
#pragma once

#include "core/handle.h"

namespace gg {

// Bit i set when gg_backend i is compiled in (gg_build_info.compiled_backends); Auto always is.
int32_t compiled_backend_mask();

// BACKEND_NOT_COMPILED with the reason for a backend that is not compiled in, INVALID_ARGUMENT for a value that is
// not a backend; SUCCESS otherwise (Auto included).
gg_status require_compiled(gg_backend backend);

// SUCCESS when `backend` (not Auto) can take `problem` on the context's device, else the reason.
gg_status backend_supports(const Context& ctx, const GmmProblem& problem, gg_backend backend);

// Resolves `requested` (Auto: the first backend of the table's order that can take the call, but see
// prefers_cublas_loop) into `*chosen`.
gg_status select_backend(const Context& ctx, const GmmProblem& problem, gg_backend requested, gg_backend* chosen);

// Runs a validated problem on `backend` (already selected): device-count check, calls without work,
// empty experts of host counts, then the backend.
gg_status run_gmm(gg_handle& handle, const GmmProblem& problem, gg_backend backend);

}  // namespace gg
