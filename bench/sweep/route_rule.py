#!/usr/bin/env python3
"""The device route choice's bound, read off measurements (native/src/cutlass_sm90/contiguous_tiling.h:
route_contiguous; tile_choice.h: Sm90TilePolicy::route_rows, knob GG_SM90_ROUTE).

On forwards whose tile is our contiguous kernel or the cluster-free 128x256 tile, the fill kernel counts the live
experts of 1 to R rows (small) and the rows of the larger ones (large_rows), and the contiguous kernel runs iff small x
R > large_rows. This script takes experiment files (scripts/gpu-host.sh experiment: bench/tune_sm90.py JSON) whose rows
time both kernels forced (contig256x128, coop128x256c1x1) and, for each bound R, what the rule would have run: each
row's counts come from the sweep's problems (bench/sweep/check_plans.py, the part archives under docs/h100/), and the
rule's pick is that kernel's forced time. Printed per bound, against torch._grouped_mm in the same loop: the geometric
mean of the host's tile alone (`auto@route0`, or `auto` in files from before the rule was in Auto's policy), of the
rule's pick, of the better of the two kernels, and of `auto@routeR` where the plan measured it (the rule as the library
runs it: both kernels launched, the one not chosen exiting at once, so its ratio to the pick is the second launch's
cost); the rows where the pick is more than 2 % slower than the better kernel.
Only rows the rule may route are counted: forward and trans_b forwards with n a multiple of 256 and, with --choice, an
Auto tile that is one of the two (gg_sm90_choice, the library's own tile_choice.h).

Usage: python3 bench/sweep/route_rule.py FILE.json [FILE.json ...] [--bounds 64,128,192] [--choice gg_sm90_choice]
       python3 bench/sweep/route_rule.py --check --probe gg_sm90_choice
  --check: the rule here against the library's (gg_sm90_choice --route R on random counts), so that this mirror of
           route_contiguous cannot drift from it (ctest gg_route_rule).
Exit 1 when a file cannot be read or the check finds a difference.
"""
import argparse
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_plans  # noqa: E402
from experiment_summary import TORCH, geomean  # noqa: E402  (the same experiment files, read the same way)

CONTIG = "contig256x128"
COOP = "coop128x256c1x1"
ROUTED_TILES = (CONTIG, COOP)


def host_series(mm):
    """The host's tile alone: `auto@route0` where the plan timed it (Auto routes by default on the H100's card class),
    else `auto` (files from before the rule was in Auto's policy)."""
    return "auto@route0" if mm.get("auto@route0") else "auto"


def route_contiguous(counts, bound):
    """The mirror of contiguous_tiling.h's route_contiguous over one call's counts (checked by --check)."""
    small = sum(1 for c in counts if 0 < c <= bound)
    large_rows = sum(c for c in counts if c > bound)
    return bound > 0 and small * bound > large_rows


def auto_tiles(rows, problems, choice):
    """Auto's tile for each row's shape (gg_sm90_choice, device counts), or None for every row without --choice."""
    if not choice:
        return [None] * len(rows)
    lines = []
    for r in rows:
        p = problems[r["problem"]]
        lines.append(f"{p['m']} {p['k']} {p['n']} {p['experts']} {r['form']} 0")
    out = subprocess.run([choice], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True).stdout
    return [line.split()[0].removesuffix("_store") for line in out.splitlines()]


def routable_rows(paths, choice):
    problems = {p["id"]: p for ps in check_plans.sweep_problems().values() for p in ps}
    rows = []
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        for r in data["rows"]:
            mm = r["median_ms"]
            if r["form"] == "weight-grad" or not all(mm.get(k) for k in (TORCH, host_series(mm), CONTIG, COOP)):
                continue
            p = problems.get(r["problem"])
            if p is None or p["n"] % 256 != 0:
                continue
            rows.append(dict(r, counts=p["counts"], file=os.path.basename(path)))
    tiles = auto_tiles(rows, problems, choice)
    return [dict(r, host_tile=t) for r, t in zip(rows, tiles) if t is None or t in ROUTED_TILES]


