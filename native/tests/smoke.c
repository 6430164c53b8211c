/* Smoke test of libgroupedgemm.so through its C ABI only.
 *
 * Everywhere: status strings, versions, build information, argument errors that need no device, and a
 * clean NO_DRIVER / NO_DEVICE answer when there is no GPU. On a GPU host it also runs small float32
 * grouped GEMMs (forward, trans_b, trans_a, host counts) on every backend that accepts them and compares
 * them with a float64 reference.
 *
 * Exit status 0 when every check passed. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "groupedgemm/groupedgemm.h"

static int failures = 0;

#include "check.h"

static int contains(const char* text, const char* part) { return text != NULL && strstr(text, part) != NULL; }

static void check_info(void) {
    CHECK(gg_abi_version() == GG_ABI_VERSION, "abi %d", gg_abi_version());
    char expected[32];  // the header's version, the one place it is written (CMake's project version is checked against it)
    snprintf(expected, sizeof expected, "%d.%d.%d", GG_VERSION_MAJOR, GG_VERSION_MINOR, GG_VERSION_PATCH);
    CHECK(strcmp(gg_version_string(), expected) == 0, "version %s, header %s", gg_version_string(), expected);
    for (int s = GG_STATUS_SUCCESS; s <= GG_STATUS_INTERNAL_ERROR; ++s) {
        const char* text = gg_status_string((gg_status)s);
        CHECK(text != NULL && strcmp(text, "unknown status") != 0, "status %d has no text", s);
    }
    CHECK(strcmp(gg_status_string((gg_status)99), "unknown status") == 0, "status 99: %s", gg_status_string((gg_status)99));
    for (int b = 0; b < GG_BACKEND_COUNT; ++b) CHECK(gg_backend_name((gg_backend)b) != NULL, "backend %d has no name", b);
    CHECK(gg_backend_name((gg_backend)GG_BACKEND_COUNT) == NULL, "backend %d should have no name", GG_BACKEND_COUNT);
    CHECK(strcmp(gg_backend_name(GG_BACKEND_CUBLAS_LOOP), "cublas-loop") == 0, "%s", gg_backend_name(GG_BACKEND_CUBLAS_LOOP));

    gg_build_info info;
    memset(&info, 0xff, sizeof info);
    CHECK(gg_get_build_info(&info) == GG_STATUS_SUCCESS, "%s", gg_last_error_message());
    CHECK(info.abi_version == GG_ABI_VERSION, "abi %d", info.abi_version);
    CHECK(info.cuda_toolkit_version >= 11000, "toolkit %d", info.cuda_toolkit_version);
    CHECK(info.cublas_version >= 110000, "cublas %d", info.cublas_version);
    CHECK((info.compiled_backends & 3) == 3, "auto and cublas-loop must be compiled: mask %d", info.compiled_backends);
    CHECK(info.architecture_count >= 1, "architectures %d", info.architecture_count);
    CHECK(info.reserved == 0, "reserved %d", info.reserved);
    printf("build: ABI %d, CUDA %d, cuBLAS %d, backends mask 0x%x, architectures:", info.abi_version,
           info.cuda_toolkit_version, info.cublas_version, (unsigned)info.compiled_backends);
    for (int i = 0; i < info.architecture_count; ++i) {
        const char* arch = gg_build_architecture(i);
        CHECK(arch != NULL && arch[0] >= '1' && arch[0] <= '9', "architecture %d: %s", i, arch ? arch : "(null)");
        printf(" %s", arch ? arch : "(null)");
    }
    printf("\n");
    CHECK(gg_build_architecture(info.architecture_count) == NULL, "one past the last architecture");
    CHECK(gg_build_architecture(-1) == NULL, "architecture -1");

    CHECK(gg_get_build_info(NULL) == GG_STATUS_INVALID_ARGUMENT, "NULL info");
    CHECK(contains(gg_last_error_message(), "info is NULL"), "message: %s", gg_last_error_message());
    /* gg_status_string and friends leave the last error alone. */
    (void)gg_status_string(GG_STATUS_INVALID_ARGUMENT);
    CHECK(contains(gg_last_error_message(), "info is NULL"), "message cleared by gg_status_string: %s", gg_last_error_message());
    CHECK(gg_get_build_info(&info) == GG_STATUS_SUCCESS, "%s", gg_last_error_message());
    CHECK(gg_last_error_message()[0] == '\0', "a successful call clears the message: %s", gg_last_error_message());
}

