// Auto's measured tile table (tile_choice.h: table_tile, sm90_tile_table.inc), without a GPU: the shape classes
// (shape_class.h) at their bounds, the lookup on tables of our own and on the generator's fixture
// (tile_table_fixture.inc), the rules alone (--rules), and that choose_tile consults the library's table first.
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "tile_choice_checks.h"

namespace gg::tile_choice_tests {

// The measured tile table's shape classes (shape_class.h) at their bounds, and its lookup (tile_choice.h: table_tile)
// with a table of our own: a named class takes its row's tile, other classes and accumulating calls none, and the
// class follows the card's DRAM bandwidth.
void tile_table() {
    using namespace gg::cutlass_sm90;
    char key[96];
    struct ClassCase {
        int64_t m, k, n, experts;
        int form;  // 0 forward, 1 trans_b, 2 weight gradient
        double dram;
        const char* want;
    };
    const ClassCase cases[] = {
        {8, 2048, 1536, 128, 1, kH100DramBytesPerS, "forward-transb.r0-16.n256.k1k-4k.dram-4.5T"},
        {15 * 4, 1024, 512, 4, 0, kH100DramBytesPerS, "forward.r0-16.n256.k1k-4k.dram-4.5T"},
        {16 * 4, 1023, 512, 4, 0, kH100DramBytesPerS, "forward.r16-64.n256.k0-1k.dram-4.5T"},
        {256 * 8, 4096, 5760, 8, 0, kH200DramBytesPerS, "forward.r256-1k.n192.k4k+.dram4.5T+"},
        {1023 * 8, 4095, 1408, 8, 2, kH100DramBytesPerS, "weight-grad.r256-1k.n128.k1k-4k.dram-4.5T"},
        {1024 * 8, 2880, 2880, 8, 2, kH100DramBytesPerS, "weight-grad.r1k-4k.n192.k1k-4k.dram-4.5T"},
        {4096, 512, 1000, 1, 0, 0.0, "forward.r4k+.nother.k0-1k.dram-4.5T"},
        {100, 64, 64, 0, 0, 4.5e12, "forward.r64-256.nother.k0-1k.dram4.5T+"},  // no experts: counted as one
    };
    for (const ClassCase& c : cases) {
        gg::GmmProblem p = problem(c.m, c.k, c.n, c.experts, c.form == 2);
        p.trans_b = c.form == 1;
        class_key(classify(p, c.dram), key, sizeof key);
        if (std::strcmp(key, c.want) != 0) {
            std::printf("FAIL shape class m=%lld k=%lld n=%lld E=%lld form=%d: %s, want %s\n",
                        static_cast<long long>(c.m), static_cast<long long>(c.k), static_cast<long long>(c.n),
                        static_cast<long long>(c.experts), c.form, key, c.want);
            ++failures;
        }
    }
    const TileTableRow table[] = {
        {{FormClass::kForward, RowsClass::kBelow16, NClass::k256, KClass::kFrom4096, CardClass::kBelow4500GBs},
         Sm90Tile::kPingpong128x128},
        {{FormClass::kWeightGrad, RowsClass::kBelow1024, NClass::k192, KClass::kBelow4096, CardClass::kFrom4500GBs},
         Sm90Tile::kCooperative256x128},
    };
    auto lookup = [&](const gg::GmmProblem& p, double dram) {
        const auto t = table_tile(p, dram, table, 2);
        return t ? static_cast<int>(*t) : -1;
    };
    gg::GmmProblem decode = problem(8, 7168, 4096, 256, false);  // deepseek-v3's up-projection at one token, top-8
    expect_knob("table", nullptr, "decode forward, H100", lookup(decode, kH100DramBytesPerS),
                static_cast<int>(Sm90Tile::kPingpong128x128));
    expect_knob("table", nullptr, "decode forward, H200 (another class)", lookup(decode, kH200DramBytesPerS), -1);
    decode.trans_b = true;
    expect_knob("table", nullptr, "decode trans_b (another class)", lookup(decode, kH100DramBytesPerS), -1);
    decode.trans_b = false;
    decode.accumulate = true;
    expect_knob("table", nullptr, "accumulating forward", lookup(decode, kH100DramBytesPerS), -1);
    gg::GmmProblem wgrad = problem(512 * 32, 2880, 5760, 32, true);
    expect_knob("table", nullptr, "weight gradient, H200", lookup(wgrad, kH200DramBytesPerS),
                static_cast<int>(Sm90Tile::kCooperative256x128));
    wgrad.accumulate = true;
    expect_knob("table", nullptr, "accumulating weight gradient", lookup(wgrad, kH200DramBytesPerS), -1);
    // A row naming our contiguous kernel: calls of its class that the kernel cannot take (more experts than it keeps
    // in shared memory) keep the rules.
    const TileTableRow contiguous[] = {
        {{FormClass::kForward, RowsClass::kBelow16, NClass::k128, KClass::kBelow4096, CardClass::kBelow4500GBs},
         Sm90Tile::kContiguous256x128},
    };
    auto contiguous_lookup = [&](int64_t experts) {
        const auto t = table_tile(problem(4 * experts, 2048, 1408, experts, false), kH100DramBytesPerS, contiguous, 1);
        return t ? static_cast<int>(*t) : -1;
    };
    expect_knob("table", nullptr, "contiguous row, 64 experts", contiguous_lookup(64),
                static_cast<int>(Sm90Tile::kContiguous256x128));
    expect_knob("table", nullptr, "contiguous row, 2048 experts", contiguous_lookup(2048), -1);
    // The generator's output compiles into a table and means what it says: tile_table_fixture.inc is what
    // bench/sweep/make_tile_table.py writes from tile_table_fixture.json (the gg_tile_table_generator ctest checks
    // that): decode forwards of 1k-4k deep k and n a multiple of 256 on the H100 take pingpong128x128, and forwards of
    // 1k-4k rows per expert, k from 4096 and n a multiple of 256 coop256x128 (the class whose timings were taken with
    // that row already in the library: the generator gives it again).
    const TileTableRow generated[] = {
#define GG_SM90_TILE_TABLE_ROW(form, rows, n, k, card, tile) \
    {{FormClass::form, RowsClass::rows, NClass::n, KClass::k, CardClass::card}, Sm90Tile::tile},
#include "tile_table_fixture.inc"
#undef GG_SM90_TILE_TABLE_ROW
    };
    const size_t generated_rows = sizeof(generated) / sizeof(generated[0]);
    auto from_fixture = [&](const gg::GmmProblem& p) {
        const auto t = table_tile(p, kH100DramBytesPerS, generated, generated_rows);
        return t ? static_cast<int>(*t) : -1;
    };
    expect_knob("table", nullptr, "generated fixture: decode forward", from_fixture(problem(8, 2048, 1536, 64, false)),
                static_cast<int>(Sm90Tile::kPingpong128x128));
    expect_knob("table", nullptr, "generated fixture: large forward", from_fixture(problem(16384, 4096, 14336, 8, false)),
                static_cast<int>(Sm90Tile::kCooperative256x128));
    expect_knob("table", nullptr, "generated fixture: a class without a row",
                from_fixture(problem(65536, 2880, 5760, 128, false)), -1);
    // --rules (gg_sm90_choice) turns the library's table off: the rules' own tile for a decode forward, and for a
    // decode trans_b of k >= 4096, whose class the table gives the 64x128x128 ping-pong tile.
    expect_knob("table", nullptr, "rules only", static_cast<int>(choose_tile(problem(8, 2048, 1536, 64, false), nullptr,
                kSms, kH100DramBytesPerS, {}, rules_only_policy())), static_cast<int>(Sm90Tile::kContiguous256x128));
    gg::GmmProblem decode_trans_b = problem(4, 10752, 6144, 16, false);
    decode_trans_b.trans_b = true;
    expect_knob("table", nullptr, "rules only, trans_b, k >= 4096",
                static_cast<int>(choose_tile(decode_trans_b, nullptr, kSms, kH100DramBytesPerS, {}, rules_only_policy())),
                static_cast<int>(Sm90Tile::kContiguous256x128));
    expect_knob("table", nullptr, "table, trans_b, k >= 4096",
                static_cast<int>(choose_tile(decode_trans_b, nullptr, kSms, kH100DramBytesPerS)),
                static_cast<int>(Sm90Tile::kPingpong64x128K128));
    // Auto takes the library's table before its rules: over the policy checks' grid, every call whose class has a row
    // gets that row's tile, and a non-empty table is reached by some call of the grid (its classes are real ones).
    long table_hits = 0;
    for_each_policy_call([&](const gg::GmmProblem& p, int form, double dram) {
        const auto row = table_tile(p, dram);
        if (!row) return true;
        ++table_hits;
        const Sm90Tile got = choose_tile(p, nullptr, kSms, dram);
        if (got == *row) return true;
        std::printf("FAIL table consulted: m=%lld k=%lld n=%lld E=%lld form=%d: Auto %s, the table's row %s\n",
                    static_cast<long long>(p.m), static_cast<long long>(p.k), static_cast<long long>(p.n),
                    static_cast<long long>(p.num_experts), form, tile_name(got), tile_name(*row));
        ++failures;
        return false;
    });
    if ((kSm90TileTableRows > 0) != (table_hits > 0)) {
        std::printf("FAIL table consulted: %zu table rows, %ld shapes of the grid in their classes\n", kSm90TileTableRows,
                    table_hits);
        ++failures;
    }
    // The library's own table: every row's tile is a tile of sm90_tiles.def (release coverage is
    // release_kernels_cover_auto's, whose grid reaches every class).
    for (size_t i = 0; i < kSm90TileTableRows; ++i) {
        if (tile_name(kSm90TileTable[i].tile) == nullptr) {
            std::printf("FAIL sm90_tile_table.inc row %zu: tile %d has no name\n", i,
                        static_cast<int>(kSm90TileTable[i].tile));
            ++failures;
        }
    }
}

}  // namespace gg::tile_choice_tests
