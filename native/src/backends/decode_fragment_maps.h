// Where the decode kernels' mma.sync operands come from, as index arithmetic (backends/decode_fragments.cuh says why):
// shared by the kernels (fp8/scaled_gmm_decode.cu, cutlass_common/decode_forward.cuh) and by
// native/tests/decode_fragment_maps_test.cpp, which plays the mma and movmatrix fragment layouts on the host and checks
// that the maps give every product of a chunk exactly once. No CUDA headers.
#pragma once

#include "backends/decode_groups.h"  // GG_DECODE_HD

namespace gg::decode_groups {

// The chunk's first byte of word w (0-7) of lane t (0-3) of a k-contiguous row (load_lane_bytes): bytes [16t, 16t + 16)
// then [64 + 16t, 64 + 16t + 16), four words each.
GG_DECODE_HD constexpr int lane_word_byte(int t, int w) { return (w < 4 ? 16 * t : 64 + 16 * t) + 4 * (w % 4); }

// The decode forward kernel's forward layout (w[e] is k x n): the weight row, within a 64-deep chunk of 16-bit elements,
// that lane row r (0-7) loads for step j (0-3) and half (0: the mma's logical k 0-7, 1: k 8-15). It is the element the
// activations' words put at that logical k: word 2j + half of lane r / 2, element r % 2.
GG_DECODE_HD constexpr int forward_k_of(int j, int half, int r) {
    return lane_word_byte(r / 2, 2 * j + half) / 2 + r % 2;
}

// The output column, from a warp's first, of mma column c (0-7) of column group h: trans_b loads weight row
// 8h + g for mma column g; the forward layout's group h is word h of each lane's 16-byte load of columns 8t to 8t + 7,
// so its mma column c is column 8(c / 2) + 2h + c % 2.
GG_DECODE_HD constexpr int decode_output_column(bool trans_b, int h, int c) {
    return trans_b ? 8 * h + c : 8 * (c / 2) + 2 * h + c % 2;
}

}  // namespace gg::decode_groups
