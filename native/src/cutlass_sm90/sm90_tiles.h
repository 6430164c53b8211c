// The sm90 tiles and epilogues as C++ sees them, derived from the one table sm90_tiles.def. Light on purpose: no
// CUTLASS, no policy (tile_choice.h), no environment (tuning_knobs.h).
#pragma once

#include "cutlass_sm90/tile_names.h"

namespace gg::cutlass_sm90 {

// The tile configurations, in sm90_tiles.def's order (each described there).
enum class Sm90Tile : int {
#define GG_SM90_TILE(Enum, name, forward, transb, transa) Enum,
#define GG_SM90_OWN_TILE(Enum, name) Enum,
#include "cutlass_sm90/sm90_tiles.def"
};

// The epilogue of a configuration. Every CUTLASS tile exists with the first two.
enum class Sm90Epilogue : int {
    // Reads C (D = alpha * acc + beta * C): accumulating calls. CUTLASS's subtile (128x32 cooperative, 64x32
    // ping-pong) and C buffers that D reuses.
    kSource = 0,
    // Writes D only, in 64-column subtiles: half the subtiles, so half the named-barrier rounds and fences per
    // output tile, and no C buffers or C pipeline. 0.5-9% faster on the rows measured, most on weight
    // gradients with short reductions (docs/perf-notes.md v8). beta must be 0.
    kStoreOnly = 1,
    // Writes D only, in fp32: split-K's partial sums (split_k.cuh), which a reduction kernel adds into the output. The
    // GG_SM90_SPLIT_TILE tiles only; beta must be 0.
    kPartialF32 = 2,
};

// The tiles with split-K's fp32 partial kernels (sm90_tiles.def: GG_SM90_SPLIT_TILE lines, in order).
inline constexpr Sm90Tile kSm90SplitTiles[] = {
#define GG_SM90_SPLIT_TILE(Enum, name) Sm90Tile::Enum,
#include "cutlass_sm90/sm90_tiles.def"
};
// The first: weight gradients' split, and a forward's whose own tile has no partial kernels.
inline constexpr Sm90Tile kSm90SplitTile = kSm90SplitTiles[0];

inline constexpr bool is_split_tile(Sm90Tile tile) {
    for (Sm90Tile t : kSm90SplitTiles) {
        if (t == tile) return true;
    }
    return false;
}

// The tile a split call's partial GEMM runs on: a forward's own tile when it has partial kernels, else the first.
inline constexpr Sm90Tile split_tile_for(Sm90Tile chosen, bool weight_gradient) {
    return !weight_gradient && is_split_tile(chosen) ? chosen : kSm90SplitTile;
}

// Each tile's short name: what GG_SM90_TILE takes, the <tile> of the kernels' names, and what messages say.
struct Sm90TileName {
    const char* name;
    Sm90Tile tile;
};
inline constexpr Sm90TileName kSm90TileNames[] = {
#define GG_SM90_TILE(Enum, name, forward, transb, transa) {#name, Sm90Tile::Enum},
#define GG_SM90_OWN_TILE(Enum, name) {#name, Sm90Tile::Enum},
#include "cutlass_sm90/sm90_tiles.def"
};

inline const char* tile_name(Sm90Tile tile) { return name_in(kSm90TileNames, tile); }

// The tile named `name` (kSm90TileNames), if there is one.
inline bool tile_from_name(const char* name, Sm90Tile* tile) { return tile_in(kSm90TileNames, name, tile); }

}  // namespace gg::cutlass_sm90