static void check_argument_errors(void) {
    gg_gmm_args args;
    memset(&args, 0, sizeof args);
    CHECK(gg_gmm(NULL, &args) == GG_STATUS_INVALID_ARGUMENT, "gmm with NULL handle");
    CHECK(contains(gg_last_error_message(), "handle is NULL"), "message: %s", gg_last_error_message());
    CHECK(gg_gmm_backend_supported(NULL, &args, GG_BACKEND_AUTO) == GG_STATUS_INVALID_ARGUMENT, "supported NULL handle");
    gg_backend chosen;
    CHECK(gg_gmm_select_backend(NULL, &args, &chosen) == GG_STATUS_INVALID_ARGUMENT, "select NULL handle");
    gg_gemm_args gemm;
    memset(&gemm, 0, sizeof gemm);
    CHECK(gg_gemm(NULL, &gemm) == GG_STATUS_INVALID_ARGUMENT, "gemm NULL handle");
    CHECK(gg_handle_set_backend(NULL, GG_BACKEND_AUTO) == GG_STATUS_INVALID_ARGUMENT, "set_backend NULL");
    CHECK(gg_handle_reserve(NULL, 10) == GG_STATUS_INVALID_ARGUMENT, "reserve NULL");
    CHECK(gg_handle_destroy(NULL) == GG_STATUS_SUCCESS, "destroy NULL is allowed");
    CHECK(gg_handle_create(NULL, 0) == GG_STATUS_INVALID_ARGUMENT, "create with NULL out");
    CHECK(contains(gg_last_error_message(), "handle is NULL"), "message: %s", gg_last_error_message());
    CHECK(gg_malloc(NULL, 16) == GG_STATUS_INVALID_ARGUMENT, "malloc NULL out");
    void* p = (void*)1;
    CHECK(gg_malloc(&p, 0) == GG_STATUS_SUCCESS && p == NULL, "zero-byte malloc gives NULL");
    CHECK(gg_free(NULL) == GG_STATUS_SUCCESS, "free NULL");
    CHECK(gg_free_host(NULL) == GG_STATUS_SUCCESS, "free_host NULL");
    CHECK(gg_memcpy(NULL, NULL, 0, NULL) == GG_STATUS_SUCCESS, "empty memcpy");
    CHECK(gg_memcpy(NULL, &p, 8, NULL) == GG_STATUS_INVALID_ARGUMENT, "memcpy to NULL");
    CHECK(gg_stream_destroy(NULL) == GG_STATUS_INVALID_ARGUMENT, "destroy legacy stream");
    CHECK(gg_stream_begin_capture(NULL) == GG_STATUS_INVALID_ARGUMENT, "capture legacy stream");
    CHECK(contains(gg_last_error_message(), "legacy default stream"), "message: %s", gg_last_error_message());
    CHECK(gg_device_count(NULL) == GG_STATUS_INVALID_ARGUMENT, "device_count NULL");
    char name[8];
    CHECK(gg_device_get_name(0, name, 0) == GG_STATUS_INVALID_ARGUMENT, "name capacity 0");
}

/* The MoE backward entry points reject bad sizes, types and missing pointers before touching the device, and calls
 * with nothing to compute succeed without one. The fake pointers are never dereferenced. */
