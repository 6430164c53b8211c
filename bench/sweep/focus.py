#!/usr/bin/env python3
"""Prints the focus rows (bench/sweep/focus.json) that bench/sweep/focus.sh timed: per row its class, ours and
torch._grouped_mm's medians from the same loop, ours / torch now, ours / torch in the sweep the focus file was taken
from (focus.json: the first H100 sweep, the library of 01910c6; make_focus.py's files say theirs), the backend Auto chose and, for cutlass-sm90, the kernel Auto's policy picks
(native/tests/sm90_choice.cpp: the library's own tile_choice.h, so no second list of kernels); then per class the
geometric mean and the rows below 0.9x and 1.0x.

  python3 bench/sweep/focus.py --focus bench/sweep/focus.json --dir OUT_DIR [--choice-exe gg_sm90_choice]
                               [--sms 132 --dram 3.35e12]

OUT_DIR holds the part folders run_sweep.sh wrote (<part, '/' as '__'>/problems.json and torch.json). A row without a
figure (its part not run, a failed series) prints its status and counts as missing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys

OURS_KIND = "ours-inprocess"  # bench/torch_baseline.py's series kinds
TORCH_KIND = "torch-grouped-mm"


def load_part(out_dir: str, part: str):
    """(problems by id, timed groups by (problem, dtype, form)) of one part folder, or None when it was not run."""
    folder = os.path.join(out_dir, part.replace("/", "__"))
    try:
        with open(os.path.join(folder, "problems.json"), encoding="utf-8") as f:
            problems = {p["id"]: p for p in json.load(f)["problems"]}
        with open(os.path.join(folder, "torch.json"), encoding="utf-8") as f:
            groups = {(g["problem"], g["dtype"], g["form"]): g for g in json.load(f)["groups"]}
    except FileNotFoundError:
        return None
    return problems, groups


def median(series) -> float | None:
    if not series or series.get("status") != "ok" or not series.get("times_ms"):
        return None
    return statistics.median(series["times_ms"])


def kernels(exe: str | None, shapes: list[tuple], sms: int, dram: float) -> list[str]:
    """The kernel Auto's cutlass-sm90 policy picks for each (m, k, n, experts, form), device counts, no accumulate."""
    if not exe or not shapes:
        return ["" for _ in shapes]
    lines = "".join(f"{m} {k} {n} {e} {form} 0\n" for m, k, n, e, form in shapes)
    done = subprocess.run([exe, "--sms", str(sms), "--dram", str(dram)], input=lines, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        return [f"(gg_sm90_choice failed: {done.stderr.strip()[:80]})" for _ in shapes]
    # "<tile>[_store] <claim> <run rows> <band> <raster> first=<0|1> long=<rows> decode=<0|1> short=<rows> route=<rows>
    # split=<chunks>": the tile, the device's choice between it and the other routed kernel when route is not 0, and the
    # split when there is one (weight gradients: the largest expert's chunks if the device finds it dominant; forwards:
    # the partial kernel's chunks of every expert's k, in place of the tile), or the decode weight-gradient kernel,
    # which takes the call whole when decode=1 and its experts of at most <rows> rows beside the tile's GEMM when
    # short=<rows> is not 0.
    out = []
    for line in done.stdout.splitlines():
        words = line.split(" ")
        if "decode=1" in words:
            out.append("decode-weight-gradient")
            continue
        split = words[-1] if words[-1].startswith("split=") and words[-1] != "split=0" else ""
        short = next((w for w in words if w.startswith("short=") and w != "short=0"), "")
        route = next((w for w in words if w.startswith("route=") and w != "route=0"), "")
        out.append(" ".join(w for w in (words[0], short, route, split) if w))
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--focus", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "focus.json"))
    ap.add_argument("--dir", required=True, help="the folder run_sweep.sh --out wrote the part folders into")
    ap.add_argument("--choice-exe", default=None, help="gg_sm90_choice (the native build's native/tests/)")
    ap.add_argument("--sms", type=int, default=132, help="SM count for gg_sm90_choice (H100 SXM, H200: 132)")
    ap.add_argument("--dram", type=float, default=3.35e12,
                    help="peak DRAM bytes/s for gg_sm90_choice (H100 SXM 3.35e12, H200 4.8e12)")
    args = ap.parse_args(argv)
    with open(args.focus, encoding="utf-8") as f:
        rows = json.load(f)["rows"]

    parts = {r["part"]: load_part(args.dir, r["part"]) for r in rows}
    table = []
    for r in rows:
        loaded = parts[r["part"]]
        key = (r["problem"], r["dtype"], r["form"])
        group = loaded[1].get(key) if loaded else None
        problem = loaded[0].get(r["problem"]) if loaded else None
        ours = next((s for s in group["series"] if s["kind"] == OURS_KIND), None) if group else None
        torch = next((s for s in group["series"] if s["kind"] == TORCH_KIND), None) if group else None
        ours_ms, torch_ms = median(ours), median(torch)
        ratio = torch_ms / ours_ms if ours_ms and torch_ms else None
        status = "ok" if ratio else ("part not run" if not loaded else "not timed" if not group
                                     else f"ours {ours.get('status') if ours else 'missing'}")
        shape = (problem["m"], problem["k"], problem["n"], problem["experts"], r["form"]) if problem else None
        table.append(dict(r, ours_ms=ours_ms, torch_ms=torch_ms, ratio=ratio, status=status, shape=shape,
                          backend=(ours or {}).get("resolved_backend", "")))
    shapes = [t["shape"] for t in table if t["shape"] and t["backend"] == "cutlass-sm90"]
    chosen = iter(kernels(args.choice_exe, shapes, args.sms, args.dram))
    for t in table:
        t["kernel"] = next(chosen) if t["shape"] and t["backend"] == "cutlass-sm90" else ""

    print(f"{'class':<15} {'problem':<40} {'form':<14} {'dtype':<5} {'ours ms':>9} {'torch ms':>9} {'now':>6} "
          f"{'first':>6}  backend / kernel")
    for t in table:
        now = f"{t['ratio']:.2f}x" if t["ratio"] else "-"
        ours_ms = f"{t['ours_ms']:.4g}" if t["ours_ms"] else t["status"]
        torch_ms = f"{t['torch_ms']:.4g}" if t["torch_ms"] else ""
        print(f"{t['class']:<15} {t['problem']:<40} {t['form']:<14} {t['dtype']:<5} {ours_ms:>9} {torch_ms:>9} "
              f"{now:>6} {t['first_sweep_ours_over_torch']:>5.2f}x  {t['backend']} {t['kernel']}".rstrip())
    print()
    print(f"{'class':<15} {'rows':>4} {'timed':>5} {'geomean now':>11} {'first':>6} {'< 0.9x':>6} {'< 1.0x':>6}")
    missing = 0
    for cls in dict.fromkeys(t["class"] for t in table):
        mine = [t for t in table if t["class"] == cls]
        timed = [t for t in mine if t["ratio"]]
        missing += len(mine) - len(timed)
        geo = math.exp(sum(math.log(t["ratio"]) for t in timed) / len(timed)) if timed else float("nan")
        first = math.exp(sum(math.log(t["first_sweep_ours_over_torch"]) for t in timed) / len(timed)) if timed else float("nan")
        print(f"{cls:<15} {len(mine):>4} {len(timed):>5} {geo:>10.2f}x {first:>5.2f}x "
              f"{sum(t['ratio'] < 0.9 for t in timed):>6} {sum(t['ratio'] < 1.0 for t in timed):>6}")
    if missing:
        print(f"{missing} row(s) without a figure (see the status column)")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
