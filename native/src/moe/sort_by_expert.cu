// Stable sort of routed slots by expert, all on the device: a fused kernel writes the radix keys, the
// slot ids and the per-expert histogram; CUB's radix sort (stable) orders (expert, slot) pairs on only
// the bits the expert ids use; a scatter writes the inverse permutation. Expert ids outside
// [0, num_experts) get key num_experts: they sort after every valid slot and are not counted, so the
// counts always describe a prefix of the sorted rows; their slots get slot_rows -1 and their rows sorted_slots -1
// (invert_permutation_kernel), so that gather and combine skip them.
#include <climits>

#include <cub/device/device_radix_sort.cuh>

#include "core/pointer_checks.h"
#include "moe/moe_common.cuh"

namespace gg::moe {
namespace {

constexpr size_t kAlign = 256;
constexpr int64_t kMaxSharedBins = 8192;  // 32 KiB of uint32 bins per block

size_t align_up(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

// Smallest number of bits holding every key in [0, num_experts] (num_experts is the invalid-id key).
int key_bits(int64_t num_experts) {
    int bits = 1;
    while ((int64_t{1} << bits) <= num_experts) ++bits;
    return bits;
}

// Workspace layout: keys_in | keys_out | slot ids | CUB temporary storage, each 256-byte aligned.
struct SortWorkspace {
    size_t keys_bytes = 0;
    size_t ids_bytes = 0;
    size_t cub_bytes = 0;
    size_t total() const { return 2 * keys_bytes + ids_bytes + cub_bytes; }
};

gg_status plan_workspace(int64_t slots, int64_t num_experts, SortWorkspace* plan) {
    plan->keys_bytes = align_up(sizeof(uint32_t) * static_cast<size_t>(slots));
    plan->ids_bytes = align_up(sizeof(int32_t) * static_cast<size_t>(slots));
    size_t cub_bytes = 0;
    GG_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, cub_bytes, static_cast<const uint32_t*>(nullptr),
                                                  static_cast<uint32_t*>(nullptr), static_cast<const int32_t*>(nullptr),
                                                  static_cast<int32_t*>(nullptr), static_cast<int>(slots), 0,
                                                  key_bits(num_experts), cudaStream_t{}));
    plan->cub_bytes = align_up(cub_bytes);
    return GG_STATUS_SUCCESS;
}

// keys[i] = expert id (num_experts when out of range), ids[i] = i, counts[e] += slots of expert e.
// Bins are accumulated per block in shared memory when they fit, then flushed with one atomic per bin.
__global__ void __launch_bounds__(kThreads)
prepare_keys_kernel(const int32_t* __restrict__ experts, int64_t slots, int64_t num_experts, bool shared_bins,
                    uint32_t* __restrict__ keys, int32_t* __restrict__ ids, int64_t* __restrict__ counts) {
    extern __shared__ uint32_t bins[];
    if (shared_bins) {
        for (int64_t e = threadIdx.x; e < num_experts; e += blockDim.x) bins[e] = 0;
        __syncthreads();
    }
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < slots;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int32_t e = experts[i];
        const bool valid = e >= 0 && e < num_experts;
        keys[i] = valid ? static_cast<uint32_t>(e) : static_cast<uint32_t>(num_experts);
        ids[i] = static_cast<int32_t>(i);
        if (valid) {
            if (shared_bins) atomicAdd(&bins[e], 1u);
            else atomicAdd(reinterpret_cast<unsigned long long*>(counts + e), 1ull);
        }
    }
    if (shared_bins) {
        __syncthreads();
        for (int64_t e = threadIdx.x; e < num_experts; e += blockDim.x)
            if (bins[e] != 0) atomicAdd(reinterpret_cast<unsigned long long*>(counts + e),
                                        static_cast<unsigned long long>(bins[e]));
    }
}

// slot_rows[sorted_slots[r]] = r for the counted rows. A row whose key is invalid_key (its slot's expert id was out
// of range: a dropped token) belongs to no expert: its slot gets slot_rows -1 and the row sorted_slots -1, so that
// gather writes zeros there and combine adds nothing for the slot (it used to point at a row past the counted ones,
// which the grouped GEMM never writes).
__global__ void __launch_bounds__(kThreads)
invert_permutation_kernel(const uint32_t* __restrict__ sorted_keys, uint32_t invalid_key,
                          int32_t* __restrict__ sorted_slots, int64_t slots, int32_t* __restrict__ slot_rows) {
    for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < slots;
         r += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int32_t slot = sorted_slots[r];
        if (sorted_keys[r] == invalid_key) {
            slot_rows[slot] = -1;
            sorted_slots[r] = -1;
        } else {
            slot_rows[slot] = static_cast<int32_t>(r);
        }
    }
}

gg_status validate_sizes(const char* function, int64_t slots, int64_t num_experts) {
    if (slots < 0 || slots > INT_MAX)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: slots = %lld must be in [0, %d] (slot ids are int32)", function,
                    static_cast<long long>(slots), INT_MAX);
    if (num_experts < 1 || num_experts >= INT_MAX)
        return fail(GG_STATUS_INVALID_ARGUMENT, "%s: num_experts = %lld must be in [1, %d)", function,
                    static_cast<long long>(num_experts), INT_MAX);
    return GG_STATUS_SUCCESS;
}

}  // namespace
}  // namespace gg::moe

