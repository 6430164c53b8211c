// Argument checks shared by several MoE entry points.
#pragma once

#include "moe/moe_common.cuh"

namespace gg::moe {

// Rows, columns and the row-to-expert mapping of the activation kernels: device counts, or (counts NULL)
// row / rows_per_expert, which must stay below num_experts.
inline gg_status validate_expert_rows(const char* function, const int64_t* counts, int64_t rows_per_expert, int64_t rows,
                               int64_t cols, int64_t num_experts) {
    if (rows < 0 || cols < 0)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: rows = %lld and cols = %lld must be >= 0", function,
                    static_cast<long long>(rows), static_cast<long long>(cols));
    if (num_experts < 1)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: num_experts = %lld must be >= 1", function,
                    static_cast<long long>(num_experts));
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

}  // namespace gg::moe
