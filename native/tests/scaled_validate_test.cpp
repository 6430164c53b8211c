// gg_gmm_scaled's and the FP8 quantize kernels' argument validation, order and messages, without a GPU (the fake
// pointer query of fake_pointers.h: [0x10000000, 0x20000000) is device 0, [0x20000000, 0x30000000) device 1).
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/api_guard.h"
#include "core/driver_hints.h"
#include "core/quantize_args.h"
#include "core/scaled_validate.h"
#include "cutlass_sm90/scaled_sm90_workspace.h"
#include "fp8/scaled_gmm.h"
#include "enum_store.h"
#include "expect_status.h"
#include "fake_pointers.h"

namespace {

int failures = 0;
using gg_test::dev0;
using gg_test::dev1;
using gg_test::fake_query;

int64_t counts[3] = {4, 0, 4};

// A valid row-wise call: a[8,16] e4m3, b[3,16,32] e4m3, c[8,32] bf16, a_scale[8], b_scale[3,32], host counts.
gg_scaled_gmm_args valid() {
    gg_scaled_gmm_args a{};
    a.a = dev0(0);
    a.b = dev0(0x100000);
    a.c = dev0(0x200000);
    a.a_scale = static_cast<const float*>(dev0(0x300000));
    a.b_scale = static_cast<const float*>(dev0(0x400000));
    a.batch_sizes = counts;
    a.m = 8;
    a.k = 16;
    a.n = 32;
    a.num_experts = 3;
    a.a_scale_count = 8;
    a.b_scale_count = 96;
    a.a_dtype = GG_DTYPE_FLOAT8_E4M3;
    a.b_dtype = GG_DTYPE_FLOAT8_E4M3;
    a.c_dtype = GG_DTYPE_BFLOAT16;
    a.scale_mode = GG_SCALE_ROWWISE;
    a.counts_location = GG_COUNTS_HOST;
    return a;
}

void report(const char* what, gg_status got, gg_status status, const char* message) {
    if (!gg_test::status_is(what, got, status, message)) ++failures;
}

void expect(const char* what, const gg_scaled_gmm_args& args, gg_status status, const char* message) {
    gg::clear_error();
    gg::ScaledGmmProblem p;
    report(what, gg::validate_scaled_gmm(args, 0, fake_query, &p), status, message);
}

void expect_rows(const char* what, int64_t src_rows, bool index, int32_t divisor, int64_t rows, int64_t cols,
                 int64_t block, gg_dtype x, gg_dtype q, int64_t scales, gg_status status, const char* message,
                 int32_t flags = GG_QUANTIZE_DEFAULT) {
    gg::clear_error();
    int64_t blocks = 0;
    report(what, gg::validate_quantize_rows(src_rows, index, divisor, rows, cols, block, x, q, scales, flags, &blocks),
           status, message);
}

void expect_blocks(const char* what, int64_t batch, int64_t rows, int64_t cols, int64_t block, gg_dtype w, gg_dtype q,
                   int64_t scales, gg_status status, const char* message, int32_t flags = GG_QUANTIZE_DEFAULT) {
    gg::clear_error();
    report(what, gg::validate_quantize_blocks(batch, rows, cols, block, w, q, scales, flags), status, message);
}

// The kernel choice of a valid call on a compute capability 8.0 device (the portable kernel's), with host or device
// counts, while its stream is or is not being captured.
void expect_select(const char* what, bool device_counts, bool capturing, gg_scaled_kernel kernel, gg_status status,
                   const char* message) {
    gg::clear_error();
    auto args = valid();
    if (device_counts) {
        args.counts_location = GG_COUNTS_DEVICE;
        args.batch_sizes = static_cast<const int64_t*>(dev0(0x500000));
    }
    gg::ScaledGmmProblem p;
    if (gg::validate_scaled_gmm(args, 0, fake_query, &p) != GG_STATUS_SUCCESS) {
        report(what, GG_STATUS_INTERNAL_ERROR, GG_STATUS_SUCCESS, "(the call should have been valid)");
        return;
    }
    p.base.capturing = capturing;
    gg::Context ctx;
    ctx.device.cc_major = 8;
    ctx.device.cc_minor = 0;
    gg_scaled_kernel chosen = GG_SCALED_KERNEL_AUTO;
    report(what, gg::select_scaled_kernel(ctx, p, kernel, &chosen), status, message);
}

// The cutlass-sm90 FP8 workspace layout: every piece 256-byte aligned (the kernel's TMA descriptors need 64), in order,
// none overlapping the next, for the type sizes of scaled_gemm_sm90.cuh (Shape<int,int,int>: 12 bytes; each stride one
// int64) and any expert count. The layout before this check put the kernel's piece at 16-byte steps: 352 bytes in
// for 4 experts, which is not 64-byte aligned.
void check_sm90_workspace_plan() {
    int bad = 0;
    for (int64_t experts : {1, 2, 3, 4, 5, 7, 8, 31, 64, 100, 127, 128, 129, 1000, 1023, 1024, 4097}) {
        for (size_t kernel_bytes : {size_t(0), size_t(128), size_t(132 * 128 * 2), size_t(12345)}) {
            const gg::cutlass_sm90::ScaledWorkspacePlan plan(experts, 12, 8, 8, 8, kernel_bytes);
            const size_t e = static_cast<size_t>(experts);
            const size_t starts[] = {plan.offsets, plan.shapes, plan.ptrs, plan.stride_a, plan.stride_b, plan.stride_d,
                                     plan.kernel, plan.total};
            const size_t sizes[] = {(e + 1) * 8, e * 12, 5 * e * sizeof(void*), e * 8, e * 8, e * 8, kernel_bytes};
            for (size_t i = 0; i < 7; ++i) {
                if (starts[i] % 256 != 0 || starts[i] + sizes[i] > starts[i + 1]) {
                    ++bad;
                    std::fprintf(stderr, "FAIL sm90 workspace plan: experts %lld, kernel %zu bytes: piece %zu at %zu "
                                 "(+%zu), next at %zu\n", static_cast<long long>(experts), kernel_bytes, i, starts[i],
                                 sizes[i], starts[i + 1]);
                }
            }
        }
    }
    failures += bad;
    if (bad == 0) std::printf("ok   sm90 fp8 workspace plan: every piece 256-byte aligned and disjoint\n");
}

}  // namespace

