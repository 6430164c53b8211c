#!/usr/bin/env python3
"""Tuning aid for the cutlass-sm90 tile choice (native/src/cutlass_sm90/tile_choice.h): times every compiled
sm90 configuration, forced through GG_SM90_TILE (and GG_SM90_GRID), in the same round-robin loop as
torch._grouped_mm, a dense matmul of equal FLOPs and our Auto, on the benchmark's problems and buffers
(torch_baseline.build_cases: same counts, same rotation of input sets). Prints one line per row, ratios to
torch._grouped_mm, and writes the raw medians as JSON. Not the published benchmark: bench/run_gpu.sh is.

Usage:
  python3 bench/tune_sm90.py --lib artifacts/native/libgroupedgemm.so --problems-out out/problems.json \
      --out out/tune.json [--configs seed-300M,...] [--forms forward,...] [--variants coop128x256,coop128x256@g4]
A variant is a GG_SM90_TILE name, optionally followed by @gF for GG_SM90_GRID=F (F persistent CTAs per SM).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import groupedgemm_ctypes as gg  # noqa: E402
import problems as pf  # noqa: E402
import torch_baseline as tb  # noqa: E402

TILES = ("coop128x256", "pingpong128x128", "coop128x256c1x1", "coop256x128", "coop128x256k32",
         "pingpong128x128c1x2")


def variant_case(torch, ours, problem, form, dtype, sets, xs, bs, counts_dev, variant: str) -> tb.Case:
    tile, _, grid = variant.partition("@g")
    m, k, n, e = problem["m"], problem["k"], problem["n"], problem["experts"]
    trans_a, trans_b = form == "weight-grad", form == "forward-transb"
    out = torch.empty((e, k, n) if trans_a else (m, n), dtype=dtype, device=xs[0].device)
    args = [ours.args(xs[s], bs[s], out, counts_dev, trans_a, trans_b, gg.BACKEND_CUTLASS_SM90) for s in range(sets)]

    def call(i):
        os.environ["GG_SM90_TILE"] = tile
        os.environ["GG_SM90_GRID"] = grid or "1"
        try:
            ours.gmm_args(args[i % sets])
        finally:
            del os.environ["GG_SM90_TILE"], os.environ["GG_SM90_GRID"]

    call.keep_alive = (out, args)
    case = tb.Case(variant, "variant", call)
    tb.probe(torch, case)
    return case


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lib", required=True)
    p.add_argument("--configs", default="all")
    p.add_argument("--routings", default="uniform,zipf")
    p.add_argument("--forms", default=",".join(pf.FORMS))
    p.add_argument("--dtype", default="bf16", choices=("bf16", "fp16"))
    p.add_argument("--variants", default=",".join(TILES))
    p.add_argument("--iters", type=int, default=15)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--seed", type=int, default=20261126, help="the benchmark's seed: the same counts")
    p.add_argument("--problems-out", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)

    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(a.seed)
    data = pf.make_problem_file(pf.select_configs(a.configs, []), tb.split(a.routings), a.seed)
    pf.save_json(data, a.problems_out)
    ours = gg.GroupedGemm(a.lib)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[a.dtype]
    variants = tb.split(a.variants)
    print(f"# {torch.cuda.get_device_name(0)}, torch {torch.__version__}; TFLOP/s (ours / torch._grouped_mm)",
          flush=True)
    print(f"{'problem':<24}{'form':<16}{'torch':>7}{'dense':>7}{'auto':>14}" + "".join(f"{v:>22}" for v in variants),
          flush=True)
    rows = []
    for problem in data["problems"]:
        for form in tb.split(a.forms):
            cases, sets = tb.build_cases(torch, problem, data["rotation"], dtype, form, False, ours)
            ours_case = cases[-1]
            xs, bs, counts_dev = ours_case.inputs  # the variants run on the very buffers of Auto and torch
            cases += [variant_case(torch, ours, problem, form, dtype, sets, xs, bs, counts_dev, v) for v in variants]
            tb.time_round_robin(torch, cases, a.warmup, a.iters)
            flop = pf.flops(problem)
            med = {c.name: statistics.median(c.times_ms) if c.times_ms else None for c in cases}
            tflops = {name: (flop / (t * 1e-3) / 1e12 if t else None) for name, t in med.items()}
            torch_t = med["torch._grouped_mm"]

            def cell(name, width):
                t = med.get(name)
                if not t:
                    return f"{'-':>{width}}"
                return f"{tflops[name]:.0f} ({torch_t / t:.2f})".rjust(width) if torch_t else f"{tflops[name]:.0f}".rjust(width)

            print(f"{problem['id']:<24}{form:<16}{tflops['torch._grouped_mm'] or 0:>7.0f}"
                  f"{tflops[cases[1].name] or 0:>7.0f}{cell(tb.OURS_NAME, 14)}"
                  + "".join(cell(v, 22) for v in variants), flush=True)
            rows.append({"problem": problem["id"], "form": form, "flops": flop, "median_ms": med,
                         "auto": ours_case.extra.get("resolved_backend")})
            del cases
            torch.cuda.empty_cache()
    with open(a.out, "w") as f:
        json.dump({"device": torch.cuda.get_device_name(0), "dtype": a.dtype, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
