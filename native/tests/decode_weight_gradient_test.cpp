// The decode weight-gradient kernel's blocks (cutlass_common/decode_weight_gradient_tiles.h: decode_grad_place) without a
// GPU: over every block, warp and lane of a call, the active lanes' 8 x 8 pieces cover each element of dW [E, k, n]
// exactly once and nothing outside it, for k and n at, below and past the tile sizes. The kernel's sums are checked on a
// GPU host by native/tests/gmm_parity.py --sm90-knobs GG_SM90_DECODE_WGRAD=4096.
#include <cstdio>
#include <vector>

#include "cutlass_common/decode_weight_gradient_tiles.h"

namespace {

int failures = 0;

void coverage(int64_t experts, int64_t k, int64_t n, bool mixed) {
    using namespace gg::cutlass_grouped;
    std::vector<int> writes(static_cast<size_t>(experts * k * n), 0);
    const int64_t blocks = experts * decode_grad_tiles_i(k) * decode_grad_tiles_j(n);
    int64_t outside = 0;
    for (int64_t block = 0; block < blocks; ++block) {
        for (int warp = 0; warp < kDecodeGradWarps; ++warp) {
            for (int lane = 0; lane < 32; ++lane) {
                const DecodeGradPlace p = decode_grad_place(block, warp, lane, experts, k, n, mixed);
                if (!p.active) continue;
                for (int ii = 0; ii < kDecodeGradRowsPerWarp; ++ii) {
                    for (int jj = 0; jj < kDecodeGradVector; ++jj) {
                        const int64_t i = p.i0 + ii, j = p.j + jj;
                        if (p.e < 0 || p.e >= experts || i < 0 || i >= k || j < 0 || j >= n) {
                            ++outside;
                            continue;
                        }
                        ++writes[static_cast<size_t>((p.e * k + i) * n + j)];
                    }
                }
            }
        }
    }
    int64_t missed = 0, twice = 0;
    for (int w : writes) {
        missed += w == 0;
        twice += w > 1;
    }
    if (outside != 0 || missed != 0 || twice != 0) {
        std::printf("FAIL decode weight-gradient blocks (%s), E=%lld k=%lld n=%lld: %lld writes outside dW, %lld "
                    "elements missed, %lld written twice\n", mixed ? "experts mixed" : "experts major",
                    static_cast<long long>(experts), static_cast<long long>(k),
                    static_cast<long long>(n), static_cast<long long>(outside), static_cast<long long>(missed),
                    static_cast<long long>(twice));
        ++failures;
    }
}

}  // namespace

int main() {
    const struct {
        int64_t experts, k, n;
    } shapes[] = {{1, 8, 8},     {1, 64, 256},  {3, 72, 264},   {2, 512, 1536}, {2, 520, 2056},
                  {5, 1000, 8},  {4, 8, 1000},  {40, 128, 96},  {1, 64, 512},   {7, 136, 264}};
    for (const auto& s : shapes) {
        coverage(s.experts, s.k, s.n, false);
        coverage(s.experts, s.k, s.n, true);
    }
    if (failures != 0) {
        std::printf("%d decode weight-gradient check(s) failed\n", failures);
        return 1;
    }
    std::printf("decode weight gradient: all checks passed\n");
    return 0;
}
