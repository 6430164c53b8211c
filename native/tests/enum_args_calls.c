/* The by-value half of enum_args_test.cpp: every C entry point that takes an enum by value, called from C with values
 * outside the enum, as a C caller (or P/Invoke) passes them. In C an enum is an integer type and may hold them; C++
 * could not make such an argument without loading it as its enum type, which is what the test looks for. Each call
 * must be refused at its first check, which needs no GPU (no pointer is ever read). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "groupedgemm/groupedgemm.h"

static int failures = 0;

#include "check.h"

/* Outside every enum's range as well as its enumerators: UBSan's -fsanitize=enum reports a load of them. */
static const int32_t kNegative = -1;
static const int32_t kLarge = 1000;

static void expect(const char* what, int32_t value, gg_status got, const char* message) {
    const char* text = gg_last_error_message();
    const int refused = got == GG_STATUS_INVALID_ARGUMENT && strstr(text, message) != NULL;
    CHECK(refused, "%s(%d): status %d, message \"%s\" (want INVALID_ARGUMENT, \"%s\")", what, value, got, text,
          message);
    if (refused) printf("ok   %s(%d): %s\n", what, value, text);
}

/* The MoE entry points with dtype `d` (and a valid activation where they take one). */
static void moe_calls(int32_t d, const char* message) {
    const gg_dtype dt = (gg_dtype)d;
    const gg_activation act = GG_ACTIVATION_NONE;
    expect("gg_moe_topk_softmax", d, gg_moe_topk_softmax(NULL, dt, 1, 2, 1, 0, NULL, NULL, NULL), message);
    expect("gg_moe_gather_rows", d, gg_moe_gather_rows(NULL, 1, NULL, 1, 1, 1, NULL, dt, NULL), message);
    expect("gg_moe_bias_activation", d, gg_moe_bias_activation(NULL, NULL, NULL, 1, 1, 1, 1, act, dt, NULL), message);
    expect("gg_moe_gated_activation", d, gg_moe_gated_activation(NULL, NULL, NULL, 1, 1, 1, 1, act, NULL, dt, NULL),
           message);
    expect("gg_moe_combine", d, gg_moe_combine(NULL, 1, NULL, NULL, NULL, 1, 1, 1, NULL, dt, NULL), message);
    expect("gg_moe_pad", d, gg_moe_pad(NULL, 1, NULL, 1, 1, 1, NULL, NULL, dt, NULL), message);
    expect("gg_moe_unpad", d, gg_moe_unpad(NULL, NULL, 1, 1, 1, NULL, 1, dt, NULL), message);
    expect("gg_moe_combine_backward", d,
           gg_moe_combine_backward(NULL, NULL, 1, NULL, NULL, 1, 1, 1, NULL, NULL, dt, NULL), message);
    expect("gg_moe_gather_rows_backward", d, gg_moe_gather_rows_backward(NULL, 1, NULL, 1, 1, 1, 0, NULL, dt, NULL),
           message);
    expect("gg_moe_activation_backward", d,
           gg_moe_activation_backward(NULL, NULL, NULL, 1, 1, 1, 1, act, NULL, NULL, dt, NULL), message);
    expect("gg_moe_gated_activation_backward", d,
           gg_moe_gated_activation_backward(NULL, NULL, NULL, 1, 1, 1, 1, act, NULL, NULL, dt, NULL), message);
    expect("gg_moe_bias_grad", d, gg_moe_bias_grad(NULL, NULL, 1, 1, 1, 1, 0, NULL, dt, NULL), message);
    expect("gg_moe_topk_softmax_backward", d,
           gg_moe_topk_softmax_backward(NULL, NULL, NULL, NULL, 1, 2, 1, 0, NULL, dt, NULL), message);
    expect("gg_moe_aux_loss", d, gg_moe_aux_loss(NULL, NULL, 1, 2, 1, 0.01f, NULL, NULL, 0, dt, NULL), message);
}

/* An invalid gg_activation with a valid dtype, at the four entry points that take one. */
static void activation_calls(int32_t a) {
    const gg_activation act = (gg_activation)a;
    const gg_dtype f32 = GG_DTYPE_FLOAT32;
    char message[64];
    snprintf(message, sizeof message, "activation = %d is not a gg_activation", a);
    expect("gg_moe_bias_activation", a, gg_moe_bias_activation(NULL, NULL, NULL, 1, 1, 1, 1, act, f32, NULL), message);
    expect("gg_moe_gated_activation", a, gg_moe_gated_activation(NULL, NULL, NULL, 1, 1, 1, 1, act, NULL, f32, NULL),
           message);
    expect("gg_moe_activation_backward", a,
           gg_moe_activation_backward(NULL, NULL, NULL, 1, 1, 1, 1, act, NULL, NULL, f32, NULL), message);
    expect("gg_moe_gated_activation_backward", a,
           gg_moe_gated_activation_backward(NULL, NULL, NULL, 1, 1, 1, 1, act, NULL, NULL, f32, NULL), message);
}

