// Issue 23 ("memory safety under misuse"), the checks that need no GPU: misaligned pointers, host or foreign
// memory given to the MoE kernels, outputs overlapping inputs, gg_handle_reserve's bound, pad/unpad and
// gather/combine sizes, and gg_gmm reading host counts once; and, at the MoE entry points themselves, sizes whose products
// overflow and outputs over inputs, both refused before any CUDA call. Pointer locations come from a fake query as in
// validate_test.cpp: [0x10000000, 0x20000000) is device 0, [0x20000000, 0x30000000) device 1, the rest host.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/driver_hints.h"
#include "core/handle.h"
#include "core/moe_args.h"
#include "core/optim_args.h"
#include "core/pointer_checks.h"
#include "core/validate.h"
#include "expect_status.h"
#include "fake_pointers.h"

namespace {

int failures = 0;

using gg_test::dev0;
using gg_test::dev1;
using gg_test::fake_query;

// Runs `check` (which returns a status) and compares status and message.
template <class Check>
void expect(const char* what, Check&& check, gg_status status, const char* message) {
    gg::clear_error();
    const gg_status got = check();
    if (!gg_test::status_is(what, got, status, message)) ++failures;
}

using gg_test::valid_gmm;

gg_status validate(const gg_gmm_args& args) {
    gg::GmmProblem p;
    return gg::validate_gmm(args, 0, fake_query, &p);
}

void misaligned_pointers_are_rejected() {
    using gg::Operand;
    expect("misaligned bf16 a of gg_gmm", [] { auto a = valid_gmm(); a.a = dev0(1); return validate(a); },
           GG_STATUS_INVALID_ARGUMENT, "a (0x10000001) is not aligned to its element size of 2 bytes");
    expect("misaligned fp32 c of gg_gmm",
           [] { auto a = valid_gmm(); a.dtype = GG_DTYPE_FLOAT32; a.c = dev0(0x200002); return validate(a); },
           GG_STATUS_INVALID_ARGUMENT, "c (0x10200002) is not aligned to its element size of 4 bytes");
    expect("misaligned device counts of gg_gmm",
           [] {
               auto a = valid_gmm();
               a.counts_location = GG_COUNTS_DEVICE;
               a.batch_sizes = static_cast<const int64_t*>(dev0(0x300004));
               return validate(a);
           },
           GG_STATUS_INVALID_ARGUMENT, "batch_sizes (0x10300004) is not aligned to its element size of 8 bytes");
    expect("aligned operands pass", [] { return validate(valid_gmm()); }, GG_STATUS_SUCCESS, nullptr);
    expect("misaligned MoE operand",
           [] { return gg::check_device_operands("gg_moe_pad", {Operand{dev0(0x11), "sorted", 2, 64}}, 0, fake_query); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_pad: sorted (0x10000011) is not aligned");
    expect("misaligned int64 counts",
           [] { return gg::check_device_operands("gg_moe_unpad", {Operand{dev0(0x4), "counts", 8, 4}}, 0, fake_query); },
           GG_STATUS_INVALID_ARGUMENT, "counts (0x10000004) is not aligned to its element size of 8 bytes");
    expect("empty operand is not checked",
           [] { return gg::check_device_operands("f", {Operand{dev0(0x1), "x", 4, 0}}, 0, fake_query); },
           GG_STATUS_SUCCESS, nullptr);
}

void moe_pointers_must_be_device_memory_of_the_current_device() {
    using gg::Operand;
    static float host[16];
    expect("host memory",
           [] { return gg::check_device_operands("gg_moe_combine", {Operand{host, "weights", 4, 16}}, 0, fake_query); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_combine: weights");
    expect("host memory message", [] {
        return gg::check_device_operands("gg_moe_combine", {Operand{host, "weights", 4, 16}}, 0, fake_query);
    }, GG_STATUS_INVALID_ARGUMENT, "is host memory");
    expect("other device",
           [] { return gg::check_device_operands("gg_moe_gather_rows", {Operand{dev1(0), "src", 2, 8}}, 0, fake_query); },
           GG_STATUS_WRONG_DEVICE, "src (0x20000000) is on device 1 but the call runs on device 0");
    expect("device memory passes",
           [] { return gg::check_device_operands("f", {Operand{dev0(0x40), "x", 4, 8}}, 0, fake_query); },
           GG_STATUS_SUCCESS, nullptr);
}

void outputs_overlapping_inputs_are_rejected() {
    using gg::Operand;
    expect("convert dst overlaps src",
           [] { return gg::check_no_overlap("gg_convert", Operand{dev0(0x10), "dst", 2, 64}, Operand{dev0(0), "src", 4, 64}); },
           GG_STATUS_INVALID_ARGUMENT, "gg_convert: dst [0x10000010, +128 bytes) overlaps src [0x10000000, +256 bytes)");
    expect("gemm c overlaps b (no function prefix)",
           [] { return gg::check_no_overlap(nullptr, Operand{dev0(0x100), "c", 2, 8}, Operand{dev0(0xf0), "b", 2, 16}); },
           GG_STATUS_INVALID_ARGUMENT, "c [0x10000100, +16 bytes) overlaps b");
    expect("adjacent buffers do not overlap",
           [] { return gg::check_no_overlap("f", Operand{dev0(0x100), "out", 4, 4}, Operand{dev0(0xf0), "in", 4, 4}); },
           GG_STATUS_SUCCESS, nullptr);
}

void reserve_is_bounded_by_device_memory() {
    const size_t gib80 = size_t(80) << 30;
    size_t bytes = 0;
    expect("reserve 2^40 experts",
           [&] { return gg::check_reserve_request(int64_t(1) << 40, 0, gib80, &bytes); },
           GG_STATUS_INVALID_ARGUMENT, "max_experts = 1099511627776 would need");
    expect("reserve INT64_MAX experts",
           [&] { return gg::check_reserve_request(INT64_MAX, 0, gib80, &bytes); },
           GG_STATUS_INVALID_ARGUMENT, "more than device 0's 85899345920 bytes of memory");
    expect("reserve past a small device",
           [&] { return gg::check_reserve_request(int64_t(1) << 24, 3, size_t(1) << 30, &bytes); },
           GG_STATUS_INVALID_ARGUMENT, "max_experts = 16777216 would need 8.004 GiB");
    expect("reserve 0 experts", [&] { return gg::check_reserve_request(0, 0, gib80, &bytes); },
           GG_STATUS_INVALID_ARGUMENT, "max_experts = 0: must be at least 1");
    bytes = 0;
    expect("reserve 2048 experts", [&] { return gg::check_reserve_request(2048, 0, gib80, &bytes); },
           GG_STATUS_SUCCESS, nullptr);
    if (bytes != gg::workspace_bytes_for_experts(2048)) {
        ++failures;
        std::fprintf(stderr, "FAIL reserve 2048 experts: %zu bytes, want %zu\n", bytes, gg::workspace_bytes_for_experts(2048));
    }
}

void pad_and_gather_sizes_are_checked() {
    expect("negative sorted_rows",
           [] { return gg::validate_pad_sizes("gg_moe_unpad", 2, 64, 8, -1); }, GG_STATUS_INVALID_ARGUMENT,
           "sorted_rows = -1 >= 0");
    expect("sorted_rows * cols overflows",
           [] { return gg::validate_pad_sizes("gg_moe_pad", 2, 64, int64_t(1) << 32, int64_t(1) << 32); },
           GG_STATUS_INVALID_ARGUMENT, "sorted_rows = 4294967296 times cols = 4294967296 overflows");
    expect("padded overflows",
           [] { return gg::validate_pad_sizes("gg_moe_pad", int64_t(1) << 40, int64_t(1) << 30, 8, 0); },
           GG_STATUS_INVALID_ARGUMENT, "times capacity");
    expect("pad sizes pass", [] { return gg::validate_pad_sizes("gg_moe_pad", 2, 64, 8, 100); }, GG_STATUS_SUCCESS, nullptr);
    expect("negative src_rows", [] { return gg::validate_source_rows("gg_moe_gather_rows", "src_rows", -3, 8); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_gather_rows: src_rows = -3 must be >= 0");
    expect("expert_rows pass", [] { return gg::validate_source_rows("gg_moe_combine", "expert_rows", 10, 8); },
           GG_STATUS_SUCCESS, nullptr);
}

void backward_slot_maps_and_router_sizes_are_checked() {
    expect("backward: negative tokens", [] { return gg::validate_slot_map("gg_moe_combine_backward", -1, 2); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_combine_backward: tokens = -1 must be >= 0");
    expect("backward: top_k 0", [] { return gg::validate_slot_map("gg_moe_gather_rows_backward", 4, 0); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_gather_rows_backward: top_k = 0 must be >= 1");
    expect("backward: slots past int32",
           [] { return gg::validate_slot_map("gg_moe_combine_backward", int64_t(1) << 30, 4); },
           GG_STATUS_INVALID_ARGUMENT, "tokens = 1073741824 times top_k = 4 exceeds the int32 slot range");
    expect("backward: slot map passes", [] { return gg::validate_slot_map("gg_moe_combine_backward", 1024, 8); },
           GG_STATUS_SUCCESS, nullptr);
    expect("router: num_experts 0",
           [] { return gg::validate_router_sizes("gg_moe_topk_softmax_backward", 4, 0, 1); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_topk_softmax_backward: num_experts = 0 must be in [1, 2147483647]");
    expect("router: top_k above num_experts", [] { return gg::validate_router_sizes("gg_moe_aux_loss", 4, 3, 4); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_aux_loss: top_k = 4 must be in [1, num_experts = 3]");
    expect("router: negative tokens", [] { return gg::validate_router_sizes("gg_moe_aux_loss", -2, 3, 1); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_aux_loss: tokens = -2 must be >= 0");
    expect("router: tokens * num_experts overflows",
           [] { return gg::validate_router_sizes("gg_moe_aux_loss", int64_t(1) << 40, int64_t(1) << 30, 1); },
           GG_STATUS_INVALID_ARGUMENT, "times num_experts = 1073741824 overflows");
    expect("router: sizes pass", [] { return gg::validate_router_sizes("gg_moe_aux_loss", 2048, 80, 8); },
           GG_STATUS_SUCCESS, nullptr);
}

void adamw_arguments_are_checked() {
    expect("adamw: negative n", [] { return gg::validate_adamw_args("gg_adamw_step", -1, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.1f, 0.001f, false); },
           GG_STATUS_INVALID_ARGUMENT, "gg_adamw_step: n = -1 must be >= 0");
    expect("adamw: NaN lr", [] { return gg::validate_adamw_args("gg_adamw_step", 4, NAN, 0.9f, 0.999f, 1e-8f, 0.01f, 0.1f, 0.001f, false); },
           GG_STATUS_INVALID_ARGUMENT, "must be finite and >= 0");
    expect("adamw: negative weight decay", [] { return gg::validate_adamw_args("gg_adamw_step", 4, 1e-3f, 0.9f, 0.999f, 1e-8f, -0.5f, 0.1f, 0.001f, false); },
           GG_STATUS_INVALID_ARGUMENT, "weight_decay = -0.5 must be finite and >= 0");
    expect("adamw: beta2 1", [] { return gg::validate_adamw_args("gg_adamw_step", 4, 1e-3f, 0.9f, 1.0f, 1e-8f, 0.01f, 0.1f, 0.001f, false); },
           GG_STATUS_INVALID_ARGUMENT, "beta2 = 1 must be in [0, 1)");
    expect("adamw: correction above 1", [] { return gg::validate_adamw_args("gg_adamw_step", 4, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1.5f, 0.001f, false); },
           GG_STATUS_INVALID_ARGUMENT, "bias_correction1 = 1.5 and bias_correction2 = 0.001 must be in (0, 1]");
    expect("adamw: device corrections skip the scalars", [] { return gg::validate_adamw_args("gg_adamw_step", 4, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.0f, 0.0f, true); },
           GG_STATUS_SUCCESS, nullptr);
    expect("adamw: arguments pass", [] { return gg::validate_adamw_args("gg_adamw_step", 4, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.1f, 0.001f, false); },
           GG_STATUS_SUCCESS, nullptr);
}

void host_counts_are_read_once() {
    // The backends must see the values that were validated, even if the caller's array changes afterwards.
    int64_t counts[3] = {4, 0, 4};
    auto args = valid_gmm();
    args.batch_sizes = counts;
    gg::GmmProblem p;
    gg::clear_error();
    const gg_status s = gg::validate_gmm(args, 0, fake_query, &p);
    counts[0] = 1000000;  // a racing writer, after validation
    const bool copied = s == GG_STATUS_SUCCESS && p.batch_sizes != counts && p.host_counts != nullptr &&
                        p.batch_sizes[0] == 4 && p.batch_sizes[1] == 0 && p.batch_sizes[2] == 4;
    gg::GmmProblem q = p;  // copies keep the copy alive
    p = gg::GmmProblem{};
    const bool shared = copied && q.batch_sizes[2] == 4;
    if (!copied || !shared) {
        ++failures;
        std::fprintf(stderr, "FAIL host counts are read once: status %d, batch_sizes %s the caller's array\n", s,
                     p.batch_sizes == counts ? "is" : "is not");
    } else {
        std::printf("ok   host counts are read once into the problem's own copy\n");
    }
}

// The MoE entry points themselves, with sizes whose products overflow 64 bits: refused with the sizes named, before any
// product is formed (a signed overflow is undefined behaviour: the sanitized build reports it) and before any CUDA
// call. The pointers are fake device pointers of the right alignment, never read: only the sizes are wrong.
void moe_size_products_are_checked_at_the_entry_points() {
    const int64_t big = int64_t(1) << 40, wide = int64_t(1) << 30, tokens = int64_t(1) << 20, cols = int64_t(1) << 50;
    const gg_dtype f32 = GG_DTYPE_FLOAT32;
    const gg_activation none = GG_ACTIVATION_NONE;
    void* x = dev0(0);
    void* y = dev0(0x1000000);
    auto* i32 = static_cast<int32_t*>(dev0(0x2000000));
    auto* f = static_cast<float*>(dev0(0x3000000));
    expect("topk_softmax: tokens * num_experts",
           [&] { return gg_moe_topk_softmax(x, f32, big, wide, 1, 0, f, i32, nullptr); }, GG_STATUS_INVALID_ARGUMENT,
           "gg_moe_topk_softmax: tokens = 1099511627776 times num_experts = 1073741824 overflows");
    expect("gather_rows: rows * cols",
           [&] { return gg_moe_gather_rows(x, 4, i32, 1, big, wide, y, f32, nullptr); }, GG_STATUS_INVALID_ARGUMENT,
           "gg_moe_gather_rows: rows = 1099511627776 times cols = 1073741824 overflows");
    expect("combine: tokens * cols",
           [&] { return gg_moe_combine(x, 4, i32, f, nullptr, tokens, 1, cols, y, f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_combine: tokens = 1048576 times cols = 1125899906842624 overflows");
    expect("combine_backward: tokens * cols",
           [&] { return gg_moe_combine_backward(x, x, 4, i32, f, tokens, 1, cols, y, nullptr, f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT,
           "gg_moe_combine_backward: tokens = 1048576 times cols = 1125899906842624 overflows");
    expect("gather_rows_backward: tokens * cols",
           [&] { return gg_moe_gather_rows_backward(x, 4, i32, tokens, 1, cols, 0, y, f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT,
           "gg_moe_gather_rows_backward: tokens = 1048576 times cols = 1125899906842624 overflows");
    expect("bias_activation: rows * cols",
           [&] { return gg_moe_bias_activation(x, nullptr, nullptr, big, big, wide, 1, none, f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_bias_activation: rows = 1099511627776 times cols = 1073741824 overflows");
    expect("bias_activation: bias[num_experts, cols]",
           [&] { return gg_moe_bias_activation(x, y, nullptr, 1, 1, wide, big, none, f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT,
           "gg_moe_bias_activation: num_experts = 1099511627776 times cols = 1073741824 overflows");
    expect("gated_activation: rows * cols",
           [&] { return gg_moe_gated_activation(x, nullptr, nullptr, big, big, wide, 1, none, y, f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_gated_activation: rows = 1099511627776 times cols = 1073741824 overflows");
    expect("activation_backward: rows * cols",
           [&] { return gg_moe_activation_backward(x, nullptr, nullptr, big, big, wide, 1, none, x, y, f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT,
           "gg_moe_activation_backward: rows = 1099511627776 times cols = 1073741824 overflows");
    expect("gated_activation_backward: rows * cols",
           [&] {
               return gg_moe_gated_activation_backward(x, nullptr, nullptr, big, big, wide, 1, none, x, y, f32, nullptr);
           },
           GG_STATUS_INVALID_ARGUMENT,
           "gg_moe_gated_activation_backward: rows = 1099511627776 times cols = 1073741824 overflows");
    expect("bias_grad: rows * cols",
           [&] { return gg_moe_bias_grad(x, nullptr, big, big, wide, 1, 0, f, f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_bias_grad: rows = 1099511627776 times cols = 1073741824 overflows");
}

// Outputs of the MoE entry points over one of their inputs (or another output), where the kernel would read what other
// threads write: refused before any CUDA call, with both ranges named, as the backward kernels' outputs are.
void moe_outputs_overlapping_their_inputs_are_refused() {
    const gg_dtype f32 = GG_DTYPE_FLOAT32;
    const gg_activation none = GG_ACTIVATION_NONE;
    const auto i32 = [](uintptr_t offset) { return static_cast<int32_t*>(dev0(offset)); };
    const auto i64 = [](uintptr_t offset) { return static_cast<int64_t*>(dev0(offset)); };
    const auto f = [](uintptr_t offset) { return static_cast<float*>(dev0(offset)); };
    // gather: src[4, 8] at 0, index[4] at 0x1000, dst[4, 8] over index.
    expect("gather_rows: dst over index",
           [&] { return gg_moe_gather_rows(dev0(0), 4, i32(0x1000), 1, 4, 8, dev0(0x1000), f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_gather_rows: dst [0x10001000, +128 bytes) overlaps index [0x10001000, +16 bytes)");
    // router: logits[4, 8] (128 bytes) at 0, weights and experts [4, 2].
    expect("topk_softmax: weights over logits",
           [&] { return gg_moe_topk_softmax(dev0(0), f32, 4, 8, 2, 0, f(0x40), i32(0x1000), nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_topk_softmax: weights [0x10000040, +32 bytes) overlaps logits");
    expect("topk_softmax: experts over weights",
           [&] { return gg_moe_topk_softmax(dev0(0), f32, 4, 8, 2, 0, f(0x1000), i32(0x1010), nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_topk_softmax: experts [0x10001010, +32 bytes) overlaps weights");
    // sort: experts[8] at 0, counts[4] at 0x1000, sorted_slots[8] at 0x2000, slot_rows[8], workspace at 0x10000.
    expect("sort_by_expert: counts over experts",
           [&] { return gg_moe_sort_by_expert(i32(0), 8, 4, i64(0x8), i32(0x2000), i32(0x3000), dev0(0x10000), 1 << 20, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_sort_by_expert: counts [0x10000008, +32 bytes) overlaps experts");
    expect("sort_by_expert: slot_rows over sorted_slots",
           [&] { return gg_moe_sort_by_expert(i32(0), 8, 4, i64(0x1000), i32(0x2000), i32(0x2010), dev0(0x10000), 1 << 20, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_sort_by_expert: sorted_slots [0x10002000, +32 bytes) overlaps slot_rows [0x10002010, +32 bytes)");
    // pad: sorted[8, 8] (256 bytes) at 0, counts[2] at 0x1000, padded[2, 4, 8] (256 bytes).
    expect("pad: padded over sorted",
           [&] { return gg_moe_pad(dev0(0), 8, i64(0x1000), 2, 4, 8, dev0(0x80), nullptr, f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_pad: padded [0x10000080, +256 bytes) overlaps sorted");
    expect("pad: dropped over counts",
           [&] { return gg_moe_pad(dev0(0), 8, i64(0x1000), 2, 4, 8, dev0(0x2000), i64(0x1008), f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_pad: dropped [0x10001008, +8 bytes) overlaps counts");
    expect("unpad: sorted over padded",
           [&] { return gg_moe_unpad(dev0(0), i64(0x1000), 2, 4, 8, dev0(0x10), 8, f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_unpad: sorted [0x10000010, +256 bytes) overlaps padded");
    expect("unpad: sorted over counts",
           [&] { return gg_moe_unpad(dev0(0), i64(0x1000), 2, 4, 8, dev0(0xf80), 8, f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_unpad: sorted [0x10000f80, +256 bytes) overlaps counts");
    // activations: x[4, 8] (128 bytes) at 0x1000, bias[2, 8] (64 bytes), two rows per expert.
    expect("bias_activation: x over bias",
           [&] { return gg_moe_bias_activation(dev0(0x1000), dev0(0x1040), nullptr, 2, 4, 8, 2, none, f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_bias_activation: x [0x10001000, +128 bytes) overlaps bias");
    expect("bias_activation: x over counts",
           [&] { return gg_moe_bias_activation(dev0(0x1000), nullptr, i64(0x1040), 0, 4, 8, 2, none, f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_bias_activation: x [0x10001000, +128 bytes) overlaps counts");
    // gated: gate_up[4, 16] (256 bytes) at 0, out[4, 8] over it.
    expect("gated_activation: out over gate_up",
           [&] { return gg_moe_gated_activation(dev0(0), nullptr, nullptr, 4, 4, 8, 1, none, dev0(0x20), f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_gated_activation: out [0x10000020, +128 bytes) overlaps gate_up");
    expect("gated_activation: out is gate_up",
           [&] { return gg_moe_gated_activation(dev0(0), nullptr, nullptr, 4, 4, 8, 1, none, dev0(0), f32, nullptr); },
           GG_STATUS_INVALID_ARGUMENT, "gg_moe_gated_activation: out [0x10000000, +128 bytes) overlaps gate_up");
}

}  // namespace

int main() {
    misaligned_pointers_are_rejected();
    moe_pointers_must_be_device_memory_of_the_current_device();
    outputs_overlapping_inputs_are_rejected();
    reserve_is_bounded_by_device_memory();
    pad_and_gather_sizes_are_checked();
    host_counts_are_read_once();
    backward_slot_maps_and_router_sizes_are_checked();
    adamw_arguments_are_checked();
    moe_size_products_are_checked_at_the_entry_points();
    moe_outputs_overlapping_their_inputs_are_refused();
    if (failures != 0) {
        std::fprintf(stderr, "%d safety check(s) failed\n", failures);
        return 1;
    }
    std::printf("safety checks: all passed\n");
    return 0;
}
