// Builds the per-group arrays of group_arrays.cuh on the device: workspace layout, offsets upload or
// computation, and the fill kernel. Included only by the two backend dispatch TUs (backend_sm80.cu,
// backend_sm90.cu), not by the kernel TUs, so the small kernel is compiled once per backend.
#pragma once

#include "cutlass_sm80/group_arrays.cuh"

namespace gg::cutlass_grouped {

// Thread per expert writes the arrays; the grid also clears the zero operand (16-byte words).
// `static`: each backend TU gets its own copy, so neither backend folder links against the other.
static __global__ void fill_group_arrays(GroupRule rule, int32_t experts, const char* a, const char* b, char* c,
                                         int32_t element_bytes, GroupArrays out) {
    const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;

    const int64_t zero_words = static_cast<int64_t>(out.zero_bytes / sizeof(uint4));
    for (int64_t i = first; i < zero_words; i += step) {
        static_cast<uint4*>(out.zeros)[i] = make_uint4(0, 0, 0, 0);
    }

    for (int64_t e = first; e < experts; e += step) {
        const int64_t begin = out.offsets[e];
        const GroupDesc g = describe_group(rule, e, begin, out.offsets[e + 1] - begin);
        out.problem_sizes[3 * e + 0] = g.m;
        out.problem_sizes[3 * e + 1] = g.n;
        out.problem_sizes[3 * e + 2] = g.k;
        const int64_t es = element_bytes;
        out.ptr_a[e] = g.zero_operands ? out.zeros : const_cast<char*>(a) + g.a_offset * es;
        out.ptr_b[e] = g.zero_operands ? out.zeros : const_cast<char*>(b) + g.b_offset * es;
        out.ptr_c[e] = c + g.c_offset * es;
        out.lda[e] = g.lda;
        out.ldb[e] = g.ldb;
        out.ldc[e] = g.ldc;
    }
}

// Byte layout of the workspace block: each array on its own 256-byte boundary.
struct WorkspacePlan {
    static constexpr size_t kAlign = 256;
    size_t offsets = 0, problem_sizes = 0, ptr_a = 0, ptr_b = 0, ptr_c = 0, lda = 0, ldb = 0, ldc = 0;
    size_t zeros = 0, kernel_workspace = 0, total = 0;

    static size_t round_up(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

    WorkspacePlan(int64_t experts, size_t zero_bytes, size_t kernel_workspace_bytes) {
        const size_t e = static_cast<size_t>(experts);
        size_t at = 0;
        auto take = [&at](size_t bytes) {
            const size_t here = at;
            at = round_up(at + bytes);
            return here;
        };
        offsets = take((e + 1) * sizeof(int64_t));
        problem_sizes = take(e * 3 * sizeof(int32_t));
        ptr_a = take(e * sizeof(void*));
        ptr_b = take(e * sizeof(void*));
        ptr_c = take(e * sizeof(void*));
        lda = take(e * sizeof(int64_t));
        ldb = take(e * sizeof(int64_t));
        ldc = take(e * sizeof(int64_t));
        zeros = take(zero_bytes);
        kernel_workspace = take(kernel_workspace_bytes);
        total = at;
    }
};

// Bytes of zero operand a call needs: one A column (k elements) and one B row (n elements) share it.
inline size_t zero_operand_bytes(const GmmProblem& p, const GroupRule& rule) {
    if (!rule.zero_operand_for_empty) return 0;
    const size_t elements = static_cast<size_t>(p.k > p.n ? p.k : p.n);
    return (elements * dtype_size(p.dtype) + 15) / 16 * 16;
}

// Acquires the workspace, brings the offsets to the device and fills the per-group arrays on `p.stream`.
// Everything, the CUTLASS kernel's own `kernel_workspace_bytes` included, lives in one block acquired once
// per call: acquiring twice could reallocate the block under work already enqueued.
inline gg_status prepare_group_arrays(Context& ctx, const GmmProblem& p, const GroupRule& rule, const HostGroups& host,
                                      size_t kernel_workspace_bytes, GroupArrays& out) {
    if (ctx.workspace == nullptr) {
        return fail(GG_STATUS_INTERNAL_ERROR, "cutlass: the handle has no workspace");
    }
    const size_t zero_bytes = zero_operand_bytes(p, rule);
    const WorkspacePlan plan(p.num_experts, zero_bytes, kernel_workspace_bytes);
    void* block = nullptr;
    GG_TRY(workspace_acquire(*ctx.workspace, plan.total, p.stream, &block));
    char* base = static_cast<char*>(block);

    out = GroupArrays{};
    out.offsets = reinterpret_cast<int64_t*>(base + plan.offsets);
    out.problem_sizes = reinterpret_cast<int32_t*>(base + plan.problem_sizes);
    out.ptr_a = reinterpret_cast<void**>(base + plan.ptr_a);
    out.ptr_b = reinterpret_cast<void**>(base + plan.ptr_b);
    out.ptr_c = reinterpret_cast<void**>(base + plan.ptr_c);
    out.lda = reinterpret_cast<int64_t*>(base + plan.lda);
    out.ldb = reinterpret_cast<int64_t*>(base + plan.ldb);
    out.ldc = reinterpret_cast<int64_t*>(base + plan.ldc);
    out.zeros = zero_bytes ? base + plan.zeros : nullptr;
    out.zero_bytes = zero_bytes;
    out.kernel_workspace = kernel_workspace_bytes ? base + plan.kernel_workspace : nullptr;
    out.kernel_workspace_bytes = kernel_workspace_bytes;

    const size_t offset_bytes = (static_cast<size_t>(p.num_experts) + 1) * sizeof(int64_t);
    if (host.available) {
        // A pageable source is fine: cudaMemcpyAsync returns once it has staged the data, so `host` may go.
        GG_CUDA_CHECK(cudaMemcpyAsync(out.offsets, host.offsets.data(), offset_bytes, cudaMemcpyHostToDevice, p.stream));
    } else {
        GG_TRY(launch_counts_to_offsets(p.batch_sizes, p.num_experts, p.m, out.offsets,
                                        p.check_counts ? ctx.device_check_flag : nullptr, p.stream));
    }

    constexpr int kThreads = 256;
    const int64_t zero_words = static_cast<int64_t>(zero_bytes / sizeof(uint4));
    const int64_t work = p.num_experts > zero_words ? p.num_experts : zero_words;
    int64_t blocks = (work + kThreads - 1) / kThreads;
    if (blocks > 1024) blocks = 1024;  // grid-stride loops cover the rest
    if (blocks < 1) blocks = 1;
    fill_group_arrays<<<static_cast<unsigned>(blocks), kThreads, 0, p.stream>>>(
        rule, static_cast<int32_t>(p.num_experts), static_cast<const char*>(p.a), static_cast<const char*>(p.b),
        static_cast<char*>(p.c), static_cast<int32_t>(dtype_size(p.dtype)), out);
    GG_LAUNCH_CHECK("fill_group_arrays");
    return GG_STATUS_SUCCESS;
}

}  // namespace gg::cutlass_grouped
