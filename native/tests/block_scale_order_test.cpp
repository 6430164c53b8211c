// The block-scaled FP8 call's scale order (cutlass_sm90/block_scale_order.h) and workspace (scaled_sm90_workspace.h:
// BlockScaleWorkspace), on the host: for counts with empty experts, one expert holding every row and rows past the
// experts' end, every a scale of a row inside an expert lands once, inside that expert's compact block starting at its
// first row times k_blocks, in the MN-major order CUTLASS's tile_atom_to_shape_SFA gives a group (rows fastest: row r,
// k block kb at kb * rows + r); every b scale lands once in its expert's [k_blocks][n_blocks] block, n blocks fastest;
// the workspace's pieces are 256-byte aligned, in order and disjoint.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "cutlass_sm90/block_scale_order.h"
#include "cutlass_sm90/scaled_sm90_workspace.h"

namespace {

int failures = 0;

void check(bool ok, const char* what, long long a, long long b) {
    if (ok) return;
    ++failures;
    std::printf("FAIL %s (%lld, %lld)\n", what, a, b);
}

// counts -> offsets clamped to m, as the fills scan them.
std::vector<int64_t> offsets_of(const std::vector<int64_t>& counts, int64_t m) {
    std::vector<int64_t> off(counts.size() + 1, 0);
    for (size_t e = 0; e < counts.size(); ++e) {
        const int64_t next = off[e] + counts[e];
        off[e + 1] = next < m ? next : m;
    }
    return off;
}

void a_scales(const std::vector<int64_t>& counts, int64_t m, int64_t k_blocks) {
    using namespace gg::cutlass_sm90;
    const int64_t experts = static_cast<int64_t>(counts.size());
    const std::vector<int64_t> off = offsets_of(counts, m);
    std::vector<int> hits(static_cast<size_t>(m * k_blocks), 0);
    for (int64_t row = 0; row < off[experts]; ++row) {
        const int64_t e = expert_of_row(off.data(), experts, row);
        check(off[e] <= row && row < off[e + 1], "expert_of_row: the row inside its expert", row, e);
        const int64_t first = off[e], rows = off[e + 1] - first;
        for (int64_t kb = 0; kb < k_blocks; ++kb) {
            const int64_t at = a_block_scale_index(first, rows, k_blocks, row, kb);
            check(at >= first * k_blocks && at < (first + rows) * k_blocks, "a scale inside its expert's block", row, kb);
            check(at - first * k_blocks == kb * rows + (row - first), "a scale MN-major in its block", row, kb);
            if (at >= 0 && at < m * k_blocks) ++hits[static_cast<size_t>(at)];
        }
    }
    for (int64_t i = 0; i < off[experts] * k_blocks; ++i) check(hits[static_cast<size_t>(i)] == 1, "a slot written once", i, 0);
}

void b_scales(int64_t experts, int64_t k_blocks, int64_t n_blocks) {
    using namespace gg::cutlass_sm90;
    std::vector<int> hits(static_cast<size_t>(experts * k_blocks * n_blocks), 0);
    for (int64_t e = 0; e < experts; ++e) {
        for (int64_t nb = 0; nb < n_blocks; ++nb) {
            for (int64_t kb = 0; kb < k_blocks; ++kb) {
                const int64_t at = b_block_scale_index(e, k_blocks, n_blocks, nb, kb);
                check(at - e * k_blocks * n_blocks == kb * n_blocks + nb, "b scale n blocks fastest in its block", e, at);
                ++hits[static_cast<size_t>(at)];
            }
        }
    }
    for (size_t i = 0; i < hits.size(); ++i) check(hits[i] == 1, "b slot written once", static_cast<long long>(i), 0);
}

void workspace() {
    for (int64_t experts : {1, 3, 64, 129, 1024}) {
        for (int64_t m : {0, 1, 7, 4096}) {
            const size_t start = 256 * 5;
            const gg::cutlass_sm90::BlockScaleWorkspace w(start, m, experts, 56, 32, 20, 20);
            const size_t e = static_cast<size_t>(experts);
            const size_t starts[] = {w.a_scales, w.b_scales, w.layouts_a, w.layouts_b, w.total};
            const size_t sizes[] = {static_cast<size_t>(m) * 56 * 4, e * 56 * 32 * 4, e * 20, e * 20};
            check(w.a_scales >= start, "block workspace after the plan", static_cast<long long>(w.a_scales), 0);
            for (int i = 0; i < 4; ++i) {
                check(starts[i] % 256 == 0 && starts[i] + sizes[i] <= starts[i + 1], "block workspace pieces",
                      static_cast<long long>(experts), i);
            }
        }
    }
}

}  // namespace

int main() {
    a_scales({3, 0, 5, 1, 0, 0, 7}, 16, 4);
    a_scales({0, 0, 9}, 9, 3);        // one expert holds every row, empty ones before it
    a_scales({5, 5, 5}, 12, 2);       // the offsets clamp to m: the last expert has 2 rows
    a_scales({2, 0, 1}, 10, 5);       // rows past the experts' end (device counts summing to less than m)
    a_scales({1}, 1, 56);             // one row, deepseek's 7168 / 128 k blocks
    std::vector<int64_t> many(256);
    for (size_t e = 0; e < many.size(); ++e) many[e] = static_cast<int64_t>((e * 7) % 5);
    a_scales(many, 512, 16);
    b_scales(1, 1, 1);
    b_scales(8, 56, 32);
    b_scales(3, 5, 7);
    workspace();
    if (failures == 0) std::printf("block scale order: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
