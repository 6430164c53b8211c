#!/usr/bin/env python3
"""Splits the time of the sweep's small calls into device time and host (launch) time, for ours and for
torch._grouped_mm: the one-token forwards and decode weight gradients that the 0.3.0 H100 sweep found 5-15 us slower
than torch whatever their shape (docs/perf-notes.md, "The sweep with the 0.3.0 library").

Per focus row (bench/sweep/focus*.json; by default its decode classes only), on the operands of the sweep's harness:
  eager   CUDA events around each call, median of --iters (what the sweep measures: if the host enqueues slower than
          the device runs, the gap between the events is host time)
  host    wall time per call of --iters back-to-back calls with no synchronisation (time.perf_counter), i.e. how
          long the host takes to enqueue one call
  graph   --graph-calls calls captured once in a CUDA graph and replayed, CUDA events around each replay, median of
          --iters, divided by --graph-calls: the device time alone, with no host in between
Where ours' graph time is near torch's but its eager time is not, the difference is on the host (or in launches the
graph keeps but a stream does not overlap); where the graph times differ, it is on the device.
With --kernels, each row also lists the device activities (kernels, memsets, copies) of --kernel-calls calls of each,
from torch.profiler (CUPTI traces every kernel of the process, ours through ctypes too): name, launches per call, us
per launch. Their sum next to the graph time says how much of a call is kernels and how much the gaps between them.

  python3 bench/sweep/decode_overhead.py --focus bench/sweep/focus-h100-0.3.0.json --dir FOCUS_OUT \\
      --ours-lib artifacts/native/libgroupedgemm.so [--all-classes] [--json OUT.json]

FOCUS_OUT is the folder bench/sweep/focus.sh --out wrote (each part's problems.json with the seeded counts).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import groupedgemm_ctypes as gg  # noqa: E402

DECODE_CLASSES = ("decode-forward", "decode-wgrad")


def event_median_ms(torch, fn, iters: int) -> float:
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(iters)]
    for start, end in events:
        start.record()
        fn()
        end.record()
    torch.cuda.synchronize()
    return statistics.median(s.elapsed_time(e) for s, e in events)


def host_us_per_call(torch, fn, iters: int) -> float:
    torch.cuda.synchronize()
    began = time.perf_counter()
    for _ in range(iters):
        fn()
    enqueued = time.perf_counter() - began
    torch.cuda.synchronize()
    return enqueued / iters * 1e6


def graph_ms_per_call(torch, make_fn, calls: int, iters: int) -> float:
    """make_fn() is called inside the capture, so that ours' arguments name the capturing stream."""
    graph = torch.cuda.CUDAGraph()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        make_fn()()  # warm-up on the side stream: workspaces grown before capture
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    # relaxed: a captured call of ours takes its own scratch slice (groupedgemm.h, "Graphs"), which it may allocate
    # during the capture; torch's default ("global") refuses any allocation while a capture is under way.
    with torch.cuda.graph(graph, capture_error_mode="relaxed"):
        fn = make_fn()
        for _ in range(calls):
            fn()
    graph.replay()
    torch.cuda.synchronize()
    return event_median_ms(torch, graph.replay, iters) / calls


def kernel_breakdown(torch, fn, calls: int) -> list[dict]:
    """Per device activity of `calls` calls of fn: name, launches per call, mean us per launch (torch.profiler)."""
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
    rows = []
    for avg in prof.key_averages():
        total = getattr(avg, "device_time_total", None)
        if total is None:
            total = getattr(avg, "cuda_time_total", 0)
        if total <= 0 or avg.count <= 0:
            continue
        rows.append({"name": avg.key, "per_call": avg.count / calls, "us": total / avg.count})
    rows.sort(key=lambda r: -r["per_call"] * r["us"])
    return rows


