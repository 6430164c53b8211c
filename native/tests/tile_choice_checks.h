// What the checks of gg_tile_choice_test share: the failure count, the SM count and DRAM bandwidths of the cards the
// policy was measured on, the knob helpers, the rules-only tile check and the policy checks' grid of calls, and each
// group's entry function, which main (tile_choice_test.cpp) runs in turn. The groups live in the files named beside
// their declarations below, one rule (or one table) each, all built into the one executable
// (native/tests/CMakeLists.txt).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "cutlass_sm90/tile_choice.h"
#include "gmm_problem.h"

namespace gg::tile_choice_tests {

using gg::cutlass_sm90::Sm90Epilogue;
using gg::cutlass_sm90::Sm90Tile;
using gg::cutlass_sm90::choose_epilogue;
using gg::cutlass_sm90::choose_tile;
using gg::cutlass_sm90::read_sm90_knobs;
using gg::cutlass_sm90::tile_name;

// Failed checks, over every group: main's exit status.
inline int failures = 0;

inline constexpr int kSms = 132;  // H100 SXM / H200

// Sets a tuning knob's environment variable, or unsets it for nullptr.
inline void set_knob(const char* name, const char* value) {
    if (value == nullptr) {
        unsetenv(name);
    } else {
        setenv(name, value, 1);
    }
}

// Records a failure when a result under the knob `knob`=`value` is not the expected one; `what` names the case.
inline void expect_knob(const char* knob, const char* value, const char* what, int got, int want) {
    if (got != want) {
        std::printf("FAIL %s=%s%s%s: got %d, want %d\n", knob, value ? value : "(unset)", *what ? ", " : "", what, got,
                    want);
        ++failures;
    }
}

using gg::tests::problem;

// Peak DRAM bandwidths of the two cards the policy was measured on.
inline constexpr double kH200DramBytesPerS = 4.8e12;
inline constexpr double kH100DramBytesPerS = 3.35e12;

// The rules alone (tile_choice.h), without the measured tile table: what the cases of expect() describe. The table is
// data refreshed from measurements (bench/sweep/make_tile_table.py, checked by the gg_tile_table ctest); tile_table()
// (tile_table_test.cpp) checks that choose_tile consults it first.
inline gg::cutlass_sm90::Sm90TilePolicy rules_only_policy() {
    gg::cutlass_sm90::Sm90TilePolicy rules = gg::cutlass_sm90::kSm90TilePolicy;
    rules.use_tile_table = false;
    return rules;
}

// Records a failure when the rules alone give p (host_sizes: host counts, or nullptr) another tile than `want` on a
// card of dram_bytes_per_s; `what` names the case.
inline void expect(const char* what, const gg::GmmProblem& p, const int32_t* host_sizes, Sm90Tile want,
                   double dram_bytes_per_s = kH200DramBytesPerS) {
    const Sm90Tile got = choose_tile(p, host_sizes, kSms, dram_bytes_per_s, read_sm90_knobs(), rules_only_policy());
    if (got != want) {
        std::printf("FAIL %s: m=%lld k=%lld n=%lld E=%lld trans_a=%d: got %s, want %s\n", what,
                    static_cast<long long>(p.m), static_cast<long long>(p.k), static_cast<long long>(p.n),
                    static_cast<long long>(p.num_experts), p.trans_a ? 1 : 0, tile_name(got), tile_name(want));
        ++failures;
    }
}

// Calls f(problem, form, dram) for every call of the policy checks' grid: shapes (rows per expert, experts, k, n),
// the three operand forms (0 forward, 1 trans_b, 2 trans_a), with and without accumulation, on an H100, an H200 and
// an unknown card (0). f returns false to stop the walk.
template <typename F>
inline void for_each_policy_call(F&& f) {
    const int64_t rows_per_expert[] = {0, 1, 8, 64, 200, 256, 511, 512, 1000, 1024, 1536, 2048, 4095, 4096, 8192, 32768};
    const int64_t experts[] = {1, 2, 8, 16, 32, 60, 64, 80, 128, 256, 384, 1024, 1025, 4096};
    const int64_t dims[] = {8, 64, 120, 128, 192, 256, 384, 704, 768, 1024, 1408, 1536, 2048, 2880, 4096, 5760, 7168, 14336};
    const double cards[] = {kH100DramBytesPerS, kH200DramBytesPerS, 0.0};
    for (const int64_t rpe : rows_per_expert)
        for (const int64_t e : experts)
            for (const int64_t k : dims)
                for (const int64_t n : dims)
                    for (int form = 0; form < 3; ++form)
                        for (const bool accumulate : {false, true})
                            for (const double dram : cards) {
                                gg::GmmProblem p = problem(rpe * e, k, n, e, form == 2);
                                p.trans_b = form == 1;
                                p.accumulate = accumulate;
                                if (!f(static_cast<const gg::GmmProblem&>(p), form, dram)) return;
                            }
}

// The groups of checks, in the order main runs them, and the file of each.
void benchmark_shapes();            // tile_choice_test.cpp
void edge_shapes();                 // tile_choice_test.cpp
void epilogues();                   // tile_choice_test.cpp
void knobs();                       // tile_choice_knobs_test.cpp
void scheduler_order();             // tile_scheduler_test.cpp
void decode_choice();               // decode_choice_test.cpp
void release_kernels_cover_auto();  // tile_kernels_test.cpp
void kernel_table();                // tile_kernels_test.cpp
void empty_expert_rules();          // empty_experts_test.cpp
void split_k();                     // split_choice_test.cpp
void contiguous_tiling();           // contiguous_routing_test.cpp
void tile_table();                  // tile_table_test.cpp
void routing_rule();                // contiguous_routing_test.cpp
void decode_routing_rule();         // contiguous_routing_test.cpp

}  // namespace gg::tile_choice_tests
