// cutlass-sm90's tile choice (native/src/cutlass_sm90/tile_choice.h) without a GPU: which configuration each
// benchmark shape and a few edge shapes get, which epilogue a call gets, and the tuning knobs' parsing. The choices are the measured
// ones of docs/perf-notes.md; a change of policy should change this file in the same commit.
#include <cstddef>
#include <cstdio>
#include <cstdlib>

#include "cutlass_sm90/tile_choice.h"
#include "cutlass_sm80/group_arrays.cuh"
// Generated from native/cmake/sm90_release_kernels.cmake: the kernels a release build compiles.
#include "sm90_release_kernels.h"

namespace {

using gg::cutlass_sm90::Sm90Epilogue;
using gg::cutlass_sm90::Sm90Tile;
using gg::cutlass_sm90::choose_epilogue;
using gg::cutlass_sm90::choose_tile;
using gg::cutlass_sm90::tile_name;

int failures = 0;

constexpr int kSms = 132;  // H100 SXM / H200

// Sets a tuning knob's environment variable, or unsets it for nullptr.
void set_knob(const char* name, const char* value) {
    if (value == nullptr) {
        unsetenv(name);
    } else {
        setenv(name, value, 1);
    }
}

// Records a failure when a result under the knob `knob`=`value` is not the expected one; `what` names the case.
void expect_knob(const char* knob, const char* value, const char* what, int got, int want) {
    if (got != want) {
        std::printf("FAIL %s=%s%s%s: got %d, want %d\n", knob, value ? value : "(unset)", *what ? ", " : "", what, got,
                    want);
        ++failures;
    }
}

gg::GmmProblem problem(int64_t m, int64_t k, int64_t n, int64_t experts, bool trans_a) {
    gg::GmmProblem p{};
    p.m = m;
    p.k = k;
    p.n = n;
    p.num_experts = experts;
    p.trans_a = trans_a;
    return p;
}

// Peak DRAM bandwidths of the two cards the policy was measured on.
constexpr double kH200DramBytesPerS = 4.8e12;
constexpr double kH100DramBytesPerS = 3.35e12;

void expect(const char* what, const gg::GmmProblem& p, const int32_t* host_sizes, Sm90Tile want,
            double dram_bytes_per_s = kH200DramBytesPerS) {
    const Sm90Tile got = choose_tile(p, host_sizes, kSms, dram_bytes_per_s);
    if (got != want) {
        std::printf("FAIL %s: m=%lld k=%lld n=%lld E=%lld trans_a=%d: got %s, want %s\n", what,
                    static_cast<long long>(p.m), static_cast<long long>(p.k), static_cast<long long>(p.n),
                    static_cast<long long>(p.num_experts), p.trans_a ? 1 : 0, tile_name(got), tile_name(want));
        ++failures;
    }
}

void benchmark_shapes() {
    // The design document's configurations (M = tokens x top-k), forward and weight gradient.
    struct Shape {
        const char* name;
        int64_t m, e, k, n;
        Sm90Tile forward, weight_grad;
    } shapes[] = {
        {"seed-300M", 16384, 80, 512, 2048, Sm90Tile::kCooperative128x256Cluster1x1,
         Sm90Tile::kCooperative128x256K32Cluster1x1},
        {"qwen-moe-like", 98304, 64, 4096, 1408, Sm90Tile::kContiguous256x128, Sm90Tile::kCooperative256x128},
        {"deepseek-like", 524288, 256, 7168, 2048, Sm90Tile::kCooperative128x256Cluster1x1,
         Sm90Tile::kCooperative128x256Cluster1x1},
        {"mixtral-like", 65536, 8, 4096, 14336, Sm90Tile::kPingpong128x128Cluster1x2,
         Sm90Tile::kCooperative128x256Cluster1x1},
        {"small-experts", 32768, 128, 2048, 768, Sm90Tile::kCooperative128x256Cluster1x1,
         Sm90Tile::kCooperative128x256K32Cluster1x1},
    };
    for (const Shape& s : shapes) {
        expect(s.name, problem(s.m, s.k, s.n, s.e, false), nullptr, s.forward);
        expect(s.name, problem(s.m, s.k, s.n, s.e, true), nullptr, s.weight_grad);
    }
}

void edge_shapes() {
    // n below one 256-wide tile: the 128-wide ping-pong tile, whatever else.
    expect("narrow n", problem(1 << 20, 4096, 128, 8, false), nullptr, Sm90Tile::kPingpong128x128);
    expect("narrow n, weight gradient", problem(1 << 20, 4096, 192, 8, true), nullptr, Sm90Tile::kPingpong128x128);
    // Fewer 128x256 tiles than SMs: the small tile, to fill the machine.
    expect("few tiles", problem(512, 1024, 512, 4, false), nullptr, Sm90Tile::kPingpong128x128);
    // Decode-sized experts with n = 1408: 256-row tiles would be mostly padding.
    expect("decode, n = 1408", problem(64 * 64, 4096, 1408, 64, false), nullptr, Sm90Tile::kPingpong128x128);
    // Weight gradients with n = 1408: the 256x128 tile from 1024 rows per expert, the ping-pong tile below that or
    // where n is not a multiple of 128.
    expect("weight gradient, n = 1408, 1024 rows", problem(64 * 1024, 4096, 1408, 64, true), nullptr,
           Sm90Tile::kCooperative256x128);
    expect("weight gradient, n = 1408, 1023 rows", problem(64 * 1023, 4096, 1408, 64, true), nullptr,
           Sm90Tile::kPingpong128x128);
    expect("weight gradient, n = 1400", problem(98304, 4096, 1400, 64, true), nullptr, Sm90Tile::kPingpong128x128);
    // E = 1 with every row: one large GEMM.
    expect("one expert", problem(8192, 4096, 4096, 1, false), nullptr, Sm90Tile::kPingpong128x128Cluster1x2);
    // Forwards of large experts: the ping-pong 1x2 tile from 4.5 TB/s of DRAM (the H200), else (the H100, a card
    // whose bandwidth is unknown) the cluster-free 128x256 tile; weight gradients do not depend on it.
    const gg::GmmProblem mixtral = problem(65536, 4096, 14336, 8, false);
    expect("mixtral-like forward, H100", mixtral, nullptr, Sm90Tile::kCooperative128x256Cluster1x1, kH100DramBytesPerS);
    expect("mixtral-like forward, 4.5 TB/s", mixtral, nullptr, Sm90Tile::kPingpong128x128Cluster1x2, 4.5e12);
    expect("mixtral-like forward, 4.49 TB/s", mixtral, nullptr, Sm90Tile::kCooperative128x256Cluster1x1, 4.49e12);
    expect("mixtral-like forward, bandwidth unknown", mixtral, nullptr, Sm90Tile::kCooperative128x256Cluster1x1, 0.0);
    expect("mixtral-like weight gradient, H100", problem(65536, 4096, 14336, 8, true), nullptr,
           Sm90Tile::kCooperative128x256Cluster1x1, kH100DramBytesPerS);
    expect("qwen-like forward, H100", problem(98304, 4096, 1408, 64, false), nullptr, Sm90Tile::kContiguous256x128,
           kH100DramBytesPerS);
    // The contiguous kernel neither adds to c nor holds more than 1024 experts' offsets: CUTLASS's 256x128 tile then.
    gg::GmmProblem qwen_accumulate = problem(98304, 4096, 1408, 64, false);
    qwen_accumulate.accumulate = true;
    expect("qwen-like forward, accumulate", qwen_accumulate, nullptr, Sm90Tile::kCooperative256x128);
    expect("n = 1408, 1024 experts", problem(1024 * 1024, 4096, 1408, 1024, false), nullptr,
           Sm90Tile::kContiguous256x128);
    expect("n = 1408, 1025 experts", problem(1025 * 1024, 4096, 1408, 1025, false), nullptr,
           Sm90Tile::kCooperative256x128);
    expect("deepseek-like forward, H100", problem(524288, 7168, 2048, 256, false), nullptr,
           Sm90Tile::kCooperative128x256Cluster1x1, kH100DramBytesPerS);
    // Host counts are used for the tile count: 132 experts with one row each make few tiles.
    static int32_t sizes[3 * 4];
    for (int e = 0; e < 4; ++e) {
        sizes[3 * e] = 1;
        sizes[3 * e + 1] = 4096;
        sizes[3 * e + 2] = 4096;
    }
    expect("host counts, tiny experts", problem(4, 4096, 4096, 4, false), sizes, Sm90Tile::kPingpong128x128);
}

void knobs() {
    const gg::GmmProblem seed = problem(16384, 512, 2048, 80, false);
    setenv("GG_SM90_TILE", "coop256x128", 1);
    expect("GG_SM90_TILE", seed, nullptr, Sm90Tile::kCooperative256x128);
    setenv("GG_SM90_TILE", "contig256x128", 1);
    expect("GG_SM90_TILE, our own kernel", seed, nullptr, Sm90Tile::kContiguous256x128);
    setenv("GG_SM90_TILE", "no-such-tile", 1);
    expect("unknown GG_SM90_TILE is ignored", seed, nullptr, Sm90Tile::kCooperative128x256Cluster1x1);
    unsetenv("GG_SM90_TILE");

    const struct {
        const char* value;
        int want;
    } grids[] = {{nullptr, 1}, {"", 1}, {"2", 2}, {"16", 16}, {"17", 1}, {"0", 1}, {"-3", 1}, {"x", 1}};
    for (const auto& g : grids) {
        set_knob("GG_SM90_GRID", g.value);
        expect_knob("GG_SM90_GRID", g.value, "", gg::cutlass_sm90::grid_factor(), g.want);
    }
    unsetenv("GG_SM90_GRID");
}

// One row of a per-tile knob's table: the knob's value (nullptr: unset), the call, the tile it runs, and the value
// the policy must return.
struct TileKnobCase {
    const char* value;
    const gg::GmmProblem* p;
    Sm90Tile tile;
    const char* what;
    int want;
};

// Checks `policy(problem, tile)` on every row with the row's value of `knob` set, and unsets the knob after.
template <size_t N, class Policy>
void expect_tile_knob(const char* knob, const TileKnobCase (&cases)[N], Policy policy) {
    for (const auto& c : cases) {
        set_knob(knob, c.value);
        expect_knob(knob, c.value, c.what, policy(*c.p, c.tile), c.want);
    }
    unsetenv(knob);
}

void scheduler_order() {
    // Weight gradients of small experts deal their tiles in runs of 2048 rows' work, everything else one by one;
    // GG_SM90_RUN_ROWS forces a value (0 to 2^20) for every call.
    const gg::GmmProblem seed_grad = problem(16384, 512, 2048, 80, true);
    const gg::GmmProblem seed_forward = problem(16384, 512, 2048, 80, false);
    const gg::GmmProblem qwen_grad = problem(98304, 4096, 1408, 64, true);
    const gg::GmmProblem qwen_forward = problem(98304, 4096, 1408, 64, false);
    const struct {
        const char* value;
        const gg::GmmProblem* p;
        const char* what;
        int want;
    } runs[] = {{nullptr, &seed_grad, "seed-300M weight gradient", 2048},
                {nullptr, &seed_forward, "seed-300M forward", 0},
                {nullptr, &qwen_grad, "qwen-like weight gradient", 0},
                {"0", &seed_grad, "seed-300M weight gradient", 0},
                {"4096", &seed_forward, "seed-300M forward", 4096},
                {"1048576", &qwen_grad, "qwen-like weight gradient", 1048576},
                {"1048577", &seed_grad, "seed-300M weight gradient", 2048},
                {"-1", &seed_forward, "seed-300M forward", 0},
                {"12x", &seed_grad, "seed-300M weight gradient", 2048},
                {"", &seed_grad, "seed-300M weight gradient", 2048}};
    for (const auto& r : runs) {
        set_knob("GG_SM90_RUN_ROWS", r.value);
        expect_knob("GG_SM90_RUN_ROWS", r.value, r.what,
                    gg::cutlass_sm90::tile_run_rows(*r.p), r.want);
    }
    unsetenv("GG_SM90_RUN_ROWS");
    // Weight gradients on the cluster-free cooperative tiles claim their tiles 4 ahead; forwards, the ping-pong
    // weight gradient and the clustered tiles keep the static deal; GG_SM90_CLAIM forces a value (0 to 7).
    const TileKnobCase claims[] = {
        {nullptr, &seed_grad, Sm90Tile::kCooperative128x256K32Cluster1x1, "seed-300M weight gradient", 4},
        {nullptr, &seed_grad, Sm90Tile::kCooperative128x256Cluster1x1, "weight gradient, coop128x256c1x1", 4},
        {nullptr, &seed_grad, Sm90Tile::kCooperative128x256K32, "weight gradient, 2x1 cluster", 0},
        {nullptr, &qwen_grad, Sm90Tile::kCooperative256x128, "qwen-like weight gradient", 4},
        {nullptr, &qwen_grad, Sm90Tile::kPingpong128x128, "weight gradient, ping-pong", 0},
        {nullptr, &qwen_forward, Sm90Tile::kCooperative256x128, "qwen-like forward", 0},
        {nullptr, &qwen_forward, Sm90Tile::kContiguous256x128, "qwen-like forward, contiguous kernel", 1},
        {"0", &qwen_forward, Sm90Tile::kContiguous256x128, "qwen-like forward, contiguous kernel", 0},
        {nullptr, &seed_forward, Sm90Tile::kCooperative128x256Cluster1x1, "seed-300M forward", 0},
        {"0", &seed_grad, Sm90Tile::kCooperative128x256K32Cluster1x1, "seed-300M weight gradient", 0},
        {"7", &seed_forward, Sm90Tile::kCooperative128x256Cluster1x1, "seed-300M forward", 7},
        {"8", &seed_grad, Sm90Tile::kCooperative128x256K32Cluster1x1, "seed-300M weight gradient", 4},
        {"-1", &seed_forward, Sm90Tile::kCooperative128x256Cluster1x1, "seed-300M forward", 0},
        {"", &seed_grad, Sm90Tile::kCooperative128x256K32Cluster1x1, "seed-300M weight gradient", 4}};
    expect_tile_knob("GG_SM90_CLAIM", claims, [](const gg::GmmProblem& p, Sm90Tile t) {
        return gg::cutlass_sm90::tile_claim_ahead(p, t);
    });
    // Forwards of 4096 rows per expert and more on the ping-pong 1x2 or the cluster-free 128x256 tile walk bands of 16
    // tile rows; everything else none; GG_SM90_BAND forces a width (0 to 65536).
    const gg::GmmProblem mixtral_forward = problem(65536, 4096, 14336, 8, false);
    const gg::GmmProblem mixtral_grad = problem(65536, 4096, 14336, 8, true);
    const gg::GmmProblem forward_4096_rows = problem(8 * 4096, 4096, 14336, 8, false);
    const gg::GmmProblem forward_4095_rows = problem(8 * 4095, 4096, 14336, 8, false);
    const gg::GmmProblem deepseek_forward = problem(524288, 7168, 2048, 256, false);
    const TileKnobCase bands[] = {
        {nullptr, &mixtral_forward, Sm90Tile::kPingpong128x128Cluster1x2, "mixtral-like forward", 16},
        {nullptr, &mixtral_forward, Sm90Tile::kCooperative128x256Cluster1x1, "mixtral-like forward, no cluster", 16},
        {nullptr, &mixtral_forward, Sm90Tile::kCooperative128x256, "mixtral-like forward, 2x1 cluster", 0},
        {nullptr, &forward_4096_rows, Sm90Tile::kCooperative128x256Cluster1x1, "forward, 4096 rows per expert", 16},
        {nullptr, &forward_4095_rows, Sm90Tile::kCooperative128x256Cluster1x1, "forward, 4095 rows per expert", 0},
        {nullptr, &deepseek_forward, Sm90Tile::kCooperative128x256Cluster1x1, "deepseek-like forward", 0},
        {nullptr, &mixtral_grad, Sm90Tile::kPingpong128x128Cluster1x2, "weight gradient, ping-pong 1x2", 0},
        {nullptr, &mixtral_grad, Sm90Tile::kCooperative128x256Cluster1x1, "mixtral-like weight gradient", 0},
        {nullptr, &qwen_forward, Sm90Tile::kCooperative256x128, "qwen-like forward", 0},
        {nullptr, &seed_forward, Sm90Tile::kCooperative128x256Cluster1x1, "seed-300M forward", 0},
        {"0", &mixtral_forward, Sm90Tile::kPingpong128x128Cluster1x2, "mixtral-like forward", 0},
        {"3", &seed_forward, Sm90Tile::kCooperative128x256Cluster1x1, "seed-300M forward", 3},
        {"65537", &mixtral_forward, Sm90Tile::kPingpong128x128Cluster1x2, "mixtral-like forward", 16},
        {"16x", &seed_forward, Sm90Tile::kCooperative128x256Cluster1x1, "seed-300M forward", 0},
        {"", &mixtral_forward, Sm90Tile::kPingpong128x128Cluster1x2, "mixtral-like forward", 16}};
    expect_tile_knob("GG_SM90_BAND", bands, [](const gg::GmmProblem& p, Sm90Tile t) {
        return gg::cutlass_sm90::tile_band(p, t);
    });
    // Along N for the 256x128 tile and for weight gradients on the cluster-free ping-pong tile, along M for the
    // others; GG_SM90_RASTER=n|m forces one order for all.
    const struct {
        const char* value;
        Sm90Tile tile;
        bool trans_a;
        bool want;
    } rasters[] = {{nullptr, Sm90Tile::kCooperative128x256Cluster1x1, false, false},
                   {nullptr, Sm90Tile::kCooperative256x128, false, true},
                   {nullptr, Sm90Tile::kCooperative256x128, true, true},
                   {nullptr, Sm90Tile::kPingpong128x128, true, true},
                   {nullptr, Sm90Tile::kPingpong128x128, false, false},
                   {nullptr, Sm90Tile::kPingpong128x128Cluster1x2, true, false},
                   {nullptr, Sm90Tile::kCooperative128x256K32, true, false},
                   {nullptr, Sm90Tile::kCooperative128x256K32Cluster1x1, true, false},
                   {"n", Sm90Tile::kCooperative128x256Cluster1x1, false, true},
                   {"m", Sm90Tile::kCooperative256x128, false, false},
                   {"m", Sm90Tile::kPingpong128x128, true, false},
                   {"", Sm90Tile::kCooperative256x128, false, true},
                   {"x", Sm90Tile::kPingpong128x128, false, false}};
    for (const auto& r : rasters) {
        set_knob("GG_SM90_RASTER", r.value);
        expect_knob("GG_SM90_RASTER", r.value, r.trans_a ? "weight gradient" : tile_name(r.tile),
                    gg::cutlass_sm90::raster_along_n(r.tile, r.trans_a), r.want);
    }
    unsetenv("GG_SM90_RASTER");
}

void epilogues() {
    // Accumulating calls must read C: only the source epilogue can, whatever the knob says.
    gg::GmmProblem p = problem(16384, 512, 2048, 80, true);
    const struct {
        bool accumulate;
        const char* knob;
        Sm90Epilogue want;
    } cases[] = {{false, nullptr, Sm90Epilogue::kStoreOnly}, {true, nullptr, Sm90Epilogue::kSource},
                 {false, "source", Sm90Epilogue::kSource},   {true, "source", Sm90Epilogue::kSource},
                 {false, "store", Sm90Epilogue::kStoreOnly}, {true, "store", Sm90Epilogue::kSource},
                 {false, "", Sm90Epilogue::kStoreOnly}};
    for (const auto& c : cases) {
        set_knob("GG_SM90_EPILOGUE", c.knob);
        p.accumulate = c.accumulate;
        expect_knob("GG_SM90_EPILOGUE", c.knob, c.accumulate ? "accumulate" : "",
                    static_cast<int>(choose_epilogue(p, Sm90Tile::kCooperative128x256K32Cluster1x1)), static_cast<int>(c.want));
    }
    unsetenv("GG_SM90_EPILOGUE");
    // The measured exception: the weight gradient on the cluster-free ping-pong tile keeps the source epilogue,
    // unless the knob forces the store-only one; the forward there is store-only.
    p.accumulate = false;
    const int source = static_cast<int>(Sm90Epilogue::kSource), store = static_cast<int>(Sm90Epilogue::kStoreOnly);
    expect_knob("GG_SM90_EPILOGUE", nullptr, "weight gradient, pingpong128x128",
                static_cast<int>(choose_epilogue(p, Sm90Tile::kPingpong128x128)), source);
    set_knob("GG_SM90_EPILOGUE", "store");
    expect_knob("GG_SM90_EPILOGUE", "store", "weight gradient, pingpong128x128",
                static_cast<int>(choose_epilogue(p, Sm90Tile::kPingpong128x128)), store);
    unsetenv("GG_SM90_EPILOGUE");
    p.trans_a = false;
    expect_knob("GG_SM90_EPILOGUE", nullptr, "forward, pingpong128x128",
                static_cast<int>(choose_epilogue(p, Sm90Tile::kPingpong128x128)), store);
}

// Every (dtype, operands, tile, epilogue) that choose_tile and choose_epilogue pick, over a grid of shapes, routings,
// cards and flags, is in the release list (cmake/sm90_release_kernels.cmake): a release build must carry every kernel
// Auto can choose. Our contiguous kernel is not a CUTLASS kernel file and is always built.
void release_kernels_cover_auto() {
    using gg::cutlass_grouped::Operands;
    struct Kernel {
        gg_dtype dtype;
        Operands ops;
        Sm90Tile tile;
        Sm90Epilogue epilogue;
    };
#define GG_RELEASE_ENTRY(DTYPE, OPS, TILE, EPILOGUE) \
    Kernel{DTYPE, Operands::OPS, Sm90Tile::TILE, Sm90Epilogue::EPILOGUE},
    const Kernel release[] = {GG_SM90_RELEASE_KERNEL_LIST(GG_RELEASE_ENTRY)};
#undef GG_RELEASE_ENTRY
    if (sizeof(release) / sizeof(release[0]) < 2) {
        std::printf("FAIL release list: %zu kernels\n", sizeof(release) / sizeof(release[0]));
        ++failures;
    }
    auto in_release = [&](gg_dtype d, Operands o, Sm90Tile t, Sm90Epilogue e) {
        for (const Kernel& k : release) {
            if (k.dtype == d && k.ops == o && k.tile == t && k.epilogue == e) return true;
        }
        return false;
    };
    const int64_t rows_per_expert[] = {0, 1, 8, 64, 200, 256, 511, 512, 1000, 1024, 1536, 2048, 4095, 4096, 8192, 32768};
    const int64_t experts[] = {1, 2, 8, 16, 32, 60, 64, 80, 128, 256, 384, 1024, 1025, 4096};
    const int64_t dims[] = {8, 64, 120, 128, 192, 256, 384, 704, 768, 1024, 1408, 1536, 2048, 2880, 4096, 5760, 7168, 14336};
    const double cards[] = {kH100DramBytesPerS, kH200DramBytesPerS, 0.0};
    long checked = 0;
    for (const int64_t rpe : rows_per_expert)
        for (const int64_t e : experts)
            for (const int64_t k : dims)
                for (const int64_t n : dims)
                    for (int form = 0; form < 3; ++form)
                        for (int accumulate = 0; accumulate < 2; ++accumulate)
                            for (const double dram : cards) {
                                gg::GmmProblem p = problem(rpe * e, k, n, e, form == 2);
                                p.trans_b = form == 1;
                                p.accumulate = accumulate != 0;
                                const Sm90Tile tile = choose_tile(p, nullptr, kSms, dram);
                                if (tile == Sm90Tile::kContiguous256x128) continue;
                                const Sm90Epilogue epi = choose_epilogue(p, tile);
                                const Operands ops = gg::cutlass_grouped::operands_of(p);
                                for (const gg_dtype d : {GG_DTYPE_BFLOAT16, GG_DTYPE_FLOAT16}) {
                                    ++checked;
                                    if (!in_release(d, ops, tile, epi)) {
                                        std::printf("FAIL release kernels: m=%lld k=%lld n=%lld E=%lld form=%d "
                                                    "accumulate=%d picks %s (epilogue %d), not in "
                                                    "cmake/sm90_release_kernels.cmake\n",
                                                    static_cast<long long>(p.m), static_cast<long long>(k),
                                                    static_cast<long long>(n), static_cast<long long>(e), form,
                                                    accumulate, tile_name(tile), static_cast<int>(epi));
                                        ++failures;
                                        return;
                                    }
                                }
                            }
    std::printf("release kernels: %ld choices checked against %zu release kernels\n", checked,
                sizeof(release) / sizeof(release[0]));
}

}  // namespace

int main() {
    unsetenv("GG_SM90_TILE");  // a tuning session's knobs must not leak into the policy checks
    unsetenv("GG_SM90_GRID");
    unsetenv("GG_SM90_EPILOGUE");
    unsetenv("GG_SM90_RASTER");
    unsetenv("GG_SM90_RUN_ROWS");
    unsetenv("GG_SM90_CLAIM");
    benchmark_shapes();
    edge_shapes();
    epilogues();
    knobs();
    scheduler_order();
    release_kernels_cover_auto();
    if (failures != 0) {
        std::printf("%d tile-choice check(s) failed\n", failures);
        return 1;
    }
    std::printf("tile choice: all checks passed\n");
    return 0;
}
