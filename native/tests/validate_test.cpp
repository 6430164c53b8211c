// gg_gmm argument validation, order and messages, without a GPU: pointer locations come from a fake
// query in which [0x10000000, 0x20000000) is device 0, [0x20000000, 0x30000000) device 1 and
// everything else host memory.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/api_guard.h"
#include "core/driver_hints.h"
#include "core/validate.h"
#include "enum_store.h"
#include "expect_status.h"
#include "fake_pointers.h"

namespace {

int failures = 0;

using gg_test::dev0;
using gg_test::dev1;
using gg_test::fake_query;

using gg_test::valid_gmm;

void expect(const char* what, const gg_gmm_args& args, gg_status status, const char* message) {
    gg::clear_error();
    gg::GmmProblem p;
    const gg_status got = gg::validate_gmm(args, 0, fake_query, &p);
    if (!gg_test::status_is(what, got, status, message)) ++failures;
}

// As `expect`, in the frame every entry point runs its body in (core/api_guard.h), so that an exception is a status.
void expect_in_frame(const char* what, const gg_gmm_args& args, gg_status status, const char* message) {
    gg::GmmProblem p;
    const gg_status got = gg::api_call("gg_gmm", [&] { return gg::validate_gmm(args, 0, fake_query, &p); });
    if (!gg_test::status_is(what, got, status, message)) ++failures;
}

}  // namespace

