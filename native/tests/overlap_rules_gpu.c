/* gg_overlap_rules: on a GPU, the legitimate calls next to each overlap and size rule of the entry points succeed,
           and
 * the refused ones are refused before any launch (docs/reliability.md, hazards 18-20). The host tests
 * (safety_checks_test.cpp, validate_test.cpp) check the refusals without a device,
           where no call can succeed; this one
 * checks that the rules do not refuse what the kernels take: in-place bias activation, an activation backward into
 * its own input, combine into its residual, gmm and scaled gmm with device counts. One device arena, operands at
 * fixed offsets. Needs a GPU: exit 77 (skipped) without one. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "groupedgemm/groupedgemm.h"

static int failures = 0;

static void ok(const char* what, gg_status s) {
    if (s != GG_STATUS_SUCCESS) {
        ++failures;
        printf("FAIL %s: status %d %s\n", what, s, gg_last_error_message());
    } else {
        printf("ok   %s\n", what);
    }
}

static void refused(const char* what, gg_status s, const char* text) {
    const char* m = gg_last_error_message();
    if (s != GG_STATUS_INVALID_ARGUMENT || strstr(m, text) == NULL) {
        ++failures;
        printf("FAIL %s: status %d \"%s\" (want INVALID_ARGUMENT, \"%s\")\n", what, s, m, text);
    } else {
        printf("ok   %s: %s\n", what, m);
    }
}

int main(void) {
    int32_t count = 0;
    if (gg_device_count(&count) != GG_STATUS_SUCCESS || count == 0) {
        printf("no GPU: skipped\n");
        return 77;
    }
    char* arena = NULL;
    ok("malloc", gg_malloc((void**)&arena, 1 << 24));
    ok("memset", gg_memset(arena, 0, 1 << 24, NULL));
#define AT(type, off) ((type*)(arena + (off)))
    const gg_dtype f32 = GG_DTYPE_FLOAT32;
    const gg_activation silu = GG_ACTIVATION_SILU;
    /* The MoE operands, f32: 4 tokens, 8 experts, top 2 (8 slots), 8 columns (4 for the gated output). */
    float* const logits = AT(float, 0);           /* [4, 8], also the tokens x the gather reads */
    float* const weights = AT(float, 0x1000);     /* [4, 2] */
    int32_t* const experts = AT(int32_t, 0x2000); /* [4, 2] */
    int64_t* const counts = AT(int64_t, 0x3000);  /* [8] */
    int32_t* const sorted_slots = AT(int32_t, 0x4000);
    int32_t* const slot_rows = AT(int32_t, 0x5000);
    float* const rows = AT(float, 0x7000);        /* [8, 8] sorted rows (x, gate_up [8, 2 * 4]) */
    float* const bias = AT(float, 0x8000);        /* [8, 8] */
    float* const dy = AT(float, 0x9000);          /* [8, 8] */
    float* const gated = AT(float, 0xa000);       /* [8, 4] */
    float* const padded = AT(float, 0xc000);      /* [8, 2, 8] */
    int64_t* const dropped = AT(int64_t, 0xd000);
    float* const tokens_out = AT(float, 0xe000);  /* [4, 8] */
    float* const d_rows = AT(float, 0xf000);      /* [8, 8] */
    float* const d_weights = AT(float, 0xf800);   /* [8] */
    void* const workspace = arena + 0x100000;

    float host_logits[32];
    for (int i = 0; i < 32; ++i) host_logits[i] = (float)((i * 7) % 11);
    ok("upload logits", gg_memcpy(logits, host_logits, sizeof host_logits, NULL));
    ok("topk_softmax", gg_moe_topk_softmax(logits, f32, 4, 8, 2, 1, weights, experts, NULL));
    refused("topk weights over logits", gg_moe_topk_softmax(logits, f32, 4, 8, 2, 1, logits + 16, experts, NULL),
            "overlaps logits");

    size_t ws = 0;
    ok("sort workspace size", gg_moe_sort_workspace_size(8, 8, &ws));
    ok("sort", gg_moe_sort_by_expert(experts, 8, 8, counts, sorted_slots, slot_rows, workspace, ws, NULL));
    refused("sort workspace over slot_rows",
            gg_moe_sort_by_expert(experts, 8, 8, counts, sorted_slots, slot_rows, slot_rows, ws, NULL), "workspace [");
    refused("sort counts over experts",
            gg_moe_sort_by_expert(experts, 8, 8, (int64_t*)(experts + 2), sorted_slots, slot_rows, workspace, ws,
                                  NULL),
            "counts [");
    int64_t host_counts[8];
    ok("download counts", gg_memcpy(host_counts, counts, sizeof host_counts, NULL));
    int64_t sum = 0;
    for (int e = 0; e < 8; ++e) sum += host_counts[e];
    if (sum != 8) {
        ++failures;
        printf("FAIL counts sum to %lld, not 8\n", (long long)sum);
    }

    ok("gather", gg_moe_gather_rows(logits, 4, sorted_slots, 2, 8, 8, rows, f32, NULL));
    refused("gather dst over index",
            gg_moe_gather_rows(logits, 4, sorted_slots, 2, 8, 8, (float*)sorted_slots, f32, NULL), "overlaps index");
    ok("bias_activation in place", gg_moe_bias_activation(rows, bias, counts, 0, 8, 8, 8, silu, f32, NULL));
    refused("bias_activation x over bias",
            gg_moe_bias_activation(rows, rows + 32, counts, 0, 8, 8, 8, silu, f32, NULL), "overlaps bias");
    ok("activation_backward dx = x",
       gg_moe_activation_backward(rows, bias, counts, 0, 8, 8, 8, GG_ACTIVATION_GELU, dy, rows, f32, NULL));
    ok("gated_activation", gg_moe_gated_activation(rows, NULL, counts, 0, 8, 4, 8, silu, gated, f32, NULL));
    refused("gated out is gate_up", gg_moe_gated_activation(rows, NULL, counts, 0, 8, 4, 8, silu, rows, f32, NULL),
            "overlaps gate_up");
    ok("gated_activation_backward in place",
       gg_moe_gated_activation_backward(rows, NULL, counts, 0, 8, 4, 8, silu, gated, rows, f32, NULL));
    ok("bias_grad", gg_moe_bias_grad(rows, counts, 0, 8, 8, 8, 0, AT(float, 0xb000), f32, NULL));
    ok("pad", gg_moe_pad(rows, 8, counts, 8, 2, 8, padded, dropped, f32, NULL));
    refused("pad padded over sorted", gg_moe_pad(rows, 8, counts, 8, 2, 8, rows + 32, NULL, f32, NULL),
            "overlaps sorted");
    ok("unpad", gg_moe_unpad(padded, counts, 8, 2, 8, rows, 8, f32, NULL));
    refused("unpad sorted over padded", gg_moe_unpad(padded, counts, 8, 2, 8, padded + 16, 8, f32, NULL),
            "overlaps padded");
    ok("max_count", gg_moe_max_count(counts, 8, dropped + 1, NULL));
    ok("combine out = residual",
       gg_moe_combine(rows, 8, slot_rows, weights, tokens_out, 4, 2, 8, tokens_out, f32, NULL));
    ok("combine_backward",
       gg_moe_combine_backward(tokens_out, rows, 8, slot_rows, weights, 4, 2, 8, d_rows, d_weights, f32, NULL));
    ok("gather_rows_backward",
       gg_moe_gather_rows_backward(d_rows, 8, slot_rows, 4, 2, 8, 0, AT(float, 0x10000), f32, NULL));
    ok("sync after MoE", gg_stream_synchronize(NULL));

    /* Grouped GEMM with device counts, bf16 (no backend takes float32 with device counts: cuBLAS needs host counts,
       the CUTLASS kernels take bf16 and fp16): a[8, 16], b[2, 16, 8], c[8, 8], counts {3, 5}. */
    gg_handle_t h = NULL;
    ok("handle", gg_handle_create(&h, 0));
    const int64_t gmm_counts[2] = {3, 5};
    int64_t* const batch_sizes = AT(int64_t, 0x20000);
    ok("upload gmm counts", gg_memcpy(batch_sizes, gmm_counts, sizeof gmm_counts, NULL));
    gg_gmm_args g;
    memset(&g, 0, sizeof g);
    g.a = AT(float, 0x21000);
    g.b = AT(float, 0x22000);
    g.c = AT(float, 0x24000);
    g.batch_sizes = batch_sizes;
    g.m = 8;
    g.k = 16;
    g.n = 8;
    g.num_experts = 2;
    g.dtype = GG_DTYPE_BFLOAT16;
    g.counts_location = GG_COUNTS_DEVICE;
    ok("gmm device counts", gg_gmm(h, &g));
    g.c = (char*)batch_sizes - 64;
    refused("gmm c over device counts", gg_gmm(h, &g), "overlaps batch_sizes");
    g.c = AT(float, 0x24000);
    g.num_experts = (int64_t)1 << 31;
    g.m = 0;
    refused("gmm 2^31 experts", gg_gmm(h, &g), "num_experts = 2147483648");

    /* Scaled, FP8 row-wise on the portable kernel: a[8, 16], b[2, 16, 8], c[8, 8] bf16, the same counts. */
    gg_scaled_gmm_args s;
    memset(&s, 0, sizeof s);
    s.a = arena + 0x30000;
    s.b = arena + 0x31000;
    s.c = arena + 0x32000;
    s.a_scale = AT(float, 0x33000);
    s.b_scale = AT(float, 0x34000);
    s.batch_sizes = batch_sizes;
    s.m = 8;
    s.k = 16;
    s.n = 8;
    s.num_experts = 2;
    s.a_scale_count = 8;
    s.b_scale_count = 16;
    s.a_dtype = GG_DTYPE_FLOAT8_E4M3;
    s.b_dtype = GG_DTYPE_FLOAT8_E4M3;
    s.c_dtype = GG_DTYPE_BFLOAT16;
    s.counts_location = GG_COUNTS_DEVICE;
    s.kernel = GG_SCALED_KERNEL_PORTABLE;
    ok("scaled device counts", gg_gmm_scaled(h, &s));
    s.c = (char*)batch_sizes - 64;
    refused("scaled c over device counts", gg_gmm_scaled(h, &s), "overlaps batch_sizes");
    ok("sync after gmm", gg_stream_synchronize(NULL));
    ok("handle destroy", gg_handle_destroy(h));
    ok("free", gg_free(arena));
    printf(failures ? "%d FAILED\n" : "overlap rules: all passed\n", failures);
    return failures != 0;
}
