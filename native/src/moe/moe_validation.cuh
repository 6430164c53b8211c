// Argument checks shared by several MoE entry points.
#pragma once

#include "core/moe_args.h"
#include "moe/moe_activation.cuh"
#include "moe/moe_common.cuh"

namespace gg::moe {

// Rows, columns and the row-to-expert mapping of the activation kernels: device counts, or (counts NULL)
// row / rows_per_expert, which must stay below num_experts. The operands' extents, [rows, cols] and (bias not NULL)
// bias[num_experts, cols], must not overflow (gg::validate_source_rows; its bound leaves room for the gated kernels'
// 2 * cols).
inline gg_status validate_expert_rows(const char* function, const int64_t* counts, int64_t rows_per_expert, int64_t rows,
                               int64_t cols, int64_t num_experts, const void* bias) {
    if (rows < 0 || cols < 0)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: rows = %lld and cols = %lld must be >= 0", function,
                    static_cast<long long>(rows), static_cast<long long>(cols));
    if (num_experts < 1)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: num_experts = %lld must be >= 1", function,
                    static_cast<long long>(num_experts));
    GG_TRY(validate_source_rows(function, "rows", rows, cols));
    if (bias != nullptr) GG_TRY(validate_source_rows(function, "num_experts", num_experts, cols));
    if (counts == nullptr) {
        if (rows_per_expert < 1)
            return fail(GG_STATUS_INVALID_ARGUMENT,
                        "%s: rows_per_expert = %lld must be >= 1 when counts is NULL", function,
                        static_cast<long long>(rows_per_expert));
        if (rows > 0 && (rows - 1) / rows_per_expert >= num_experts)
            return fail(GG_STATUS_INVALID_ARGUMENT,
                        "%s: rows = %lld exceed num_experts = %lld times rows_per_expert = %lld", function,
                        static_cast<long long>(rows), static_cast<long long>(num_experts),
                        static_cast<long long>(rows_per_expert));
    }
    return GG_STATUS_SUCCESS;
}

// The sizes the combine and gather backward share: a float dtype, cols >= 0, the slot map of tokens x top_k (see
// gg::validate_slot_map), the token side's [tokens, cols] and the `rows_name` = `rows` rows on the expert side. `dtype`:
// the caller's bits (gg::enum_bits, core/enum_bits.h).
inline gg_status validate_slot_gradient(const char* function, int32_t dtype, int64_t cols, int64_t tokens, int32_t top_k,
                                        const char* rows_name, int64_t rows) {
    GG_TRY(check_float_dtype(function, dtype));
    if (cols < 0)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: cols = %lld must be >= 0", function, static_cast<long long>(cols));
    GG_TRY(validate_slot_map(function, tokens, top_k));
    GG_TRY(validate_source_rows(function, "tokens", tokens, cols));
    return validate_source_rows(function, rows_name, rows, cols);
}

// The checks the activation backward kernels share: a float dtype, a gg_activation, and the rows (validate_expert_rows).
// `dtype` and `activation`: the caller's bits (gg::enum_bits, core/enum_bits.h).
inline gg_status validate_activation_rows(const char* function, int32_t dtype, int32_t activation,
                                          const int64_t* counts, int64_t rows_per_expert, int64_t rows, int64_t cols,
                                          int64_t num_experts, const void* bias) {
    GG_TRY(check_float_dtype(function, dtype));
    if (!is_valid_activation(activation))
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: activation = %d is not a gg_activation", function, activation);
    return validate_expert_rows(function, counts, rows_per_expert, rows, cols, num_experts, bias);
}

}  // namespace gg::moe
