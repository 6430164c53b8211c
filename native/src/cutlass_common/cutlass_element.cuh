// The CUTLASS element type of each gg_dtype the CUTLASS backends take, for both backends' kernel TUs.
#pragma once

#include "cutlass/bfloat16.h"
#include "cutlass/half.h"

#include "groupedgemm/groupedgemm.h"

namespace gg::cutlass_grouped {

template <gg_dtype DType>
struct CutlassElement;
template <>
struct CutlassElement<GG_DTYPE_BFLOAT16> {
    using type = cutlass::bfloat16_t;
};
template <>
struct CutlassElement<GG_DTYPE_FLOAT16> {
    using type = cutlass::half_t;
};

}  // namespace gg::cutlass_grouped
