// The cutlass-sm90 tuning knobs: environment variables that force one part of tile_choice.h's policy, so that it can
// be tuned from measurements (bench/tune_sm90.py, native/tests/gmm_parity.py --sm90-tiles). Only tuning and
// experiment builds read them, once per call (those scripts change them between calls in one process); a release
// build reads no environment and runs Auto's policy (backend_sm90.cu, GG_SM90_TUNING_KNOBS).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "cutlass_sm90/sm90_tiles.h"

namespace gg::cutlass_sm90 {

// One call's knobs; each unset (the policy decides) unless its variable holds a valid value.
struct Sm90Knobs {
    // GG_SM90_TILE=<name of kSm90TileNames>: the configuration.
    std::optional<Sm90Tile> tile;
    // GG_SM90_EPILOGUE=source runs the source epilogue for non-accumulating calls too (the configurations before
    // docs/perf-notes.md v8), =store the store-only one wherever it can (accumulating calls excepted).
    std::optional<Sm90Epilogue> epilogue;
    // GG_SM90_RASTER=n|m: one tile order, along N or along M, for every tile.
    std::optional<bool> raster_along_n;
    // GG_SM90_RUN_ROWS=<rows> (0 to 1048576): the run length of the tile deal (tile_run_rows).
    std::optional<int32_t> run_rows;
    // GG_SM90_CLAIM=<tiles ahead> (0 to 7): claims, or the static deal (tile_claim_ahead).
    std::optional<int32_t> claim_ahead;
    // GG_SM90_LONG=<rows> (0 to 2^30): the reduction from which a claimed tile is long (tile_long_rows; 0: no limit).
    std::optional<int32_t> long_rows;
    // GG_SM90_FIRST=0|1: the largest expert's group first, or the experts' own order (largest_expert_first).
    std::optional<bool> largest_first;
    // GG_SM90_DECODE_WGRAD=<rows> (0 to 2^20): weight gradients of at most this many rows run the decode weight-gradient
    // kernel (tile_choice.h: decode_weight_gradient; 0: never).
    std::optional<int64_t> decode_wgrad_rows;
    // GG_SM90_DECODE_FWD=<rows> (0 to 2^20): forwards of at most this many rows (and at most 256) run the decode forward
    // kernel, in either weight layout and whatever their weights' bytes (tile_choice.h: decode_forward; 0: never).
    std::optional<int64_t> decode_fwd_rows;
    // GG_SM90_DECODE_MIX=0|1: that kernel's blocks experts major, or every expert's tiles mixed in each wave
    // (tile_choice.h: decode_weight_gradient_mixed).
    std::optional<bool> decode_wgrad_mixed;
    // GG_SM90_DECODE_SHORT=<rows> (0 to 2^20): weight gradients with device counts that the kernel does not take whole
    // leave their experts of at most this many rows to it and the others to the grouped GEMM (tile_choice.h:
    // decode_weight_gradient_short_rows; 0: none).
    std::optional<int64_t> decode_short_rows;
    // GG_SM90_ROUTE=<rows> (0 to 2^20): forwards that may run either our contiguous kernel or CUTLASS's cluster-free
    // 128x256 tile choose between them by the experts' rows with this row bound (tile_choice.h: device_route_rows,
    // host_route_tile; 0: off, the host's choice).
    std::optional<int64_t> route_rows;
    // GG_SM90_ROUTE_DECODE=<row tiles> (0 to 2^20): trans_b forwards on the decode tile that may also run our contiguous
    // kernel choose between them by the decode tile's 64-row tiles, the contiguous kernel at most this many (tile_choice.h:
    // decode_route_row_tiles; 0: off, the decode tile), on any card.
    std::optional<int64_t> route_decode_row_tiles;
    // GG_SM90_BAND=<units> (0 to 65536): the band width of the tile walk (tile_band).
    std::optional<int32_t> band;
    // GG_SM90_GRID=<f> (1 to 16): f persistent CTAs per SM instead of one, so that the hardware hands later CTAs to the
    // SMs that finish first (a check on the static schedule's imbalance).
    int32_t grid_factor = 1;
    // GG_SM90_SPLIT=<chunks> (0 to 16; 0 and 1: none): split-K of the largest expert of weight gradients with device
    // counts (tile_choice.h: split_k_chunks; the device still splits only a dominant expert), and of every expert's k in
    // forwards of at most 32 rows (forward_split_chunks), whatever the shape.
    std::optional<int32_t> split_chunks;
    // The FP8 kernels' (scaled_gemm_sm90.cu, scaled_launch_sm90.cuh). GG_SM90_FP8_TILE=<name of sm90_fp8_tiles.def>: its configuration, kept
    // as text (the FP8 tiles are that file's, matched where it is read).
    const char* fp8_tile = nullptr;
    // GG_SM90_FP8_RASTER=n|m: its tile walk along N or along M.
    std::optional<bool> fp8_raster_along_n;
    // GG_SM90_FP8_SWIZZLE=<tiles> (1 to 8): the walk in stripes that many tiles wide (CUTLASS's max_swizzle_size).
    std::optional<int32_t> fp8_swizzle;
    // GG_SM90_FP8_SPLIT=<chunks> (0 to 16; 0 and 1: none): split-K of FP8 forwards of at most 32 rows, every live expert's
    // k in that many chunks, whatever the shape; =auto: tile_choice.h's rule (fp8_forward_split_chunks), held as -1.
    std::optional<int32_t> fp8_split_chunks;
    // GG_SM90_FP8_BLOCK=0|1: whether Auto runs FP8 calls with block scales on cutlass-sm90 (tile_choice.h:
    // fp8_block_scales_in_auto).
    std::optional<bool> fp8_block_auto;
};

// A knob's integer value, when the variable is set to an integer in [lo, hi]; else unset.
inline std::optional<int32_t> int_knob(const char* name, long lo, long hi) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    char* end = nullptr;
    const long r = std::strtol(v, &end, 10);
    if (end == v || *end != '\0' || r < lo || r > hi) return std::nullopt;
    return static_cast<int32_t>(r);
}

