// A GmmProblem of the given sizes and form, everything else zero: the C++ policy tests' (tile_choice, group_arrays)
// way to name a call without the API layer.
#pragma once

#include <cstdint>

#include "core/internal.h"

namespace gg::tests {

inline GmmProblem problem(int64_t m, int64_t k, int64_t n, int64_t experts, bool trans_a) {
    GmmProblem p{};
    p.m = m;
    p.k = k;
    p.n = n;
    p.num_experts = experts;
    p.trans_a = trans_a;
    return p;
}

}  // namespace gg::tests