static void check_moe_backward_argument_errors(void) {
    float* fake = (float*)(uintptr_t)0x10000;
    CHECK(gg_moe_combine_backward(NULL, NULL, 8, NULL, NULL, 4, 2, 8, NULL, fake, GG_DTYPE_INT32, NULL) ==
              GG_STATUS_INVALID_ARGUMENT, "combine backward int32");
    CHECK(contains(gg_last_error_message(), "gg_moe_combine_backward: dtype = int32"), "message: %s", gg_last_error_message());
    CHECK(gg_moe_combine_backward(NULL, NULL, 8, NULL, NULL, 4, 2, 8, NULL, NULL, GG_DTYPE_BFLOAT16, NULL) == GG_STATUS_SUCCESS,
          "combine backward with no output: %s", gg_last_error_message());
    CHECK(gg_moe_combine_backward(NULL, fake, 8, NULL, NULL, 4, 2, 8, NULL, fake, GG_DTYPE_BFLOAT16, NULL) ==
              GG_STATUS_INVALID_ARGUMENT, "combine backward without dy");
    CHECK(contains(gg_last_error_message(), "must not be NULL"), "message: %s", gg_last_error_message());
    CHECK(gg_moe_combine_backward(fake, fake, 8, NULL, NULL, (int64_t)1 << 30, 4, 8, fake, fake, GG_DTYPE_FLOAT16, NULL) ==
              GG_STATUS_INVALID_ARGUMENT, "combine backward past the int32 slot range");
    CHECK(contains(gg_last_error_message(), "exceeds the int32 slot range"), "message: %s", gg_last_error_message());

    CHECK(gg_moe_gather_rows_backward(fake, 8, NULL, 4, 0, 8, 0, fake, GG_DTYPE_FLOAT32, NULL) == GG_STATUS_INVALID_ARGUMENT,
          "gather backward top_k 0");
    CHECK(contains(gg_last_error_message(), "gg_moe_gather_rows_backward: top_k = 0 must be >= 1"), "message: %s",
          gg_last_error_message());
    CHECK(gg_moe_gather_rows_backward(NULL, 0, NULL, 0, 2, 8, 0, NULL, GG_DTYPE_FLOAT32, NULL) == GG_STATUS_SUCCESS,
          "gather backward of no token: %s", gg_last_error_message());

    CHECK(gg_moe_activation_backward(fake, NULL, NULL, 4, 8, 16, 2, (gg_activation)7, fake, fake, GG_DTYPE_BFLOAT16, NULL) ==
              GG_STATUS_INVALID_ARGUMENT, "activation backward activation 7");
    CHECK(contains(gg_last_error_message(), "activation = 7 is not a gg_activation"), "message: %s", gg_last_error_message());
    CHECK(gg_moe_gated_activation_backward(fake, NULL, NULL, 0, 4, 8, 2, GG_ACTIVATION_SILU, fake, fake, GG_DTYPE_BFLOAT16,
                                           NULL) == GG_STATUS_INVALID_ARGUMENT, "gated backward rows_per_expert 0");
    CHECK(contains(gg_last_error_message(), "rows_per_expert = 0 must be >= 1 when counts is NULL"), "message: %s",
          gg_last_error_message());

    CHECK(gg_moe_bias_grad(fake, NULL, 4, 9, 8, 2, 0, fake, GG_DTYPE_BFLOAT16, NULL) == GG_STATUS_INVALID_ARGUMENT,
          "bias grad rows past the experts");
    CHECK(contains(gg_last_error_message(), "rows = 9 exceed num_experts = 2 times rows_per_expert = 4"), "message: %s",
          gg_last_error_message());
    CHECK(gg_moe_bias_grad(NULL, NULL, 4, 0, 8, 2, 0, NULL, GG_DTYPE_BFLOAT16, NULL) == GG_STATUS_INVALID_ARGUMENT,
          "bias grad without d_bias");

    CHECK(gg_moe_topk_softmax_backward(NULL, fake, (const int32_t*)fake, fake, 4, 8, 9, 1, fake, GG_DTYPE_BFLOAT16, NULL) ==
              GG_STATUS_INVALID_ARGUMENT, "top-k backward top_k 9 of 8");
    CHECK(contains(gg_last_error_message(), "top_k = 9 must be in [1, num_experts = 8]"), "message: %s", gg_last_error_message());
    CHECK(gg_moe_topk_softmax_backward(NULL, fake, (const int32_t*)fake, fake, 4, 8, 2, 0, fake, GG_DTYPE_BFLOAT16, NULL) ==
              GG_STATUS_INVALID_ARGUMENT, "top-k backward without logits and without renormalisation");
    CHECK(contains(gg_last_error_message(), "when renormalize = 0"), "message: %s", gg_last_error_message());

    CHECK(gg_moe_aux_loss(NULL, NULL, 4, 8, 2, 0.01f, NULL, NULL, 0, GG_DTYPE_BFLOAT16, NULL) == GG_STATUS_SUCCESS,
          "aux loss with no output: %s", gg_last_error_message());
    CHECK(gg_moe_aux_loss(NULL, NULL, 4, 8, 2, 0.01f, fake, NULL, 0, GG_DTYPE_BFLOAT16, NULL) == GG_STATUS_INVALID_ARGUMENT,
          "aux loss without logits");
    CHECK(contains(gg_last_error_message(), "gg_moe_aux_loss: logits"), "message: %s", gg_last_error_message());

    /* gg_adamw_step: scalars and element types are checked before any pointer; n = 0 is a no-op. */
    CHECK(gg_adamw_step(NULL, NULL, NULL, NULL, GG_DTYPE_BFLOAT16, NULL, GG_DTYPE_BFLOAT16, 0, 1e-3f, 0.9f, 0.999f, 1e-8f,
                        0.01f, 0.1f, 0.001f, NULL, NULL) == GG_STATUS_SUCCESS,
          "adamw of no element: %s", gg_last_error_message());
    CHECK(gg_adamw_step(NULL, NULL, NULL, NULL, GG_DTYPE_FLOAT32, NULL, GG_DTYPE_FLOAT32, 4, 1e-3f, 1.0f, 0.999f, 1e-8f,
                        0.01f, 0.1f, 0.001f, NULL, NULL) == GG_STATUS_INVALID_ARGUMENT, "adamw beta1 1");
    CHECK(contains(gg_last_error_message(), "gg_adamw_step: beta1 = 1 and beta2 = 0.999 must be in [0, 1)"), "message: %s",
          gg_last_error_message());
    CHECK(gg_adamw_step(NULL, NULL, NULL, NULL, GG_DTYPE_FLOAT32, NULL, GG_DTYPE_FLOAT32, 4, 1e-3f, 0.9f, 0.999f, 1e-8f,
                        0.01f, 0.0f, 0.001f, NULL, NULL) == GG_STATUS_INVALID_ARGUMENT, "adamw bias correction 0");
    CHECK(contains(gg_last_error_message(), "bias_correction1 = 0"), "message: %s", gg_last_error_message());
    CHECK(gg_adamw_step(NULL, NULL, NULL, NULL, GG_DTYPE_INT32, NULL, GG_DTYPE_FLOAT32, 4, 1e-3f, 0.9f, 0.999f, 1e-8f,
                        0.01f, 0.1f, 0.001f, NULL, NULL) == GG_STATUS_INVALID_ARGUMENT, "adamw int32 gradient");
    CHECK(contains(gg_last_error_message(), "gg_adamw_step: grad_dtype = int32"), "message: %s", gg_last_error_message());
    CHECK(gg_adamw_step(NULL, NULL, NULL, NULL, GG_DTYPE_FLOAT32, NULL, GG_DTYPE_FLOAT32, 4, 1e-3f, 0.9f, 0.999f, 1e-8f,
                        0.01f, 0.1f, 0.001f, NULL, NULL) == GG_STATUS_INVALID_ARGUMENT, "adamw without buffers");
    CHECK(contains(gg_last_error_message(), "must not be NULL"), "message: %s", gg_last_error_message());
}