extern "C" GG_API gg_status gg_moe_sort_workspace_size(int64_t slots, int64_t num_experts, size_t* bytes) {
    using namespace gg::moe;
    return gg::api_call("gg_moe_sort_workspace_size", [&]() -> gg_status {
        if (bytes == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "gg_moe_sort_workspace_size: bytes must not be NULL");
        *bytes = 0;
        GG_TRY(validate_sizes("gg_moe_sort_workspace_size", slots, num_experts));
        if (slots == 0) return GG_STATUS_SUCCESS;
        SortWorkspace plan;
        GG_TRY(plan_workspace(slots, num_experts, &plan));
        *bytes = plan.total();
        return GG_STATUS_SUCCESS;
    });
}

extern "C" GG_API gg_status gg_moe_sort_by_expert(const int32_t* experts, int64_t slots, int64_t num_experts,
                                                  int64_t* counts, int32_t* sorted_slots, int32_t* slot_rows,
                                                  void* workspace, size_t workspace_bytes, void* stream) {
    using namespace gg::moe;
    return gg::api_call("gg_moe_sort_by_expert", [&]() -> gg_status {
        GG_TRY(validate_sizes("gg_moe_sort_by_expert", slots, num_experts));
        if (counts == nullptr)
            return gg::fail(GG_STATUS_INVALID_ARGUMENT, "gg_moe_sort_by_expert: counts must not be NULL");
        if (slots > 0 && (experts == nullptr || sorted_slots == nullptr || slot_rows == nullptr || workspace == nullptr))
            return gg::fail(GG_STATUS_INVALID_ARGUMENT,
                            "gg_moe_sort_by_expert: experts (%p), sorted_slots (%p), slot_rows (%p) and workspace "
                            "(%p) must not be NULL when slots = %lld",
                            static_cast<const void*>(experts), static_cast<void*>(sorted_slots),
                            static_cast<void*>(slot_rows), workspace, static_cast<long long>(slots));
        const gg::Operand experts_op{experts, "experts", sizeof(int32_t), slots},
            counts_op{counts, "counts", sizeof(int64_t), num_experts},
            sorted_op{sorted_slots, "sorted_slots", sizeof(int32_t), slots},
            rows_op{slot_rows, "slot_rows", sizeof(int32_t), slots};
        // Every written buffer apart from every other, each pair once: counts are zeroed before the experts are
        // read, then counted into while the keys are written; the sort writes sorted_slots, and the inversion reads
        // them while writing slot_rows. (The workspace, whose size the plan below gives, is checked there.)
        GG_TRY(gg::check_no_overlap("gg_moe_sort_by_expert", counts_op, {experts_op, sorted_op, rows_op}));
        GG_TRY(gg::check_no_overlap("gg_moe_sort_by_expert", sorted_op, {experts_op, rows_op}));
        GG_TRY(gg::check_no_overlap("gg_moe_sort_by_expert", rows_op, {experts_op}));
        GG_TRY(gg::check_current_device_operands(
            "gg_moe_sort_by_expert", {experts_op, counts_op, sorted_op, rows_op,
                                      gg::Operand{workspace, "workspace", sizeof(uint32_t), slots > 0 ? 1 : 0}}));
        auto s = static_cast<cudaStream_t>(stream);
        const size_t counts_bytes = sizeof(int64_t) * static_cast<size_t>(num_experts);
        if (slots == 0) {
            GG_CUDA_CHECK(cudaMemsetAsync(counts, 0, counts_bytes, s));
            return GG_STATUS_SUCCESS;
        }
        SortWorkspace plan;
        GG_TRY(plan_workspace(slots, num_experts, &plan));
        if (workspace_bytes < plan.total())
            return gg::fail(GG_STATUS_INVALID_ARGUMENT,
                            "gg_moe_sort_by_expert: workspace_bytes = %zu is less than the %zu bytes that "
                            "gg_moe_sort_workspace_size gives for slots = %lld, num_experts = %lld",
                            workspace_bytes, plan.total(), static_cast<long long>(slots),
                            static_cast<long long>(num_experts));
        const gg::Operand workspace_op{workspace, "workspace", 1, static_cast<int64_t>(plan.total())};
        GG_TRY(gg::check_no_overlap("gg_moe_sort_by_expert", workspace_op,
                                    {experts_op, counts_op, sorted_op, rows_op}));
        GG_CUDA_CHECK(cudaMemsetAsync(counts, 0, counts_bytes, s));
        auto* base = static_cast<char*>(workspace);
        auto* keys_in = reinterpret_cast<uint32_t*>(base);
        auto* keys_out = reinterpret_cast<uint32_t*>(base + plan.keys_bytes);
        auto* ids = reinterpret_cast<int32_t*>(base + 2 * plan.keys_bytes);
        void* cub_temp = base + 2 * plan.keys_bytes + plan.ids_bytes;
        size_t cub_bytes = plan.cub_bytes;

        unsigned blocks = 0;
        GG_TRY(flat_blocks(slots, &blocks));
        const bool shared_bins = num_experts <= kMaxSharedBins;
        const size_t smem = shared_bins ? sizeof(uint32_t) * static_cast<size_t>(num_experts) : 0;
        prepare_keys_kernel<<<blocks, kThreads, smem, s>>>(experts, slots, num_experts, shared_bins, keys_in, ids,
                                                           counts);
        GG_CUDA_CHECK(cudaGetLastError());
        GG_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(cub_temp, cub_bytes, keys_in, keys_out, ids, sorted_slots,
                                                      static_cast<int>(slots), 0, key_bits(num_experts), s));
        invert_permutation_kernel<<<blocks, kThreads, 0, s>>>(keys_out, static_cast<uint32_t>(num_experts),
                                                              sorted_slots, slots, slot_rows);
        GG_CUDA_CHECK(cudaGetLastError());
        return GG_STATUS_SUCCESS;
    });
}
