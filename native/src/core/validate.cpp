// gg_gmm argument validation. Messages name the argument and its value, since they reach users of
// every binding unchanged.
#include "core/validate.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "core/enum_bits.h"
#include "core/pointer_checks.h"

namespace gg {
namespace {

bool mul_overflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }

}  // namespace

gg_status check_operand(const void* ptr, const char* name, int64_t elements, int handle_device, PointerQuery query) {
    if (elements == 0) return GG_STATUS_SUCCESS;
    PointerInfo info;
    GG_TRY(query(ptr, name, &info));
    if (!info.is_device) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "%s (%p) is host memory: gg_gmm needs device (or managed) memory on device %d", name, ptr,
                    handle_device);
    }
    if (!info.is_managed && info.device != handle_device) {
        return fail(GG_STATUS_WRONG_DEVICE, "%s (%p) is on device %d but the handle is on device %d", name, ptr,
                    info.device, handle_device);
    }
    return GG_STATUS_SUCCESS;
}

namespace {

bool ranges_overlap(const void* x, size_t x_bytes, const void* y, size_t y_bytes) {
    if (x_bytes == 0 || y_bytes == 0) return false;
    const uintptr_t x0 = reinterpret_cast<uintptr_t>(x), y0 = reinterpret_cast<uintptr_t>(y);
    return x0 < y0 + y_bytes && y0 < x0 + x_bytes;
}

gg_status check_host_counts(const int64_t* counts, int64_t num_experts, int64_t m) {
    // 128-bit sum: E counts of up to 2^63 each cannot overflow it for any E that fits in memory.
    __int128 sum = 0;
    for (int64_t e = 0; e < num_experts; ++e) {
        if (counts[e] < 0) {
            return fail(GG_STATUS_INVALID_ARGUMENT, "batch_sizes[%" PRId64 "] = %" PRId64 " is negative", e,
                        counts[e]);
        }
        sum += counts[e];
    }
    if (sum != m) {
        if (sum > INT64_MAX) {
            return fail(GG_STATUS_INVALID_ARGUMENT, "batch_sizes sum to more than 2^63 but m = %" PRId64, m);
        }
        return fail(GG_STATUS_INVALID_ARGUMENT, "batch_sizes sum to %" PRId64 " but m = %" PRId64,
                    static_cast<int64_t>(sum), m);
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace

// Host counts are read once, into `copy`, and validated there (see GmmProblem::host_counts).
gg_status check_batch_sizes(const gg_gmm_args& args, int handle_device, PointerQuery query,
                            std::shared_ptr<const std::vector<int64_t>>* copy) {
    PointerInfo info;
    GG_TRY(query(args.batch_sizes, "batch_sizes", &info));
    if (args.counts_location == GG_COUNTS_HOST) {
        if (info.is_device && !info.is_managed) {
            return fail(GG_STATUS_INVALID_ARGUMENT,
                        "batch_sizes (%p) is device memory but counts_location = GG_COUNTS_HOST; pass "
                        "GG_COUNTS_DEVICE or host counts",
                        static_cast<const void*>(args.batch_sizes));
        }
        auto counts = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(args.num_experts));
        std::memcpy(counts->data(), args.batch_sizes, counts->size() * sizeof(int64_t));
        GG_TRY(check_host_counts(counts->data(), args.num_experts, args.m));
        *copy = std::move(counts);
        return GG_STATUS_SUCCESS;
    }
    GG_TRY(check_alignment(nullptr, args.batch_sizes, "batch_sizes", sizeof(int64_t)));
    if (!info.is_device) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "batch_sizes (%p) is host memory but counts_location = GG_COUNTS_DEVICE; pass GG_COUNTS_HOST or "
                    "device counts",
                    static_cast<const void*>(args.batch_sizes));
    }
    if (!info.is_managed && info.device != handle_device) {
        return fail(GG_STATUS_WRONG_DEVICE, "batch_sizes (%p) is on device %d but the handle is on device %d",
                    static_cast<const void*>(args.batch_sizes), info.device, handle_device);
    }
    return GG_STATUS_SUCCESS;
}

gg_status check_num_experts(int64_t num_experts) {
    if (num_experts < 1) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "num_experts = %" PRId64 ": must be at least 1", num_experts);
    }
    if (num_experts > INT32_MAX) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "num_experts = %" PRId64 ": must be in [1, %d] (no backend takes more experts)", num_experts,
                    INT32_MAX);
    }
    return GG_STATUS_SUCCESS;
}