/* ---- GPU part ---------------------------------------------------------------------------------- */

static double rand_unit(void) { return (double)rand() / RAND_MAX * 2.0 - 1.0; }

/* float64 reference of one gmm form over host float arrays. */
static void reference(const float* a, const float* b, const int64_t* counts, int64_t e_count, int64_t m, int64_t k,
                      int64_t n, int trans_a, int trans_b, double* c) {
    (void)m; /* the counts say which rows exist */
    int64_t row = 0;
    for (int64_t e = 0; e < e_count; ++e) {
        for (int64_t r = row; r < row + counts[e]; ++r) {
            if (trans_a) continue;
            for (int64_t j = 0; j < n; ++j) {
                double s = 0;
                for (int64_t x = 0; x < k; ++x)
                    s += (double)a[r * k + x] * (trans_b ? b[(e * n + j) * k + x] : b[(e * k + x) * n + j]);
                c[r * n + j] = s;
            }
        }
        if (trans_a) {
            for (int64_t x = 0; x < k; ++x)
                for (int64_t j = 0; j < n; ++j) {
                    double s = 0;
                    for (int64_t r = row; r < row + counts[e]; ++r) s += (double)a[r * k + x] * b[r * n + j];
                    c[(e * k + x) * n + j] = s;
                }
        }
        row += counts[e];
    }
}