/* gg_convert, the FP8 quantize kernels and AdamW, each of their dtypes in turn (the others valid). */
static void conversion_calls(int32_t d) {
    const gg_dtype bad = (gg_dtype)d, f32 = GG_DTYPE_FLOAT32, e4m3 = GG_DTYPE_FLOAT8_E4M3;
    const float lr = 0.1f, beta1 = 0.9f, beta2 = 0.99f, eps = 1e-8f, bc1 = 0.1f, bc2 = 0.01f;
    float x = 0.0f;
    char want[64];
    snprintf(want, sizeof want, "unknown (%d)", d);
    expect("gg_convert src_dtype", d, gg_convert(NULL, bad, NULL, f32, 1, NULL), want);
    expect("gg_convert dst_dtype", d, gg_convert(NULL, f32, NULL, bad, 1, NULL), want);
    snprintf(want, sizeof want, "x_dtype = %d (unknown)", d);
    expect("gg_moe_quantize_fp8_rows x_dtype", d,
           gg_moe_quantize_fp8_rows(NULL, 1, NULL, 1, 1, 1, 0, bad, NULL, e4m3, NULL, 1, 0, NULL), want);
    snprintf(want, sizeof want, "w_dtype = %d (unknown)", d);
    expect("gg_moe_quantize_fp8_blocks w_dtype", d,
           gg_moe_quantize_fp8_blocks(NULL, 1, 1, 1, 128, bad, NULL, e4m3, NULL, 1, 0, NULL), want);
    snprintf(want, sizeof want, "q_dtype = %d (unknown)", d);
    expect("gg_moe_quantize_fp8_rows q_dtype", d,
           gg_moe_quantize_fp8_rows(NULL, 1, NULL, 1, 1, 1, 0, f32, NULL, bad, NULL, 1, 0, NULL), want);
    expect("gg_moe_quantize_fp8_blocks q_dtype", d,
           gg_moe_quantize_fp8_blocks(NULL, 1, 1, 1, 128, f32, NULL, bad, NULL, 1, 0, NULL), want);
    snprintf(want, sizeof want, "grad_dtype = unknown (%d)", d);
    expect("gg_adamw_step grad_dtype", d,
           gg_adamw_step(NULL, NULL, NULL, NULL, bad, NULL, f32, 1, lr, beta1, beta2, eps, 0.0f, bc1, bc2, NULL, NULL),
           want);
    snprintf(want, sizeof want, "copy_dtype = unknown (%d)", d);
    expect("gg_adamw_step copy_dtype", d,
           gg_adamw_step(NULL, NULL, NULL, NULL, f32, &x, bad, 1, lr, beta1, beta2, eps, 0.0f, bc1, bc2, NULL, NULL),
           want);
}

/* Called by enum_args_test.cpp with a handle that has no device behind it and two valid argument structs (only their
 * enums are ever read here, or nothing). Returns the number of failed checks. */
int enum_args_c_calls(gg_handle_t handle, const gg_gmm_args* gmm, const gg_scaled_gmm_args* scaled) {
    const int32_t values[] = {kNegative, kLarge};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; ++i) {
        const int32_t v = values[i];
        CHECK(strcmp(gg_status_string((gg_status)v), "unknown status") == 0, "gg_status_string(%d)", v);
        CHECK(gg_backend_name((gg_backend)v) == NULL, "gg_backend_name(%d)", v);
        char message[64];
        snprintf(message, sizeof message, "backend = %d: must be in [0, %d)", v, GG_BACKEND_COUNT);
        expect("gg_handle_set_backend", v, gg_handle_set_backend(handle, (gg_backend)v), message);
        expect("gg_gmm_backend_supported", v, gg_gmm_backend_supported(handle, gmm, (gg_backend)v), message);
        snprintf(message, sizeof message, "kernel = %d: must be GG_SCALED_KERNEL_AUTO (0)", v);
        expect("gg_gmm_scaled_supported", v, gg_gmm_scaled_supported(handle, scaled, (gg_scaled_kernel)v), message);
        snprintf(message, sizeof message, "dtype = unknown (%d) is not a float type", v);
        moe_calls(v, message);
        activation_calls(v);
        conversion_calls(v);
    }
    /* Every gg_scaled_kernel passes the range check of gg_gmm_scaled_supported as it does gg_gmm_scaled's (it refused
     * GG_SCALED_KERNEL_DECODE with "kernel = 3: must be in [0, 2]"). Whatever refuses the call later (no device behind
     * the handle), it is not the kernel's range. */
    const gg_scaled_kernel kernels[] = {GG_SCALED_KERNEL_AUTO, GG_SCALED_KERNEL_PORTABLE, GG_SCALED_KERNEL_CUTLASS_SM90,
                                        GG_SCALED_KERNEL_DECODE};
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; ++i) {
        const gg_status got = gg_gmm_scaled_supported(handle, scaled, kernels[i]);
        const char* text = gg_last_error_message();
        const int in_range = got == GG_STATUS_SUCCESS || strstr(text, "kernel = ") == NULL;
        CHECK(in_range, "gg_gmm_scaled_supported(kernel %d): status %d, \"%s\" (the kernel is in range)",
              (int)kernels[i], got, text);
        if (in_range) printf("ok   gg_gmm_scaled_supported(kernel %d) not refused for its range: %d, %s\n", (int)kernels[i], got, text);
    }
    return failures;
}
