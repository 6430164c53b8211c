// Argument checks of the FP8 quantize kernels; messages name the function, the argument and its value.
#include "core/quantize_args.h"

#include <cinttypes>

#include "core/moe_args.h"
#include "core/validate.h"

namespace gg {
namespace {

// On the caller's bits (core/enum_bits.h), not a gg_dtype: any int32 may come.
bool is_float(int32_t t) { return t == GG_DTYPE_FLOAT32 || t == GG_DTYPE_FLOAT16 || t == GG_DTYPE_BFLOAT16; }
bool is_fp8(int32_t t) { return t == GG_DTYPE_FLOAT8_E4M3 || t == GG_DTYPE_FLOAT8_E5M2; }

// ceil(extent / block) for extent >= 0, block >= 1, without the overflow of (extent + block - 1) for a huge block.
int64_t ceil_div(int64_t extent, int64_t block) { return extent / block + (extent % block != 0 ? 1 : 0); }

gg_status check_types(const char* function, const char* in_name, int32_t in, int32_t q) {
    if (!is_float(in)) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: %s = %d (%s) must be float32, float16 or bfloat16", function,
                    in_name, in, dtype_name(in));
    }
    if (!is_fp8(q)) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "%s: q_dtype = %d (%s) must be GG_DTYPE_FLOAT8_E4M3 or GG_DTYPE_FLOAT8_E5M2", function, q,
                    dtype_name(q));
    }
    return GG_STATUS_SUCCESS;
}

// The bits of gg_quantize_flags, no other.
gg_status check_flags(const char* f, int32_t flags) {
    if ((flags & ~static_cast<int32_t>(GG_QUANTIZE_POW2_SCALES)) != 0) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: flags = %d has bits outside gg_quantize_flags "
                    "(GG_QUANTIZE_POW2_SCALES = %d)", f, flags, static_cast<int>(GG_QUANTIZE_POW2_SCALES));
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace

gg_status validate_quantize_rows(int64_t src_rows, bool has_index, int32_t index_divisor, int64_t rows, int64_t cols,
                                 int64_t block_cols, int32_t x_dtype, int32_t q_dtype, int64_t scale_count,
                                 int32_t flags, int64_t* blocks) {
    const char* f = "gg_moe_quantize_fp8_rows";
    GG_TRY(check_types(f, "x_dtype", x_dtype, q_dtype));
    GG_TRY(check_flags(f, flags));
    if (rows < 0 || cols < 0 || src_rows < 0) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: rows = %" PRId64 ", cols = %" PRId64 " and src_rows = %" PRId64
                    " must be >= 0", f, rows, cols, src_rows);
    }
    if (block_cols < 0) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: block_cols = %" PRId64 " must be 0 (whole rows) or positive", f,
                    block_cols);
    }
    if (!has_index && src_rows != rows) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: index is NULL, so src_rows = %" PRId64 " must equal rows = %" PRId64,
                    f, src_rows, rows);
    }
    if (has_index && index_divisor < 1) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: index_divisor = %d must be >= 1", f, index_divisor);
    }
    // Element counts, then their bytes (kMaxElements): x is up to 4 bytes an element, the scales 4.
    int64_t elements = 0, source_elements = 0;
    if (__builtin_mul_overflow(rows, cols, &elements) || __builtin_mul_overflow(src_rows, cols, &source_elements) ||
        elements > kMaxElements || source_elements > kMaxElements) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "%s: rows * cols overflows 64 bits in bytes (rows = %" PRId64 ", src_rows = %" PRId64
                    ", cols = %" PRId64 ")",
                    f, rows, src_rows, cols);
    }
    const int64_t per_row = block_cols == 0 ? 1 : ceil_div(cols, block_cols);
    int64_t expected = 0;
    if (__builtin_mul_overflow(rows, per_row, &expected) || expected > kMaxElements) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: the scale count overflows 64 bits in bytes", f);
    }
    if (scale_count != expected) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "%s: scale_count = %" PRId64 " but scales[rows, blocks] holds %" PRId64 " * %" PRId64 " = %" PRId64
                    " (cols = %" PRId64 ", block_cols = %" PRId64 ")",
                    f, scale_count, rows, per_row, expected, cols, block_cols);
    }
    *blocks = per_row;
    return GG_STATUS_SUCCESS;
}

gg_status validate_quantize_blocks(int64_t batch, int64_t rows, int64_t cols, int64_t block, int32_t w_dtype,
                                   int32_t q_dtype, int64_t scale_count, int32_t flags) {
    const char* f = "gg_moe_quantize_fp8_blocks";
    GG_TRY(check_types(f, "w_dtype", w_dtype, q_dtype));
    GG_TRY(check_flags(f, flags));
    if (batch < 0 || rows < 0 || cols < 0) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: batch = %" PRId64 ", rows = %" PRId64 " and cols = %" PRId64
                    " must be >= 0", f, batch, rows, cols);
    }
    if (block < 1) return fail(GG_STATUS_INVALID_ARGUMENT, "%s: block = %" PRId64 " must be >= 1", f, block);
    int64_t elements = 0, expected = 0, plane = 0;
    if (__builtin_mul_overflow(batch, rows, &elements) || __builtin_mul_overflow(elements, cols, &elements) ||
        elements > kMaxElements) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: batch * rows * cols overflows 64 bits in bytes", f);
    }
    const int64_t rb = ceil_div(rows, block), cb = ceil_div(cols, block);
    if (__builtin_mul_overflow(rb, cb, &plane) || __builtin_mul_overflow(batch, plane, &expected) ||
        expected > kMaxElements) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: the scale count overflows 64 bits in bytes", f);
    }
    if (scale_count != expected) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "%s: scale_count = %" PRId64 " but scales[batch, ceil(rows/block), ceil(cols/block)] holds %" PRId64
                    " * %" PRId64 " * %" PRId64 " = %" PRId64,
                    f, scale_count, batch, rb, cb, expected);
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace gg
