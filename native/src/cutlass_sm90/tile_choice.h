// Which sm90 kernel configuration runs a call. The whole policy is this file, so that it can be tuned
// from benchmarks (bench/) without touching the kernels.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "cutlass_sm80/group_arrays.cuh"

namespace gg::cutlass_sm90 {

// The compiled tile configurations (every one exists for bf16 and fp16 and for the three operand forms).
enum class Sm90Tile : int {
    // Cooperative: both consumer warp groups share one 128x256x64 tile; cluster 2x1x1 multicasts B.
    // Best when there are enough large output tiles to fill the machine.
    kCooperative128x256 = 0,
    // Ping-pong: the two consumer warp groups alternate on 128x128x64 tiles; no cluster. Better for few or
    // small groups (decode-sized experts, skewed routing) and narrow n.
    kPingpong128x128 = 1,
};
constexpr int kSm90TileCount = 2;

// Benchmark knob: GG_SM90_TILE=coop128x256|pingpong128x128 forces a configuration, so
// that the choice below can be tuned from measurements (native/tests/gmm_parity.py --perf). Unset in normal use.
inline bool tile_override(Sm90Tile* tile) {
    const char* v = std::getenv("GG_SM90_TILE");
    if (v == nullptr || *v == '\0') return false;
    static constexpr struct {
        const char* name;
        Sm90Tile tile;
    } kNames[] = {{"coop128x256", Sm90Tile::kCooperative128x256},
                  {"pingpong128x128", Sm90Tile::kPingpong128x128}};
    for (const auto& n : kNames) {
        if (std::strcmp(v, n.name) == 0) {
            *tile = n.tile;
            return true;
        }
    }
    return false;
}

// Tunables of choose_tile. Measured on an H200 (native/tests/gmm_parity.py --perf, 2026-11-26; docs/perf-notes.md):
// 256x128 cooperative and 64x128x128 ping-pong tiles were tried as well and never beat these two by more than noise.
struct Sm90TilePolicy {
    // Forward with fewer rows per expert than this: the 128x128 ping-pong tile (seed-300M, zipf routing: 1.19x
    // torch._grouped_mm against 0.96x for 128x256; uniform routing: 0.94x against 0.96x).
    int64_t max_rows_per_expert_for_pingpong = 512;
    // The large tile is used only when n fills it ...
    int64_t min_n_for_large = 256;
    // ... and the call has at least this many 128x256 output tiles per SM (a persistent grid has one CTA
    // per SM; fewer tiles leave SMs idle, and the smaller tile makes twice as many).
    double min_large_tiles_per_sm = 1.0;
};
constexpr Sm90TilePolicy kSm90TilePolicy{};

// Output tiles of M x N size the call makes: exact when the host knows the group sizes, else estimated
// (device counts: on average half a tile of M is wasted per expert).
inline int64_t estimate_output_tiles(const GmmProblem& p, const int32_t* host_problem_sizes, int64_t tile_m,
                                     int64_t tile_n) {
    const int64_t tiles_n = (p.n + tile_n - 1) / tile_n;
    if (host_problem_sizes != nullptr) {
        int64_t tiles = 0;
        for (int64_t e = 0; e < p.num_experts; ++e) {
            tiles += (host_problem_sizes[3 * e] + tile_m - 1) / tile_m;
        }
        return tiles * tiles_n;
    }
    if (p.trans_a) return p.num_experts * ((p.k + tile_m - 1) / tile_m) * tiles_n;
    return (p.m / tile_m + (p.num_experts + 1) / 2) * tiles_n;
}

inline Sm90Tile choose_tile(const GmmProblem& p, const int32_t* host_problem_sizes, int sm_count,
                            const Sm90TilePolicy& policy = kSm90TilePolicy) {
    Sm90Tile forced;
    if (tile_override(&forced)) return forced;
    // Weight gradients (trans_a) reduce over the expert's rows; their output tiles are K x N per expert, so the
    // rows-per-expert rule does not apply to them (128x256 was best or level on every measured row).
    if (!p.trans_a && p.m < policy.max_rows_per_expert_for_pingpong * p.num_experts) return Sm90Tile::kPingpong128x128;
    if (p.n < policy.min_n_for_large) return Sm90Tile::kPingpong128x128;
    const int64_t large_tiles = estimate_output_tiles(p, host_problem_sizes, 128, 256);
    if (static_cast<double>(large_tiles) < policy.min_large_tiles_per_sm * (sm_count > 0 ? sm_count : 1)) {
        return Sm90Tile::kPingpong128x128;
    }
    return Sm90Tile::kCooperative128x256;
}

}  // namespace gg::cutlass_sm90