int main() {
    expect("valid call", valid_gmm(), GG_STATUS_SUCCESS, nullptr);
    { auto a = valid_gmm(); a.dtype = GG_DTYPE_INT32; expect("int dtype", a, GG_STATUS_INVALID_ARGUMENT, "dtype = 3 (GG_DTYPE_INT32)"); }
    { auto a = valid_gmm(); gg_test::store_bits(a.dtype, 9); expect("unknown dtype", a, GG_STATUS_INVALID_ARGUMENT, "dtype = 9 (unknown)"); }
    { auto a = valid_gmm(); gg_test::store_bits(a.counts_location, 2); expect("counts location", a, GG_STATUS_INVALID_ARGUMENT, "counts_location = 2"); }
    { auto a = valid_gmm(); a.trans_a = 1; a.trans_b = 1; a.m = -1; expect("trans_a and trans_b before sizes", a, GG_STATUS_INVALID_ARGUMENT, "trans_a = 1 with trans_b = 1"); }
    { auto a = valid_gmm(); a.m = -5; expect("negative m", a, GG_STATUS_INVALID_ARGUMENT, "m = -5 is negative"); }
    { auto a = valid_gmm(); a.k = -1; expect("negative k", a, GG_STATUS_INVALID_ARGUMENT, "k = -1 is negative"); }
    { auto a = valid_gmm(); a.n = -2; expect("negative n", a, GG_STATUS_INVALID_ARGUMENT, "n = -2 is negative"); }
    { auto a = valid_gmm(); a.num_experts = 0; expect("no experts", a, GG_STATUS_INVALID_ARGUMENT, "num_experts = 0: must be at least 1"); }
    { auto a = valid_gmm(); a.reserved = 7; expect("reserved", a, GG_STATUS_INVALID_ARGUMENT, "reserved = 7"); }
    { auto a = valid_gmm(); a.m = INT64_MAX / 2; a.k = 4; expect("overflow", a, GG_STATUS_INVALID_ARGUMENT, "overflows 64 bits"); }
    { auto a = valid_gmm(); a.batch_sizes = nullptr; expect("null counts", a, GG_STATUS_INVALID_ARGUMENT, "batch_sizes is NULL"); }
    { auto a = valid_gmm(); a.a = nullptr; expect("null a", a, GG_STATUS_INVALID_ARGUMENT, "a is NULL but holds 128 elements"); }
    { auto a = valid_gmm(); a.b = nullptr; expect("null b", a, GG_STATUS_INVALID_ARGUMENT, "b is NULL but holds 1536 elements"); }
    { auto a = valid_gmm(); a.c = nullptr; expect("null c", a, GG_STATUS_INVALID_ARGUMENT, "c is NULL but holds 256 elements"); }
    {
        int64_t zero[3] = {0, 0, 0};
        auto a = valid_gmm(); a.m = 0; a.a = nullptr; a.c = nullptr; a.batch_sizes = zero;
        expect("m = 0 needs no a or c", a, GG_STATUS_SUCCESS, nullptr);
    }
    { int64_t c[3] = {4, -1, 5}; auto a = valid_gmm(); a.batch_sizes = c; expect("negative count", a, GG_STATUS_INVALID_ARGUMENT, "batch_sizes[1] = -1 is negative"); }
    { int64_t c[3] = {500, 250, 250}; auto a = valid_gmm(); a.batch_sizes = c; a.m = 1024; a.a = dev0(0); a.c = dev0(0x800000);
      expect("sum mismatch", a, GG_STATUS_INVALID_ARGUMENT, "batch_sizes sum to 1000 but m = 1024"); }
    { int64_t c[3] = {INT64_MAX, INT64_MAX, 2}; auto a = valid_gmm(); a.batch_sizes = c; expect("sum beyond 2^63", a, GG_STATUS_INVALID_ARGUMENT, "more than 2^63"); }
    { auto a = valid_gmm(); a.batch_sizes = static_cast<const int64_t*>(dev0(0x300000)); expect("device counts passed as host", a, GG_STATUS_INVALID_ARGUMENT, "is device memory but counts_location = GG_COUNTS_HOST"); }
    { auto a = valid_gmm(); a.counts_location = GG_COUNTS_DEVICE; expect("host counts passed as device", a, GG_STATUS_INVALID_ARGUMENT, "is host memory but counts_location = GG_COUNTS_DEVICE"); }
    { auto a = valid_gmm(); a.counts_location = GG_COUNTS_DEVICE; a.batch_sizes = static_cast<const int64_t*>(dev1(0)); expect("device counts on device 1", a, GG_STATUS_WRONG_DEVICE, "batch_sizes"); }
    { auto a = valid_gmm(); a.counts_location = GG_COUNTS_DEVICE; a.batch_sizes = static_cast<const int64_t*>(dev0(0x300000)); expect("device counts", a, GG_STATUS_SUCCESS, nullptr); }
    { static float host_a[128]; auto a = valid_gmm(); a.a = host_a; expect("host a", a, GG_STATUS_INVALID_ARGUMENT, "is host memory: gg_gmm needs device"); }
    { auto a = valid_gmm(); a.b = dev1(0); expect("b on device 1", a, GG_STATUS_WRONG_DEVICE, "b (0x20000000) is on device 1 but the handle is on device 0"); }
    { auto a = valid_gmm(); a.c = dev0(0x10); expect("c overlaps a", a, GG_STATUS_INVALID_ARGUMENT, "overlaps a"); }
    { auto a = valid_gmm(); a.c = dev0(0x100000 + 3000); expect("c overlaps b", a, GG_STATUS_INVALID_ARGUMENT, "overlaps b"); }
    { auto a = valid_gmm(); a.c = dev0(256); expect("c right after a", a, GG_STATUS_SUCCESS, nullptr); }
    { auto a = valid_gmm(); gg_test::store_bits(a.backend, 5); expect("backend range", a, GG_STATUS_INVALID_ARGUMENT, "backend = 5"); }
    {
        // Device counts are read by kernels that write c (the decode kernels scan them in every block): c over them races.
        auto a = valid_gmm(); a.counts_location = GG_COUNTS_DEVICE; a.batch_sizes = static_cast<const int64_t*>(dev0(0x200008));
        expect("c overlaps device batch_sizes", a, GG_STATUS_INVALID_ARGUMENT,
               "c [0x10200000, +512 bytes) overlaps batch_sizes [0x10200008, +24 bytes)");
    }
    {
        // More experts than any backend takes (2^31 - 1, the bound of gg_handle_reserve and the MoE kernels): refused as
        // an argument, before host counts of that many experts are copied (a vector beyond its max_size threw
        // std::length_error, which the entry point's frame reported as an internal error).
        auto a = valid_gmm(); a.num_experts = int64_t(1) << 61; a.m = 0; a.k = 1; a.n = 1; a.a = nullptr; a.c = nullptr;
        expect_in_frame("2^61 experts", a, GG_STATUS_INVALID_ARGUMENT, "num_experts = 2305843009213693952: must be in [1, 2147483647]");
        a.num_experts = int64_t(INT32_MAX) + 1; a.counts_location = GG_COUNTS_DEVICE;
        a.batch_sizes = static_cast<const int64_t*>(dev0(0x300000));
        expect_in_frame("2^31 experts", a, GG_STATUS_INVALID_ARGUMENT, "num_experts = 2147483648: must be in [1, 2147483647]");
    }
    {
        // trans_a: a[8,16], b[8,32], c[3,16,32]: c is 3*16*32*2 = 3072 bytes.
        auto a = valid_gmm(); a.trans_a = 1; a.b = dev0(0x100000); a.c = dev0(0x100000 + 8 * 32 * 2);
        expect("trans_a shapes", a, GG_STATUS_SUCCESS, nullptr);
        a.c = nullptr; expect("trans_a null c", a, GG_STATUS_INVALID_ARGUMENT, "c is NULL but holds 1536 elements");
    }
    {
        // More than 2^31 elements in a and c: validation works in 64 bits.
        int64_t big[2] = {int64_t(1) << 27, int64_t(1) << 27};
        gg_gmm_args a{};
        a.a = dev0(0); a.b = dev1(0); a.c = dev0(0x8000000); a.batch_sizes = big; a.m = int64_t(1) << 28; a.k = 64; a.n = 64;
        a.num_experts = 2; a.dtype = GG_DTYPE_FLOAT16;
        expect("64-bit sizes reach the device check", a, GG_STATUS_WRONG_DEVICE, "b (0x20000000) is on device 1");
    }

    if (failures != 0) {
        std::fprintf(stderr, "%d validation check(s) failed\n", failures);
        return 1;
    }
    std::printf("validate: all checks passed\n");
    return 0;
}
