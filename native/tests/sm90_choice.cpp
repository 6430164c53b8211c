// gg_sm90_choice: which cutlass-sm90 kernel Auto's policy (native/src/cutlass_sm90/tile_choice.h) picks for a shape,
// with batch sizes in device memory (as the sweep calls it), without a GPU. bench/sweep/focus.py prints it next to
// each measured row, so that a row's ratio can be read against the kernel that ran it; it reads the same header the
// library does, so there is no second list of kernels to keep in step.
//
//   gg_sm90_choice [--sms N] [--dram BYTES_PER_S] < lines
//     each input line: m k n experts form accumulate   (form: forward, forward-transb or weight-grad; accumulate 0|1)
//     each output line: <tile>[_store] <claim ahead> <run rows> <band> <raster m|n> first=<0|1> long=<rows>
//     decode=<0|1> short=<rows> route=<rows> route_decode=<row tiles> split=<chunks>, or "error: ..." for a bad line.
//     route: the device chooses between the tile printed and the other of contig256x128 / coop128x256c1x1 by the
//     routing rule with that bound (tile_choice.h: device_route_rows; 0: the tile printed runs). route_decode: the
//     device chooses between the decode tile printed and contig256x128 by the decode tile's 64-row tiles, contig256x128
//     at most that many (tile_choice.h: device_route, decode_route_row_tiles; 0: none). split: weight gradients, split-K of
//     the largest expert (tile_choice.h: split_k_chunks; the device splits only a dominant one); forwards, every expert's k in that many chunks on the split tile's partial kernel
//     (forward_split_chunks), in place of the tile printed; 0: none
//   --class instead, each line's shape class (shape_class.h): its key, then its enumerators as a row of the measured
//           tile table takes them (bench/sweep/make_tile_table.py classifies its measured rows with this)
//   --rules the tile of tile_choice.h's rules alone, without the measured tile table (sm90_tile_table.inc)
//   --sms   the card's SM count (default 132: H100 SXM, H200)
//   --dram  the card's peak DRAM bytes per second as the library computes it (2 x memory clock x bus width; default
//           3.35e12, an H100 SXM; an H200 is 4.8e12)
//   --route R  instead, each input line one call's expert row counts (space-separated): the kernel the routing rule with
//           bound R runs (contiguous_tiling.h: route_contiguous, the tally the fill kernel makes), contig256x128 or
//           coop128x256c1x1, one word a line (bench/sweep/route_rule.py --check holds its mirror of the rule to this)
//   --route-decode T  the same for the second rule with at most T row tiles (contiguous_tiling.h: RouteRule::max_row_tiles):
//           contig256x128 or pingpong64x128k128
// Tuning knobs (GG_SM90_*) are read as a tuning build reads them, so a forced tile shows as forced.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cutlass_sm90/tile_choice.h"

// --route R and --route-decode T: the routing rule's kernel for each line of counts.
static int print_routes(const gg::cutlass_sm90::contiguous::RouteRule& rule, const char* grouped_tile) {
    namespace contig = gg::cutlass_sm90::contiguous;
    char line[1 << 16];
    while (std::fgets(line, sizeof line, stdin) != nullptr) {
        contig::RouteTally tally;
        const char* at = line;
        char* end = nullptr;
        for (long long rows = std::strtoll(at, &end, 10); end != at; rows = std::strtoll(at, &end, 10)) {
            tally = contig::route_sum(tally, contig::route_tally(rows, rule));
            at = end;
        }
        std::printf("%s\n", contig::route_contiguous(tally, rule) ? "contig256x128" : grouped_tile);
    }
    return 0;
}

