// The decode kernels' rows (backends/decode_groups.h) without a GPU: for counts as the device may hold them (valid,
// negative, past m, summing to less or more than m), the offsets and groups built by the kernel's rules give every row
// an expert holds to exactly one group of at most 16 rows of that expert, leave the rows past the clamped sum to the
// zero block, and fit the grid's x extent (group_bound); the grid's y extent (grid_column_blocks) stays within a grid.
// The kernels' products are checked on a GPU host by native/tests/fp8_parity.py, gmm_parity.py and the decode tests.
// With --weight-bytes it reads lines "m experts k n element_bytes" and prints weight_bytes_bound of each instead: the
// gg_decode_rules ctest compares bench/sweep/decode_rules.py's own weight_bytes with it on every measured row.
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "backends/decode_groups.h"

namespace {

using namespace gg::decode_groups;

int failures = 0;

void check(const std::vector<int64_t>& counts, int64_t m, const char* what) {
    const int64_t experts = static_cast<int64_t>(counts.size());
    // The kernel's scan, sequentially: clamped counts, clamped prefix offsets, then the groups of the clamped rows.
    std::vector<int64_t> offsets(experts + 1);
    std::vector<int32_t> groups(experts + 1);
    int64_t running = 0;
    for (int64_t e = 0; e <= experts; ++e) {
        offsets[e] = clamped_offset(running, m);
        if (e < experts) running += clamped_count(counts[e], m);
    }
    int64_t g = 0;
    for (int64_t e = 0; e <= experts; ++e) {
        groups[e] = static_cast<int32_t>(g);
        if (e < experts) g += groups_of(offsets[e + 1] - offsets[e]);
    }
    const int32_t total = groups[experts];
    std::vector<int> covered(static_cast<size_t>(m), 0);
    int64_t bad = 0;
    for (int32_t group = 0; group < total; ++group) {
        const Group r = find_group(offsets.data(), groups.data(), experts, group);
        const bool ok = r.expert >= 0 && r.expert < experts && r.row0 >= offsets[r.expert] && r.row0 < r.row_end &&
                        r.row_end <= offsets[r.expert + 1] && r.row_end - r.row0 <= kGroupRows;
        if (!ok) {
            ++bad;
            continue;
        }
        for (int64_t row = r.row0; row < r.row_end; ++row) ++covered[static_cast<size_t>(row)];
    }
    int64_t missed = 0, twice = 0, past_end = 0;
    for (int64_t row = 0; row < m; ++row) {
        const int c = covered[static_cast<size_t>(row)];
        if (row < offsets[experts]) {
            missed += c == 0;
            twice += c > 1;
        } else {
            past_end += c != 0;  // the zero block's rows: no group may write them
        }
    }
    const bool fits = total + 1 <= group_bound(m, experts);
    if (bad || missed || twice || past_end || !fits || offsets[experts] > m) {
        ++failures;
        std::printf("FAIL %s (E %lld, m %lld): %lld bad groups, %lld rows missed, %lld twice, %lld past the end written, "
                    "%d groups for a bound of %lld\n", what, static_cast<long long>(experts), static_cast<long long>(m),
                    static_cast<long long>(bad), static_cast<long long>(missed), static_cast<long long>(twice),
                    static_cast<long long>(past_end), total, static_cast<long long>(group_bound(m, experts)));
    }
}

// Counts of `experts` experts summing to m, drawn as routing would: each row to a random expert, or all to one.
std::vector<int64_t> routed(std::mt19937_64& rng, int64_t experts, int64_t m, bool dominant) {
    std::vector<int64_t> counts(static_cast<size_t>(experts), 0);
    std::uniform_int_distribution<int64_t> pick(0, experts - 1);
    const int64_t one = pick(rng);
    for (int64_t row = 0; row < m; ++row) ++counts[static_cast<size_t>(dominant ? one : pick(rng))];
    return counts;
}

}  // namespace

// weight_bytes_bound of each input line, for the Python twin's check.
int print_weight_bytes() {
    long long m, experts, k, n, element_bytes;
    while (std::scanf("%lld %lld %lld %lld %lld", &m, &experts, &k, &n, &element_bytes) == 5) {
        std::printf("%.17g\n", weight_bytes_bound(m, experts, k, n, element_bytes));
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 2 && std::strcmp(argv[1], "--weight-bytes") == 0) return print_weight_bytes();
    std::mt19937_64 rng(7);
    const int64_t expert_counts[] = {1, 3, 8, 64, 128, 1024};
    const int64_t row_counts[] = {1, 5, 16, 17, 64, 255, 256};
    for (int64_t experts : expert_counts) {
        for (int64_t m : row_counts) {
            for (int trial = 0; trial < 4; ++trial) {
                check(routed(rng, experts, m, false), m, "spread");
                check(routed(rng, experts, m, true), m, "one expert");
                // Bad device counts (check_counts off): a negative count, one past m, a sum short of m.
                std::vector<int64_t> bad = routed(rng, experts, m, false);
                bad[0] = -5;
                check(bad, m, "a negative count");
                bad[bad.size() - 1] = m + 3;
                check(bad, m, "a count past m");
                std::vector<int64_t> short_sum = routed(rng, experts, m / 2, false);
                check(short_sum, m, "a sum short of m");
            }
        }
    }
    check(std::vector<int64_t>(1024, 0), 64, "no rows held");
    // The grid's y extent (grid_column_blocks): at least one block, at most one per column block and within a grid's
    // 65535, and about kTargetBlocks blocks in all once there are enough pairs of group and column block.
    const int64_t group_bounds[] = {1, 2, 9, 137, 273, 1025, 1281};
    const int64_t widths[] = {8, 32, 40, 1536, 5120, 65536, 65535LL * 32, 65536LL * 32, 1LL << 26};
    for (int64_t groups : group_bounds) {
        for (int64_t n : widths) {
            const int64_t y = grid_column_blocks(groups, n), pairs = groups * column_blocks(n);
            const int64_t blocks = groups * y;
            const bool ok = y >= 1 && y <= column_blocks(n) && y <= 65535 &&
                            (pairs <= kTargetBlocks ? blocks == pairs : blocks >= kTargetBlocks &&
                                                                       blocks < kTargetBlocks + groups);
            if (!ok) {
                ++failures;
                std::printf("FAIL grid_column_blocks(%lld groups, n %lld) = %lld (%lld column blocks)\n",
                            static_cast<long long>(groups), static_cast<long long>(n), static_cast<long long>(y),
                            static_cast<long long>(column_blocks(n)));
            }
        }
    }
    std::printf("%s\n", failures ? "decode groups: FAILED" : "decode groups: every held row in exactly one group");
    return failures ? 1 : 0;
}
