// The order in which the persistent sm90 grouped kernels visit their output tiles, and the problem-shape type
// that carries it into CUTLASS. Included by grouped_gemm_sm90.cuh only.
//
// Why our own tile scheduler: CUTLASS's group scheduler deals the tiles of all groups out round-robin, tile t
// to CTA t mod grid, so with fewer tiles per expert than SMs (seed-300M, small-experts, qwen-like) every tile a
// CTA runs belongs to another expert than its last one. Each such change costs the CTA a problem-shape read and
// TMA descriptor updates (A, B, D), partly on the consumer warps' path, which weighs most where a tile's own
// work is short: weight gradients of small experts, whose reductions are a few hundred rows. Dealing runs of
// consecutive tiles of one expert divides those changes. A run is sized by its work (tiles x (rows reduced +
// a fixed overhead)), so the tiles of a large expert are still dealt one by one, and skewed routing does not
// bunch expensive tiles onto a few CTAs; the CTAs still work on neighbouring tiles at any moment, which keeps
// their operands shared in L2 (one contiguous share per CTA lost 22-51% on forwards for that reason,
// docs/perf-notes.md v10).
// Runs of one tile are CUTLASS's order.
//
// It also closes a race: CUTLASS's group scheduler reads problem shapes in its constructor, which the kernel
// runs before it waits for the preceding grid (NVIDIA/cutlass#2962). With programmatic dependent launch that
// grid is our preparation kernel, which writes those shapes when the counts live on the device, so those reads
// could see the previous call's shapes. The walk below reads shapes only from initial_work_tile_info on, which
// every kernel calls after its wait; what CUTLASS's constructor caches is never used.
#pragma once

#include <cstdint>

#include "cutlass/gemm/group_array_problem_shape.hpp"
#include "cutlass/pipeline/pipeline.hpp"
#include "cutlass/gemm/kernel/tile_scheduler.hpp"  // also CUTLASS's group scheduler, the base class below
#include "cute/arch/cluster_sm90.hpp"

namespace gg::cutlass_sm90 {

// (M, N, K) per group, and how the tile walk sizes its runs. Shapes are read on the device only after the kernel
// has waited for the preceding grid.
struct GroupTileShapes : cutlass::gemm::GroupProblemShape<cute::Shape<int, int, int>> {
    using Base = cutlass::gemm::GroupProblemShape<cute::Shape<int, int, int>>;
    // The work of one run, in rows reduced: a group's runs hold up to run_rows / (K + kTileOverheadRows) units
    // (at most kMaxRun; see run_length). 0: runs of one unit, CUTLASS's order.
    int32_t run_rows = 0;
    // Claimed runs (clusters of one CTA only): after its first run, dealt as above, a cluster takes the next run from
    // this counter (zeroed by the preparation kernel before every launch) instead of the next of its round-robin
    // share, so clusters that drew cheap tiles take more of them. Null: the static deal.
    uint32_t* claim_counter = nullptr;
    // With claims, how many tiles the scheduler warp may claim ahead of the tile its consumers run (1 to Stages - 1).
    int32_t claim_ahead = 1;
    // Bands: each group's units are walked in bands this many units wide along the walk's fast direction, the band's
    // units fast direction first, then band after band; 0 (or at least the group's width): no bands, one band of the
    // whole width. A band keeps the operand blocks that a wave of CTAs shares few enough to stay in L2 while the walk
    // crosses the other direction (without one, an expert whose A outgrows L2 is read from DRAM once per tile column).
    int32_t band = 0;
    // With claims, a tile that reduces over at least this many rows is long: the scheduler claims nothing ahead of it,
    // only once its consumers have taken it (as with claim_ahead 1). A cluster that claimed runs several tiles ahead
    // could queue long tiles behind a long tile while other clusters ran out of work: a weight gradient whose dominant
    // expert's tiles came last ran 3.5x slower than with them first (granite-3.0's up-projection at 4096 tokens, H100,
    // docs/perf-notes.md). 0: no limit.
    int32_t long_rows = 0;
    // A tile's fixed cost (prologue, epilogue, expert change) in rows of its reduction: ~250 on H200
    // (docs/perf-notes.md v9's schedule model).
    static constexpr int32_t kTileOverheadRows = 256;
    static constexpr int32_t kMaxRun = 64;

    GroupTileShapes() = default;
    GroupTileShapes(int32_t groups, UnderlyingProblemShape* device_shapes, UnderlyingProblemShape const* host_shapes,
                    int32_t rows_per_run, uint32_t* claims = nullptr, int32_t ahead = 1, int32_t band_units = 0,
                    int32_t long_tile_rows = 0)
        : Base{groups, device_shapes, host_shapes},
          run_rows(rows_per_run > 0 ? rows_per_run : 0),
          claim_counter(claims),
          claim_ahead(ahead),
          band(band_units > 0 ? band_units : 0),
          long_rows(long_tile_rows > 0 ? long_tile_rows : 0) {}

