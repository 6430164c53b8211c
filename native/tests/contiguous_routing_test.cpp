// Our contiguous kernel's tiling and the routing rules between it and a CUTLASS tile (contiguous_tiling.h, which the
// kernel runs on the device; tile_choice.h: device_route_rows, decode_route_row_tiles, device_route,
// host_route_tile), without a GPU: the tiling of decode and prefill row distributions and the bounds its workspace
// relies on, the first routing rule (row_bound) and the second (max_row_tiles), which calls get each, and their knobs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "cutlass_sm90/contiguous_tiling.h"
#include "tile_choice_checks.h"

namespace gg::tile_choice_tests {

// The contiguous kernel's tiling (contiguous_tiling.h), which it decides on the device from the experts' rows: decode
// rows in one expert split k, a few experts with hundreds of rows take 64-row tiles, calls that fill the SMs keep the
// 256-row tiles unsplit. Then, over many row distributions, the bounds the kernel's workspace relies on.
void contiguous_tiling() {
    namespace contig = gg::cutlass_sm90::contiguous;
    auto tiling_of = [](const std::vector<int64_t>& rows, int64_t n, int64_t k, int64_t m) {
        contig::TileCounts t;
        const int64_t n_tiles = (n + 127) / 128;
        for (int64_t r : rows) {
            t.rows256 += (r + 255) / 256 * n_tiles;
            t.rows128 += (r + 127) / 128 * n_tiles;
            t.rows64 += (r + 63) / 64 * n_tiles;
        }
        const int64_t k_steps = (k + 63) / 64;
        return contig::choose_tiling(t, k_steps, kSms, contig::max_chunks_for(m, n_tiles, k_steps, kSms));
    };
    struct Case {
        const char* what;
        std::vector<int64_t> rows;
        int64_t n, k;
        int want_rows, want_chunks, want_steps;
    } cases[] = {
        // 12 tiles: 8 chunks of 4 steps (32 steps), 96 tiles.
        {"qwen3-30b-a3b up, one token, one expert with all 8 rows", {8}, 1536, 2048, 64, 8, 4},
        {"qwen3-30b-a3b up, one token, 8 experts of one row (96 tiles)", {1, 1, 1, 1, 1, 1, 1, 1}, 1536, 2048, 64, 1, 32},
        {"llama-4-maverick down, one token (40 tiles, 3 chunks of 43 steps)", {1}, 5120, 8192, 64, 3, 43},
        {"jetmoe-8b down, 256 tokens, 2 of 8 experts (128 tiles of 64 rows)", {256, 256}, 2048, 5632, 64, 1, 88},
        {"jetmoe-8b down, 16 tokens, 2 of 8 experts (32 tiles, 4 chunks)", {16, 16}, 2048, 5632, 64, 4, 22},
        {"jetmoe-8b down, 256 tokens, 8 experts of 64 rows (128 tiles)",
         {64, 64, 64, 64, 64, 64, 64, 64}, 2048, 5632, 64, 1, 88},
        {"224 tiles of 128 rows, 128 of 256", {200, 120, 80, 50, 30, 20, 8, 4}, 2048, 5632, 256, 1, 88},
        {"mixtral-8x7b up, 256 tokens (1792 tiles)", {64, 64, 64, 64, 64, 64, 64, 64}, 28672, 4096, 256, 1, 64},
        // 8 tiles: 16 chunks of 5 steps cover 66 steps in 14.
        {"66 steps, 8 tiles", {8}, 1024, 66 * 64, 64, 14, 5},
        {"no rows", {0, 0}, 1024, 4096, 64, 1, 64},
        // k below 1024 (kMinSplitSteps): granite's down-projection at one token, one expert with all 8 rows.
        {"granite down, one token, one expert (k = 512: 8 steps)", {8}, 1536, 512, 64, 1, 8},
        {"k = 1024, one expert (16 steps: 4 chunks of 4)", {8}, 2048, 1024, 64, 4, 4},
    };
    for (const Case& c : cases) {
        int64_t m = 0;
        for (int64_t r : c.rows) m += r;
        const contig::Tiling t = tiling_of(c.rows, c.n, c.k, m > 0 ? m : 1);
        if (t.tile_rows != c.want_rows || t.chunks != c.want_chunks || t.chunk_steps != c.want_steps) {
            std::printf("FAIL contiguous tiling, %s: %d rows, %d chunks of %d steps (want %d, %d, %d)\n", c.what,
                        t.tile_rows, t.chunks, t.chunk_steps, c.want_rows, c.want_chunks, c.want_steps);
            ++failures;
        }
    }
    // Bounds over many distributions: every chunk has steps and k is covered; a split's tiles fit one wave and its
    // counters (two an output tile) the claim_words_for(sms) - 1 the host zeroes; the chunks stay within the host's
    // partial sums.
    uint64_t state = 12345;
    auto next = [&state](int64_t bound) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(bound));
    };
    int bad = 0;
    for (int trial = 0; trial < 20000 && bad < 5; ++trial) {
        const int64_t experts = 1 + next(64), n = 8 * (1 + next(1024)), k = 8 * (1 + next(2048));
        const int64_t m = 1 + next(trial % 2 ? 64 : 4096);
        std::vector<int64_t> rows(static_cast<size_t>(experts), 0);
        const int64_t live = 1 + next(experts);
        for (int64_t r = 0; r < m; ++r) rows[static_cast<size_t>(next(live))] += 1;
        const int64_t n_tiles = (n + 127) / 128, k_steps = (k + 63) / 64;
        const int32_t max_chunks = contig::max_chunks_for(m, n_tiles, k_steps, kSms);
        const contig::Tiling t = tiling_of(rows, n, k, m);
        const bool ok = t.chunks >= 1 && t.chunk_steps >= 1 && int64_t(t.chunks) * t.chunk_steps >= k_steps &&
                        int64_t(t.chunks - 1) * t.chunk_steps < k_steps && t.chunks <= max_chunks &&
                        (t.chunks == 1 || (t.output_tiles * t.chunks <= kSms &&
                                           2 * t.output_tiles <= contig::claim_words_for(kSms) - 1 &&
                                           t.chunk_steps >= contig::kMinChunkSteps && k_steps >= contig::kMinSplitSteps));
        if (!ok) {
            std::printf("FAIL contiguous tiling bounds: m %lld, n %lld, k %lld, %lld experts: %d rows, %d chunks of %d "
                        "steps, %lld output tiles, max chunks %d\n", static_cast<long long>(m),
                        static_cast<long long>(n), static_cast<long long>(k), static_cast<long long>(experts),
                        t.tile_rows, t.chunks, t.chunk_steps, static_cast<long long>(t.output_tiles), max_chunks);
            ++bad;
            ++failures;
        }
    }
}