static void run_gpu_checks(void) {
    gg_handle_t h = NULL;
    if (gg_handle_create(&h, 0) != GG_STATUS_SUCCESS) {
        CHECK(0, "handle on device 0: %s", gg_last_error_message());
        return;
    }
    srand((unsigned)time(NULL));
    enum { E = 5, K = 24, N = 40 };
    int64_t counts[E] = {7, 0, 13, 1, 11}; /* an empty expert on purpose */
    const int64_t m = 32;
    const size_t a_n = (size_t)m * K, b_fwd = (size_t)E * K * N, b_ta = (size_t)m * N, c_max = (size_t)E * K * N;
    float* ha = malloc(a_n * sizeof(float));
    float* hb = malloc(b_fwd * sizeof(float));
    float* hc = malloc(c_max * sizeof(float));
    double* ref = malloc(c_max * sizeof(double));
    void *da = NULL, *db = NULL, *dc = NULL;
    CHECK(gg_malloc(&da, a_n * 4) == 0 && gg_malloc(&db, b_fwd * 4) == 0 && gg_malloc(&dc, c_max * 4) == 0, "%s",
          gg_last_error_message());
    for (size_t i = 0; i < a_n; ++i) ha[i] = (float)rand_unit();
    for (size_t i = 0; i < b_fwd; ++i) hb[i] = (float)rand_unit();
    CHECK(gg_memcpy(da, ha, a_n * 4, NULL) == 0 && gg_memcpy(db, hb, b_fwd * 4, NULL) == 0, "%s", gg_last_error_message());

    const int forms[3][2] = {{0, 0}, {0, 1}, {1, 0}};
    for (int backend = 0; backend < GG_BACKEND_COUNT; ++backend) {
        for (int f = 0; f < 3; ++f) {
            gg_gmm_args args;
            memset(&args, 0, sizeof args);
            args.a = da; args.b = db; args.c = dc; args.batch_sizes = counts;
            args.m = m; args.k = K; args.n = N; args.num_experts = E;
            args.dtype = GG_DTYPE_FLOAT32; args.counts_location = GG_COUNTS_HOST;
            args.trans_a = forms[f][0]; args.trans_b = forms[f][1]; args.backend = (gg_backend)backend;
            gg_status s = gg_gmm_backend_supported(h, &args, (gg_backend)backend);
            if (s != GG_STATUS_SUCCESS) {
                printf("  %s form %d: skipped (%s: %s)\n", gg_backend_name((gg_backend)backend), f, gg_status_string(s),
                       gg_last_error_message());
                continue;
            }
            const size_t c_n = forms[f][0] ? c_max : (size_t)m * N;
            CHECK(gg_memset(dc, 0xff, c_max * 4, NULL) == 0, "poison"); /* NaN everywhere */
            s = gg_gmm(h, &args);
            CHECK(s == GG_STATUS_SUCCESS, "%s form %d: %s", gg_backend_name((gg_backend)backend), f, gg_last_error_message());
            CHECK(gg_memcpy(hc, dc, c_n * 4, NULL) == 0, "%s", gg_last_error_message());
            reference(ha, hb, counts, E, m, K, N, forms[f][0], forms[f][1], ref);
            double num = 0, den = 0;
            for (size_t i = 0; i < c_n; ++i) {
                num += (hc[i] - ref[i]) * (hc[i] - ref[i]);
                den += ref[i] * ref[i];
            }
            const double rel = sqrt(num / den);
            CHECK(rel < 1e-5, "%s form %d: relative error %g", gg_backend_name((gg_backend)backend), f, rel);
            printf("  %s form %d: relative error %.3g\n", gg_backend_name((gg_backend)backend), f, rel);
        }
    }

    /* Device counts: only where a backend takes them (CUTLASS builds). */
    {
        int64_t* dcounts = NULL;
        CHECK(gg_malloc((void**)&dcounts, sizeof counts) == 0, "%s", gg_last_error_message());
        CHECK(gg_memcpy(dcounts, counts, sizeof counts, NULL) == 0, "%s", gg_last_error_message());
        gg_gmm_args args;
        memset(&args, 0, sizeof args);
        args.a = da; args.b = db; args.c = dc; args.batch_sizes = dcounts;
        args.m = m; args.k = K; args.n = N; args.num_experts = E;
        args.dtype = GG_DTYPE_FLOAT32; args.counts_location = GG_COUNTS_DEVICE; args.check_counts = 1;
        gg_backend chosen = GG_BACKEND_AUTO;
        const gg_status sel = gg_gmm_select_backend(h, &args, &chosen);
        printf("  device counts, float32: %s %s\n", gg_status_string(sel), sel == 0 ? gg_backend_name(chosen) : gg_last_error_message());
        args.dtype = GG_DTYPE_BFLOAT16; /* CUTLASS kernels are 16-bit; the check runs before any product */
        if (gg_gmm_select_backend(h, &args, &chosen) == GG_STATUS_SUCCESS) {
            int64_t bad[E] = {7, 0, 13, 1, 10};
            CHECK(gg_memcpy(dcounts, bad, sizeof bad, NULL) == 0, "%s", gg_last_error_message());
            CHECK(gg_gmm(h, &args) == GG_STATUS_INVALID_COUNTS, "short device counts");
            CHECK(contains(gg_last_error_message(), "device batch_sizes sum to 31 but m = 32"), "message: %s", gg_last_error_message());
            bad[1] = -1;
            CHECK(gg_memcpy(dcounts, bad, sizeof bad, NULL) == 0, "%s", gg_last_error_message());
            CHECK(gg_gmm(h, &args) == GG_STATUS_INVALID_COUNTS, "negative device count");
            CHECK(contains(gg_last_error_message(), "device batch_sizes[1] = -1 is negative"), "message: %s", gg_last_error_message());
        } else {
            printf("  device counts, bfloat16: %s\n", gg_last_error_message());
        }
        gg_free(dcounts);
    }

    /* Dense strided-batched GEMM, every transpose form: c_i[m,n] = op(a_i) . op(b_i). */
    for (int form = 0; form < 4; ++form) {
        const int ta = form & 1, tb = (form >> 1) & 1;
        enum { GM = 5, GN = 7, GK = 3, GB = 2 };
        gg_gemm_args g;
        memset(&g, 0, sizeof g);
        g.a = da; g.b = db; g.c = dc; g.m = GM; g.n = GN; g.k = GK; g.batch_count = GB;
        g.stride_a = GM * GK; g.stride_b = GK * GN + 1; g.stride_c = GM * GN + 2;
        g.dtype = GG_DTYPE_FLOAT32; g.trans_a = ta; g.trans_b = tb;
        CHECK(gg_memset(dc, 0xff, c_max * 4, NULL) == 0, "poison");
        CHECK(gg_gemm(h, &g) == GG_STATUS_SUCCESS, "gemm form %d: %s", form, gg_last_error_message());
        CHECK(gg_memcpy(hc, dc, (size_t)(GB * g.stride_c) * 4, NULL) == 0, "%s", gg_last_error_message());
        double worst = 0;
        for (int bi = 0; bi < GB; ++bi)
            for (int i = 0; i < GM; ++i)
                for (int j = 0; j < GN; ++j) {
                    double s = 0;
                    for (int x = 0; x < GK; ++x) {
                        const double av = ha[bi * g.stride_a + (ta ? x * GM + i : i * GK + x)];
                        const double bv = hb[bi * g.stride_b + (tb ? j * GK + x : x * GN + j)];
                        s += av * bv;
                    }
                    const double d = fabs(hc[bi * g.stride_c + i * GN + j] - s);
                    if (!(d <= worst)) worst = d; /* NaN-safe */
                }
        CHECK(worst < 1e-5, "gemm form %d: max error %g", form, worst);
    }

    /* Validation with a real handle. */
    gg_gmm_args bad;
    memset(&bad, 0, sizeof bad);
    bad.a = da; bad.b = db; bad.c = dc; bad.batch_sizes = counts;
    bad.m = m + 1; bad.k = K; bad.n = N; bad.num_experts = E; bad.dtype = GG_DTYPE_FLOAT32;
    CHECK(gg_gmm(h, &bad) == GG_STATUS_INVALID_ARGUMENT, "sum mismatch");
    CHECK(contains(gg_last_error_message(), "batch_sizes sum to 32 but m = 33"), "message: %s", gg_last_error_message());
    bad.m = m;
    bad.a = ha;
    CHECK(gg_gmm(h, &bad) == GG_STATUS_INVALID_ARGUMENT, "host a");
    CHECK(contains(gg_last_error_message(), "is host memory"), "message: %s", gg_last_error_message());
    bad.a = da;
    bad.c = (char*)da + 16;
    CHECK(gg_gmm(h, &bad) == GG_STATUS_INVALID_ARGUMENT, "overlap");
    CHECK(contains(gg_last_error_message(), "overlaps a"), "message: %s", gg_last_error_message());
    bad.c = dc;
    bad.counts_location = GG_COUNTS_DEVICE;
    CHECK(gg_gmm(h, &bad) == GG_STATUS_INVALID_ARGUMENT, "host counts as device");
    CHECK(contains(gg_last_error_message(), "host memory but counts_location = GG_COUNTS_DEVICE"), "message: %s",
          gg_last_error_message());

    CHECK(gg_device_synchronize() == GG_STATUS_SUCCESS, "%s", gg_last_error_message());
    gg_free(da); gg_free(db); gg_free(dc);
    free(ha); free(hb); free(hc); free(ref);
    CHECK(gg_handle_destroy(h) == GG_STATUS_SUCCESS, "%s", gg_last_error_message());
    (void)b_ta;
}

