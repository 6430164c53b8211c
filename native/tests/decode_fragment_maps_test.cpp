// The decode kernels' operand maps (backends/decode_fragment_maps.h) without a GPU: one warp's chunk played on the host
// with the fragment layouts of PTX's mma.sync (m16n8k16 for bf16 / fp16, m16n8k32 for FP8) and movmatrix.trans, fed the
// way the kernels feed them (cutlass_common/decode_forward.cuh, fp8/scaled_gmm_decode.cu), must give the exact integer
// product of the chunk for both weight layouts: a map that drops, repeats or misplaces a k position or a column fails.
// The kernels themselves are checked on a GPU host (native/tests/gmm_parity.py, fp8_parity.py and the .NET GPU suite).
#include <array>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "backends/decode_fragment_maps.h"

namespace {

using gg::decode_groups::decode_output_column;
using gg::decode_groups::forward_k_of;
using gg::decode_groups::lane_word_byte;

constexpr int kLanes = 32, kRows = 16;
int failures = 0;

// A 32-bit register as the elements it packs: 2 of 16 bits, or 4 of 8 bits.
using Word = std::array<int64_t, 4>;

// mma.sync.m16n8k(8 per) .row.col: A is 16 x K (K = 8 per), B is K x 8, each lane (g = lane / 4, t = lane % 4) holds
// A registers {row g, row g + 8} x {k per*t .., k K/2 + per*t ..} in the order (g, lo), (g + 8, lo), (g, hi), (g + 8, hi),
// B registers k per*t .. and K/2 + per*t .. of column g, and adds D rows g and g + 8, columns 2t and 2t + 1.
void mma(int per, const Word (&a)[kLanes][4], const Word (&b)[kLanes][2], int64_t (&d)[kLanes][4]) {
    const int k_depth = 8 * per;
    std::vector<std::vector<int64_t>> am(kRows, std::vector<int64_t>(k_depth)), bm(k_depth, std::vector<int64_t>(8));
    for (int lane = 0; lane < kLanes; ++lane) {
        const int g = lane / 4, t = lane % 4;
        for (int r = 0; r < 4; ++r) {
            for (int i = 0; i < per; ++i) am[g + 8 * (r % 2)][(r / 2) * (k_depth / 2) + per * t + i] = a[lane][r][i];
        }
        for (int r = 0; r < 2; ++r) {
            for (int i = 0; i < per; ++i) bm[r * (k_depth / 2) + per * t + i][g] = b[lane][r][i];
        }
    }
    for (int lane = 0; lane < kLanes; ++lane) {
        const int g = lane / 4, t = lane % 4;
        for (int q = 0; q < 4; ++q) {
            const int row = g + 8 * (q / 2), col = 2 * t + q % 2;
            for (int k = 0; k < k_depth; ++k) d[lane][q] += am[row][k] * bm[k][col];
        }
    }
}

// movmatrix.sync.m8n8.trans.b16: lane (g, t) holds row g, elements 2t and 2t + 1, of an 8 x 8 matrix; after it, of the
// transpose.
void movmatrix_trans(const Word (&in)[kLanes], Word (&out)[kLanes]) {
    int64_t m[8][8];
    for (int lane = 0; lane < kLanes; ++lane) {
        m[lane / 4][2 * (lane % 4)] = in[lane][0];
        m[lane / 4][2 * (lane % 4) + 1] = in[lane][1];
    }
    for (int lane = 0; lane < kLanes; ++lane) {
        out[lane] = Word{m[2 * (lane % 4)][lane / 4], m[2 * (lane % 4) + 1][lane / 4], 0, 0};
    }
}

// Word w of lane t of a k-contiguous row of `per`-element words (load_lane_bytes).
Word row_word(const std::vector<int64_t>& row, int per, int t, int w) {
    Word out{};
    const int first = lane_word_byte(t, w) / (4 / per);
    for (int i = 0; i < per; ++i) out[i] = row[first + i];
    return out;
}

// One warp's chunk: x is 16 x depth (k contiguous); w is cols x depth (trans_b) or depth x cols (forward), in
// `groups` column groups of 8; per = elements per word (2: bf16 / fp16, 64-deep chunk; 4: FP8, 128-deep).
void check(const char* what, int per, bool trans_b, int groups, std::mt19937_64& rng) {
    const int depth = 32 * per, cols = 8 * groups;
    std::uniform_int_distribution<int> value(-9, 9);
    std::vector<std::vector<int64_t>> x(kRows, std::vector<int64_t>(depth));
    for (auto& row : x)
        for (auto& v : row) v = value(rng);
    // wt[c][k] whatever the layout; the forward layout reads it as w[k][c].
    std::vector<std::vector<int64_t>> wt(cols, std::vector<int64_t>(depth));
    for (auto& row : wt)
        for (auto& v : row) v = value(rng);

    std::vector<std::vector<int64_t>> out(kRows, std::vector<int64_t>(cols, 0));
    bool placed_twice = false;
    std::vector<std::vector<int>> writes(kRows, std::vector<int>(cols, 0));
    for (int h = 0; h < groups; ++h) {
        int64_t d[kLanes][4] = {};
        for (int j = 0; j < 4; ++j) {
            Word a[kLanes][4], b[kLanes][2];
            for (int lane = 0; lane < kLanes; ++lane) {
                const int g = lane / 4, t = lane % 4;
                a[lane][0] = row_word(x[g], per, t, 2 * j);
                a[lane][1] = row_word(x[g + 8], per, t, 2 * j);
                a[lane][2] = row_word(x[g], per, t, 2 * j + 1);
                a[lane][3] = row_word(x[g + 8], per, t, 2 * j + 1);
                if (trans_b) {
                    b[lane][0] = row_word(wt[8 * h + g], per, t, 2 * j);
                    b[lane][1] = row_word(wt[8 * h + g], per, t, 2 * j + 1);
                }
            }
            if (!trans_b) {
                // Lane (g, t) loads weight row forward_k_of(j, half, g), columns 8t .. 8t + 7; group h is its word h.
                for (int half = 0; half < 2; ++half) {
                    Word loaded[kLanes], moved[kLanes];
                    for (int lane = 0; lane < kLanes; ++lane) {
                        const int g = lane / 4, t = lane % 4, k = forward_k_of(j, half, g);
                        loaded[lane] = Word{wt[8 * t + 2 * h][k], wt[8 * t + 2 * h + 1][k], 0, 0};
                    }
                    movmatrix_trans(loaded, moved);
                    for (int lane = 0; lane < kLanes; ++lane) b[lane][half] = moved[lane];
                }
            }
            mma(per, a, b, d);
        }
        for (int lane = 0; lane < kLanes; ++lane) {
            const int g = lane / 4, t = lane % 4;
            for (int q = 0; q < 4; ++q) {
                const int row = g + 8 * (q / 2), col = decode_output_column(trans_b, h, 2 * t + q % 2);
                placed_twice |= writes[row][col]++ != 0;
                out[row][col] = d[lane][q];
            }
        }
    }
    int wrong = 0;
    for (int r = 0; r < kRows; ++r) {
        for (int c = 0; c < cols; ++c) {
            int64_t want = 0;
            for (int k = 0; k < depth; ++k) want += x[r][k] * wt[c][k];
            wrong += out[r][c] != want;
        }
    }
    if (wrong != 0 || placed_twice) {
        std::printf("FAIL %s: %d of %d outputs wrong%s\n", what, wrong, kRows * cols,
                    placed_twice ? ", an output written twice" : "");
        ++failures;
    } else {
        std::printf("ok   %s\n", what);
    }
}

}  // namespace

int main() {
    std::mt19937_64 rng(20261207);
    // Every element of a chunk's row is in exactly one lane word.
    for (int per : {2, 4}) {
        std::vector<int> seen(32 * per, 0);
        for (int t = 0; t < 4; ++t)
            for (int w = 0; w < 8; ++w)
                for (int i = 0; i < per; ++i) ++seen[lane_word_byte(t, w) / (4 / per) + i];
        for (int s : seen) {
            if (s != 1) {
                std::printf("FAIL lane words of %d-element words: an element read %d times\n", per, s);
                ++failures;
                break;
            }
        }
    }
    check("bf16 / fp16, trans_b, 4 column groups (decode_forward.cuh)", 2, true, 4, rng);
    check("bf16 / fp16, forward layout with movmatrix, 4 column groups (decode_forward.cuh)", 2, false, 4, rng);
    check("FP8, trans_b, 2 column groups (scaled_gmm_decode.cu)", 4, true, 2, rng);
    std::printf("%s (%d failures)\n", failures == 0 ? "passed" : "FAILED", failures);
    return failures == 0 ? 0 : 1;
}