int main(int argc, char** argv) {
    int sms = 132;
    double dram = 3.35e12;
    bool print_class = false;
    gg::cutlass_sm90::Sm90TilePolicy policy = gg::cutlass_sm90::kSm90TilePolicy;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--class") == 0) {
            print_class = true;
        } else if (std::strcmp(argv[i], "--rules") == 0) {
            policy.use_tile_table = false;
        } else if (std::strcmp(argv[i], "--sms") == 0 && i + 1 < argc) {
            sms = std::atoi(argv[++i]);
        } else if (std::strcmp(argv[i], "--dram") == 0 && i + 1 < argc) {
            dram = std::atof(argv[++i]);
        } else if (std::strcmp(argv[i], "--route") == 0 && i + 1 < argc) {
            gg::cutlass_sm90::contiguous::RouteRule rule;
            rule.row_bound = std::atoll(argv[++i]);
            return print_routes(rule, "coop128x256c1x1");
        } else if (std::strcmp(argv[i], "--route-decode") == 0 && i + 1 < argc) {
            gg::cutlass_sm90::contiguous::RouteRule rule;
            rule.max_row_tiles = std::atoll(argv[++i]);
            return print_routes(rule, "pingpong64x128k128");
        } else {
            std::fprintf(stderr, "gg_sm90_choice: unknown argument '%s' (see native/tests/sm90_choice.cpp)\n", argv[i]);
            return 2;
        }
    }
    if (sms <= 0 || dram < 0) {
        std::fprintf(stderr, "gg_sm90_choice: --sms %d and --dram %g must be positive\n", sms, dram);
        return 2;
    }
    const auto knobs = gg::cutlass_sm90::read_sm90_knobs();
    char line[512];
    while (std::fgets(line, sizeof line, stdin) != nullptr) {
        long long m = 0, k = 0, n = 0, experts = 0;
        char form[32] = {};
        int accumulate = 0;
        if (std::sscanf(line, "%lld %lld %lld %lld %31s %d", &m, &k, &n, &experts, form, &accumulate) != 6 ||
            m < 0 || k <= 0 || n <= 0 || experts <= 0) {
            std::printf("error: cannot read '%.*s' (m k n experts form accumulate)\n",
                        static_cast<int>(std::strcspn(line, "\n")), line);
            continue;
        }
        const std::string f = form;
        if (f != "forward" && f != "forward-transb" && f != "weight-grad") {
            std::printf("error: form '%s' is not forward, forward-transb or weight-grad\n", form);
            continue;
        }
        gg::GmmProblem p{};
        p.m = m;
        p.k = k;
        p.n = n;
        p.num_experts = experts;
        p.trans_a = f == "weight-grad";
        p.trans_b = f == "forward-transb";
        p.accumulate = accumulate != 0;
        p.counts_on_device = true;
        using namespace gg::cutlass_sm90;
        if (print_class) {
            char key[96], enumerators[128];
            const ShapeClass c = classify(p, dram);
            std::printf("%s %s\n", class_key(c, key, sizeof key), class_enumerators(c, enumerators, sizeof enumerators));
            continue;
        }
        const Sm90Tile tile = choose_tile(p, nullptr, sms, dram, knobs, policy);
        const bool own = tile == Sm90Tile::kContiguous256x128;
        const bool store = !own && choose_epilogue(p, tile, knobs) == Sm90Epilogue::kStoreOnly;
        // first=, long=, decode= and short=: the largest expert's group first, the rows from which a claimed tile is long,
        // whether the decode weight-gradient kernel takes the call instead of the tile (then nothing before it applies),
        // and the rows of the experts it takes beside the tile's GEMM (0: none).
        const Sm90Route route = device_route(p, tile, sms, dram, knobs, policy);
        std::printf("%s%s %d %d %d %s first=%d long=%d decode=%d short=%lld route=%lld route_decode=%lld split=%d\n",
                    tile_name(tile),
                    store ? "_store" : "", tile_claim_ahead(p, tile, knobs), own ? 0 : tile_run_rows(p, knobs),
                    own ? 0 : tile_band(p, tile, knobs), raster_along_n(tile, p.trans_a, knobs) ? "n" : "m",
                    largest_expert_first(p, knobs) ? 1 : 0, tile_long_rows(p, knobs, policy),
                    decode_weight_gradient(p, knobs, policy) ? 1 : 0,
                    static_cast<long long>(decode_weight_gradient_short_rows(p, knobs, policy)),
                    static_cast<long long>(route.rule.row_bound), static_cast<long long>(route.rule.max_row_tiles),
                    p.trans_a ? split_k_chunks(p, sms, knobs) : forward_split_chunks(p, tile, sms, knobs));
    }
    return 0;
}