int main(void) {
    check_info();
    check_argument_errors();
    check_moe_backward_argument_errors();

    int32_t count = -1;
    const gg_status s = gg_device_count(&count);
    printf("gg_device_count: %s (%d), count %d, message \"%s\"\n", gg_status_string(s), (int)s, count,
           gg_last_error_message());
    CHECK(s == GG_STATUS_SUCCESS || s == GG_STATUS_NO_DRIVER, "status %d", (int)s);
    const char* expect_no_driver = getenv("GG_SMOKE_EXPECT_NO_DRIVER");
    if (expect_no_driver != NULL && strcmp(expect_no_driver, "1") == 0) {
        CHECK(s == GG_STATUS_NO_DRIVER, "expected GG_STATUS_NO_DRIVER, got %d", (int)s);
    }
    if (s == GG_STATUS_NO_DRIVER) {
        CHECK(count == 0, "count %d with no driver", count);
        CHECK(contains(gg_last_error_message(), "driver"), "message should say what to install: %s", gg_last_error_message());
    }
    int32_t driver = -1;
    const gg_status ds = gg_driver_version(&driver);
    printf("gg_driver_version: %s, version %d, message \"%s\"\n", gg_status_string(ds), driver, gg_last_error_message());
    CHECK(ds == GG_STATUS_SUCCESS || ds == GG_STATUS_NO_DRIVER, "status %d", (int)ds);

    if (s != GG_STATUS_SUCCESS || count == 0) {
        gg_handle_t h = (gg_handle_t)1;
        const gg_status hs = gg_handle_create(&h, 0);
        printf("gg_handle_create without a device: %s (%d), message \"%s\"\n", gg_status_string(hs), (int)hs,
               gg_last_error_message());
        CHECK(hs == GG_STATUS_NO_DRIVER || hs == GG_STATUS_NO_DEVICE, "status %d", (int)hs);
        CHECK(h == NULL, "handle must be NULL after a failed create");
        CHECK(gg_last_error_message()[0] != '\0', "a failed create has a message");
        int32_t props_count = 0;
        (void)props_count;
        gg_device_properties props;
        const gg_status ps = gg_device_get_properties(0, &props);
        CHECK(ps == GG_STATUS_NO_DRIVER || ps == GG_STATUS_NO_DEVICE, "properties status %d", (int)ps);
        void* ptr = NULL;
        const gg_status ms = gg_malloc(&ptr, 1024);
        printf("gg_malloc without a device: %s (%d), message \"%s\"\n", gg_status_string(ms), (int)ms, gg_last_error_message());
        CHECK(ms != GG_STATUS_SUCCESS && ptr == NULL, "malloc without a device");
    } else {
        char name[256];
        CHECK(gg_device_get_name(0, name, sizeof name) == GG_STATUS_SUCCESS, "%s", gg_last_error_message());
        printf("device 0: %s\n", name);
        run_gpu_checks();
    }

    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("smoke: all checks passed\n");
    return 0;
}