def operands(torch, problem: dict, form: str, dtype):
    m, k, n, e = problem["m"], problem["k"], problem["n"], problem["experts"]
    x = torch.randn(m, k, dtype=dtype, device="cuda")
    counts = torch.tensor(problem["counts"], dtype=torch.int64, device="cuda")
    offs = torch.cumsum(counts, 0).to(torch.int32)
    if form == "forward":
        b = torch.randn(e, k, n, dtype=dtype, device="cuda")
        out = torch.empty(m, n, dtype=dtype, device="cuda")
        return x, b, out, counts, lambda: torch._grouped_mm(x, b, offs=offs)
    if form == "forward-transb":
        b = torch.randn(e, n, k, dtype=dtype, device="cuda")
        out = torch.empty(m, n, dtype=dtype, device="cuda")
        return x, b, out, counts, lambda: torch._grouped_mm(x, b.transpose(-2, -1), offs=offs)
    dy = torch.randn(m, n, dtype=dtype, device="cuda")
    out = torch.empty(e, k, n, dtype=dtype, device="cuda")
    return x, dy, out, counts, lambda: torch._grouped_mm(x.t(), dy, offs=offs)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--focus", required=True, help="a focus file (bench/sweep/focus*.json)")
    ap.add_argument("--dir", required=True, help="the folder focus.sh --out wrote (the parts' problems.json)")
    ap.add_argument("--ours-lib", default=os.environ.get("GROUPEDGEMM_NATIVE_PATH"), help="libgroupedgemm.so")
    ap.add_argument("--all-classes", action="store_true", help="every row of the focus file, not only decode rows")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--graph-calls", type=int, default=20, help="calls captured in one graph")
    ap.add_argument("--kernels", action="store_true", help="also list each call's device activities (torch.profiler)")
    ap.add_argument("--kernel-calls", type=int, default=20, help="calls profiled per row with --kernels")
    ap.add_argument("--json", default=None, help="write the rows here as well")
    args = ap.parse_args(argv)
    import torch

    if not args.ours_lib:
        print("decode_overhead: give --ours-lib or set GROUPEDGEMM_NATIVE_PATH", file=sys.stderr)
        return 2
    ours = gg.GroupedGemm(args.ours_lib)
    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16}
    with open(args.focus, encoding="utf-8") as f:
        rows = [r for r in json.load(f)["rows"] if args.all_classes or r["class"].split(" ")[-1] in DECODE_CLASSES]
    problems = {}
    results = []
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, {ours.version()}; us per call")
    print(f"{'problem':<42} {'form':<14} {'dtype':<5} {'ours eager':>10} {'host':>7} {'graph':>7} "
          f"{'torch eager':>11} {'host':>7} {'graph':>7}")
    for r in rows:
        part = r["part"]
        if part not in problems:
            path = os.path.join(args.dir, part.replace("/", "__"), "problems.json")
            try:
                with open(path, encoding="utf-8") as f:
                    problems[part] = {p["id"]: p for p in json.load(f)["problems"]}
            except FileNotFoundError:
                problems[part] = None
        if problems[part] is None or r["problem"] not in problems[part]:
            print(f"{r['problem']:<42} {r['form']:<14} {r['dtype']:<5} no problems.json for part {part} in {args.dir}")
            continue
        problem = problems[part][r["problem"]]
        x, b, out, counts, torch_call = operands(torch, problem, r["form"], dtypes[r["dtype"]])
        trans_a, trans_b = r["form"] == "weight-grad", r["form"] == "forward-transb"

        def ours_fn():  # arguments on the current stream (the capturing one inside a graph capture)
            prepared = ours.args(x, b, out, counts, trans_a, trans_b)
            return lambda: ours.gmm_args(prepared)

        row = {"problem": r["problem"], "form": r["form"], "dtype": r["dtype"]}
        try:
            ours_fn()()
            torch.cuda.synchronize()
        except Exception as error:  # a kernel this build lacks (experiment builds), or a failed call: say so, go on
            print(f"{r['problem']:<42} {r['form']:<14} {r['dtype']:<5} ours failed: {str(error).strip()[:160]}")
            del x, b, out, counts
            continue
        for name, make in (("ours", ours_fn), ("torch", lambda: torch_call)):
            fn = make()
            for _ in range(5):
                fn()
            row[f"{name}_eager_us"] = event_median_ms(torch, fn, args.iters) * 1e3
            row[f"{name}_host_us"] = host_us_per_call(torch, fn, args.iters)
            try:
                row[f"{name}_graph_us"] = graph_ms_per_call(torch, make, args.graph_calls, args.iters) * 1e3
            except RuntimeError as error:  # a call that cannot be captured: say so, keep the row
                row[f"{name}_graph_us"] = None
                row[f"{name}_graph_error"] = str(error).strip()[:200]
        results.append(row)

        def cell(v):
            return f"{v:7.1f}" if v is not None else "      -"
        print(f"{r['problem']:<42} {r['form']:<14} {r['dtype']:<5} {row['ours_eager_us']:>10.1f} {cell(row['ours_host_us'])} "
              f"{cell(row['ours_graph_us'])} {row['torch_eager_us']:>11.1f} {cell(row['torch_host_us'])} "
              f"{cell(row['torch_graph_us'])}")
        if args.kernels:
            for name, make in (("ours", ours_fn), ("torch", lambda: torch_call)):
                row[f"{name}_kernels"] = kernel_breakdown(torch, make(), args.kernel_calls)
                total = sum(k["per_call"] * k["us"] for k in row[f"{name}_kernels"])
                print(f"    {name}: device activities {total:.1f} us per call")
                for k in row[f"{name}_kernels"]:
                    print(f"      {k['per_call']:4.1f} x {k['us']:7.2f} us  {k['name'][:110]}")
        del x, b, out, counts
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__, "ours": ours.version(),
                       "iters": args.iters, "graph_calls": args.graph_calls, "rows": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
