// Values outside their enum in every enum-typed argument of the C ABI, at the entry points a host without a GPU
// reaches: each is refused with INVALID_ARGUMENT and a message naming the argument and its value, before anything
// loads it as its enum type (core/enum_bits.h). Built with UBSan as gg_enum_args_sanitized, where such a load
// (-fsanitize=enum) aborts the run. The args structs' fields are set here, through memcpy as a C caller's int32 lands
// in them; the by-value arguments are passed from C (enum_args_calls.c).
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/handle.h"
#include "core/scaled_validate.h"
#include "core/validate.h"
#include "enum_store.h"
#include "expect_status.h"
#include "fake_pointers.h"

extern "C" int enum_args_c_calls(gg_handle_t handle, const gg_gmm_args* gmm, const gg_scaled_gmm_args* scaled);

namespace {

int failures = 0;

// Outside each enum's range as well as its enumerators, so that UBSan reports a load of them.
constexpr int32_t kValues[] = {-1, 1000};

// `message` is a printf format with one %d, the value.
void expect(const char* what, int32_t value, gg_status got, const char* message) {
    char want[128];
    std::snprintf(want, sizeof want, message, value);
    const std::string label = std::string(what) + " = " + std::to_string(value);
    if (!gg_test::status_is(label.c_str(), got, GG_STATUS_INVALID_ARGUMENT, want)) ++failures;
}

// A scaled call whose enums are valid (nothing else is read before they are checked).
gg_scaled_gmm_args valid_scaled() {
    gg_scaled_gmm_args a{};
    a.a_dtype = GG_DTYPE_FLOAT8_E4M3;
    a.b_dtype = GG_DTYPE_FLOAT8_E4M3;
    a.c_dtype = GG_DTYPE_BFLOAT16;
    a.scale_mode = GG_SCALE_ROWWISE;
    a.counts_location = GG_COUNTS_HOST;
    a.kernel = GG_SCALED_KERNEL_AUTO;
    return a;
}

}  // namespace

int main() {
    gg_handle handle;  // no device behind it: every call below is refused before it would need one
    const gg_gmm_args gmm = gg_test::valid_gmm();
    const gg_scaled_gmm_args scaled = valid_scaled();
    for (const int32_t v : kValues) {
        // gg_gmm_args: dtype and counts_location are checked before any pointer is looked at, so the entry points
        // reach them; backend after the pointer checks, which need a driver, so through validate_gmm's fake query.
        {
            gg_gmm_args a = gmm;
            gg_test::store_bits(a.dtype, v);
            expect("gg_gmm dtype", v, gg_gmm(&handle, &a), "dtype = %d (unknown)");
            gg_backend chosen = GG_BACKEND_AUTO;
            expect("gg_gmm_select_backend dtype", v, gg_gmm_select_backend(&handle, &a, &chosen),
                   "dtype = %d (unknown)");
        }
        {
            gg_gmm_args a = gmm;
            gg_test::store_bits(a.counts_location, v);
            expect("gg_gmm counts_location", v, gg_gmm(&handle, &a), "counts_location = %d: must be");
        }
        {
            gg_gmm_args a = gmm;
            gg_test::store_bits(a.backend, v);
            gg::GmmProblem p;
            expect("validate_gmm backend", v, gg::validate_gmm(a, 0, gg_test::fake_query, &p), "backend = %d: must be");
        }
        // gg_scaled_gmm_args: every enum is checked first.
        const auto scaled_field = [&](auto member, const char* name, const char* message) {
            gg_scaled_gmm_args a = scaled;
            gg_test::store_bits(a.*member, v);
            expect((std::string("gg_gmm_scaled ") + name).c_str(), v, gg_gmm_scaled(&handle, &a), message);
        };
        scaled_field(&gg_scaled_gmm_args::a_dtype, "a_dtype", "a_dtype = %d (unknown)");
        scaled_field(&gg_scaled_gmm_args::b_dtype, "b_dtype", "b_dtype = %d (unknown)");
        scaled_field(&gg_scaled_gmm_args::c_dtype, "c_dtype", "c_dtype = %d (unknown)");
        scaled_field(&gg_scaled_gmm_args::scale_mode, "scale_mode", "scale_mode = %d: must be");
        scaled_field(&gg_scaled_gmm_args::counts_location, "counts_location", "counts_location = %d: must be");
        scaled_field(&gg_scaled_gmm_args::kernel, "kernel", "kernel = %d: must be GG_SCALED_KERNEL_AUTO (0)");
        // gg_gemm_args: dtype, checked first.
        {
            gg_gemm_args a{};
            gg_test::store_bits(a.dtype, v);
            expect("gg_gemm dtype", v, gg_gemm(&handle, &a), "dtype = %d (unknown)");
        }
    }
    // The by-value arguments: gg_status, gg_backend, gg_scaled_kernel, and the dtypes and activations of the MoE,
    // convert, quantize and optimiser entry points.
    failures += enum_args_c_calls(&handle, &gmm, &scaled);

    if (failures != 0) {
        std::fprintf(stderr, "%d enum argument check(s) failed\n", failures);
        return 1;
    }
    std::printf("enum_args: all checks passed\n");
    return 0;
}
