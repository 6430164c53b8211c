#!/usr/bin/env python3
"""A few lines per experiment file (scripts/gpu-host.sh experiment: bench/tune_sm90.py --lib-b JSON), short enough to
read between two device calls: for the experiment build's Auto, the release library (lib-b) and the plan's variants,
each against torch._grouped_mm in the same loop, the geometric mean and the rows below 0.9x and 1.0x; the experiment
over each of the others, with the rows where they differ most; each series' geometric mean per routing when the rows
have several (device counts hide the routing from Auto, so a tile that wins one routing and loses another shows here);
then, where a shape was timed under several routings, the variants faster than the experiment's Auto under every one
of them (the candidates for a rule: with device counts Auto sees the shape, not the routing; lib-b there is a release
faster than the experiment on a whole shape); then the experiment's rows furthest below torch.

Usage: python3 bench/sweep/experiment_summary.py FILE.json [FILE.json ...] [--worst N]
Exit 1 when a file could not be read or summarized (the others are still printed).
"""
import argparse
import json
import math
import sys

OURS = "ours (Auto, device counts, same loop)"  # bench/torch_baseline.py: OURS_NAME
LIB_B = "lib-b"  # bench/tune_sm90.py: LIB_B
TORCH = "torch._grouped_mm"


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def label(row):
    # A sweep problem's id holds its model, projection, tokens and routing.
    return f"{row['problem']:<44} {row['form']:<15}"


def shape_of(row):
    # The problem id without its routing (model/projection/tokens), and the form: what Auto can tell calls apart by.
    problem = row["problem"]
    if row.get("routing") and problem.endswith("/" + row["routing"]):
        problem = problem[: -len(row["routing"]) - 1]
    return problem, row["form"]


def shape_wins(rows, series, names, worst):
    """Each variant that ran faster than ours under every routing a shape was timed with (two or more), largest
    smallest gain first: one line each, its gain over ours from the smallest to the largest and the routings."""
    shapes = {}
    for r in rows:
        shapes.setdefault(shape_of(r), []).append(r)
    wins = []
    for shape, shape_rows in shapes.items():
        if len({r.get("routing") for r in shape_rows}) < 2:
            continue
        for name in names:
            gains = [series[name][id(r)] / series["ours"][id(r)] for r in shape_rows
                     if id(r) in series[name] and id(r) in series["ours"]]
            if len(gains) == len(shape_rows) and min(gains) > 1.0:
                wins.append((min(gains), max(gains), len(gains), shape, name))
    if not wins:
        return
    wins.sort(key=lambda w: -w[0])
    print(f"  shapes where a variant beat ours under every routing: {len(wins)}")
    for low, high, n, (problem, form), name in wins[:worst]:
        print(f"    {problem:<36} {form:<15} {name}: x{low:.2f}-{high:.2f} over {n} routings")


def summarize(path, worst):
    with open(path) as f:
        data = json.load(f)
    rows = [r for r in data["rows"] if r["median_ms"].get(TORCH)]
    print(f"== {path}: {len(rows)} rows, {data.get('device', '?')}; ours {data.get('library', '?')}, "
          f"lib-b {data.get(LIB_B, {}).get('version', '-')}")
    # The series each compared with torch: ours, the release library (lib-b) and the plan's variants (bench/tune_sm90.py:
    # a variant of Auto with tuning knobs set, such as the policy a change replaced).
    others = [("lib-b", LIB_B)] + [(v, v) for v in data.get("variants", []) if v != "auto"]
    series = {}
    for name, key in [("ours", OURS)] + others:
        ratios = [(r["median_ms"][TORCH] / r["median_ms"][key], r) for r in rows if r["median_ms"].get(key)]
        series[name] = {id(r): v for v, r in ratios}
        values = [v for v, _ in ratios]
        if values:
            print(f"  {name:<6} / torch: geomean {geomean(values):.3f}, below 1.0: {sum(v < 1.0 for v in values)}, "
                  f"below 0.9: {sum(v < 0.9 for v in values)}, min {min(values):.2f}")
    routings = sorted({r.get("routing") for r in rows if r.get("routing")})
    if len(routings) > 1:
        print("  by routing, geomean / torch:")
        for routing in routings:
            cells = []
            for name, ratios in series.items():
                values = [ratios[id(r)] for r in rows if r.get("routing") == routing and id(r) in ratios]
                if values:
                    cells.append(f"{name} {geomean(values):.3f}")
            print(f"    {routing:<9} " + ", ".join(cells))
    for name, _ in others:
        both = [r for r in rows if id(r) in series["ours"] and id(r) in series.get(name, {})]
        if not both:
            continue
        # ours / the other as speeds: above 1 the experiment's Auto is faster.
        gain = sorted(((series["ours"][id(r)] / series[name][id(r)], r) for r in both), key=lambda x: x[0])
        print(f"  ours / {name}: geomean {geomean([g for g, _ in gain]):.3f}, "
              f"slower by >5%: {sum(g < 0.95 for g, _ in gain)}, faster by >5%: {sum(g > 1.05 for g, _ in gain)}")
        for g, r in gain[:worst]:
            print(f"    slower {label(r)} x{g:.2f} (ours {series['ours'][id(r)]:.2f}, {name} {series[name][id(r)]:.2f})")
        for g, r in gain[::-1][:worst]:
            print(f"    faster {label(r)} x{g:.2f} (ours {series['ours'][id(r)]:.2f}, {name} {series[name][id(r)]:.2f})")
    shape_wins(rows, series, [name for name, _ in others], worst)
    low = sorted((v, r) for r in rows for v in [series["ours"].get(id(r))] if v is not None)[:worst]
    for v, r in low:
        print(f"    low    {label(r)} {v:.2f} x torch")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+")
    p.add_argument("--worst", type=int, default=6, help="rows listed in each group (default 6)")
    a = p.parse_args()
    failed = 0
    for path in a.files:
        try:
            summarize(path, a.worst)
        except (OSError, KeyError, ValueError) as error:
            print(f"== {path}: {error}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
