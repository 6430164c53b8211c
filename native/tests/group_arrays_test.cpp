// The host half of the CUTLASS backends' group arrays (cutlass_common/group_arrays.cuh), without a GPU: which group each
// expert's arrays take when the largest expert goes first (group_slot, more_rows) and the host tables
// build_host_groups writes in that order, with the offsets left in expert order. The device half (the fill kernels) is
// checked on a GPU host by native/tests/gmm_parity.py's "last" and "one" routings.
#include <cstdio>
#include <vector>

#include "cutlass_common/group_arrays.cuh"
#include "cutlass_sm90/tile_choice.h"
#include "gmm_problem.h"

namespace {

int failures = 0;

using gg::tests::problem;

// The largest expert trades places with expert 0; -1 and 0 leave every expert in its own group.
void group_slots() {
    using gg::cutlass_grouped::group_slot;
    const struct {
        int64_t e, largest, want;
    } slots[] = {{0, -1, 0}, {5, -1, 5}, {0, 0, 0}, {3, 0, 3}, {3, 3, 0}, {0, 3, 3}, {2, 3, 2}, {7, 3, 7}};
    for (const auto& c : slots) {
        const int64_t got = group_slot(c.e, c.largest);
        if (got != c.want) {
            std::printf("FAIL group_slot(%lld, %lld): got %lld, want %lld\n", static_cast<long long>(c.e),
                        static_cast<long long>(c.largest), static_cast<long long>(got), static_cast<long long>(c.want));
            ++failures;
        }
    }
}

// build_host_groups with cutlass-sm90's rule: weight gradients put the expert with the most rows (the lower index on
// ties) in group 0, forwards keep the experts' order.
void host_groups_largest_first() {
    const struct {
        const char* what;
        std::vector<int64_t> counts;
        bool trans_a;
        int32_t largest;             // HostGroups::largest: the expert in group 0, -1: the experts' order
        std::vector<size_t> order;  // the expert whose sizes each group holds
    } cases[] = {
        {"dominant expert last", {3, 1, 0, 20}, true, 3, {3, 1, 2, 0}},
        {"dominant expert first", {20, 1, 0, 3}, true, 0, {0, 1, 2, 3}},
        {"tie: the lower index", {2, 7, 7, 1}, true, 1, {1, 0, 2, 3}},
        {"every expert empty", {0, 0, 0}, true, 0, {0, 1, 2}},
        {"one expert", {9}, true, 0, {0}},
        {"forward: experts' order", {3, 1, 0, 20}, false, -1, {0, 1, 2, 3}},
    };
    for (const auto& c : cases) {
        int64_t m = 0;
        for (int64_t v : c.counts) m += v;
        gg::GmmProblem p = problem(m, 64, 128, static_cast<int64_t>(c.counts.size()), c.trans_a);
        p.batch_sizes = c.counts.data();
        auto rule = gg::cutlass_grouped::make_group_rule(p, gg::cutlass_grouped::EmptyExperts::kFilledApart);
        rule.largest_first = gg::cutlass_sm90::largest_expert_first(p);
        gg::cutlass_grouped::HostGroups host;
        const gg_status status = gg::cutlass_grouped::build_host_groups(p, rule, host);
        bool ok = status == GG_STATUS_SUCCESS && host.available && host.largest == c.largest;
        // Offsets in expert order; group s holds expert order[s]'s sizes (its rows are the weight gradient's K).
        std::vector<int64_t> begin(c.counts.size() + 1, 0);
        for (size_t e = 0; e < c.counts.size(); ++e) begin[e + 1] = begin[e] + c.counts[e];
        for (size_t e = 0; ok && e <= c.counts.size(); ++e) ok = host.offsets[e] == begin[e];
        for (size_t s = 0; ok && s < c.order.size(); ++s) {
            const size_t e = c.order[s];
            const auto g = gg::cutlass_grouped::describe_group(rule, static_cast<int64_t>(e), begin[e], c.counts[e]);
            ok = host.problem_sizes[3 * s] == g.m && host.problem_sizes[3 * s + 1] == g.n &&
                 host.problem_sizes[3 * s + 2] == g.k && (!c.trans_a || g.k == c.counts[e] || c.counts[e] == 0);
        }
        if (!ok) {
            std::printf("FAIL largest expert first, %s: status %d, largest %d (want %d), groups not in that order\n",
                        c.what, static_cast<int>(status), host.largest, c.largest);
            ++failures;
        }
    }
}

}  // namespace

int main() {
    group_slots();
    host_groups_largest_first();
    if (failures != 0) {
        std::printf("%d group-array check(s) failed\n", failures);
        return 1;
    }
    std::printf("group arrays: all checks passed\n");
    return 0;
}
