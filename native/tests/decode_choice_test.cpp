// Which calls Auto sends to the decode kernels (tile_choice.h), without a GPU: the decode weight-gradient kernel whole
// (decode_weight_gradient) or beside the GEMM for short experts (decode_weight_gradient_short_rows), the decode forward
// kernel (decode_forward), no split-K where the weight-gradient kernel takes the call, and its block order
// (decode_weight_gradient_mixed), each with its knob. The bounds are the measured ones (bench/sweep/decode_rules.py).
#include "tile_choice_checks.h"

namespace gg::tile_choice_tests {

// The decode kernels' choice: which calls each takes, by the policy and by its knob.
void decode_choice() {
    // The decode weight-gradient kernel: weight gradients with device counts of at most 16 rows by default;
    // GG_SM90_DECODE_WGRAD=<rows> moves the bound; never forwards, host counts, forced tiles or grids past 2^31 blocks.
    gg::GmmProblem granite_t1 = problem(8, 512, 1536, 40, true);
    granite_t1.counts_on_device = true;
    gg::GmmProblem granite_t1_host = granite_t1;
    granite_t1_host.counts_on_device = false;
    gg::GmmProblem granite_t1_forward = granite_t1;
    granite_t1_forward.trans_a = false;
    gg::GmmProblem scout_t16 = problem(16, 8192, 5120, 16, true);  // llama-4-scout down at 16 tokens, top-1
    scout_t16.counts_on_device = true;
    gg::GmmProblem rows_17 = scout_t16;
    rows_17.m = 17;
    gg::GmmProblem huge_grid = problem(8, 1 << 20, 1 << 20, 1 << 20, true);  // 2^20 x 2^14 x 2^12 blocks
    huge_grid.counts_on_device = true;
    const struct {
        const char* value;
        const char* tile;  // GG_SM90_TILE, or nullptr
        const gg::GmmProblem* p;
        const char* what;
        int want;
    } decode_grads[] = {{nullptr, nullptr, &granite_t1, "granite down at one token, policy", 1},
                        {nullptr, nullptr, &scout_t16, "16 rows, policy", 1},
                        {nullptr, nullptr, &rows_17, "17 rows, policy", 0},
                        {nullptr, nullptr, &granite_t1_host, "host counts, policy", 0},
                        {nullptr, nullptr, &granite_t1_forward, "forward, policy", 0},
                        {"8", nullptr, &granite_t1, "granite down at one token, 8 rows", 1},
                        {"7", nullptr, &granite_t1, "granite down at one token, 7 rows", 0},
                        {"0", nullptr, &granite_t1, "granite down at one token, 0 rows", 0},
                        {"128", nullptr, &granite_t1_host, "host counts", 0},
                        {"128", nullptr, &granite_t1_forward, "forward", 0},
                        {"128", "coop128x256c1x1", &granite_t1, "forced tile", 0},
                        {"128", nullptr, &huge_grid, "more than 2^31 blocks", 0},
                        {"1048577", nullptr, &rows_17, "out of range: the policy's bound", 0},
                        {"1048577", nullptr, &granite_t1, "out of range: the policy's bound", 1}};
    for (const auto& d : decode_grads) {
        set_knob("GG_SM90_DECODE_WGRAD", d.value);
        set_knob("GG_SM90_TILE", d.tile);
        expect_knob("GG_SM90_DECODE_WGRAD", d.value, d.what,
                    gg::cutlass_sm90::decode_weight_gradient(*d.p, read_sm90_knobs()) ? 1 : 0, d.want);
    }
    unsetenv("GG_SM90_DECODE_WGRAD");
    unsetenv("GG_SM90_TILE");
    // The decode forward kernel: by default trans_b forwards with device counts of at most 8 rows and 128 MiB of live
    // weights, never the [E, k, n] layout; GG_SM90_DECODE_FWD=<rows> sends forwards and trans_b forwards with device
    // counts of at most that many rows, and at most 256 rows and 1024 experts (the kernel's scan), to it whatever their
    // bytes; never weight gradients, host counts, forced tiles or forced splits.
    gg::GmmProblem maverick_t1 = problem(1, 8192, 5120, 128, false);  // llama-4-maverick down at one token, top-1
    maverick_t1.counts_on_device = true;
    gg::GmmProblem maverick_t1_transb = maverick_t1;
    maverick_t1_transb.trans_b = true;
    gg::GmmProblem maverick_up_t1_transb = problem(1, 5120, 16384, 128, false);  // 168 MB of weights
    maverick_up_t1_transb.counts_on_device = true;
    maverick_up_t1_transb.trans_b = true;
    gg::GmmProblem qwen3_t1_transb = problem(8, 768, 2048, 128, false);  // qwen3-30b-a3b down, top-8: 25 MB
    qwen3_t1_transb.counts_on_device = true;
    qwen3_t1_transb.trans_b = true;
    gg::GmmProblem qwen3_t2_transb = qwen3_t1_transb;
    qwen3_t2_transb.m = 9;
    gg::GmmProblem maverick_t1_host = maverick_t1;
    maverick_t1_host.counts_on_device = false;
    gg::GmmProblem rows_256 = problem(256, 2048, 1024, 1024, false);
    rows_256.counts_on_device = true;
    gg::GmmProblem rows_257 = rows_256;
    rows_257.m = 257;
    gg::GmmProblem experts_1025 = rows_256;
    experts_1025.num_experts = 1025;
    gg::GmmProblem wide = maverick_t1;  // 65536 blocks of 32 columns: past a grid's y extent, so blocks walk several
    wide.n = 65536 * 32;
    const struct {
        const char* value;
        const char* tile;   // GG_SM90_TILE, or nullptr
        const char* split;  // GG_SM90_SPLIT, or nullptr
        const gg::GmmProblem* p;
        const char* what;
        int want;
    } decode_forwards[] = {{nullptr, nullptr, nullptr, &maverick_t1, "maverick down at one token, [E, k, n], policy", 0},
                           {nullptr, nullptr, nullptr, &maverick_t1_transb, "the same, trans_b, policy (84 MB)", 1},
                           {nullptr, nullptr, nullptr, &maverick_up_t1_transb, "maverick up, trans_b: 168 MB", 0},
                           {"1", nullptr, nullptr, &maverick_up_t1_transb, "the same, 1 row forced", 1},
                           {nullptr, nullptr, nullptr, &qwen3_t1_transb, "qwen3 down at one token, top-8, trans_b", 1},
                           {nullptr, nullptr, nullptr, &qwen3_t2_transb, "the same, 9 rows", 0},
                           {nullptr, nullptr, nullptr, &maverick_t1_host, "host counts, policy", 0},
                           {"1", nullptr, nullptr, &maverick_t1, "maverick down at one token, 1 row", 1},
                           {"1", nullptr, nullptr, &maverick_t1_transb, "the same, trans_b", 1},
                           {"0", nullptr, nullptr, &maverick_t1, "0 rows", 0},
                           {"256", nullptr, nullptr, &maverick_t1_host, "host counts", 0},
                           {"256", nullptr, nullptr, &granite_t1, "weight gradient", 0},
                           {"256", nullptr, nullptr, &rows_256, "256 rows over 1024 experts", 1},
                           {"255", nullptr, nullptr, &rows_256, "256 rows, bound 255", 0},
                           {"1024", nullptr, nullptr, &rows_257, "257 rows: past the kernel's 256", 0},
                           {"256", nullptr, nullptr, &experts_1025, "1025 experts: past the kernel's 1024", 0},
                           {"256", nullptr, nullptr, &wide, "65536 column blocks (decode_groups::grid_column_blocks)", 1},
                           {"256", "pingpong64x128k128", nullptr, &maverick_t1, "forced tile", 0},
                           {"256", nullptr, "4", &maverick_t1, "forced split", 0},
                           {"1048577", nullptr, nullptr, &maverick_t1, "out of range: the policy's bound", 0}};
    for (const auto& d : decode_forwards) {
        set_knob("GG_SM90_DECODE_FWD", d.value);
        set_knob("GG_SM90_TILE", d.tile);
        set_knob("GG_SM90_SPLIT", d.split);
        expect_knob("GG_SM90_DECODE_FWD", d.value, d.what,
                    gg::cutlass_sm90::decode_forward(*d.p, read_sm90_knobs()) ? 1 : 0, d.want);
    }
    unsetenv("GG_SM90_DECODE_FWD");
    unsetenv("GG_SM90_TILE");
    unsetenv("GG_SM90_SPLIT");
    // The kernel beside the GEMM (decode_weight_gradient_short_rows): experts of at most 16 rows where the experts hold
    // 1 to 4 rows on average; GG_SM90_DECODE_SHORT=<rows> sets the bound for every weight gradient with device counts
    // the kernel does not take whole, whatever the mean; never forwards, host counts, forced tiles, calls the kernel
    // takes whole or grids past 2^31 blocks.
    gg::GmmProblem granite_t16 = problem(128, 512, 1536, 40, true);  // granite-3.0 down at 16 tokens, top-8
    granite_t16.counts_on_device = true;
    gg::GmmProblem granite_t256 = granite_t16;
    granite_t256.m = 2048;
    gg::GmmProblem granite_t16_host = granite_t16;
    granite_t16_host.counts_on_device = false;
    gg::GmmProblem granite_t16_forward = granite_t16;
    granite_t16_forward.trans_a = false;
    gg::GmmProblem mixtral_t16 = problem(32, 4096, 28672, 8, true);  // mixtral-8x7b up at 16 tokens, top-2: 4 a expert
    mixtral_t16.counts_on_device = true;
    gg::GmmProblem mean_5 = mixtral_t16;
    mean_5.m = 40;
    gg::GmmProblem gpt_oss_t16 = problem(64, 2880, 5760, 128, true);  // gpt-oss-120b up at 16 tokens: 0.5 a expert
    gpt_oss_t16.counts_on_device = true;
    const struct {
        const char* value;
        const char* tile;
        const char* whole;  // GG_SM90_DECODE_WGRAD, or nullptr
        const gg::GmmProblem* p;
        const char* what;
        int want;
    } shorts[] = {{nullptr, nullptr, nullptr, &granite_t16, "policy, 3 rows per expert", 16},
                  {nullptr, nullptr, nullptr, &mixtral_t16, "policy, 4 rows per expert", 16},
                  {nullptr, nullptr, nullptr, &mean_5, "policy, 5 rows per expert", 0},
                  {nullptr, nullptr, nullptr, &gpt_oss_t16, "policy, below one row per expert", 0},
                  {nullptr, nullptr, nullptr, &granite_t256, "policy, 51 rows per expert", 0},
                  {nullptr, nullptr, nullptr, &granite_t16_host, "policy, host counts", 0},
                  {nullptr, nullptr, nullptr, &granite_t1, "policy, one token (the kernel whole)", 0},
                  {"16", nullptr, nullptr, &granite_t16, "granite down at 16 tokens", 16},
                  {"16", nullptr, nullptr, &granite_t256, "granite down at 256 tokens (forced: any mean)", 16},
                  {"0", nullptr, nullptr, &granite_t16, "0: none", 0},
                  {"16", nullptr, nullptr, &granite_t1, "one token: the kernel takes it whole", 0},
                  {"16", nullptr, "0", &granite_t1, "one token, the whole kernel off", 16},
                  {"16", nullptr, "128", &granite_t16, "the kernel takes 128 rows whole", 0},
                  {"16", nullptr, nullptr, &granite_t16_host, "host counts", 0},
                  {"16", nullptr, nullptr, &granite_t16_forward, "forward", 0},
                  {"16", "coop128x256c1x1", nullptr, &granite_t16, "forced tile", 0},
                  {"16", nullptr, nullptr, &huge_grid, "more than 2^31 blocks", 0}};
    for (const auto& d : shorts) {
        set_knob("GG_SM90_DECODE_SHORT", d.value);
        set_knob("GG_SM90_TILE", d.tile);
        set_knob("GG_SM90_DECODE_WGRAD", d.whole);
        expect_knob("GG_SM90_DECODE_SHORT", d.value, d.what,
                    static_cast<int>(gg::cutlass_sm90::decode_weight_gradient_short_rows(*d.p, read_sm90_knobs())),
                    d.want);
    }
    unsetenv("GG_SM90_DECODE_SHORT");
    unsetenv("GG_SM90_TILE");
    unsetenv("GG_SM90_DECODE_WGRAD");
    gg::cutlass_sm90::Sm90TilePolicy off;
    off.decode_short_expert_rows = 0;
    expect_knob("GG_SM90_DECODE_SHORT", nullptr, "a policy of 0 rows",
                static_cast<int>(gg::cutlass_sm90::decode_weight_gradient_short_rows(granite_t16, {}, off)), 0);
    // No split-K where the decode weight-gradient kernel takes the call, whole or beside the GEMM (split_k_chunks): the
    // split's plan could take an expert that kernel writes. A forced split still applies to the GEMM path alone.
    const struct {
        const char* split;
        const char* short_rows;
        const gg::GmmProblem* p;
        const char* what;
        int want;
    } splits[] = {{"4", nullptr, &granite_t16, "16 tokens: beside the GEMM by the policy", 0},
                  {"4", "16", &granite_t256, "256 tokens, forced beside the GEMM", 0},
                  {"4", nullptr, &granite_t256, "256 tokens: the GEMM path", 4},
                  {"4", nullptr, &granite_t1, "one token: the kernel whole", 0}};
    for (const auto& d : splits) {
        set_knob("GG_SM90_SPLIT", d.split);
        set_knob("GG_SM90_DECODE_SHORT", d.short_rows);
        expect_knob("GG_SM90_SPLIT", d.split, d.what, gg::cutlass_sm90::split_k_chunks(*d.p, 132, read_sm90_knobs()),
                    d.want);
    }
    unsetenv("GG_SM90_SPLIT");
    unsetenv("GG_SM90_DECODE_SHORT");
    // Its block order: mixed from one row per expert on average (llama-4-scout's 16 rows over 16 experts, the calls
    // beside the GEMM), experts major below (one token, llama-4-maverick's 16 rows over 128 experts); GG_SM90_DECODE_MIX=0|1
    // forces one (other values: the policy).
    gg::GmmProblem maverick_t16 = problem(16, 8192, 5120, 128, true);
    maverick_t16.counts_on_device = true;
    const struct {
        const char* value;
        const gg::GmmProblem* p;
        const char* what;
        int want;
    } mixes[] = {{nullptr, &scout_t16, "scout at 16 tokens", 1},      {nullptr, &maverick_t16, "maverick at 16 tokens", 0},
                 {nullptr, &granite_t1, "one token", 0},              {nullptr, &granite_t16, "granite at 16 tokens", 1},
                 {"0", &scout_t16, "scout at 16 tokens", 0},          {"1", &maverick_t16, "maverick at 16 tokens", 1},
                 {"2", &scout_t16, "out of range: the policy", 1},   {"2", &granite_t1, "out of range: the policy", 0}};
    for (const auto& x : mixes) {
        set_knob("GG_SM90_DECODE_MIX", x.value);
        expect_knob("GG_SM90_DECODE_MIX", x.value, x.what,
                    gg::cutlass_sm90::decode_weight_gradient_mixed(*x.p, read_sm90_knobs()) ? 1 : 0, x.want);
    }
    unsetenv("GG_SM90_DECODE_MIX");
}

}  // namespace gg::tile_choice_tests
