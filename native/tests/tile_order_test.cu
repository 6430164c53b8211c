// The cutlass-sm90 tile walk (cutlass_sm90/group_tile_order.cuh) on a GPU, without a GEMM: every real output
// tile of every group is visited exactly once, padding tiles (a cluster's share beyond a group's edge) at most
// once, nothing outside the padded grid, and every cluster runs exactly the runs the round-robin deal gives it.
// Random group shapes (empty groups, more than 32 groups, more clusters than tiles, reductions from 0 rows to
// thousands), several run sizes, both walk directions and the three cluster shapes the kernels use; for clusters
// of one CTA also with claimed runs (a shared counter), where the shares depend on timing and only the totals are
// checked.
// Exit code 77 (ctest: skipped) without a CUDA device.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <chrono>
#include <vector>

#include "cutlass_sm90/group_tile_order.cuh"

namespace {

using gg::cutlass_sm90::GroupTileShapes;
using Shape = GroupTileShapes::UnderlyingProblemShape;

#define CHECK_CUDA(x)                                                                         \
    do {                                                                                      \
        cudaError_t e_ = (x);                                                                 \
        if (e_ != cudaSuccess) {                                                              \
            std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
            std::exit(1);                                                                     \
        }                                                                                     \
    } while (0)

struct Layout {
    const int64_t* tile_base;   // [groups] first slot of the group's padded tile grid in `visits`
    const int32_t* padded_m;    // [groups] padded tiles along M (whole clusters)
    const int32_t* padded_n;    // [groups]
};

// One warp per CTA; CTA b is CTA (b % (CM * CN)) of cluster b / (CM * CN).
template <int TM, int TN, int CM, int CN>
__global__ void walk_kernel(GroupTileShapes shapes, uint64_t clusters, bool along_n, Layout layout, int* visits,
                            unsigned long long* cluster_units, int* errors, int64_t max_steps) {
    using Walk = gg::cutlass_sm90::GroupTileWalk<TM, TN, CM, CN>;
    const uint64_t cluster = blockIdx.x / (CM * CN);
    const int rank = blockIdx.x % (CM * CN);
    const int offset_m = rank / CN, offset_n = rank % CN;
    Walk walk;
    walk.start(cluster, clusters, offset_m, offset_n, along_n);
    typename Walk::Tile t = walk.current(shapes);
    for (int64_t steps = 0; t.valid && steps <= max_steps; ++steps) {
        if (threadIdx.x == 0) {
            const bool inside = t.group >= 0 && t.group < shapes.groups() && t.m >= 0 &&
                                t.m < layout.padded_m[t.group] && t.n >= 0 && t.n < layout.padded_n[t.group];
            if (!inside) {
                atomicAdd(errors, 1);
            } else {
                atomicAdd(&visits[layout.tile_base[t.group] + int64_t(t.m) * layout.padded_n[t.group] + t.n], 1);
                if (rank == 0) atomicAdd(&cluster_units[cluster], 1ull);
            }
        }
        t = walk.advance(shapes);
    }
    if (t.valid && threadIdx.x == 0) atomicAdd(errors, 1);  // still walking after more steps than tiles
}

struct Case {
    const char* name;
    std::vector<Shape> shapes;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

template <int TM, int TN, int CM, int CN>
int run_case(const Case& c, int32_t run_rows, int32_t band, bool along_n, uint64_t clusters, bool claims,
             const char* tile_name) {
    const int groups = static_cast<int>(c.shapes.size());
    std::vector<int64_t> base(groups + 1, 0);
    std::vector<int32_t> pm(groups), pn(groups);
    using Walk = gg::cutlass_sm90::GroupTileWalk<TM, TN, CM, CN>;
    GroupTileShapes shapes(groups, nullptr, nullptr, run_rows, nullptr, 1, band);
    std::vector<uint64_t> run_units;  // units of every run, in deal order
    for (int g = 0; g < groups; ++g) {
        const int64_t m = cute::get<0>(c.shapes[g]), n = cute::get<1>(c.shapes[g]);
        pm[g] = static_cast<int32_t>(Walk::units_m(m) * CM);
        pn[g] = static_cast<int32_t>(Walk::units_n(n) * CN);
        base[g + 1] = base[g] + int64_t(pm[g]) * pn[g];
        const uint64_t units = uint64_t(Walk::units_m(m) * Walk::units_n(n));
        const uint64_t run = static_cast<uint64_t>(shapes.run_length(cute::get<2>(c.shapes[g]), int64_t(units)));
        if (run < 1 || (units > 0 && units % run != 0)) {
            std::printf("FAIL %s: group %d of %llu units has runs of %llu\n", c.name, g,
                        static_cast<unsigned long long>(units), static_cast<unsigned long long>(run));
            return 1;
        }
        for (uint64_t u = 0; u < units; u += run) run_units.push_back(std::min(run, units - u));
    }
    const int64_t slots = std::max<int64_t>(base[groups], 1);

    Shape* d_shapes = nullptr;
    int64_t* d_base = nullptr;
    int32_t *d_pm = nullptr, *d_pn = nullptr;
    int *d_visits = nullptr, *d_errors = nullptr;
    unsigned long long* d_units = nullptr;
    uint32_t* d_claims = nullptr;
    CHECK_CUDA(cudaMalloc(&d_shapes, sizeof(Shape) * std::max(groups, 1)));
    CHECK_CUDA(cudaMalloc(&d_base, sizeof(int64_t) * (groups + 1)));
    CHECK_CUDA(cudaMalloc(&d_pm, sizeof(int32_t) * std::max(groups, 1)));
    CHECK_CUDA(cudaMalloc(&d_pn, sizeof(int32_t) * std::max(groups, 1)));
    CHECK_CUDA(cudaMalloc(&d_visits, sizeof(int) * slots));
    CHECK_CUDA(cudaMalloc(&d_errors, sizeof(int)));
    CHECK_CUDA(cudaMalloc(&d_units, sizeof(unsigned long long) * clusters));
    CHECK_CUDA(cudaMalloc(&d_claims, sizeof(uint32_t)));
    CHECK_CUDA(cudaMemset(d_claims, 0, sizeof(uint32_t)));
    if (groups > 0) {
        CHECK_CUDA(cudaMemcpy(d_shapes, c.shapes.data(), sizeof(Shape) * groups, cudaMemcpyHostToDevice));
        CHECK_CUDA(cudaMemcpy(d_pm, pm.data(), sizeof(int32_t) * groups, cudaMemcpyHostToDevice));
        CHECK_CUDA(cudaMemcpy(d_pn, pn.data(), sizeof(int32_t) * groups, cudaMemcpyHostToDevice));
    }
    CHECK_CUDA(cudaMemcpy(d_base, base.data(), sizeof(int64_t) * (groups + 1), cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemset(d_visits, 0, sizeof(int) * slots));
    CHECK_CUDA(cudaMemset(d_errors, 0, sizeof(int)));
    CHECK_CUDA(cudaMemset(d_units, 0, sizeof(unsigned long long) * clusters));

    shapes.problem_shapes = d_shapes;
    shapes.claim_counter = claims ? d_claims : nullptr;
    walk_kernel<TM, TN, CM, CN><<<static_cast<unsigned>(clusters * CM * CN), 32>>>(
        shapes, clusters, along_n, Layout{d_base, d_pm, d_pn}, d_visits, d_units, d_errors, base[groups] + 1);
    CHECK_CUDA(cudaGetLastError());
    CHECK_CUDA(cudaDeviceSynchronize());

    std::vector<int> visits(slots);
    std::vector<unsigned long long> units(clusters);
    int errors = 0;
    CHECK_CUDA(cudaMemcpy(visits.data(), d_visits, sizeof(int) * slots, cudaMemcpyDeviceToHost));
    CHECK_CUDA(cudaMemcpy(units.data(), d_units, sizeof(unsigned long long) * clusters, cudaMemcpyDeviceToHost));
    CHECK_CUDA(cudaMemcpy(&errors, d_errors, sizeof(int), cudaMemcpyDeviceToHost));
    for (void* p : {(void*)d_shapes, (void*)d_base, (void*)d_pm, (void*)d_pn, (void*)d_visits, (void*)d_errors,
                    (void*)d_units, (void*)d_claims}) {
        CHECK_CUDA(cudaFree(p));
    }

    int bad = 0;
    char what[256];
    std::snprintf(what, sizeof(what), "%s, tile %s, runs of %d rows, bands of %d, along %s, %llu clusters%s", c.name,
                  tile_name, run_rows, band, along_n ? "N" : "M", static_cast<unsigned long long>(clusters),
                  claims ? ", claimed" : "");
    if (errors != 0) {
        std::printf("FAIL %s: %d visits outside the padded tile grid or past the step budget\n", what, errors);
        ++bad;
    }
    for (int g = 0; g < groups && bad < 5; ++g) {
        const int64_t real_m = ceil_div(cute::get<0>(c.shapes[g]), TM), real_n = ceil_div(cute::get<1>(c.shapes[g]), TN);
        for (int32_t m = 0; m < pm[g]; ++m) {
            for (int32_t n = 0; n < pn[g]; ++n) {
                const int v = visits[base[g] + int64_t(m) * pn[g] + n];
                const bool real = m < real_m && n < real_n;
                if ((real && v != 1) || (!real && v > 1)) {
                    if (bad < 5) std::printf("FAIL %s: group %d tile (%d, %d) visited %d times\n", what, g, m, n, v);
                    ++bad;
                }
            }
        }
    }
    // Cluster c runs runs c, c + clusters, c + 2 * clusters, ... (with claims: all clusters together run every unit)
    if (claims) {
        unsigned long long ran = 0, want = 0;
        for (uint64_t cl = 0; cl < clusters; ++cl) ran += units[cl];
        for (uint64_t u : run_units) want += u;
        if (ran != want) {
            std::printf("FAIL %s: the clusters ran %llu units, the groups have %llu\n", what, ran, want);
            ++bad;
        }
    }
    for (uint64_t cl = 0; cl < clusters && !claims && bad < 5; ++cl) {
        uint64_t want = 0;
        for (uint64_t q = cl; q < run_units.size(); q += clusters) want += run_units[q];
        if (units[cl] != want) {
            std::printf("FAIL %s: cluster %llu ran %llu units, its share is %llu\n", what,
                        static_cast<unsigned long long>(cl), static_cast<unsigned long long>(units[cl]),
                        static_cast<unsigned long long>(want));
            ++bad;
        }
    }
    return bad == 0 ? 0 : 1;
}

// xorshift64*: fresh counts every run (<random> does not build under every nvcc host compiler pairing).
struct Rng {
    uint64_t state;
    uint64_t next() {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        return state * 0x2545F4914F6CDD1DULL;
    }
    double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
};

std::vector<Case> make_cases() {
    Rng rng{static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) | 1};
    std::vector<Case> cases;
    // Rows dealt to experts uniformly or with probability proportional to 1/(e+1); every `empty_every`-th expert
    // gets none.
    auto counts = [&](int experts, int64_t rows, bool zipf, int empty_every) {
        std::vector<double> cdf(experts);
        double sum = 0;
        for (int e = 0; e < experts; ++e) cdf[e] = sum += zipf ? 1.0 / (e + 1) : 1.0;
        std::vector<int64_t> c(experts, 0);
        for (int64_t r = 0; r < rows; ++r) {
            const double u = rng.uniform() * sum;
            const int e = static_cast<int>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
            if (e >= experts || (empty_every > 0 && e % empty_every == 0)) continue;
            ++c[e];
        }
        return c;
    };
    auto forward = [](const std::vector<int64_t>& c, int n, int k) {
        std::vector<Shape> s;
        for (auto m : c) s.emplace_back(static_cast<int>(m), n, k);
        return s;
    };
    auto weight_grad = [](const std::vector<int64_t>& c, int k_rows, int n) {
        std::vector<Shape> s;
        for (auto m : c) s.emplace_back(k_rows, n, static_cast<int>(m));
        return s;
    };
    cases.push_back({"seed-300M-like forward, uniform", forward(counts(80, 16384, false, 0), 2048, 512)});
    cases.push_back({"seed-300M-like weight gradient, zipf", weight_grad(counts(80, 16384, true, 0), 512, 2048)});
    cases.push_back({"qwen-like forward, zipf, odd n", forward(counts(64, 98304, true, 0), 1408, 4096)});
    cases.push_back({"300 experts, every 7th empty", forward(counts(300, 40000, false, 7), 264, 128)});
    cases.push_back({"300 experts weight gradient, every 5th empty", weight_grad(counts(300, 40000, true, 5), 136, 520)});
    cases.push_back({"one expert", forward({5000}, 1000, 64)});
    cases.push_back({"every expert empty", forward({0, 0, 0, 0}, 512, 512)});
    // A routed forward whose contiguous kernel was chosen (cutlass_common/group_arrays_fill.cuh: route_call): the grouped
    // GEMM's walk over groups of no rows only, 32 at a time, past a partial last step.
    cases.push_back({"1000 experts, every one empty", forward(std::vector<int64_t>(1000, 0), 512, 256)});
    cases.push_back({"odd sizes", forward({1, 129, 255, 257, 0, 3}, 129, 7)});
    return cases;
}

template <int TM, int TN, int CM, int CN>
int run_tile(const std::vector<Case>& cases, const char* tile_name, int sms, int* runs) {
    int failures = 0;
    const uint64_t cluster_counts[] = {1, 7, uint64_t(sms) / (CM * CN), uint64_t(2 * sms) / (CM * CN), 5000};
    for (const Case& c : cases) {
        for (int32_t run_rows : {0, 700, 2048, 1 << 20}) {
            // No bands, bands that leave a narrower last band, bands wider than most groups.
            for (int32_t band : {0, 3, 16}) {
                for (bool along_n : {false, true}) {
                    for (uint64_t clusters : cluster_counts) {
                        for (bool claims : {false, true}) {
                            if (claims && CM * CN != 1) continue;  // the walk claims for clusters of one CTA only
                            failures += run_case<TM, TN, CM, CN>(c, run_rows, band, along_n, clusters, claims,
                                                                 tile_name);
                            ++*runs;
                        }
                    }
                }
            }
        }
    }
    return failures;
}

// How far the scheduler claims ahead (GroupTileShapes::claims_ahead_after), on the host: claim_ahead within
// [1, stages - 1], and 1 after a tile of long_rows' reduction or more.
int claims_ahead_checks() {
    const struct {
        int32_t claim_ahead, long_rows;
        int64_t k;
        int32_t stages, want;
    } cases[] = {{4, 0, 100000, 8, 4},   {4, 4096, 4095, 8, 4}, {4, 4096, 4096, 8, 1}, {4, 4096, 0, 8, 4},
                 {7, 0, 10, 4, 3},       {0, 0, 10, 4, 1},      {2, 1, 1, 4, 1},       {4, 4096, 1 << 30, 2, 1}};
    int failures = 0;
    for (const auto& c : cases) {
        GroupTileShapes shapes;
        shapes.claim_ahead = c.claim_ahead;
        shapes.long_rows = c.long_rows;
        const int32_t got = shapes.claims_ahead_after(c.k, c.stages);
        if (got != c.want) {
            std::printf("FAIL claims ahead: claim_ahead %d, long_rows %d, k %lld, stages %d: got %d, want %d\n",
                        c.claim_ahead, c.long_rows, static_cast<long long>(c.k), c.stages, got, c.want);
            ++failures;
        }
    }
    return failures;
}

}  // namespace

int main() {
    if (claims_ahead_checks() != 0) return 1;
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        std::printf("no CUDA device: skipped\n");
        return 77;
    }
    cudaDeviceProp prop{};
    CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
    const std::vector<Case> cases = make_cases();
    int runs = 0, failures = 0;
    failures += run_tile<128, 256, 1, 1>(cases, "128x256 1x1", prop.multiProcessorCount, &runs);
    failures += run_tile<128, 256, 2, 1>(cases, "128x256 2x1", prop.multiProcessorCount, &runs);
    failures += run_tile<128, 128, 1, 2>(cases, "128x128 1x2", prop.multiProcessorCount, &runs);
    failures += run_tile<256, 128, 1, 1>(cases, "256x128 1x1", prop.multiProcessorCount, &runs);
    std::printf("tile order: %d of %d walks correct\n", runs - failures, runs);
    return failures == 0 ? 0 : 1;
}