gg_status check_counts_apart_from_c(const char* function, const gg_gmm_args& counts, const void* c, size_t c_bytes) {
    if (counts.counts_location != GG_COUNTS_DEVICE) return GG_STATUS_SUCCESS;
    const Operand c_op{c, "c", 1, static_cast<int64_t>(c_bytes)};
    const Operand counts_op{counts.batch_sizes, "batch_sizes", sizeof(int64_t), counts.num_experts};
    return check_no_overlap(function, c_op, counts_op);
}

const char* dtype_name(int32_t dtype) {
    switch (dtype) {
        case GG_DTYPE_FLOAT32: return "GG_DTYPE_FLOAT32";
        case GG_DTYPE_FLOAT16: return "GG_DTYPE_FLOAT16";
        case GG_DTYPE_BFLOAT16: return "GG_DTYPE_BFLOAT16";
        case GG_DTYPE_INT32: return "GG_DTYPE_INT32";
        case GG_DTYPE_INT64: return "GG_DTYPE_INT64";
        case GG_DTYPE_FLOAT8_E4M3: return "GG_DTYPE_FLOAT8_E4M3";
        case GG_DTYPE_FLOAT8_E5M2: return "GG_DTYPE_FLOAT8_E5M2";
        default: return "unknown";
    }
}

gg_status gmm_extents(int64_t m, int64_t k, int64_t n, int64_t num_experts, bool trans_a, size_t element_size,
                      GmmExtents* out) {
    int64_t ek = 0, ekn = 0, mk = 0, mn = 0;
    if (mul_overflows(m, k, &mk)) return fail(GG_STATUS_INVALID_ARGUMENT, "m * k = %" PRId64 " * %" PRId64 " overflows 64 bits", m, k);
    if (mul_overflows(m, n, &mn)) return fail(GG_STATUS_INVALID_ARGUMENT, "m * n = %" PRId64 " * %" PRId64 " overflows 64 bits", m, n);
    if (mul_overflows(num_experts, k, &ek) || mul_overflows(ek, n, &ekn)) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "num_experts * k * n = %" PRId64 " * %" PRId64 " * %" PRId64 " overflows 64 bits", num_experts, k, n);
    }
    out->a_elements = mk;
    out->b_elements = trans_a ? mn : ekn;
    out->c_elements = trans_a ? ekn : mn;
    const int64_t largest = out->a_elements > out->b_elements ? out->a_elements : out->b_elements;
    const int64_t biggest = largest > out->c_elements ? largest : out->c_elements;
    int64_t bytes = 0;
    if (mul_overflows(biggest, static_cast<int64_t>(element_size), &bytes)) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "an operand of %" PRId64 " elements overflows 64-bit byte sizes", biggest);
    }
    return GG_STATUS_SUCCESS;
}