def report(rows, bounds):
    if not rows:
        print("route_rule: no row times both kernels forced on a routable shape")
        return
    print(f"{len(rows)} routable rows; geomean over torch._grouped_mm (same loop):")
    best = [r["median_ms"][TORCH] / min(r["median_ms"][CONTIG], r["median_ms"][COOP]) for r in rows]
    auto = [r["median_ms"][TORCH] / r["median_ms"][host_series(r["median_ms"])] for r in rows]
    print(f"  the host's tile (Auto without the rule) {geomean(auto):.4f}, the better kernel {geomean(best):.4f}, "
          f"{CONTIG} {geomean([r['median_ms'][TORCH] / r['median_ms'][CONTIG] for r in rows]):.4f}, "
          f"{COOP} {geomean([r['median_ms'][TORCH] / r['median_ms'][COOP] for r in rows]):.4f}")
    for bound in bounds:
        picks, lost, measured, cost = [], [], [], []
        for r in rows:
            mm = r["median_ms"]
            tile = CONTIG if route_contiguous(r["counts"], bound) else COOP
            picks.append(mm[TORCH] / mm[tile])
            better = min(mm[CONTIG], mm[COOP])
            if mm[tile] > 1.02 * better:
                lost.append(f"{r['problem']} {r['form']} {tile} {mm[tile] / better:.3f}x the better")
            routed = mm.get(f"auto@route{bound}")
            if routed:
                measured.append(mm[TORCH] / routed)
                cost.append(routed / mm[tile])
        line = f"  R {bound:>4}: the rule's pick {geomean(picks):.4f}"
        if measured:
            line += (f", auto@route{bound} measured {geomean(measured):.4f} on {len(measured)} rows "
                     f"(its time over the pick's: geomean {geomean(cost):.4f}, max {max(cost):.3f})")
        print(line + f"; {len(lost)} rows over 2 % behind the better kernel")
        for text in lost:
            print(f"      {text}")
        switched(rows, bound)


def switched(rows, bound):
    """With --choice and auto@routeR measured: the rule's measured time over the host tile's where it ran the other
    kernel (what the rule changes) and where it ran the same one (the second launch's cost, and the loop's noise)."""
    key = f"auto@route{bound}"
    groups = {True: [], False: []}
    for r in rows:
        mm = r["median_ms"]
        if r.get("host_tile") is None or not mm.get(key):
            continue
        pick = CONTIG if route_contiguous(r["counts"], bound) else COOP
        groups[pick != r["host_tile"]].append((mm[key] / mm[host_series(mm)], r))
    for other, label in ((True, "the other kernel than the host's tile"), (False, "the host's tile")):
        ratios = [v for v, _ in groups[other]]
        if ratios:
            slower = sum(v > 1.02 for v in ratios)
            print(f"      {key} ran {label} on {len(ratios)} rows: its time over the host tile's: geomean "
                  f"{geomean(ratios):.4f}, min {min(ratios):.3f}, max {max(ratios):.3f}, {slower} over 2 % slower")


def check(probe, cases=400):
    """The mirror against gg_sm90_choice --route R on random counts (many small, a few large, empty, dominant)."""
    gen = random.Random(20261207)
    failures = 0
    for bound in (1, 64, 128, 192, 256):
        lines, calls = [], []
        for _ in range(cases):
            experts = gen.choice([1, 2, 8, 16, 64, 128, 256])
            counts = [gen.choice([0, 0, 1, bound, bound + 1, gen.randint(0, 4 * bound + 8)]) for _ in range(experts)]
            calls.append(counts)
            lines.append(" ".join(map(str, counts)))
        out = subprocess.run([probe, "--route", str(bound)], input="\n".join(lines) + "\n", capture_output=True,
                             text=True, check=True).stdout.split()
        for counts, got in zip(calls, out):
            want = CONTIG if route_contiguous(counts, bound) else COOP
            if got != want:
                failures += 1
                if failures <= 5:
                    print(f"route_rule --check: R {bound}, counts {counts}: library {got}, this script {want}")
        if len(out) != len(calls):
            print(f"route_rule --check: R {bound}: {len(out)} answers for {len(calls)} calls")
            failures += 1
    print(f"route_rule --check: {5 * cases} calls, {failures} differences")
    return 1 if failures else 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="*")
    p.add_argument("--bounds", default="64,96,128,160,192,224,256,320")
    p.add_argument("--choice", default="", help="gg_sm90_choice: count only rows whose Auto tile is one of the two")
    p.add_argument("--check", action="store_true")
    p.add_argument("--probe", default="", help="gg_sm90_choice, for --check")
    o = p.parse_args(argv)
    if o.check:
        if not o.probe:
            p.error("--check needs --probe gg_sm90_choice")
        return check(o.probe)
    if not o.files:
        p.error("give experiment files, or --check")
    try:
        rows = routable_rows(o.files, o.choice)
    except (OSError, ValueError, KeyError) as e:
        print(f"route_rule: {e}")
        return 1
    report(rows, [int(b) for b in o.bounds.split(",")])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
