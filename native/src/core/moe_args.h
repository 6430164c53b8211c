// Host-only argument checks of the MoE entry points that native/tests exercises without a GPU (the kernels'
// files are CUDA; these are plain C++).
#pragma once

#include "core/internal.h"

namespace gg {

// Largest element count of one operand whose bytes fit in int64 for every element type (at most 16 bytes): the bound
// of every size product the MoE, convert, quantize and optimiser entry points check.
inline constexpr int64_t kMaxElements = INT64_MAX / 16;

// gg_moe_pad / gg_moe_unpad sizes: num_experts >= 1, capacity, cols and sorted_rows >= 0, and none of counts[num_experts],
// padded[num_experts, capacity, cols] and sorted[sorted_rows, cols] overflowing 64-bit byte counts.
gg_status validate_pad_sizes(const char* function, int64_t num_experts, int64_t capacity, int64_t cols,
                             int64_t sorted_rows);

// An operand of `name` = `rows` rows of `cols` columns (the source rows of gg_moe_gather_rows and gg_moe_combine, and
// every other [rows, cols] operand of the MoE kernels): rows must be >= 0 and rows * cols must not overflow 64-bit byte
// counts (for up to 16-byte elements, so that twice the columns still fit).
gg_status validate_source_rows(const char* function, const char* name, int64_t rows, int64_t cols);

// A one-dimensional operand of `name` = `count` elements (gg_convert's and gg_adamw_step's n, gg_moe_max_count's
// num_experts): count must be >= 0 and its bytes must not overflow 64 bits (for up to 16-byte elements, as above).
gg_status validate_element_count(const char* function, const char* name, int64_t count);

// Slot map of the combine / gather backward: tokens >= 0, top_k >= 1 and tokens * top_k within int32 (slot ids are
// int32).
gg_status validate_slot_map(const char* function, int64_t tokens, int32_t top_k);

// Router sizes of the top-k softmax backward and the load-balancing loss: tokens >= 0, num_experts in [1, INT32_MAX]
// and top_k in [1, num_experts].
gg_status validate_router_sizes(const char* function, int64_t tokens, int64_t num_experts, int32_t top_k);

}  // namespace gg
