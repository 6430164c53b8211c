// gg_gmm_scaled argument validation. Messages name the argument and its value (they reach every binding unchanged).
#include "core/scaled_validate.h"

#include <cinttypes>

#include "core/enum_bits.h"
#include "core/pointer_checks.h"

namespace gg {
namespace {

bool is_fp8(int32_t t) { return t == GG_DTYPE_FLOAT8_E4M3 || t == GG_DTYPE_FLOAT8_E5M2; }

// `t`: the dtype field's bits (core/enum_bits.h), not yet known to be a gg_dtype.
gg_status check_fp8(const char* name, int32_t t) {
    if (is_fp8(t)) return GG_STATUS_SUCCESS;
    return fail(GG_STATUS_INVALID_ARGUMENT,
                "%s = %d (%s): gg_gmm_scaled takes GG_DTYPE_FLOAT8_E4M3 or GG_DTYPE_FLOAT8_E5M2", name, t,
                dtype_name(t));
}

}  // namespace

gg_status scaled_gmm_scale_extents(gg_scale_mode mode, int64_t m, int64_t k, int64_t n, int64_t num_experts,
                                   int64_t* a_scales, int64_t* b_scales) {
    int64_t a = 0, b = 0;
    const bool rowwise = mode == GG_SCALE_ROWWISE;
    const int64_t a_cols = rowwise ? 1 : scale_blocks_of(k);
    const int64_t b_per_expert_rows = rowwise ? n : scale_blocks_of(n);
    const int64_t b_per_expert_cols = rowwise ? 1 : scale_blocks_of(k);
    int64_t b_rows = 0;
    // In elements, then in bytes (float32 scales): the pointer checks and the kernels address them in bytes.
    constexpr int64_t max_scales = INT64_MAX / static_cast<int64_t>(sizeof(float));
    if (__builtin_mul_overflow(m, a_cols, &a) || __builtin_mul_overflow(num_experts, b_per_expert_rows, &b_rows) ||
        __builtin_mul_overflow(b_rows, b_per_expert_cols, &b) || a > max_scales || b > max_scales) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "scale extents of m = %" PRId64 ", k = %" PRId64 ", n = %" PRId64
                    ", num_experts = %" PRId64 " overflow 64 bits (in bytes)", m, k, n, num_experts);
    }
    *a_scales = a;
    *b_scales = b;
    return GG_STATUS_SUCCESS;
}

gg_status check_scaled_kernel(int32_t kernel) {
    if (kernel < GG_SCALED_KERNEL_AUTO || kernel > GG_SCALED_KERNEL_DECODE) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "kernel = %d: must be GG_SCALED_KERNEL_AUTO (0), _PORTABLE (1), _CUTLASS_SM90 (2) or _DECODE (3)",
                    kernel);
    }
    return GG_STATUS_SUCCESS;
}

