// Device batch sizes -> clamped offsets (and their validation), zero fills, empty experts of host counts.
//
// One block does the whole scan: each of its 1024 threads sums a contiguous chunk, a block-wide scan of the
// chunk sums gives each chunk's start, and a second pass writes the offsets. E = 1e5 is ~100 loads a thread,
// which is far below the cost of the GEMM it prepares, and one launch with no temporary storage keeps the
// path capturable in a CUDA graph.
#include <cinttypes>

#include "core/counts_check.h"

namespace gg {
namespace {

constexpr int kThreads = 1024;

__device__ __forceinline__ int64_t min64(int64_t x, int64_t y) { return x < y ? x : y; }

__device__ __forceinline__ int64_t saturating_add(int64_t x, int64_t y) {
    // Both non-negative: saturate instead of wrapping so that absurd counts cannot look valid.
    return x > INT64_MAX - y ? INT64_MAX : x + y;
}

// Exclusive-scans the counts (negatives as 0, sums saturated), writes offsets[E+1] clamped to m when
// `offsets` is set, and reports invalid counts through `flag` and/or `report`.
__global__ void __launch_bounds__(kThreads)
counts_scan_kernel(const int64_t* __restrict__ counts, int64_t num_experts, int64_t m, int64_t* __restrict__ offsets,
                   int32_t* __restrict__ flag, CountsReport* __restrict__ report) {
    __shared__ int64_t scan[2][kThreads];
    __shared__ unsigned long long first_negative;
    const int t = threadIdx.x;
    if (t == 0) first_negative = ~0ull;

    const int64_t chunk = (num_experts + kThreads - 1) / kThreads;
    const int64_t begin = min64(num_experts, t * chunk);
    const int64_t end = min64(num_experts, begin + chunk);

    int64_t local = 0;
    int64_t local_first_negative = -1;
    for (int64_t e = begin; e < end; ++e) {
        const int64_t c = counts[e];
        if (c < 0) {
            if (local_first_negative < 0) local_first_negative = e;
        } else {
            local = saturating_add(local, c);
        }
    }
    scan[0][t] = local;
    __syncthreads();
    if (local_first_negative >= 0) atomicMin(&first_negative, static_cast<unsigned long long>(local_first_negative));

    // Hillis-Steele inclusive scan over the chunk sums, double-buffered.
    int src = 0;
    for (int step = 1; step < kThreads; step <<= 1) {
        const int64_t v = scan[src][t];
        scan[1 - src][t] = t >= step ? saturating_add(v, scan[src][t - step]) : v;
        src = 1 - src;
        __syncthreads();
    }
    const int64_t total = scan[src][kThreads - 1];
    int64_t running = t == 0 ? 0 : scan[src][t - 1];

    if (offsets != nullptr) {
        // The clamped prefix min(prefix, m) equals clamping each group so that no group runs past m.
        for (int64_t e = begin; e < end; ++e) {
            offsets[e] = min64(running, m);
            const int64_t c = counts[e];
            if (c > 0) running = saturating_add(running, c);
        }
        if (t == 0) offsets[num_experts] = min64(total, m);
    }
    if (t == 0) {
        const bool bad = first_negative != ~0ull || total != m;
        if (flag != nullptr && bad) *flag = GG_STATUS_INVALID_COUNTS;
        if (report != nullptr) {
            report->status = bad ? GG_STATUS_INVALID_COUNTS : GG_STATUS_SUCCESS;
            report->first_negative = first_negative == ~0ull ? -1 : static_cast<int64_t>(first_negative);
            report->negative_value = first_negative == ~0ull ? 0 : counts[first_negative];
            report->total = total;
        }
    }
}

gg_status check_count_args(const int64_t* counts, int64_t num_experts, int64_t m) {
    if (counts == nullptr) return fail(GG_STATUS_INVALID_ARGUMENT, "counts is NULL");
    if (num_experts < 1) return fail(GG_STATUS_INVALID_ARGUMENT, "num_experts = %" PRId64 ": must be at least 1", num_experts);
    if (m < 0) return fail(GG_STATUS_INVALID_ARGUMENT, "m = %" PRId64 " is negative", m);
    return GG_STATUS_SUCCESS;
}

}  // namespace

gg_status launch_counts_to_offsets(const int64_t* counts, int64_t num_experts, int64_t m, int64_t* offsets,
                                   int32_t* flag, cudaStream_t stream) {
    GG_TRY(check_count_args(counts, num_experts, m));
    if (offsets == nullptr) return fail(GG_STATUS_INVALID_ARGUMENT, "offsets is NULL");
    counts_scan_kernel<<<1, kThreads, 0, stream>>>(counts, num_experts, m, offsets, flag, nullptr);
    GG_LAUNCH_CHECK("counts_scan_kernel");
    return GG_STATUS_SUCCESS;
}

gg_status launch_counts_check(const int64_t* counts, int64_t num_experts, int64_t m, CountsReport* report,
                              cudaStream_t stream) {
    GG_TRY(check_count_args(counts, num_experts, m));
    counts_scan_kernel<<<1, kThreads, 0, stream>>>(counts, num_experts, m, nullptr, nullptr, report);
    GG_LAUNCH_CHECK("counts_scan_kernel");
    return GG_STATUS_SUCCESS;
}

gg_status zero_fill(void* ptr, size_t bytes, cudaStream_t stream) {
    if (bytes == 0) return GG_STATUS_SUCCESS;
    GG_CUDA_CHECK(cudaMemsetAsync(ptr, 0, bytes, stream));
    return GG_STATUS_SUCCESS;
}

gg_status zero_empty_experts_host(const GmmProblem& p) {
    if (p.counts_on_device || !p.trans_a || p.accumulate) return GG_STATUS_SUCCESS;
    const size_t expert_bytes = static_cast<size_t>(p.k) * static_cast<size_t>(p.n) * dtype_size(p.dtype);
    if (expert_bytes == 0) return GG_STATUS_SUCCESS;
    char* c = static_cast<char*>(p.c);
    // One memset per run of consecutive empty experts.
    int64_t e = 0;
    while (e < p.num_experts) {
        if (p.batch_sizes[e] != 0) {
            ++e;
            continue;
        }
        const int64_t first = e;
        while (e < p.num_experts && p.batch_sizes[e] == 0) ++e;
        GG_TRY(zero_fill(c + static_cast<size_t>(first) * expert_bytes, static_cast<size_t>(e - first) * expert_bytes,
                         p.stream));
    }
    return GG_STATUS_SUCCESS;
}

}  // namespace gg