    // How many tiles ahead of its consumers the scheduler may claim after a tile that reduces over k rows: claim_ahead
    // clamped to [1, stages - 1], and 1 after a long tile (long_rows).
    CUTLASS_HOST_DEVICE int32_t claims_ahead_after(int64_t k, int32_t stages) const {
        const int32_t ahead = claim_ahead < 1 ? 1 : (claim_ahead >= stages ? stages - 1 : claim_ahead);
        return long_rows > 0 && k >= long_rows ? 1 : ahead;
    }

    // Units in each run of a group of `units` units that reduces over k rows: the largest divisor of `units` within
    // the run's work, so that every run of a group is equally long. Runs of unequal length repeat with a period
    // that can divide the cluster count, and then the same clusters get the long runs every round (seed-300M's 16
    // units in runs of 3 measured 0.86x of runs of 4).
    CUTLASS_HOST_DEVICE int64_t run_length(int64_t k, int64_t units) const {
        if (run_rows <= 0 || units <= 1) return 1;
        int64_t r = run_rows / ((k > 0 ? k : 0) + kTileOverheadRows);
        r = r > kMaxRun ? kMaxRun : r;
        while (r > 1 && units % r != 0) --r;
        return r < 1 ? 1 : r;
    }
};

// The walk itself: which (m tile, n tile, group) a cluster's CTAs run next. Every lane of a full warp calls each
// member with the same arguments and gets the same answer. Kept apart from the scheduler below so that a test
// can drive it without a GEMM (native/tests/tile_order_test.cu).
//
// Units are cluster-sized blocks of tiles (the CTAs of a cluster share one unit, each its own tile of it); each
// group's units are ordered along the walk's fast direction, band by band when bands are set (GroupTileShapes::band);
// in that order they form runs of run_length(K, units) units; the runs of all groups,
// group after group, are dealt round-robin: cluster c runs runs c, c + clusters, c + 2 * clusters, ...
// With a claim counter (clusters of one CTA), cluster c runs run c first and then runs clusters + the counter's
// next value, each claimed when the cluster needs it: every run still runs once, in increasing order per cluster.
template <int TileM, int TileN, int ClusterM, int ClusterN>
class GroupTileWalk {
public:
    struct Tile {
        int32_t m = -1, n = -1, group = -1;
        bool valid = false;
    };

    // Only clusters of one CTA claim: the CTAs of a larger cluster must run the same unit, and each would claim alone.
    static constexpr bool kClaims = ClusterM * ClusterN == 1;

    // `cluster` of `clusters`; the CTA's place in its cluster along M and N; tiles along N first or along M.
    CUTLASS_DEVICE void start(uint64_t cluster, uint64_t clusters, int32_t offset_m, int32_t offset_n, bool along_n) {
        offset_m_ = offset_m;
        offset_n_ = offset_n;
        along_n_ = along_n;
        clusters_ = clusters;
        run_ = cluster;
        in_run_ = 0;
        group_ = -1;
        g_ = GroupRuns{};
        g_first_run_ = 0;
    }

    CUTLASS_DEVICE Tile current(GroupTileShapes const& shapes) {
        Tile t;
        if (!seek(shapes, run_)) return t;
        // Band b holds the units whose fast index is in [b * band, b * band + width): width * (slow extent) units.
        const uint64_t unit = unit_in_group();
        const uint64_t per_band = g_.band * (g_.units / g_.along);
        const uint64_t b = unit / per_band, in_band = unit - b * per_band;
        const uint64_t width = g_.along - b * g_.band < g_.band ? g_.along - b * g_.band : g_.band;
        const uint64_t minor = b * g_.band + in_band % width, major = in_band / width;
        t.m = static_cast<int32_t>((along_n_ ? major : minor) * ClusterM + offset_m_);
        t.n = static_cast<int32_t>((along_n_ ? minor : major) * ClusterN + offset_n_);
        t.group = group_;
        t.valid = true;
        return t;
    }

    CUTLASS_DEVICE Tile advance(GroupTileShapes const& shapes, uint32_t count = 1) {
        for (uint32_t i = 0; i < count; ++i) {
            if (!seek(shapes, run_)) return Tile{};
            if (in_run_ + 1 < g_.run && unit_in_group() + 1 < g_.units) {
                ++in_run_;
            } else {
                in_run_ = 0;
                run_ = next_run(shapes);
            }
        }
        return current(shapes);
    }

    // The reduction depth (K) of the current tile's group; 0 before the first group and past the last.
    CUTLASS_DEVICE int64_t current_k(GroupTileShapes const& shapes) const {
        return group_ >= 0 && group_ < shapes.groups() ? g_.k : 0;
    }

