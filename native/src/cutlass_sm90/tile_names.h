// Lookups in a table of {name, tile} entries, shared by the bf16/fp16 tiles (sm90_tiles.h) and the FP8 tiles
// (sm90_fp8_tiles.h), whose tables each come from their own .def file.
#pragma once

#include <cstddef>
#include <cstring>

namespace gg::cutlass_sm90 {

// The name of `tile` in `table`, or "unknown".
template <class Entry, std::size_t N, class Tile>
inline const char* name_in(const Entry (&table)[N], Tile tile) {
    for (const Entry& n : table) {
        if (n.tile == tile) return n.name;
    }
    return "unknown";
}

// The tile named `name` in `table`, if there is one.
template <class Entry, std::size_t N, class Tile>
inline bool tile_in(const Entry (&table)[N], const char* name, Tile* tile) {
    for (const Entry& n : table) {
        if (std::strcmp(name, n.name) == 0) {
            *tile = n.tile;
            return true;
        }
    }
    return false;
}

}  // namespace gg::cutlass_sm90
