// Host-only argument checks of the MoE entry points (see moe_args.h).
#include "core/moe_args.h"

#include <cinttypes>

namespace gg {
namespace {

bool product_fits(int64_t a, int64_t b, int64_t* out) {
    return !__builtin_mul_overflow(a, b, out) && *out <= kMaxElements;
}

}  // namespace

gg_status validate_pad_sizes(const char* function, int64_t num_experts, int64_t capacity, int64_t cols,
                             int64_t sorted_rows) {
    if (num_experts < 1 || capacity < 0 || cols < 0 || sorted_rows < 0)
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "%s: num_experts = %" PRId64 " must be >= 1, capacity = %" PRId64 ", cols = %" PRId64
                    " and sorted_rows = %" PRId64 " >= 0",
                    function, num_experts, capacity, cols, sorted_rows);
    // counts[num_experts] is read whatever the capacity (the rows past it are counted as dropped, or zeroed).
    GG_TRY(validate_element_count(function, "num_experts", num_experts));
    int64_t padded_rows = 0, padded_elements = 0, sorted_elements = 0;
    if (!product_fits(num_experts, capacity, &padded_rows) || !product_fits(padded_rows, cols, &padded_elements))
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "%s: num_experts = %" PRId64 " times capacity = %" PRId64 " times cols = %" PRId64 " overflows",
                    function, num_experts, capacity, cols);
    if (!product_fits(sorted_rows, cols, &sorted_elements))
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: sorted_rows = %" PRId64 " times cols = %" PRId64 " overflows",
                    function, sorted_rows, cols);
    return GG_STATUS_SUCCESS;
}

gg_status validate_source_rows(const char* function, const char* name, int64_t rows, int64_t cols) {
    int64_t elements = 0;
    if (rows < 0)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: %s = %" PRId64 " must be >= 0", function, name, rows);
    if (!product_fits(rows, cols < 0 ? 0 : cols, &elements))
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: %s = %" PRId64 " times cols = %" PRId64 " overflows", function,
                    name, rows, cols);
    return GG_STATUS_SUCCESS;
}

gg_status validate_element_count(const char* function, const char* name, int64_t count) {
    if (count < 0)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: %s = %" PRId64 " must be >= 0", function, name, count);
    if (count > kMaxElements)
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "%s: %s = %" PRId64 " is more than %" PRId64 " elements, whose bytes would overflow 64 bits",
                    function, name, count, kMaxElements);
    return GG_STATUS_SUCCESS;
}

gg_status validate_slot_map(const char* function, int64_t tokens, int32_t top_k) {
    if (tokens < 0)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: tokens = %" PRId64 " must be >= 0", function, tokens);
    if (top_k < 1) return fail(GG_STATUS_INVALID_ARGUMENT, "%s: top_k = %d must be >= 1", function, top_k);
    if (tokens > INT32_MAX / top_k)
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "%s: tokens = %" PRId64 " times top_k = %d exceeds the int32 slot range", function, tokens, top_k);
    return GG_STATUS_SUCCESS;
}

gg_status validate_router_sizes(const char* function, int64_t tokens, int64_t num_experts, int32_t top_k) {
    if (tokens < 0)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: tokens = %" PRId64 " must be >= 0", function, tokens);
    if (num_experts < 1 || num_experts > INT32_MAX)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: num_experts = %" PRId64 " must be in [1, %d]", function,
                    num_experts, INT32_MAX);
    if (top_k < 1 || top_k > num_experts)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: top_k = %d must be in [1, num_experts = %" PRId64 "]", function,
                    top_k, num_experts);
    int64_t slots = 0;
    if (!product_fits(tokens, num_experts, &slots))
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: tokens = %" PRId64 " times num_experts = %" PRId64 " overflows",
                    function, tokens, num_experts);
    return GG_STATUS_SUCCESS;
}

}  // namespace gg
