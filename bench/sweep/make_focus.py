#!/usr/bin/env python3
"""Writes a focus file (the format of bench/sweep/focus.json, for bench/sweep/focus.sh --focus) from a sweep report's
rows (docs/h100/sweep-results.json or docs/sweep-results.json): the rows a kernel or policy change must move, and the
rows it must not break, so that one short device call measures the change on them.

  python3 bench/sweep/make_focus.py --results docs/h100/sweep-results.json --out bench/sweep/focus-<name>.json

Every row below --below (0.9) is grouped by (class, model, projection, tokens, form), and the worst row of each group
(either element type) is kept. Then, per class, the --guard (3) rows at or above 1.0x closest to 1.0x, the passing rows
a change is most likely to push under, as a regression check. Classes, by rule:
  decode-forward  forward or forward-transb, at most 256 tokens
  decode-wgrad    weight-grad, at most 256 tokens
  dominant-wgrad  weight-grad, 4096 tokens or more, one dominant expert
  wgrad           weight-grad, 4096 tokens or more, other routings
  forward         forward or forward-transb, 4096 tokens or more
Each row keeps the report's ratio and our median as first_sweep_ours_over_torch / first_sweep_ours_ms, which focus.py
prints beside the new figure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from torch_baseline import is_decode  # noqa: E402  (the sweep's decode bound; torch itself is not imported)

SCHEMA = "groupedgemm-sweep-focus/1"


def row_class(r: dict) -> str:
    decode = is_decode(r)
    if r["form"] == "weight-grad":
        if decode:
            return "decode-wgrad"
        return "dominant-wgrad" if r["routing"] == "dominant" else "wgrad"
    return "decode-forward" if decode else "forward"


def focus_rows(rows: list[dict], below: float, guard: int) -> list[dict]:
    timed = [r for r in rows if r.get("ours_over_torch") is not None]
    worst: dict[tuple, dict] = {}
    for r in timed:
        if r["ours_over_torch"] >= below:
            continue
        key = (row_class(r), r["model"], r["projection"], r["tokens"], r["form"])
        if key not in worst or r["ours_over_torch"] < worst[key]["ours_over_torch"]:
            worst[key] = r
    chosen = sorted(worst.values(), key=lambda r: (row_class(r), r["ours_over_torch"]))
    for cls in dict.fromkeys(row_class(r) for r in timed):
        passing = sorted((r for r in timed if row_class(r) == cls and r["ours_over_torch"] >= 1.0),
                         key=lambda r: (r["ours_over_torch"], r["problem"], r["form"], r["dtype"]))
        chosen += [dict(r, guard=True) for r in passing[:guard]]
    return [{"class": ("regression " if r.get("guard") else "") + row_class(r), "part": r["part"], "problem": r["problem"],
             "form": r["form"], "dtype": r["dtype"], "first_sweep_ours_over_torch": r["ours_over_torch"],
             "first_sweep_ours_ms": r["ours_ms"]} for r in chosen]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", required=True, help="a sweep-results.json (GroupedGemm.Bench sweep report)")
    ap.add_argument("--out", required=True, help="the focus file to write")
    ap.add_argument("--below", type=float, default=0.9, help="rows below this ours / torch are the rows to move")
    ap.add_argument("--guard", type=int, default=3, help="passing rows per class kept as a regression check")
    args = ap.parse_args(argv)
    with open(args.results, encoding="utf-8") as f:
        results = json.load(f)
    cards = sorted({r["card"] for r in results["rows"]})
    if len(cards) != 1:
        print(f"make_focus: {args.results} holds {len(cards)} cards ({cards}); give one card's report", file=sys.stderr)
        return 2
    rows = focus_rows(results["rows"], args.below, args.guard)
    focus = {"schema": SCHEMA,
             "about": (f"Rows of {args.results} ({cards[0]}, generated {results.get('generated_utc', '?')}) written by "
                       f"bench/sweep/make_focus.py --below {args.below} --guard {args.guard}: per class the worst row "
                       f"below {args.below}x torch of each (model, projection, tokens, form), and the {args.guard} "
                       "passing rows nearest 1.0x as a regression check. first_sweep_* are that report's figures."),
             "rows": rows}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(focus, f, indent=1, ensure_ascii=False)
        f.write("\n")
    by_part = len({r["part"] for r in rows})
    print(f"make_focus: {len(rows)} rows from {by_part} parts -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
