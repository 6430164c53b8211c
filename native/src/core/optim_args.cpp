// Host-only argument checks of the optimiser entry points (see optim_args.h).
#include "core/optim_args.h"

#include <cinttypes>
#include <cmath>

#include "core/moe_args.h"

namespace gg {
namespace {

bool finite_non_negative(float v) { return std::isfinite(v) && v >= 0.0f; }

bool in_unit_half_open(float v) { return v >= 0.0f && v < 1.0f; }  // false for NaN

bool is_correction(float v) { return v > 0.0f && v <= 1.0f; }  // false for NaN

}  // namespace

gg_status validate_adamw_args(const char* function, int64_t n, float lr, float beta1, float beta2, float eps,
                              float weight_decay, float bias_correction1, float bias_correction2,
                              bool device_corrections) {
    GG_TRY(validate_element_count(function, "n", n));  // n >= 0, and its bytes fit
    if (!finite_non_negative(lr) || !finite_non_negative(eps) || !finite_non_negative(weight_decay))
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "%s: lr = %g, eps = %g and weight_decay = %g must be finite and >= 0", function,
                    static_cast<double>(lr), static_cast<double>(eps), static_cast<double>(weight_decay));
    if (!in_unit_half_open(beta1) || !in_unit_half_open(beta2))
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: beta1 = %g and beta2 = %g must be in [0, 1)", function,
                    static_cast<double>(beta1), static_cast<double>(beta2));
    if (!device_corrections && (!is_correction(bias_correction1) || !is_correction(bias_correction2)))
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "%s: bias_correction1 = %g and bias_correction2 = %g must be in (0, 1] (1 - beta^step)", function,
                    static_cast<double>(bias_correction1), static_cast<double>(bias_correction2));
    return GG_STATUS_SUCCESS;
}

}  // namespace gg