namespace {

// One case of a routing rule (contiguous_tiling.h): a call's expert rows, the rule's bound (RouteRule::row_bound for
// the first rule, max_row_tiles for the second) and whether the contiguous kernel should run it, as the fill kernel
// tallies the rows.
struct RouteCase {
    const char* what;
    std::vector<int64_t> rows;
    int64_t bound;
    bool want;
};

void expect_routes(const char* name, const std::vector<RouteCase>& cases, bool row_tile_rule) {
    namespace contig = gg::cutlass_sm90::contiguous;
    for (const RouteCase& c : cases) {
        contig::RouteRule rule;
        (row_tile_rule ? rule.max_row_tiles : rule.row_bound) = c.bound;
        contig::RouteTally tally;
        for (int64_t r : c.rows) tally = contig::route_sum(tally, contig::route_tally(r, rule));
        expect_knob(name, nullptr, c.what, contig::route_contiguous(tally, rule) ? 1 : 0, c.want ? 1 : 0);
    }
}

}  // namespace

// The routing rule between the contiguous kernel and the 128x256 tile (contiguous_tiling.h: route_contiguous), which the
// device-counts fill kernel runs on the device and host_route_tile on the host: the contiguous kernel iff
// small x R > large_rows. Then which calls get the choice (tile_choice.h: device_route_rows, host_route_tile), the knob,
// and the policy's bound: 192 on the H100's card class, off from the H200's (measured on the H100 only).
void routing_rule() {
    namespace contig = gg::cutlass_sm90::contiguous;
    using gg::cutlass_sm90::device_route_rows;
    using gg::cutlass_sm90::host_route_tile;
    expect_routes("route rule", {
        {"every expert small (uniform, 128 rows over 64 experts)", std::vector<int64_t>(64, 128), 192, true},
        {"one dominant expert", {16000, 10, 10, 10, 0, 0, 0, 0}, 192, false},
        {"one expert holds every row", {0, 0, 16384, 0}, 192, false},
        {"no live expert", {0, 0, 0, 0}, 192, false},
        {"no expert at all", {}, 192, false},
        {"R = 0: off", std::vector<int64_t>(64, 1), 0, false},
        {"R < 0: off", std::vector<int64_t>(64, 1), -5, false},
        {"R rows are small", {192}, 192, true},
        {"R + 1 rows are large", {193}, 192, false},
        {"negative rows count as none", {-50, -1, 0}, 192, false},
        {"2 x 192 against 384 rows: a tie goes to the 128x256 tile", {100, 100, 384}, 192, false},
        {"3 x 192 against 384 rows", {100, 100, 100, 384}, 192, true},
        {"empty routing: 4 live experts of 4096 rows among 128", {4096, 4096, 4096, 4096}, 192, false},
    }, false);

    // Which calls the device routes: llama-4-maverick's up-projection at 16384 tokens (128 experts, 128 rows each on
    // average, k = 5120, n = 16384), whose host tile is the contiguous kernel on the H100 (the table) and the 128x256 tile
    // on the H200 (the rules).
    const gg::cutlass_sm90::Sm90TilePolicy on = gg::cutlass_sm90::kSm90TilePolicy;  // Auto's: R = 192 below 4.5 TB/s
    gg::cutlass_sm90::Sm90TilePolicy route_off = gg::cutlass_sm90::kSm90TilePolicy;
    route_off.route_rows = 0;
    gg::GmmProblem maverick = problem(16384, 5120, 16384, 128, false);
    maverick.counts_on_device = true;
    auto device_rows = [&](const gg::GmmProblem& p, double dram, const gg::cutlass_sm90::Sm90TilePolicy& policy) {
        const gg::cutlass_sm90::Sm90Knobs knobs = read_sm90_knobs();
        const Sm90Tile host_tile = choose_tile(p, nullptr, kSms, dram, knobs, policy);
        return static_cast<int>(device_route_rows(p, host_tile, kSms, dram, knobs, policy));
    };
    expect_knob("route", nullptr, "Auto's bound", int(on.route_rows), 192);
    expect_knob("route", nullptr, "policy off", device_rows(maverick, kH100DramBytesPerS, route_off), 0);
    expect_knob("route", nullptr, "H100 (host tile contig256x128)", device_rows(maverick, kH100DramBytesPerS, on), 192);
    expect_knob("route", nullptr, "DRAM bandwidth unknown (0): the H100's class", device_rows(maverick, 0, on), 192);
    expect_knob("route", nullptr, "H200 (host tile coop128x256c1x1): not measured, off",
                device_rows(maverick, kH200DramBytesPerS, on), 0);
    gg::GmmProblem transb = maverick;
    transb.trans_b = true;
    expect_knob("route", nullptr, "trans_b", device_rows(transb, kH100DramBytesPerS, on), 192);
    struct Off {
        const char* what;
        gg::GmmProblem p;
    };
    std::vector<Off> off;
    auto changed = [&](const char* what, auto change) {
        gg::GmmProblem p = maverick;
        change(p);
        off.push_back({what, p});
    };
    changed("host counts", [](gg::GmmProblem& p) { p.counts_on_device = false; });
    changed("weight gradient", [](gg::GmmProblem& p) { p.trans_a = true; });
    changed("accumulate", [](gg::GmmProblem& p) { p.accumulate = true; });
    changed("n not a multiple of 256", [](gg::GmmProblem& p) { p.n = 16384 + 128; });
    changed("1025 experts", [](gg::GmmProblem& p) {
        p.num_experts = 1025;
        p.m = 1025 * 128;
    });
    changed("decode-sized (one token at top-1)", [](gg::GmmProblem& p) { p.m = 1; });
    changed("decode-sized (2048 rows, 16 an expert)", [](gg::GmmProblem& p) { p.m = 2048; });
    changed("below the measured range (jetmoe-8b down, 256 tokens: 512 rows over 8 experts)", [](gg::GmmProblem& p) {
        p.m = 512;
        p.num_experts = 8;
        p.k = 5632;
        p.n = 2048;
    });
    changed("4095 rows", [](gg::GmmProblem& p) { p.m = 4095; });
    changed("under a wave of 128x256 tiles (n = 256, 4 experts)", [](gg::GmmProblem& p) {
        p.m = 8192;
        p.num_experts = 4;
        p.n = 256;
    });
    for (const Off& o : off) expect_knob("route", nullptr, o.what, device_rows(o.p, kH100DramBytesPerS, on), 0);
    expect_knob("route", nullptr, "host tile pingpong128x128",
                int(device_route_rows(maverick, Sm90Tile::kPingpong128x128, kSms, kH100DramBytesPerS, {}, on)), 0);
    expect_knob("route", nullptr, "host tile pingpong128x128c1x2",
                int(device_route_rows(maverick, Sm90Tile::kPingpong128x128Cluster1x2, kSms, kH100DramBytesPerS, {}, on)),
                0);
    // The knob: a bound in place of the policy's (0: off), on any card, none with a forced tile or split.
    const struct {
        const char* value;
        int want_off, want_on;  // under the policy off and on
    } knob_cases[] = {{"160", 160, 160}, {"0", 0, 0}, {"-1", 0, 192}, {"x", 0, 192}, {"1048577", 0, 192}};
    for (const auto& k : knob_cases) {
        set_knob("GG_SM90_ROUTE", k.value);
        expect_knob("GG_SM90_ROUTE", k.value, "policy off", device_rows(maverick, kH100DramBytesPerS, route_off), k.want_off);
        expect_knob("GG_SM90_ROUTE", k.value, "policy on", device_rows(maverick, kH100DramBytesPerS, on), k.want_on);
        expect_knob("GG_SM90_ROUTE", k.value, "H200", device_rows(maverick, kH200DramBytesPerS, on), k.want_off);
    }
    set_knob("GG_SM90_ROUTE", "192");
    for (const auto& forced : {std::make_pair("GG_SM90_TILE", "coop128x256c1x1"), std::make_pair("GG_SM90_SPLIT", "2")}) {
        set_knob(forced.first, forced.second);
        expect_knob("GG_SM90_ROUTE", "192", forced.first, device_rows(maverick, kH100DramBytesPerS, on), 0);
        unsetenv(forced.first);
    }
    unsetenv("GG_SM90_ROUTE");

    // Host counts: the host applies the same rule to its problem sizes; off, or with device counts, the host's tile.
    auto host_tile_of = [&](const std::vector<int64_t>& rows, const gg::cutlass_sm90::Sm90TilePolicy& policy,
                            bool on_device = false) {
        gg::GmmProblem p = problem(0, 5120, 16384, static_cast<int64_t>(rows.size()), false);
        std::vector<int32_t> sizes;
        for (int64_t r : rows) {
            p.m += r;
            sizes.insert(sizes.end(), {static_cast<int32_t>(r), 16384, 5120});
        }
        p.counts_on_device = on_device;
        const Sm90Tile host = choose_tile(p, on_device ? nullptr : sizes.data(), kSms, kH100DramBytesPerS, {}, policy);
        return std::make_pair(host, host_route_tile(p, on_device ? nullptr : sizes.data(), host, kSms, kH100DramBytesPerS,
                                                    {}, policy));
    };
    // One expert with most rows: among 127 others of 8 rows it is too few for the rule (127 x 192 > 15368 rows), among
    // 15 others it is enough (15 x 192 < 16264).
    std::vector<int64_t> dominant(128, 8), dominant16(16, 8);
    dominant[5] = 16384 - 127 * 8;
    dominant16[5] = 16384 - 15 * 8;
    const struct {
        const char* what;
        std::vector<int64_t> rows;
        bool policy_on, on_device;
        Sm90Tile want;
    } host_cases[] = {
        {"host counts, uniform 128 rows", std::vector<int64_t>(128, 128), true, false, Sm90Tile::kContiguous256x128},
        {"host counts, one dominant expert among 127 of 8 rows", dominant, true, false, Sm90Tile::kContiguous256x128},
        {"host counts, one dominant expert among 15 of 8 rows", dominant16, true, false,
         Sm90Tile::kCooperative128x256Cluster1x1},
        {"host counts, 8 of 128 experts live (2048 rows each)", [] {
             std::vector<int64_t> r(128, 0);
             for (int e = 0; e < 8; ++e) r[16 * e] = 2048;
             return r;
         }(), true, false, Sm90Tile::kCooperative128x256Cluster1x1},
    };
    for (const auto& c : host_cases) {
        const auto [host, routed] = host_tile_of(c.rows, c.policy_on ? on : route_off, c.on_device);
        const bool ok = routed == c.want;
        if (!ok) {
            std::printf("FAIL host route, %s: host tile %s, routed %s, want %s\n", c.what, tile_name(host),
                        tile_name(routed), tile_name(c.want));
            ++failures;
        }
    }
    // Off, or with device counts (the device chooses then), the host's tile stands.
    for (const bool on_device : {false, true}) {
        for (const bool policy_on : {false, true}) {
            if (!on_device && policy_on) continue;
            const auto [host, routed] = host_tile_of(dominant, policy_on ? on : route_off, on_device);
            expect_knob("host route", nullptr, on_device ? "device counts: the host's tile" : "off: the host's tile",
                        int(routed), int(host));
        }
    }
}