gg_status validate_gmm(const gg_gmm_args& args, int handle_device, PointerQuery query, GmmProblem* out) {
    // The enum fields are read as bits until checked (core/enum_bits.h): a caller may store any int32 in them.
    const int32_t dtype = enum_bits(args.dtype);
    if (dtype != GG_DTYPE_FLOAT32 && dtype != GG_DTYPE_FLOAT16 && dtype != GG_DTYPE_BFLOAT16) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "dtype = %d (%s): gg_gmm takes GG_DTYPE_FLOAT32, GG_DTYPE_FLOAT16 or GG_DTYPE_BFLOAT16", dtype,
                    dtype_name(dtype));
    }
    const int32_t location = enum_bits(args.counts_location);
    if (location != GG_COUNTS_HOST && location != GG_COUNTS_DEVICE) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "counts_location = %d: must be GG_COUNTS_HOST (0) or GG_COUNTS_DEVICE (1)", location);
    }
    if (args.trans_a != 0 && args.trans_b != 0) {
        return fail(GG_STATUS_INVALID_ARGUMENT,
                    "trans_a = %d with trans_b = %d: a transposed a with a transposed b is not defined", args.trans_a,
                    args.trans_b);
    }
    if (args.m < 0) return fail(GG_STATUS_INVALID_ARGUMENT, "m = %" PRId64 " is negative", args.m);
    if (args.k < 0) return fail(GG_STATUS_INVALID_ARGUMENT, "k = %" PRId64 " is negative", args.k);
    if (args.n < 0) return fail(GG_STATUS_INVALID_ARGUMENT, "n = %" PRId64 " is negative", args.n);
    GG_TRY(check_num_experts(args.num_experts));
    if (args.reserved != 0) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "reserved = %d: must be 0", args.reserved);
    }
    const bool trans_a = args.trans_a != 0;
    const size_t element_size = dtype_size(args.dtype);
    GmmExtents ext;
    GG_TRY(gmm_extents(args.m, args.k, args.n, args.num_experts, trans_a, element_size, &ext));

    if (args.batch_sizes == nullptr) return fail(GG_STATUS_INVALID_ARGUMENT, "batch_sizes is NULL (num_experts = %" PRId64 ")", args.num_experts);
    if (args.a == nullptr && ext.a_elements > 0) return fail(GG_STATUS_INVALID_ARGUMENT, "a is NULL but holds %" PRId64 " elements", ext.a_elements);
    if (args.b == nullptr && ext.b_elements > 0) return fail(GG_STATUS_INVALID_ARGUMENT, "b is NULL but holds %" PRId64 " elements", ext.b_elements);
    if (args.c == nullptr && ext.c_elements > 0) return fail(GG_STATUS_INVALID_ARGUMENT, "c is NULL but holds %" PRId64 " elements", ext.c_elements);

    std::shared_ptr<const std::vector<int64_t>> host_counts;
    GG_TRY(check_batch_sizes(args, handle_device, query, &host_counts));
    // Misaligned operands reach 2-byte loads at odd addresses in the align-1 kernels and cuBLAS: a sticky fault.
    if (ext.a_elements > 0) GG_TRY(check_alignment(nullptr, args.a, "a", element_size));
    if (ext.b_elements > 0) GG_TRY(check_alignment(nullptr, args.b, "b", element_size));
    if (ext.c_elements > 0) GG_TRY(check_alignment(nullptr, args.c, "c", element_size));
    GG_TRY(check_operand(args.a, "a", ext.a_elements, handle_device, query));
    GG_TRY(check_operand(args.b, "b", ext.b_elements, handle_device, query));
    GG_TRY(check_operand(args.c, "c", ext.c_elements, handle_device, query));

    const size_t a_bytes = static_cast<size_t>(ext.a_elements) * element_size;
    const size_t b_bytes = static_cast<size_t>(ext.b_elements) * element_size;
    const size_t c_bytes = static_cast<size_t>(ext.c_elements) * element_size;
    if (ranges_overlap(args.c, c_bytes, args.a, a_bytes)) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "c [%p, +%zu bytes) overlaps a [%p, +%zu bytes)", args.c, c_bytes,
                    args.a, a_bytes);
    }
    if (ranges_overlap(args.c, c_bytes, args.b, b_bytes)) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "c [%p, +%zu bytes) overlaps b [%p, +%zu bytes)", args.c, c_bytes,
                    args.b, b_bytes);
    }
    GG_TRY(check_counts_apart_from_c(nullptr, args, args.c, c_bytes));
    const int32_t backend = enum_bits(args.backend);
    if (backend < 0 || backend >= GG_BACKEND_COUNT) {
        return fail(GG_STATUS_INVALID_ARGUMENT, "backend = %d: must be in [0, %d) (GG_BACKEND_AUTO ... GG_BACKEND_CUTLASS_SM90)",
                    backend, GG_BACKEND_COUNT);
    }

    GmmProblem p;
    p.a = args.a;
    p.b = args.b;
    p.c = args.c;
    p.batch_sizes = host_counts ? host_counts->data() : args.batch_sizes;
    p.host_counts = std::move(host_counts);
    p.counts_on_device = args.counts_location == GG_COUNTS_DEVICE;
    p.check_counts = p.counts_on_device && args.check_counts != 0;
    p.m = args.m;
    p.k = args.k;
    p.n = args.n;
    p.num_experts = args.num_experts;
    p.dtype = args.dtype;
    p.trans_a = trans_a;
    p.trans_b = args.trans_b != 0;
    p.accumulate = args.accumulate != 0;
    p.stream = static_cast<cudaStream_t>(args.stream);
    *out = p;
    return GG_STATUS_SUCCESS;
}

gg_status query_pointer_cuda(const void* ptr, const char* name, PointerInfo* info) {
    cudaPointerAttributes attr{};
    const cudaError_t err = cudaPointerGetAttributes(&attr, ptr);
    if (err == cudaErrorInvalidValue) {
        // Older runtimes report plain host memory this way.
        (void)cudaGetLastError();
        *info = PointerInfo{};
        return GG_STATUS_SUCCESS;
    }
    if (err != cudaSuccess) {
        char what[96];
        std::snprintf(what, sizeof what, "cudaPointerGetAttributes(%s)", name);
        return from_cuda(err, what, __FILE__, __LINE__);
    }
    PointerInfo r;
    switch (attr.type) {
        case cudaMemoryTypeDevice: r.is_device = true; r.device = attr.device; break;
        case cudaMemoryTypeManaged: r.is_device = true; r.is_managed = true; r.device = attr.device; break;
        default: break;  // cudaMemoryTypeHost (pinned) and cudaMemoryTypeUnregistered
    }
    *info = r;
    return GG_STATUS_SUCCESS;
}

}  // namespace gg
