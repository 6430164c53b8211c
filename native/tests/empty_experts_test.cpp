// How the CUTLASS backends' group rule treats empty experts (cutlass_common/group_arrays.cuh: make_group_rule,
// describe_group), without a GPU: weight gradients' empty experts on cutlass-sm90 and cutlass-sm80, accumulating calls
// and forwards, and the experts left to the decode weight-gradient kernel beside the GEMM (GroupRule::gemm_min_rows).
#include <cstdint>
#include <cstdio>

#include "cutlass_common/group_arrays.cuh"
#include "tile_choice_checks.h"

namespace gg::tile_choice_tests {

// Empty experts of weight gradients (group_arrays.cuh: make_group_rule, describe_group): cutlass-sm90 gives them no
// tiles and writes their zeros apart (zero_empty_experts.cuh); cutlass-sm80 keeps K = 1 groups on the zero operand;
// accumulating calls leave them alone either way; forwards are unaffected.
void empty_expert_rules() {
    using gg::cutlass_grouped::EmptyExperts;
    using gg::cutlass_grouped::describe_group;
    using gg::cutlass_grouped::make_group_rule;
    struct Case {
        const char* what;
        bool trans_a, accumulate;
        EmptyExperts empty;
        bool filled_apart, zero_operand;
        int32_t m, k;  // the empty group's
    } cases[] = {
        {"sm90 weight gradient", true, false, EmptyExperts::kFilledApart, true, false, 0, 0},
        {"sm90 weight gradient, accumulate", true, true, EmptyExperts::kFilledApart, false, false, 0, 0},
        {"sm80 weight gradient", true, false, EmptyExperts::kZeroOperand, false, true, 2880, 1},
        {"sm80 weight gradient, accumulate", true, true, EmptyExperts::kZeroOperand, false, false, 0, 0},
        {"sm90 forward", false, false, EmptyExperts::kFilledApart, false, false, 0, 2880},
    };
    for (const Case& c : cases) {
        gg::GmmProblem p = problem(64, 2880, 5760, 4, c.trans_a);
        p.accumulate = c.accumulate;
        const auto rule = make_group_rule(p, c.empty);
        const auto empty = describe_group(rule, 2, 64, 0);
        const auto full = describe_group(rule, 1, 0, 64);
        const bool ok = rule.empty_filled_apart == c.filled_apart && rule.zero_operand_for_empty == c.zero_operand &&
                        empty.m == c.m && empty.k == c.k && empty.zero_operands == c.zero_operand &&
                        full.m == (c.trans_a ? 2880 : 64) && full.k == (c.trans_a ? 64 : 2880) && !full.zero_operands;
        if (!ok) {
            std::printf("FAIL empty experts, %s: filled apart %d zero operand %d, empty group m=%d k=%d, full group "
                        "m=%d k=%d\n", c.what, rule.empty_filled_apart ? 1 : 0, rule.zero_operand_for_empty ? 1 : 0,
                        empty.m, empty.k, full.m, full.k);
            ++failures;
        }
    }
    // Beside the decode weight-gradient kernel (GroupRule::gemm_min_rows = 17): experts of at most 16 rows, empty ones
    // included, get no tiles, with or without accumulate; longer ones keep theirs.
    for (const bool accumulate : {false, true}) {
        gg::GmmProblem p = problem(64, 2880, 5760, 4, true);
        p.accumulate = accumulate;
        auto rule = make_group_rule(p, EmptyExperts::kFilledApart);
        rule.gemm_min_rows = 17;
        const auto empty = describe_group(rule, 0, 0, 0);
        const auto short_one = describe_group(rule, 1, 0, 16);
        const auto long_one = describe_group(rule, 2, 16, 17);
        if (empty.m != 0 || short_one.m != 0 || long_one.m != 2880 || long_one.k != 17 || long_one.zero_operands) {
            std::printf("FAIL gemm_min_rows 17%s: empty m=%d, 16 rows m=%d, 17 rows m=%d k=%d\n",
                        accumulate ? ", accumulate" : "", empty.m, short_one.m, long_one.m, long_one.k);
            ++failures;
        }
    }
}

}  // namespace gg::tile_choice_tests
