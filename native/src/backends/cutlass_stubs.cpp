// Stand-ins for the CUTLASS backends in builds without CUTLASS (or without a toolkit for sm_90a),
// so that the dispatcher links and reports why they are absent.
#include "core/internal.h"
#include "gg_build_config.h"

namespace gg {

#if !defined(GG_HAVE_CUTLASS_SM80)
gg_status cutlass_sm80_supports(const Context&, const GmmProblem&) {
    return fail(GG_STATUS_BACKEND_NOT_COMPILED, "cutlass-sm80 is not compiled in: %s", GG_CUTLASS_SM80_REASON);
}
gg_status cutlass_sm80_run(Context&, const GmmProblem&) {
    return fail(GG_STATUS_BACKEND_NOT_COMPILED, "cutlass-sm80 is not compiled in: %s", GG_CUTLASS_SM80_REASON);
}
#endif

#if !defined(GG_HAVE_CUTLASS_SM90)
gg_status cutlass_sm90_supports(const Context&, const GmmProblem&) {
    return fail(GG_STATUS_BACKEND_NOT_COMPILED, "cutlass-sm90 is not compiled in: %s", GG_CUTLASS_SM90_REASON);
}
gg_status cutlass_sm90_run(Context&, const GmmProblem&) {
    return fail(GG_STATUS_BACKEND_NOT_COMPILED, "cutlass-sm90 is not compiled in: %s", GG_CUTLASS_SM90_REASON);
}
#endif

}  // namespace gg