// The second routing rule (contiguous_tiling.h: RouteRule::max_row_tiles, tile_choice.h: decode_route_row_tiles): trans_b
// forwards on the decode tile run the contiguous kernel where the decode tile's 64-row tiles times n's column tiles fill
// at most half the SMs. The shapes are the plan's (bench/sweep/plans/transb-decode-routing.txt, 16 tokens at top-2).
void decode_routing_rule() {
    namespace contig = gg::cutlass_sm90::contiguous;
    using gg::cutlass_sm90::decode_route_row_tiles;
    using gg::cutlass_sm90::device_route;
    using gg::cutlass_sm90::host_route_tile;
    expect_routes("decode route rule", {
        {"2 live experts of 16 rows, at most 4 row tiles", {16, 0, 0, 16, 0, 0, 0, 0}, 4, 1},
        {"4 live experts (4 row tiles)", {8, 8, 8, 8, 0, 0, 0, 0}, 4, 1},
        {"8 live experts (8 row tiles)", std::vector<int64_t>(8, 4), 4, 0},
        {"one expert of 65 rows counts 2 row tiles", {65, 64, 0, 0}, 3, 1},
        {"one expert of 65 rows counts 2 row tiles (bound 2)", {65, 64, 0, 0}, 2, 0},
        {"no live expert", std::vector<int64_t>(8, 0), 4, 0},
        {"negative counts are no rows", {-5, 16}, 1, 1},
        {"bound 0: off", {16}, 0, 0},
    }, true);

    // Which calls get it, with device counts: the decode tile (the measured table's choice for these shapes), trans_b, at
    // most 128 rows; half of 132 SMs over n's 128-column tiles.
    auto row_tiles = [&](int64_t m, int64_t k, int64_t n, int64_t e, double dram, bool transb = true) {
        gg::GmmProblem p = problem(m, k, n, e, false);
        p.trans_b = transb;
        p.counts_on_device = true;
        const gg::cutlass_sm90::Sm90Knobs knobs = read_sm90_knobs();
        const Sm90Tile host_tile = choose_tile(p, nullptr, kSms, dram, knobs);
        return static_cast<int>(decode_route_row_tiles(p, host_tile, kSms, dram, knobs));
    };
    const struct {
        const char* what;
        int64_t m, k, n, e;
        int want;
    } calls[] = {
        {"jetmoe-8b down, 16 tokens (16 column tiles: 66 / 16)", 32, 5632, 2048, 8, 4},
        {"mixtral-8x7b down, 16 tokens (32 column tiles)", 32, 14336, 4096, 8, 2},
        {"grok-1 down, 16 tokens (48 column tiles)", 32, 32768, 6144, 8, 1},
        {"jetmoe-8b up, 16 tokens (88 column tiles: none)", 32, 2048, 11264, 8, 0},
        {"jetmoe-8b down, 256 tokens (512 rows: above the measured range)", 512, 5632, 2048, 8, 0},
        {"llama-4-scout down, 16 tokens at top-1 (16 rows: the fewest routed)", 16, 8192, 5120, 16, 1},
        {"deepseek-v3 up, 1 token at top-8 (8 rows: below min_rows_route_decode)", 8, 7168, 4096, 256, 0},
        {"mixtral-8x7b down, 1 token at top-2 (2 rows)", 2, 14336, 4096, 8, 0},
    };
    for (const auto& c : calls) {
        expect_knob("decode route", nullptr, c.what, row_tiles(c.m, c.k, c.n, c.e, kH100DramBytesPerS), c.want);
    }
    expect_knob("decode route", nullptr, "jetmoe-8b down, [E, k, n] forward (not trans_b)",
                row_tiles(32, 5632, 2048, 8, kH100DramBytesPerS, false), 0);
    // On the H200's card class the rule is off (not measured there), whatever tile the host chose.
    auto on_decode_tile = [&](double dram) {
        gg::GmmProblem p = problem(32, 5632, 2048, 8, false);
        p.trans_b = true;
        p.counts_on_device = true;
        return static_cast<int>(decode_route_row_tiles(p, Sm90Tile::kPingpong64x128K128, kSms, dram, read_sm90_knobs()));
    };
    expect_knob("decode route", nullptr, "jetmoe-8b down on the decode tile, H100", on_decode_tile(kH100DramBytesPerS), 4);
    expect_knob("decode route", nullptr, "jetmoe-8b down on the decode tile, H200 (not measured)",
                on_decode_tile(kH200DramBytesPerS), 0);
    // The knob: a bound on any card (0: off), none with a forced tile.
    set_knob("GG_SM90_ROUTE_DECODE", "7");
    expect_knob("GG_SM90_ROUTE_DECODE", "7", "H100", row_tiles(32, 5632, 2048, 8, kH100DramBytesPerS), 7);
    expect_knob("GG_SM90_ROUTE_DECODE", "7", "H200, on the decode tile", on_decode_tile(kH200DramBytesPerS), 7);
    expect_knob("GG_SM90_ROUTE_DECODE", "7", "one token (8 rows): the knob applies from one row",
                row_tiles(8, 7168, 4096, 256, kH100DramBytesPerS), 7);
    set_knob("GG_SM90_ROUTE_DECODE", "0");
    expect_knob("GG_SM90_ROUTE_DECODE", "0", "off", row_tiles(32, 5632, 2048, 8, kH100DramBytesPerS), 0);
    set_knob("GG_SM90_ROUTE_DECODE", "7");
    set_knob("GG_SM90_TILE", "pingpong64x128k128");
    expect_knob("GG_SM90_ROUTE_DECODE", "7", "a forced tile", row_tiles(32, 5632, 2048, 8, kH100DramBytesPerS), 0);
    unsetenv("GG_SM90_TILE");
    unsetenv("GG_SM90_ROUTE_DECODE");

    // device_route: the second rule with the decode tile as the grouped tile; with host counts none.
    gg::GmmProblem jetmoe = problem(32, 5632, 2048, 8, false);
    jetmoe.trans_b = true;
    jetmoe.counts_on_device = true;
    const Sm90Tile host_tile = choose_tile(jetmoe, nullptr, kSms, kH100DramBytesPerS);
    expect_knob("decode route", nullptr, "jetmoe-8b down: the host's tile is the decode tile", int(host_tile),
                int(Sm90Tile::kPingpong64x128K128));
    const gg::cutlass_sm90::Sm90Route route = device_route(jetmoe, host_tile, kSms, kH100DramBytesPerS);
    expect_knob("decode route", nullptr, "device counts: the rule's bound", int(route.rule.max_row_tiles), 4);
    expect_knob("decode route", nullptr, "device counts: not the first rule", int(route.rule.row_bound), 0);
    expect_knob("decode route", nullptr, "device counts: against the decode tile", int(route.grouped_tile),
                int(Sm90Tile::kPingpong64x128K128));
    gg::GmmProblem on_host = jetmoe;
    on_host.counts_on_device = false;
    expect_knob("decode route", nullptr, "host counts: no device route",
                contig::route_active(device_route(on_host, host_tile, kSms, kH100DramBytesPerS).rule) ? 1 : 0, 0);
    // With host counts the host applies the rule to its problem sizes.
    auto host_routed = [&](const std::vector<int32_t>& rows) {
        std::vector<int32_t> sizes;
        for (int32_t r : rows) sizes.insert(sizes.end(), {r, 2048, 5632});
        return host_route_tile(on_host, sizes.data(), host_tile, kSms, kH100DramBytesPerS);
    };
    expect_knob("decode route", nullptr, "host counts, 2 live experts of 16 rows",
                int(host_routed({16, 0, 0, 0, 16, 0, 0, 0})), int(Sm90Tile::kContiguous256x128));
    expect_knob("decode route", nullptr, "host counts, 8 live experts of 4 rows", int(host_routed({4, 4, 4, 4, 4, 4, 4, 4})),
                int(Sm90Tile::kPingpong64x128K128));
}

}  // namespace gg::tile_choice_tests
