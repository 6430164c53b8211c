// A CUTLASS 3.x grouped stride from a leading dimension: the per-group strides of the ptr-array kernels have one
// dynamic (int64) mode and static 1 and 0 modes. Used on the host (grouped_gemm_sm90.cuh's layout check) and on the
// device (scaled_gemm_sm90.cu's group-array fill).
#pragma once

#include <cstdint>
#include <type_traits>

#include "cute/tensor.hpp"

namespace gg::cutlass_sm90 {

// The stride whose one dynamic mode is `ld` (the int64 mode: 0 for a K-major operand, else 1).
template <class Stride>
CUTE_HOST_DEVICE Stride stride_with_leading_dimension(int64_t ld) {
    Stride s{};
    if constexpr (std::is_same_v<std::remove_cv_t<std::remove_reference_t<decltype(cute::get<0>(s))>>, int64_t>) {
        cute::get<0>(s) = ld;
    } else {
        static_assert(std::is_same_v<std::remove_cv_t<std::remove_reference_t<decltype(cute::get<1>(s))>>, int64_t>,
                      "expected the leading dimension in mode 0 or 1");
        cute::get<1>(s) = ld;
    }
    return s;
}

}  // namespace gg::cutlass_sm90