// The knobs as the environment sets them now.
inline Sm90Knobs read_sm90_knobs() {
    Sm90Knobs k;
    Sm90Tile tile;
    const char* v = std::getenv("GG_SM90_TILE");
    if (v != nullptr && tile_from_name(v, &tile)) k.tile = tile;
    v = std::getenv("GG_SM90_EPILOGUE");
    if (v != nullptr && std::strcmp(v, "source") == 0) k.epilogue = Sm90Epilogue::kSource;
    if (v != nullptr && std::strcmp(v, "store") == 0) k.epilogue = Sm90Epilogue::kStoreOnly;
    v = std::getenv("GG_SM90_RASTER");
    if (v != nullptr && std::strcmp(v, "n") == 0) k.raster_along_n = true;
    if (v != nullptr && std::strcmp(v, "m") == 0) k.raster_along_n = false;
    k.run_rows = int_knob("GG_SM90_RUN_ROWS", 0, 1 << 20);
    k.claim_ahead = int_knob("GG_SM90_CLAIM", 0, 7);
    k.band = int_knob("GG_SM90_BAND", 0, 1 << 16);
    k.long_rows = int_knob("GG_SM90_LONG", 0, 1 << 30);
    k.decode_wgrad_rows = int_knob("GG_SM90_DECODE_WGRAD", 0, 1 << 20);
    k.decode_short_rows = int_knob("GG_SM90_DECODE_SHORT", 0, 1 << 20);
    k.decode_fwd_rows = int_knob("GG_SM90_DECODE_FWD", 0, 1 << 20);
    k.route_rows = int_knob("GG_SM90_ROUTE", 0, 1 << 20);
    k.route_decode_row_tiles = int_knob("GG_SM90_ROUTE_DECODE", 0, 1 << 20);
    if (const auto first = int_knob("GG_SM90_FIRST", 0, 1)) k.largest_first = *first == 1;
    if (const auto mixed = int_knob("GG_SM90_DECODE_MIX", 0, 1)) k.decode_wgrad_mixed = *mixed == 1;
    k.grid_factor = int_knob("GG_SM90_GRID", 1, 16).value_or(1);
    k.split_chunks = int_knob("GG_SM90_SPLIT", 0, 16);
    k.fp8_tile = std::getenv("GG_SM90_FP8_TILE");
    v = std::getenv("GG_SM90_FP8_RASTER");
    if (v != nullptr && std::strcmp(v, "n") == 0) k.fp8_raster_along_n = true;
    if (v != nullptr && std::strcmp(v, "m") == 0) k.fp8_raster_along_n = false;
    k.fp8_swizzle = int_knob("GG_SM90_FP8_SWIZZLE", 1, 8);
    v = std::getenv("GG_SM90_FP8_SPLIT");
    k.fp8_split_chunks = v != nullptr && std::strcmp(v, "auto") == 0 ? std::optional<int32_t>(-1)
                                                                     : int_knob("GG_SM90_FP8_SPLIT", 0, 16);
    if (const auto block = int_knob("GG_SM90_FP8_BLOCK", 0, 1)) k.fp8_block_auto = *block == 1;
    return k;
}

}  // namespace gg::cutlass_sm90
