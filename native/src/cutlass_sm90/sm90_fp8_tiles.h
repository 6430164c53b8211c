// The FP8 tiles as C++ sees them, derived from the one table sm90_fp8_tiles.def. Light on purpose (no CUTLASS), so
// that the policy (tile_choice.h: choose_fp8_tile) and its tests can name them.
#pragma once

#include "cutlass_sm90/tile_names.h"

namespace gg::cutlass_sm90 {

// The FP8 tile configurations, in sm90_fp8_tiles.def's order (each described there).
enum class Sm90Fp8Tile : int {
#define GG_SM90_FP8_TILE(Enum, name, tm, tn, tk, cm, cn, pp) Enum,
#include "cutlass_sm90/sm90_fp8_tiles.def"
};

// Each tile's short name: what GG_SM90_FP8_TILE takes.
struct Sm90Fp8TileName {
    const char* name;
    Sm90Fp8Tile tile;
};
inline constexpr Sm90Fp8TileName kSm90Fp8TileNames[] = {
#define GG_SM90_FP8_TILE(Enum, name, tm, tn, tk, cm, cn, pp) {#name, Sm90Fp8Tile::Enum},
#include "cutlass_sm90/sm90_fp8_tiles.def"
};

// The tile named `name` (kSm90Fp8TileNames), if there is one.
inline bool fp8_tile_from_name(const char* name, Sm90Fp8Tile* tile) { return tile_in(kSm90Fp8TileNames, name, tile); }

}  // namespace gg::cutlass_sm90
