#!/usr/bin/env python3
"""Times one part of the real-model sweep with the benchmark's own PyTorch loop (bench/torch_baseline.py).

Reads the part's problems.json and plan.json (written by `GroupedGemm.Bench sweep plan`), measures the device-to-device
copy bandwidth once, then runs torch_baseline.run on the plan's groups only: torch._grouped_mm, torch.matmul (dense,
equal FLOPs) and ours (gg_gmm through ctypes, Auto, int64 counts in device memory) round-robin in one loop, CUDA
events, medians of the plan's iterations; no padded bmm. Writes torch.json into the same folder.

  python3 bench/sweep/sweep_part.py --dir PART_DIR --ours-lib artifacts/native/libgroupedgemm.so [--only FOCUS_JSON]

Copy bandwidth: a COPY_BYTES buffer copied into another (dst.copy_(src)), COPY_ITERS timed copies after COPY_WARMUP,
CUDA events; bandwidth = 2 * COPY_BYTES / median time (every byte is read once and written once), in GB/s (1e9).

A group whose calls are slow runs fewer rounds than the plan (torch_baseline.SWEEP_ROUND_BUDGET): fewer
iterations, never fewer problems; each group's rounds are in torch.json. Decode groups (torch_baseline.DECODE_TOKENS)
are timed from CUDA graphs of torch_baseline.GRAPH_CALLS calls per series unless --eager; each group's "timing" says
how it ran.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import problems as pf  # noqa: E402
import torch_baseline as tb  # noqa: E402

PLAN_SCHEMA = "groupedgemm-sweep-plan/1"
COPY_BYTES = 2 << 30  # 2 GiB: 40x the 50 MB L2 of an H100/H200, so the copy runs at HBM speed
COPY_WARMUP = 3
COPY_ITERS = 20


def copy_bandwidth(torch) -> dict:
    """Device-to-device copy bandwidth, once per part (the HBM floor's yardstick)."""
    src = torch.empty(COPY_BYTES, dtype=torch.uint8, device="cuda").random_(0, 255)
    dst = torch.empty_like(src)
    for _ in range(COPY_WARMUP):
        dst.copy_(src)
    torch.cuda.synchronize()
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(COPY_ITERS)]
    for start, end in events:
        start.record()
        dst.copy_(src)
        end.record()
    torch.cuda.synchronize()
    median_ms = statistics.median(s.elapsed_time(e) for s, e in events)
    del src, dst
    torch.cuda.empty_cache()
    gbs = 2 * COPY_BYTES / (median_ms * 1e-3) / 1e9
    tb.log(f"copy bandwidth: {gbs:.0f} GB/s (2 x {COPY_BYTES >> 20} MiB / {median_ms:.3f} ms, median of {COPY_ITERS})")
    return {"copy_bandwidth_gbs": round(gbs, 1),
            "copy_bandwidth_method": f"2 x {COPY_BYTES} bytes / median of {COPY_ITERS} dst.copy_(src) (CUDA events)"}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="the part's folder: problems.json and plan.json in, torch.json out")
    ap.add_argument("--ours-lib", default=os.environ.get("GROUPEDGEMM_NATIVE_PATH") or None,
                    help="libgroupedgemm.so (default $GROUPEDGEMM_NATIVE_PATH); without it there is no same-loop ratio")
    ap.add_argument("--seed", type=int, default=20261126, help="seed of the random operands")
    ap.add_argument("--eager", action="store_true",
                    help="time decode groups call by call as well, not from CUDA graphs (the sweeps before graph timing)")
    ap.add_argument("--only", default=None,
                    help="a focus file (bench/sweep/focus.json): time only the plan's groups it lists (bench/sweep/focus.sh)")
    args = ap.parse_args(argv)
    with open(os.path.join(args.dir, "plan.json"), encoding="utf-8") as f:
        plan = json.load(f)
    if plan.get("schema") != PLAN_SCHEMA:
        print(f"sweep_part: {args.dir}/plan.json: schema '{plan.get('schema')}', expected '{PLAN_SCHEMA}'", file=sys.stderr)
        return 2
    data = pf.load_problem_file(os.path.join(args.dir, "problems.json"))
    if not args.ours_lib:
        print("sweep_part: give --ours-lib or set GROUPEDGEMM_NATIVE_PATH: the sweep's ratio is ours in the same loop",
              file=sys.stderr)
        return 2
    # torch_baseline's own options, with the plan's iteration counts; padded bmm is not part of the sweep.
    run_args = argparse.Namespace(iters=plan["iters"], warmup=plan["warmup"], seed=args.seed, no_padded=True,
                                  ours_lib=args.ours_lib, no_ours=False, dtype=",".join(plan["dtypes"]),
                                  forms=",".join(plan["forms"]), round_budget=tb.SWEEP_ROUND_BUDGET)
    runs = [(r["problem"], r["dtype"], r["form"]) for r in plan["runs"]]
    if args.only:
        with open(args.only, encoding="utf-8") as f:
            wanted = {(r["problem"], r["dtype"], r["form"]) for r in json.load(f)["rows"]}
        runs = [r for r in runs if r in wanted]
        tb.log(f"--only {args.only}: {len(runs)} of the part's groups")
    tb.log(f"part {plan['part']}: {len(runs)} groups, {len(plan['skipped'])} skipped before timing, "
           f"iters {plan['iters']} (warm-up {plan['warmup']}), estimated {plan['estimated_seconds'] / 60:.1f} min")
    graph_calls_for = (lambda problem: 0) if args.eager else tb.decode_graph_calls
    results = tb.run(run_args, data, plan=runs, env_extra=copy_bandwidth, graph_calls_for=graph_calls_for)
    results["tool"] = f"torch_baseline (sweep part {plan['part']})"
    pf.save_json(results, os.path.join(args.dir, "torch.json"))
    tb.log(f"results: {os.path.join(args.dir, 'torch.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