    // Units of a group along M and N, as the walk counts them (host and device).
    CUTLASS_HOST_DEVICE static int64_t units_m(int64_t m) { return m > 0 ? ((m + TileM - 1) / TileM + ClusterM - 1) / ClusterM : 0; }
    CUTLASS_HOST_DEVICE static int64_t units_n(int64_t n) { return n > 0 ? ((n + TileN - 1) / TileN + ClusterN - 1) / ClusterN : 0; }

private:
    struct GroupRuns {
        uint64_t units = 0;  // units of the group
        uint64_t along = 1;  // units along the walk's fast direction (M, or N when along_n_)
        uint64_t band = 1;   // units per band along that direction (along: no bands)
        uint64_t run = 1;    // units per run
        uint64_t runs = 0;   // runs of the group
        int64_t k = 0;       // the group's reduction depth
    };

    CUTLASS_DEVICE GroupRuns runs_of(GroupTileShapes const& shapes, int32_t group) const {
        GroupRuns g;
        const auto shape = shapes.get_problem_shape(group);
        const uint64_t um = static_cast<uint64_t>(units_m(cute::get<0>(shape)));
        const uint64_t un = static_cast<uint64_t>(units_n(cute::get<1>(shape)));
        g.units = um * un;
        if (g.units == 0) return g;
        g.along = along_n_ ? un : um;
        g.band = shapes.band > 0 && uint64_t(shapes.band) < g.along ? uint64_t(shapes.band) : g.along;
        g.run = static_cast<uint64_t>(shapes.run_length(cute::get<2>(shape), static_cast<int64_t>(g.units)));
        g.runs = (g.units + g.run - 1) / g.run;
        g.k = cute::get<2>(shape);
        return g;
    }

    // The run after the current one: the next of the round-robin share, or the next claimed.
    CUTLASS_DEVICE uint64_t next_run(GroupTileShapes const& shapes) const {
        if (!kClaims || shapes.claim_counter == nullptr) return run_ + clusters_;
        uint32_t claimed = 0;
        if (cutlass::canonical_lane_idx() == 0) claimed = atomicAdd(shapes.claim_counter, 1u);
        return clusters_ + __shfl_sync(0xffffffffu, claimed, 0);
    }

    // The current unit's index within the cached group (valid after seek).
    CUTLASS_DEVICE uint64_t unit_in_group() const { return (run_ - g_first_run_) * g_.run + in_run_; }

    static CUTLASS_DEVICE uint64_t warp_inclusive_sum(uint64_t v) {
        const int lane = cutlass::canonical_lane_idx();
        CUTLASS_PRAGMA_UNROLL
        for (int d = 1; d < 32; d *= 2) {
            const uint64_t up = __shfl_up_sync(0xffffffffu, v, d);
            if (lane >= d) v += up;
        }
        return v;
    }

    // Moves the cached group forward, 32 groups a step, until it holds run `run`; false past the last group.
    CUTLASS_DEVICE bool seek(GroupTileShapes const& shapes, uint64_t run) {
        const int lane = cutlass::canonical_lane_idx();
        const int32_t groups = shapes.groups();
        while (run >= g_first_run_ + g_.runs) {
            if (group_ + 1 >= groups) {
                group_ = groups;
                return false;
            }
            const int32_t g = group_ + 1 + lane;
            GroupRuns r;
            if (g < groups) r = runs_of(shapes, g);
            const uint64_t inclusive = warp_inclusive_sum(r.runs);
            const uint64_t after_current = g_first_run_ + g_.runs;
            const unsigned hit = __ballot_sync(0xffffffffu, g < groups && run < after_current + inclusive);
            const int from = hit != 0 ? __ffs(hit) - 1 : 31;
            group_ = group_ + 1 + from;
            g_.units = __shfl_sync(0xffffffffu, r.units, from);
            g_.along = __shfl_sync(0xffffffffu, r.along, from);
            g_.band = __shfl_sync(0xffffffffu, r.band, from);
            g_.run = __shfl_sync(0xffffffffu, r.run, from);
            g_.runs = __shfl_sync(0xffffffffu, r.runs, from);
            g_.k = __shfl_sync(0xffffffffu, r.k, from);
            g_first_run_ = after_current + __shfl_sync(0xffffffffu, inclusive, from) - g_.runs;
            if (group_ >= groups) {
                group_ = groups;
                return false;
            }
        }
        return true;
    }

