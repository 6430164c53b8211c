/* Without cuBLAS: GG_CUBLAS_LIBRARY points at a file that does not exist, so the library cannot load cuBLAS.
 * Calls that need it (dense gg_gemm, the cublas-loop backend) must fail with GG_STATUS_CUBLAS_ERROR and a message
 * that names libcublas and how to install it; everything else (handles, memory, the CUTLASS backends through
 * Auto) must keep working. Needs a GPU: exit 77 (skipped) without one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "groupedgemm/groupedgemm.h"

static int failures = 0;
#include "check.h"

static int contains(const char* text, const char* part) { return text != NULL && strstr(text, part) != NULL; }

int main(void) {
    setenv("GG_CUBLAS_LIBRARY", "/nonexistent/libcublas.so", 1);
    int32_t count = 0;
    if (gg_device_count(&count) != GG_STATUS_SUCCESS || count == 0) {
        printf("no CUDA device: skipped\n");
        return 77;
    }
    gg_handle_t h = NULL;
    CHECK(gg_handle_create(&h, 0) == GG_STATUS_SUCCESS, "a handle needs no cuBLAS: %s", gg_last_error_message());
    if (h == NULL) return 1;

    enum { E = 3, M = 64, K = 64, N = 128 };
    const size_t a_bytes = (size_t)M * K * 2, b_bytes = (size_t)E * K * N * 2, c_bytes = (size_t)M * N * 2;
    void *a = NULL, *b = NULL, *c = NULL;
    CHECK(gg_malloc(&a, a_bytes) == 0 && gg_malloc(&b, b_bytes) == 0 && gg_malloc(&c, c_bytes) == 0, "%s",
          gg_last_error_message());
    CHECK(gg_memset(a, 0x3c, a_bytes, NULL) == 0 && gg_memset(b, 0x3c, b_bytes, NULL) == 0, "%s",
          gg_last_error_message());

    /* Dense GEMM goes through cuBLAS: a clear error, naming the library and the way to install it. */
    gg_gemm_args g;
    memset(&g, 0, sizeof g);
    g.a = a; g.b = b; g.c = c; g.m = M; g.n = N; g.k = K; g.batch_count = 1;
    g.stride_a = M * K; g.stride_b = K * N; g.stride_c = M * N; g.dtype = GG_DTYPE_BFLOAT16;
    const gg_status gs = gg_gemm(h, &g);
    printf("gg_gemm without cuBLAS: %s: %s\n", gg_status_string(gs), gg_last_error_message());
    CHECK(gs == GG_STATUS_CUBLAS_ERROR, "status %d", (int)gs);
    CHECK(contains(gg_last_error_message(), "libcublas.so"), "names the library: %s", gg_last_error_message());
    CHECK(contains(gg_last_error_message(), "GG_CUBLAS_LIBRARY") && contains(gg_last_error_message(), "Install"),
          "says how to install it: %s", gg_last_error_message());

    int64_t counts[E] = {20, 0, 44};
    gg_gmm_args args;
    memset(&args, 0, sizeof args);
    args.a = a; args.b = b; args.c = c; args.batch_sizes = counts;
    args.m = M; args.k = K; args.n = N; args.num_experts = E;
    args.dtype = GG_DTYPE_BFLOAT16; args.counts_location = GG_COUNTS_HOST;

    args.backend = GG_BACKEND_CUBLAS_LOOP;
    const gg_status ls = gg_gmm(h, &args);
    printf("cublas-loop without cuBLAS: %s: %s\n", gg_status_string(ls), gg_last_error_message());
    CHECK(ls == GG_STATUS_CUBLAS_ERROR, "status %d", (int)ls);
    CHECK(contains(gg_last_error_message(), "libcublas.so"), "names the library: %s", gg_last_error_message());

    /* Auto still runs the call on a CUTLASS backend, when one is compiled in. */
    gg_build_info info;
    CHECK(gg_get_build_info(&info) == GG_STATUS_SUCCESS, "%s", gg_last_error_message());
    const int cutlass = (info.compiled_backends & ((1 << GG_BACKEND_CUTLASS_SM80) | (1 << GG_BACKEND_CUTLASS_SM90))) != 0;
    args.backend = GG_BACKEND_AUTO;
    gg_backend chosen = GG_BACKEND_AUTO;
    const gg_status sel = gg_gmm_select_backend(h, &args, &chosen);
    const gg_status as = gg_gmm(h, &args);
    printf("Auto without cuBLAS: %s (%s) %s\n", gg_status_string(as), sel == 0 ? gg_backend_name(chosen) : "-",
           gg_last_error_message());
    if (cutlass) {
        CHECK(as == GG_STATUS_SUCCESS, "Auto must run on CUTLASS: %s", gg_last_error_message());
        CHECK(sel == GG_STATUS_SUCCESS && chosen != GG_BACKEND_CUBLAS_LOOP && chosen != GG_BACKEND_CUBLAS_GROUPED,
              "chosen %d", (int)chosen);
        CHECK(gg_stream_synchronize(NULL) == GG_STATUS_SUCCESS, "%s", gg_last_error_message());
    } else {
        CHECK(as == GG_STATUS_CUBLAS_ERROR || as == GG_STATUS_NOT_SUPPORTED, "status %d", (int)as);
    }
    /* The handle, and the context, still work after the failures. */
    CHECK(gg_memset(c, 0, c_bytes, NULL) == 0, "%s", gg_last_error_message());
    gg_free(a);
    gg_free(b);
    gg_free(c);
    CHECK(gg_handle_destroy(h) == GG_STATUS_SUCCESS, "%s", gg_last_error_message());
    if (failures == 0) printf("no-cuBLAS checks passed\n");
    return failures == 0 ? 0 : 1;
}
