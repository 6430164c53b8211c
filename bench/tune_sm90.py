#!/usr/bin/env python3
"""Tuning aid for the cutlass-sm90 tile choice (native/src/cutlass_sm90/tile_choice.h): times every compiled
sm90 configuration, forced through GG_SM90_TILE (and GG_SM90_GRID), in the same round-robin loop as
torch._grouped_mm, a dense matmul of equal FLOPs and our Auto, on the benchmark's problems and buffers
(torch_baseline.build_cases: same counts, same rotation of input sets), with the benchmark's padded bmm series
in the loop as well unless --no-padded (its slow, memory-bound calls change the clocks the other series run at;
docs/perf-notes.md v6, v8). Every variant's output is checked against torch._grouped_mm's after timing
(torch_baseline.check_ours); a wrong one prints '-'. Prints one line per row, ratios to
torch._grouped_mm, and writes the raw medians as JSON. Not the published benchmark: bench/run_gpu.sh is.
A release build holds only the kernels Auto chooses and reads no tuning knobs, so this needs a tuning build (cmake
-DGG_SM90_TUNING=ON, GG_SM90_TUNING=1 for scripts/build-native.sh and scripts/gpu-host.sh native, or an experiment
build's GG_SM90_KERNELS); it refuses a release build unless every variant is plain `auto`. A forced tile that the library lacks fails with
BACKEND_NOT_COMPILED.

Usage:
  python3 bench/tune_sm90.py --lib artifacts/native/libgroupedgemm.so [--problems-out out/problems.json] \
      --out out/tune.json [--configs seed-300M,...] [--forms forward,...] [--variants coop128x256,coop128x256@g4]
  python3 bench/tune_sm90.py --lib ... --problems PART/problems.json[,...] [--routings zipf] [--tokens 1,4096] \
      --out out/tune.json
With --problems the problems are a real-model sweep part's (`GroupedGemm.Bench sweep plan`, bench/sweep/README.md)
instead of the benchmark's configurations, filtered by routing and tokens, and decode problems (torch_baseline's
DECODE_TOKENS) are timed from CUDA graphs, as the sweep times them; every row then carries its shape (m, k, n,
experts, tokens, routing), which is what bench/sweep/make_tile_table.py reads to build Auto's measured tile table.
--lib-b PATH times a second build's Auto in the same loop (column and JSON key "lib-b"): an experiment build against
the release library it would replace, on the same buffers.
A variant is a GG_SM90_TILE name (or `auto`: the policy's own tile), optionally followed by @gF for
GG_SM90_GRID=F (F persistent CTAs per SM) and/or @source or @store for GG_SM90_EPILOGUE (force the source or the
store-only epilogue), @rn / @rm for GG_SM90_RASTER=n / m (tiles along N / M first), @runR for GG_SM90_RUN_ROWS=R
(tiles dealt to a cluster in runs of about R rows' work; @run0: one by one), @claimL for GG_SM90_CLAIM=L (clusters
of one CTA claim each next run from a counter, at most L tiles ahead; @claim0: the static deal), @bandB for
GG_SM90_BAND=B (each expert's tiles walked in bands B tile units wide; @band0: no bands), @splitS for GG_SM90_SPLIT=S
(weight gradients: split-K of the largest expert in S chunks when it dominates; @split0: none; device counts only),
@longR for GG_SM90_LONG=R (nothing claimed ahead of a tile reducing over R rows or more; @long0: no limit), @first0 /
@first1 for GG_SM90_FIRST (the experts' own group order / the largest expert's group first), @dwgR for
GG_SM90_DECODE_WGRAD=R (weight gradients of at most R rows on the decode weight-gradient kernel; @dwg0: never),
@mix0 / @mix1 for GG_SM90_DECODE_MIX (that kernel's blocks experts major / every expert's tiles in each wave),
@dshortR for GG_SM90_DECODE_SHORT=R (weight gradients the kernel does not take whole: their experts of at most R rows
on it, the others on the grouped GEMM; @dshort0: none), @dfwdR for GG_SM90_DECODE_FWD=R (forwards and trans_b forwards
of at most R rows, with device counts, on the decode forward kernel; @dfwd0: never), @routeR for GG_SM90_ROUTE=R (forwards
whose tile is the contiguous kernel or coop128x256c1x1 choose between the two by the experts' rows with row bound R: with
device counts the fill kernel chooses and both run, the one not chosen exiting at once; @route0: off), @rdecT for
GG_SM90_ROUTE_DECODE=T (trans_b forwards on the decode tile choose between it and the contiguous kernel, the contiguous
kernel where the decode tile has at most T row tiles; @rdec0: off).
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

LIB_B = "lib-b"  # the column of --lib-b's Auto
SM90_TILES_DEF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "native", "src", "cutlass_sm90",
                              "sm90_tiles.def")


def table_entries(path: str = SM90_TILES_DEF) -> dict:
    """sm90_tiles.def's tiles in its order, by name: (Sm90Tile enumerator, release marks by form). GG_SM90_TILE( lines
    carry their marks (both, source, store or tuning) for forward, forward-transb and weight-grad; our own tiles
    (GG_SM90_OWN_TILE() are always built. The one table of the configurations, read here as CMake reads it (one entry a
    line), so that no second list drifts."""
    entries = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith(("GG_SM90_TILE(", "GG_SM90_OWN_TILE(")):
                args = [a.strip() for a in line.split("(", 1)[1].rsplit(")", 1)[0].split(",")]
                marks = args[2:5] if line.startswith("GG_SM90_TILE(") else ["both"] * 3
                entries[args[1]] = (args[0], dict(zip(pf.FORMS, marks)))
    return entries


def table_tiles(path: str = SM90_TILES_DEF) -> tuple[str, ...]:
    """Every tile name of sm90_tiles.def, in its order."""
    return tuple(table_entries(path))


TILES = table_tiles()


# What a row carries of its problem, for bench/sweep/make_tile_table.py.
SHAPE_KEYS = ("m", "k", "n", "experts", "tokens", "routing", "model", "projection")


def variant(text: str) -> tuple[str, dict]:
    """"coop128x256@g2@source" -> ("coop128x256@g2@source",
    {"GG_SM90_TILE": "coop128x256", "GG_SM90_GRID": "2", "GG_SM90_EPILOGUE": "source"})."""
    tile, *options = text.split("@")
    env = {"GG_SM90_GRID": "1"} if tile == "auto" else {"GG_SM90_TILE": tile, "GG_SM90_GRID": "1"}
    for option in options:
        if option in ("source", "store"):
            env["GG_SM90_EPILOGUE"] = option
        elif option in ("rn", "rm"):
            env["GG_SM90_RASTER"] = option[1]
        elif option.startswith("run") and option[3:].isdigit():
            env["GG_SM90_RUN_ROWS"] = option[3:]
        elif option.startswith("claim") and option[5:].isdigit():
            env["GG_SM90_CLAIM"] = option[5:]
        elif option.startswith("band") and option[4:].isdigit():
            env["GG_SM90_BAND"] = option[4:]
        elif option.startswith("split") and option[5:].isdigit():
            env["GG_SM90_SPLIT"] = option[5:]
        elif option.startswith("long") and option[4:].isdigit():
            env["GG_SM90_LONG"] = option[4:]
        elif option in ("first0", "first1"):
            env["GG_SM90_FIRST"] = option[5]
        elif option.startswith("dwg") and option[3:].isdigit():
            env["GG_SM90_DECODE_WGRAD"] = option[3:]
        elif option.startswith("dshort") and option[6:].isdigit():
            env["GG_SM90_DECODE_SHORT"] = option[6:]
        elif option in ("mix0", "mix1"):
            env["GG_SM90_DECODE_MIX"] = option[3]
        elif option.startswith("dfwd") and option[4:].isdigit():
            env["GG_SM90_DECODE_FWD"] = option[4:]
        elif option.startswith("route") and option[5:].isdigit():
            env["GG_SM90_ROUTE"] = option[5:]
        elif option.startswith("rdec") and option[4:].isdigit():
            env["GG_SM90_ROUTE_DECODE"] = option[4:]
        elif option.startswith("g") and option[1:].isdigit():
            env["GG_SM90_GRID"] = option[1:]
        else:
            raise ValueError(f"variant {text!r}: unknown option @{option} (known: @gF, @source, @store, @rn, @rm, @runR, @claimL, @bandB, @splitS, @longR, @first0, @first1, @dwgR, @dshortR, @mix0, @mix1, @dfwdR, @routeR, @rdecT)")
    return text, env


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lib", required=True)
    p.add_argument("--lib-b", default=None,
                   help="a second build (a release library, say) timed with Auto in the same loop, as the column 'lib-b'")
    p.add_argument("--configs", default="all")
    p.add_argument("--routings", default="uniform,zipf")
    p.add_argument("--forms", default=",".join(pf.FORMS))
    p.add_argument("--dtype", default="bf16", choices=("bf16", "fp16"))
    p.add_argument("--variants", default=",".join(TILES))
    p.add_argument("--iters", type=int, default=15)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--seed", type=int, default=20261126, help="the benchmark's seed: the same counts")
    p.add_argument("--no-padded", action="store_true", help="leave the padded bmm series out of the loop")
    p.add_argument("--problems-out", default=None,
                   help="where to write the configurations' problem file (default: beside --out, <out>.problems.json)")
    p.add_argument("--problems", default=None,
                   help="comma list of sweep parts' problems.json to time instead of --configs")
    p.add_argument("--tokens", default=None, help="with --problems: only these token counts (comma list)")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)

    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(a.seed)
    if a.problems:
        try:
            data = pf.select_sweep_problems(tb.split(a.problems), routings=tb.split(a.routings),
                                            tokens={int(t) for t in tb.split(a.tokens)} if a.tokens else None)
        except (OSError, ValueError) as error:
            p.error(str(error))
    else:
        if not a.problems_out:
            a.problems_out = os.path.splitext(a.out)[0] + ".problems.json"
        data = pf.make_problem_file(pf.select_configs(a.configs, []), tb.split(a.routings), a.seed)
        pf.save_json(data, a.problems_out)
    variant_names = tb.split(a.variants)
    # Plain `auto` forces nothing: a release build's Auto is what it times (a release against the one before it,
    # through --lib-b, in the same loop). Any other variant forces knobs that a release build would ignore.
    if any(name != "auto" for name in variant_names):
        gg.require_tuning_knobs(a.lib, "bench/tune_sm90.py")
    ours = gg.GroupedGemm(a.lib)
    libraries = []
    if a.lib_b:
        other = gg.GroupedGemm(a.lib_b)
        # Loaded by path, a second file is a second copy even with the same soname; the same file twice (or through a
        # link) is the same loaded object, and its column would be the first library's.
        if other.lib._handle == ours.lib._handle:
            p.error("--lib-b names the library --lib loaded")
        libraries.append((LIB_B, other))
        print(f"# lib-b: {a.lib_b}: {other.version()}, {other.build_info()}", flush=True)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[a.dtype]
    variants = [variant(v) for v in variant_names]
    print(f"# {torch.cuda.get_device_name(0)}, torch {torch.__version__}; TFLOP/s (ours / torch._grouped_mm)",
          flush=True)
    print(f"{'problem':<24}{'form':<16}{'torch':>7}{'dense':>7}{'auto':>14}"
          + "".join(f"{name:>22}" for name, _ in variants) + "".join(f"{name:>14}" for name, _ in libraries),
          flush=True)
    rows, skipped = [], []
    for problem in data["problems"]:
        for form in tb.split(a.forms):
            try:
                cases, _ = tb.build_cases(torch, problem, data["rotation"], dtype, form, not a.no_padded, ours,
                                          variants, libraries)
                auto = next(c for c in cases if c.kind == tb.OURS_KIND)
                # Sweep problems: the sweep's own round budget for slow groups and graph timing for decode groups.
                _, _, timing = tb.time_round_robin(torch, cases, a.warmup, a.iters,
                                                   tb.SWEEP_ROUND_BUDGET if a.problems else None,
                                                   tb.decode_graph_calls(problem) if a.problems else 0)
                tb.check_ours(torch, cases)  # a variant with a wrong answer keeps no timing
            except torch.OutOfMemoryError:
                # Every series' buffers at once (two libraries, variants, rotation sets) can outgrow the card where the
                # sweep, which plans its memory, fits (arctic's and grok's weight gradients on an H100): the problem is
                # left out, named here and in the JSON, and the next one runs.
                cases = None
                torch.cuda.empty_cache()
                print(f"{problem['id']:<24}{form:<16}skipped: out of device memory", flush=True)
                skipped.append({"problem": problem["id"], "form": form, "reason": "out of device memory"})
                continue
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
                  + "".join(cell(name, 22) for name, _ in variants)
                  + "".join(cell(name, 14) for name, _ in libraries), flush=True)
            rows.append({"problem": problem["id"], "form": form, "flops": flop, "median_ms": med,
                         "auto": auto.extra.get("resolved_backend"), "timing": timing,
                         **{key: problem[key] for key in SHAPE_KEYS if key in problem}})
            del cases
            torch.cuda.empty_cache()
    with open(a.out, "w") as f:
        json.dump({"device": torch.cuda.get_device_name(0), "dtype": a.dtype, "library": ours.version(),
                   "build": ours.build_info(), "variants": [name for name, _ in variants],
                   **{name: {"version": lib.version(), "build": lib.build_info()} for name, lib in libraries},
                   "rows": rows, "skipped": skipped}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