int main() {
    const gg_status ok = GG_STATUS_SUCCESS, bad = GG_STATUS_INVALID_ARGUMENT;
    expect("valid row-wise call", valid(), ok, nullptr);
    { auto a = valid(); a.trans_b = 1; expect("valid trans_b", a, ok, nullptr); }
    { auto a = valid(); a.a_dtype = GG_DTYPE_BFLOAT16; expect("bf16 a", a, bad, "a_dtype = 2 (GG_DTYPE_BFLOAT16)"); }
    { auto a = valid(); a.b_dtype = GG_DTYPE_FLOAT32; expect("fp32 b", a, bad, "b_dtype = 0 (GG_DTYPE_FLOAT32)"); }
    { auto a = valid(); a.b_dtype = GG_DTYPE_FLOAT8_E5M2; expect("e5m2 b", a, ok, nullptr); }
    { auto a = valid(); a.c_dtype = GG_DTYPE_FLOAT16; expect("fp16 c", a, bad, "c_dtype = 1 (GG_DTYPE_FLOAT16)"); }
    { auto a = valid(); gg_test::store_bits(a.scale_mode, 7); expect("scale mode", a, bad, "scale_mode = 7"); }
    { auto a = valid(); gg_test::store_bits(a.kernel, 4); expect("kernel", a, bad, "kernel = 4"); }
    { auto a = valid(); a.m = -1; expect("negative m", a, bad, "m = -1 is negative"); }
    { auto a = valid(); a.num_experts = 0; expect("no experts", a, bad, "num_experts = 0"); }
    { auto a = valid(); a.reserved = 1; expect("reserved", a, bad, "reserved = 1"); }
    { auto a = valid(); a.a_scale = nullptr; expect("null a_scale", a, bad, "a_scale is NULL but the scale_mode needs 8 scales"); }
    { auto a = valid(); a.b_scale = nullptr; expect("null b_scale", a, bad, "b_scale is NULL but the scale_mode needs 96 scales"); }
    { auto a = valid(); a.a_scale_count = 7; expect("short a_scale", a, bad, "a_scale_count = 7 but a_scale must hold [m] = 8"); }
    { auto a = valid(); a.b_scale_count = 32; expect("b_scale per column only", a, bad, "b_scale_count = 32 but b_scale must hold [num_experts, n] = 96"); }
    {
        auto a = valid(); a.scale_mode = GG_SCALE_BLOCKWISE; a.a_scale_count = 8; a.b_scale_count = 3;
        expect("block scales shapes", a, ok, nullptr);
        a.b_scale_count = 96;
        expect("block scales wrong b", a, bad, "[num_experts, ceil(n/128), ceil(k/128)] = 3");
    }
    { auto a = valid(); a.a_scale = static_cast<const float*>(dev0(0x300002)); expect("misaligned a_scale", a, bad, "a_scale"); }
    { auto a = valid(); a.b_scale = static_cast<const float*>(dev1(0)); expect("b_scale on device 1", a, GG_STATUS_WRONG_DEVICE, "b_scale"); }
    { static float host[96]; auto a = valid(); a.b_scale = host; expect("host b_scale", a, bad, "b_scale"); }
    { auto a = valid(); a.c = dev0(0x400000 - 64); expect("c overlaps b_scale", a, bad, "overlaps b_scale"); }
    { auto a = valid(); a.c = dev0(0x100000); expect("c overlaps b", a, bad, "overlaps b"); }
    {
        // The header: "c overlapping any input" is refused; device counts are an input (the decode kernel's blocks scan
        // them while others write c).
        auto a = valid(); a.counts_location = GG_COUNTS_DEVICE; a.batch_sizes = static_cast<const int64_t*>(dev0(0x200100));
        expect("c overlaps device batch_sizes", a, bad, "gg_gmm_scaled: c [0x10200000, +512 bytes) overlaps batch_sizes [0x10200100, +24 bytes)");
    }
    {
        // More experts than any kernel takes: an argument error, not an internal one (host counts of 2^61 experts).
        auto a = valid(); a.num_experts = int64_t(1) << 61; a.m = 0; a.k = 1; a.n = 1; a.a = nullptr; a.c = nullptr;
        a.a_scale = nullptr; a.a_scale_count = 0; a.b_scale_count = a.num_experts;
        gg::ScaledGmmProblem p;
        report("2^61 experts", gg::api_call("gg_gmm_scaled", [&] { return gg::validate_scaled_gmm(a, 0, fake_query, &p); }),
               bad, "num_experts = 2305843009213693952: must be in [1, 2147483647]");
    }
    { int64_t c[3] = {4, 1, 4}; auto a = valid(); a.batch_sizes = c; expect("counts sum", a, bad, "batch_sizes sum to 9 but m = 8"); }
    {
        auto a = valid(); a.m = 0; a.a = nullptr; a.c = nullptr; a.a_scale = nullptr; a.a_scale_count = 0;
        int64_t zero[3] = {0, 0, 0}; a.batch_sizes = zero;
        expect("m = 0 needs no a, c or a_scale", a, ok, nullptr);
    }

    const gg_dtype bf16 = GG_DTYPE_BFLOAT16, e4 = GG_DTYPE_FLOAT8_E4M3;
    expect_rows("rows: row-wise", 8, false, 1, 8, 300, 0, bf16, e4, 8, ok, nullptr);
    expect_rows("rows: 1x128", 8, false, 1, 8, 300, 128, bf16, e4, 24, ok, nullptr);
    expect_rows("rows: 1x128 wrong count", 8, false, 1, 8, 300, 128, bf16, e4, 16, bad, "scale_count = 16 but scales[rows, blocks] holds 8 * 3 = 24");
    expect_rows("rows: int input", 8, false, 1, 8, 300, 0, GG_DTYPE_INT32, e4, 8, bad, "x_dtype = 3");
    expect_rows("rows: bf16 output", 8, false, 1, 8, 300, 0, bf16, bf16, 8, bad, "q_dtype = 2");
    expect_rows("rows: src_rows without index", 9, false, 1, 8, 300, 0, bf16, e4, 8, bad, "src_rows = 9 must equal rows = 8");
    expect_rows("rows: gathered", 4, true, 2, 8, 300, 0, bf16, e4, 8, ok, nullptr);
    expect_rows("rows: divisor", 4, true, 0, 8, 300, 0, bf16, e4, 8, bad, "index_divisor = 0");
    expect_rows("rows: negative block", 8, false, 1, 8, 300, -1, bf16, e4, 8, bad, "block_cols = -1");
    // Flags: GG_QUANTIZE_POW2_SCALES is taken, any other bit is refused with the value named.
    expect_rows("rows: power-of-two scales", 8, false, 1, 8, 300, 128, bf16, e4, 24, ok, nullptr,
                GG_QUANTIZE_POW2_SCALES);
    expect_rows("rows: unknown flag", 8, false, 1, 8, 300, 128, bf16, e4, 24, bad, "flags = 2", 2);
    expect_rows("rows: negative flags", 8, false, 1, 8, 300, 128, bf16, e4, 24, bad, "flags = -1", -1);
    expect_blocks("blocks: power-of-two scales", 2, 256, 256, 128, bf16, e4, 8, ok, nullptr, GG_QUANTIZE_POW2_SCALES);
    expect_blocks("blocks: unknown flag", 2, 256, 256, 128, bf16, e4, 8, bad, "flags = 3", 3);
    // The entry point itself on calls that fail or return before any CUDA call: rows with no columns and column blocks
    // have no scales and no codes, so nothing needs a pointer; one scale per row still does.
    gg::clear_error();
    report("rows: no columns, column blocks, no pointers",
           gg_moe_quantize_fp8_rows(nullptr, 4, nullptr, 1, 4, 0, 128, bf16, nullptr, e4, nullptr, 0, 0, nullptr), ok,
           nullptr);
    gg::clear_error();
    report("rows: no columns, one scale per row, no scales",
           gg_moe_quantize_fp8_rows(nullptr, 4, nullptr, 1, 4, 0, 0, bf16, nullptr, e4, nullptr, 4, 0, nullptr), bad,
           "must not be NULL");
    // Blocks wider than everything: one block per row (matrix), counted without overflowing cols + block - 1.
    expect_rows("rows: block_cols = INT64_MAX", 8, false, 1, 8, 2, INT64_MAX, bf16, e4, 8, ok, nullptr);
    expect_rows("rows: block_cols = INT64_MAX, negative count", 8, false, 1, 8, 2, INT64_MAX, bf16, e4, -8, bad,
                "scale_count = -8 but scales[rows, blocks] holds 8 * 1 = 8");
    expect_blocks("blocks: block = INT64_MAX", 2, 3, 5, INT64_MAX, bf16, e4, 2, ok, nullptr);
    expect_blocks("blocks: 128x128", 3, 300, 256, 128, bf16, e4, 18, ok, nullptr);
    expect_blocks("blocks: wrong count", 3, 300, 256, 128, bf16, e4, 6, bad, "holds 3 * 3 * 2 = 18");
    expect_blocks("blocks: block 0", 3, 300, 256, 0, bf16, e4, 18, bad, "block = 0 must be >= 1");

    // Host counts are uploaded from pageable memory, which a stream capture refuses (and is invalidated by).
    const gg_status unsupported = GG_STATUS_NOT_SUPPORTED;
    expect_select("select: host counts", false, false, GG_SCALED_KERNEL_AUTO, ok, nullptr);
    expect_select("select: host counts while capturing", false, true, GG_SCALED_KERNEL_AUTO, unsupported,
                  "host batch sizes (counts_location = GG_COUNTS_HOST) cannot be used while the stream is being captured");
    expect_select("select: host counts while capturing, portable", false, true, GG_SCALED_KERNEL_PORTABLE, unsupported,
                  "pass device batch sizes");
    expect_select("select: device counts while capturing", true, true, GG_SCALED_KERNEL_PORTABLE, ok, nullptr);
    check_sm90_workspace_plan();

    if (failures != 0) {
        std::fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    std::printf("all scaled-gmm validation checks passed\n");
    return 0;
}