    uint64_t clusters_ = 1, run_ = 0, in_run_ = 0;
    // The cached group: its index, first run and sizes. Starts before group 0.
    int32_t group_ = -1;
    GroupRuns g_{};
    uint64_t g_first_run_ = 0;
    int32_t offset_m_ = 0, offset_n_ = 0;
    bool along_n_ = false;
};

// CUTLASS's group scheduler with the walk above. The host-side parts (grid shape, params, workspace) and the
// device-side pipeline handoff (fetch_next_work) are CUTLASS's; which tile comes next is ours.
template <uint32_t Stages, class TileShape, class ClusterShape>
class OrderedGroupScheduler
    : public cutlass::gemm::kernel::detail::PersistentTileSchedulerSm90Group<GroupTileShapes, Stages> {
    using Base = cutlass::gemm::kernel::detail::PersistentTileSchedulerSm90Group<GroupTileShapes, Stages>;
    using Walk = GroupTileWalk<cute::size<0>(TileShape{}), cute::size<1>(TileShape{}), cute::size<0>(ClusterShape{}),
                               cute::size<1>(ClusterShape{})>;

public:
    using WorkTileInfo = typename Base::WorkTileInfo;
    using Params = typename Base::Params;
    using SchedulerResponse = typename Base::SchedulerResponse;
    using RasterOrder = typename Base::RasterOrder;

    OrderedGroupScheduler() = default;

    CUTLASS_DEVICE
    OrderedGroupScheduler(Params const& params, SchedulerResponse* response) : Base(params, response) {}

    // Called by every warp after the kernel's wait on the preceding grid.
    template <class ClusterShapeArg>
    CUTLASS_DEVICE WorkTileInfo initial_work_tile_info(ClusterShapeArg) {
        const dim3 cluster_id = cute::cluster_id_in_grid();
        const dim3 clusters = cute::cluster_grid_dims();
        const dim3 in_cluster = cute::block_id_in_cluster();
        walk_.start(uint64_t(cluster_id.x) + uint64_t(cluster_id.y) * clusters.x, uint64_t(clusters.x) * clusters.y,
                    static_cast<int32_t>(in_cluster.x), static_cast<int32_t>(in_cluster.y),
                    this->scheduler_params.raster_order_ == RasterOrder::AlongN);
        return work_tile(walk_.current(this->scheduler_params.problem_shapes_));
    }

    // Called by the scheduler warp: the next tile, handed to the other warps through the scheduler pipeline as
    // CUTLASS's group scheduler does.
    // With claims, the warp first waits until the consumers have taken the tile claim_ahead places back (the last one,
    // after a long tile: GroupTileShapes::claims_ahead_after), so that a run is claimed when its cluster is about to
    // need it, not as soon as a pipeline slot is free (up to Stages tiles early, which would make the claims as static
    // as the round-robin deal).
    template <typename Pipeline, typename PipelineState>
    CUTLASS_DEVICE auto advance_to_next_work(Pipeline& pipeline, PipelineState state, uint32_t advance_count = 1) {
        auto const& shapes = this->scheduler_params.problem_shapes_;
        if (Walk::kClaims && shapes.claim_counter != nullptr) {
            // The walk is still at the tile handed on last, the one the claim would queue behind.
            const int ahead = shapes.claims_ahead_after(walk_.current_k(shapes), int(Stages));
            // Tile j goes to state j - 1 (tile 0 is every warp's initial tile; state.count() tiles are handed on
            // already); tile j - ahead's slot is free again at state j - 1 + Stages - ahead.
            if (state.count() >= uint32_t(ahead)) {
                PipelineState taken = state;
                taken.advance(Stages - ahead);
                pipeline.producer_acquire(taken);
            }
        }
        const WorkTileInfo work = work_tile(walk_.advance(this->scheduler_params.problem_shapes_, advance_count));
        pipeline.producer_acquire(state);
        if (cute::elect_one_sync()) {
            reinterpret_cast<WorkTileInfo*>(this->response_ptr_)[state.index()] = work;
            cutlass::arch::fence_view_async_shared();
            pipeline.producer_commit(state);
        }
        return cute::make_tuple(work, true);
    }

private:
    static CUTLASS_DEVICE WorkTileInfo work_tile(typename Walk::Tile const& t) {
        return t.valid ? WorkTileInfo{t.m, t.n, t.group, 1} : WorkTileInfo::invalid_work_tile();
    }

    Walk walk_;
};

}  // namespace gg::cutlass_sm90

// Kernels whose problem shape is GroupTileShapes get the scheduler above (a more specialized match than
// CUTLASS's own GroupScheduler selector, which every other grouped kernel keeps).
namespace cutlass::gemm::kernel::detail {
template <class TileShape, class ClusterShape, uint32_t Stages>
struct TileSchedulerSelector<GroupScheduler, arch::Sm90, TileShape, ClusterShape, Stages, gg::cutlass_sm90::GroupTileShapes> {
    using Scheduler = gg::cutlass_sm90::OrderedGroupScheduler<Stages, TileShape, ClusterShape>;
};
}  // namespace cutlass::gemm::kernel::detail
