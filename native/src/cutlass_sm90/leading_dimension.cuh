// The per-group strides and shapes of CUTLASS 3.x ptr-array kernels, as the group arrays hold them: each stride has
// one dynamic (int64) mode and static 1 and 0 modes, so an array of strides is an array of int64 leading dimensions,
// and a problem shape is three ints. The fill kernels (cutlass_common/group_arrays.cuh for bf16/fp16,
// scaled_launch_sm90.cuh for FP8) write those int64 and int words directly; array_layouts_match checks once, on the host,
// that CUTLASS's types are those bytes.
//
// Why the fills do not build the stride objects on the device: the FP8 fill did that with stride_with_leading_dimension
// and, on its first GPU runs (H100, CUDA 13.0, 2026-12-05/06), left every stride 0 while the shapes and pointers
// written next to them were right (the kernel then wrote only row 0 of each group). Writing the int64 word, as the
// bf16 fill always has, gives the right strides.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cute/tensor.hpp"

namespace gg::cutlass_sm90 {

// The stride whose one dynamic mode is `ld` (the int64 mode: 0 for a K-major operand, else 1). Host only.
template <class Stride>
Stride stride_with_leading_dimension(int64_t ld) {
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

// Whether Config's StrideA..D are each one int64 leading dimension and its UnderlyingShape three ints in (M, N, K)
// order: the byte layouts the fills write, which static_asserts on sizes alone cannot see (member order). Checked once.
template <class Config>
bool array_layouts_match() {
    static_assert(sizeof(typename Config::StrideA) == sizeof(int64_t) &&
                      sizeof(typename Config::StrideB) == sizeof(int64_t) &&
                      sizeof(typename Config::StrideC) == sizeof(int64_t) &&
                      sizeof(typename Config::StrideD) == sizeof(int64_t),
                  "each grouped stride must hold exactly one int64 (the leading dimension)");
    static_assert(sizeof(typename Config::UnderlyingShape) == 3 * sizeof(int32_t), "problem shapes must be three ints");
    static const bool ok = [] {
        const typename Config::UnderlyingShape shape{11, 22, 33};
        int32_t ints[3] = {};
        std::memcpy(ints, &shape, sizeof(ints));
        bool good = ints[0] == 11 && ints[1] == 22 && ints[2] == 33;
        auto holds = [](auto stride) {
            int64_t value = 0;
            std::memcpy(&value, &stride, sizeof(value));
            return value == 1234567;
        };
        good = good && holds(stride_with_leading_dimension<typename Config::StrideA>(1234567));
        good = good && holds(stride_with_leading_dimension<typename Config::StrideB>(1234567));
        good = good && holds(stride_with_leading_dimension<typename Config::StrideC>(1234567));
        good = good && holds(stride_with_leading_dimension<typename Config::StrideD>(1234567));
        return good;
    }();
    return ok;
}

}  // namespace gg::cutlass_sm90