gg_status validate_scaled_gmm(const gg_scaled_gmm_args& args, int handle_device, PointerQuery query,
                              ScaledGmmProblem* out) {
    // The enum fields are read as bits until checked (core/enum_bits.h): a caller may store any int32 in them.
    GG_TRY(check_fp8("a_dtype", enum_bits(args.a_dtype)));
    GG_TRY(check_fp8("b_dtype", enum_bits(args.b_dtype)));
    const int32_t c_dtype = enum_bits(args.c_dtype);
    if (c_dtype != GG_DTYPE_BFLOAT16) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "c_dtype = %d (%s): gg_gmm_scaled writes GG_DTYPE_BFLOAT16 only",
                    c_dtype, dtype_name(c_dtype));
    }
    const int32_t mode = enum_bits(args.scale_mode);
    if (mode != GG_SCALE_ROWWISE && mode != GG_SCALE_BLOCKWISE) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "scale_mode = %d: must be GG_SCALE_ROWWISE (0) or GG_SCALE_BLOCKWISE (1)", mode);
    }
    const int32_t location = enum_bits(args.counts_location);
    if (location != GG_COUNTS_HOST && location != GG_COUNTS_DEVICE) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "counts_location = %d: must be GG_COUNTS_HOST (0) or GG_COUNTS_DEVICE (1)", location);
    }
    GG_TRY(check_scaled_kernel(enum_bits(args.kernel)));
    if (args.m < 0) return fail(GG_STATUS_INVALID_ARGUMENT, "m = %" PRId64 " is negative", args.m);
    if (args.k < 0) return fail(GG_STATUS_INVALID_ARGUMENT, "k = %" PRId64 " is negative", args.k);
    if (args.n < 0) return fail(GG_STATUS_INVALID_ARGUMENT, "n = %" PRId64 " is negative", args.n);
    GG_TRY(check_num_experts(args.num_experts));
    if (args.reserved != 0) return fail(GG_STATUS_INVALID_ARGUMENT, "reserved = %d: must be 0", args.reserved);

    // Extents with 2-byte elements: the bf16 output is the widest operand, so this bounds every byte count.
    GmmExtents ext;
    GG_TRY(gmm_extents(args.m, args.k, args.n, args.num_experts, false, dtype_size(GG_DTYPE_BFLOAT16), &ext));
    int64_t a_scales = 0, b_scales = 0;
    GG_TRY(scaled_gmm_scale_extents(args.scale_mode, args.m, args.k, args.n, args.num_experts, &a_scales, &b_scales));

    if (args.batch_sizes == nullptr) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "batch_sizes is NULL (num_experts = %" PRId64 ")", args.num_experts);
    }
    if (args.a == nullptr && ext.a_elements > 0) return fail(GG_STATUS_INVALID_ARGUMENT, "a is NULL but holds %" PRId64 " elements", ext.a_elements);
    if (args.b == nullptr && ext.b_elements > 0) return fail(GG_STATUS_INVALID_ARGUMENT, "b is NULL but holds %" PRId64 " elements", ext.b_elements);
    if (args.c == nullptr && ext.c_elements > 0) return fail(GG_STATUS_INVALID_ARGUMENT, "c is NULL but holds %" PRId64 " elements", ext.c_elements);
    if (args.a_scale == nullptr && a_scales > 0) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "a_scale is NULL but the scale_mode needs %" PRId64 " scales", a_scales);
    }
    if (args.b_scale == nullptr && b_scales > 0) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "b_scale is NULL but the scale_mode needs %" PRId64 " scales", b_scales);
    }
    const char* shape_a = mode == GG_SCALE_ROWWISE ? "[m]" : "[m, ceil(k/128)]";
    const char* shape_b = mode == GG_SCALE_ROWWISE ? "[num_experts, n]" : "[num_experts, ceil(n/128), ceil(k/128)]";
    if (args.a_scale_count != a_scales) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "a_scale_count = %" PRId64 " but a_scale must hold %s = %" PRId64
                    " scales (m = %" PRId64 ", k = %" PRId64 ")", args.a_scale_count, shape_a, a_scales, args.m, args.k);
    }
    if (args.b_scale_count != b_scales) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "b_scale_count = %" PRId64 " but b_scale must hold %s = %" PRId64
                    " scales (num_experts = %" PRId64 ", n = %" PRId64 ", k = %" PRId64 ")", args.b_scale_count, shape_b,
                    b_scales, args.num_experts, args.n, args.k);
    }

    gg_gmm_args counts{};
    counts.batch_sizes = args.batch_sizes;
    counts.counts_location = args.counts_location;
    counts.num_experts = args.num_experts;
    counts.m = args.m;
    std::shared_ptr<const std::vector<int64_t>> host_counts;
    GG_TRY(check_batch_sizes(counts, handle_device, query, &host_counts));

    const Operand a{args.a, "a", 1, ext.a_elements}, b{args.b, "b", 1, ext.b_elements};
    const Operand c{args.c, "c", dtype_size(GG_DTYPE_BFLOAT16), ext.c_elements};
    const Operand sa{args.a_scale, "a_scale", sizeof(float), a_scales}, sb{args.b_scale, "b_scale", sizeof(float), b_scales};
    GG_TRY(check_device_operands("gg_gmm_scaled", {a, b, c, sa, sb}, handle_device, query));
    GG_TRY(check_no_overlap("gg_gmm_scaled", c, {a, b, sa, sb}));
    GG_TRY(check_counts_apart_from_c("gg_gmm_scaled", counts, args.c, static_cast<size_t>(c.elements) * c.element_size));

    ScaledGmmProblem p;
    p.base.a = args.a;
    p.base.b = args.b;
    p.base.c = args.c;
    p.base.batch_sizes = host_counts ? host_counts->data() : args.batch_sizes;
    p.base.host_counts = std::move(host_counts);
    p.base.counts_on_device = args.counts_location == GG_COUNTS_DEVICE;
    p.base.check_counts = p.base.counts_on_device && args.check_counts != 0;
    p.base.m = args.m;
    p.base.k = args.k;
    p.base.n = args.n;
    p.base.num_experts = args.num_experts;
    p.base.dtype = args.c_dtype;
    p.base.trans_b = args.trans_b != 0;
    p.base.stream = static_cast<cudaStream_t>(args.stream);
    p.a_scale = args.a_scale;
    p.b_scale = args.b_scale;
    p.a_scale_count = a_scales;
    p.b_scale_count = b_scales;
    p.a_dtype = args.a_dtype;
    p.b_dtype = args.b_dtype;
    p.scale_mode = args.scale_mode;
    p.check_scales = args.check_scales != 0;
    p.kernel = args.kernel;
    *out = std::move(p);
    return GG_STATUS_SUCCESS;
}

}  // namespace gg
