// Host-only argument checks of the FP8 quantize entry points (moe/quantize_fp8.cu), so that native/tests exercises
// them without a GPU. The dtypes come as the caller's bits (gg::enum_bits, core/enum_bits.h): any int32, checked here.
#pragma once

#include "core/internal.h"

namespace gg {

// gg_moe_quantize_fp8_rows: x_dtype a float type, q_dtype FP8, sizes >= 0, block_cols >= 0, without index src_rows =
// rows, with index index_divisor >= 1, and scale_count = rows * (block_cols ? ceil(cols / block_cols) : 1).
// flags of gg_quantize_flags only. *blocks receives the scale blocks per row.
gg_status validate_quantize_rows(int64_t src_rows, bool has_index, int32_t index_divisor, int64_t rows, int64_t cols,
                                 int64_t block_cols, int32_t x_dtype, int32_t q_dtype, int64_t scale_count,
                                 int32_t flags, int64_t* blocks);

// gg_moe_quantize_fp8_blocks: w_dtype a float type, q_dtype FP8, batch, rows, cols >= 0, block >= 1 and scale_count =
// batch * ceil(rows / block) * ceil(cols / block), flags of gg_quantize_flags only.
gg_status validate_quantize_blocks(int64_t batch, int64_t rows, int64_t cols, int64_t block, int32_t w_dtype,
                                   int32_t q_dtype, int64_t scale_count, int32_t flags);

}  // namespace gg
