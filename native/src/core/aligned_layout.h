// The layout of a workspace block: pieces one after another, each on a 256-byte boundary of the block, which
// core/workspace.cpp hands out 256-byte aligned. One rule for every block a call carves (the CUTLASS backends' group
// arrays, split-K's scratch, the FP8 kernel's arrays): CUTLASS's ptr-array kernels keep TMA descriptors in their piece,
// 64-byte aligned in global memory or the TMA instructions fault and the CUDA context dies. Host-only, no CUDA.
#pragma once

#include <cstddef>

namespace gg {

class AlignedLayout {
public:
    static constexpr size_t kAlign = 256;

    static constexpr size_t round_up(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

    // The offset of a piece of `bytes` bytes after the pieces taken so far.
    size_t take(size_t bytes) {
        const size_t here = at_;
        at_ = round_up(at_ + bytes);
        return here;
    }

    // The block's bytes so far, a multiple of kAlign.
    size_t total() const { return at_; }

private:
    size_t at_ = 0;
};

}  // namespace gg
