#!/usr/bin/env python3
"""The kernels one grouped GEMM call runs on the device, ours and torch._grouped_mm's, from PyTorch's profiler:
CUPTI records every kernel, memset and copy in the process, ours through ctypes included. For the fixed costs that
CUDA-event timing sees only as a total: split-K's 7-12 us on a weight gradient that may split but does not, or a
decode forward that leaves SMs idle (docs/perf-notes.md). The GPU host has no Nsight Systems; this needs only torch.

Each series is warmed up, then --calls calls are enqueued behind a device sleep (torch.cuda._sleep) so that the GPU,
not the host, sets the pace: the gaps printed are the device's own between one kernel's end and the next one's start
(launch latency, programmatic-dependent-launch overlap), not the host's enqueue time. A call's activities are the
same sequence every time (checked); the table gives, per position in the call, the activity's name and the medians
of its duration and of the gap before it, and the median span of a whole call (first start to last end) and of the
gap between calls. Timed under the profiler, so slightly slower than in the benchmark: compare the rows with each
other, and the spans with bench/ figures only roughly.

Usage:
  python3 bench/kernel_timeline.py --lib LIB --problems PART/problems.json --id granite-3.0-3b-a800m/down/t4096/uniform \
      --form weight-grad [--dtype bf16] [--calls 20] [--json out.json]
  python3 bench/kernel_timeline.py --lib LIB --config seed-300M --routing uniform --form forward
The problems file is a sweep part's (`GroupedGemm.Bench sweep plan`, bench/sweep/README.md); --config a configuration
of bench/problems.py. Tuning knobs (GG_SM90_*) of a tuning or experiment build apply through the environment, as for
bench/tune_sm90.py: `GG_SM90_SPLIT=0 python3 bench/kernel_timeline.py ...` shows the call without split-K's launches.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import groupedgemm_ctypes as gg  # noqa: E402
import problems as pf  # noqa: E402
import torch_baseline as tb  # noqa: E402

# Chrome-trace categories of device activities (torch.profiler's export): kernels, memsets and copies.
DEVICE_CATEGORIES = ("kernel", "gpu_memset", "gpu_memcpy")


def device_activities(trace: dict) -> list[dict]:
    """The device activities of an exported trace, in start order: name, start and duration in microseconds."""
    events = [{"name": e.get("name", "?"), "ts": float(e["ts"]), "dur": float(e.get("dur", 0.0))}
              for e in trace.get("traceEvents", []) if e.get("cat") in DEVICE_CATEGORIES and "ts" in e]
    return sorted(events, key=lambda e: e["ts"])


def split_calls(events: list[dict], calls: int) -> list[list[dict]]:
    """The activities of each call. The first activity is the device sleep and is dropped; the rest must be `calls`
    repeats of one sequence of names, or the timeline cannot be read per position (ValueError)."""
    rest = events[1:]
    if calls < 1 or len(rest) % calls != 0:
        raise ValueError(f"{len(rest)} device activities after the sleep do not split into {calls} calls")
    per = len(rest) // calls
    chunks = [rest[i * per:(i + 1) * per] for i in range(calls)]
    names = [e["name"] for e in chunks[0]]
    for i, chunk in enumerate(chunks[1:], start=1):
        if [e["name"] for e in chunk] != names:
            raise ValueError(f"call {i} ran other activities than call 0: {[e['name'] for e in chunk]} vs {names}")
    return chunks


def summarise(chunks: list[list[dict]], skip: int) -> dict:
    """Medians over the calls after the first `skip`: per position (duration, gap before it), the call's span and the
    gap from the previous call's last activity."""
    kept = list(range(skip, len(chunks))) if len(chunks) > skip else list(range(len(chunks)))
    positions = []
    for j, first in enumerate(chunks[0]):
        durations = [chunks[i][j]["dur"] for i in kept]
        gaps = [chunks[i][j]["ts"] - (chunks[i][j - 1]["ts"] + chunks[i][j - 1]["dur"]) for i in kept] if j else None
        positions.append({"name": first["name"], "duration_us": statistics.median(durations),
                          "gap_before_us": statistics.median(gaps) if gaps else None})
    spans = [chunks[i][-1]["ts"] + chunks[i][-1]["dur"] - chunks[i][0]["ts"] for i in kept]
    between = [chunks[i][0]["ts"] - (chunks[i - 1][-1]["ts"] + chunks[i - 1][-1]["dur"]) for i in kept if i > 0]
    return {"activities": positions, "span_us": statistics.median(spans),
            "between_calls_us": statistics.median(between) if between else None, "calls": len(kept)}


def timeline(torch, case: tb.Case, calls: int, warmup: int, sleep_ms: float) -> list[list[dict]]:
    """Runs the case under the profiler, `calls` calls queued behind a device sleep, and returns them split."""
    from torch.profiler import ProfilerActivity, profile

    for i in range(warmup):
        case.call(i)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        torch.cuda._sleep(int(sleep_ms * 2e6))  # cycles: about sleep_ms at 2 GHz; the host enqueues meanwhile
        for i in range(calls):
            case.call(i)
        torch.cuda.synchronize()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "trace.json")
        prof.export_chrome_trace(path)
        with open(path, encoding="utf-8") as f:
            trace = json.load(f)
    return split_calls(device_activities(trace), calls)


def short(name: str, width: int = 72) -> str:
    return name if len(name) <= width else name[:width - 3] + "..."


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lib", required=True, help="libgroupedgemm.so")
    p.add_argument("--problems", help="a sweep part's problems.json (with --id)")
    p.add_argument("--id", help="the problem's id in --problems")
    p.add_argument("--config", help="a configuration of bench/problems.py, instead of --problems")
    p.add_argument("--routing", default="uniform", help="with --config")
    p.add_argument("--form", default="forward", choices=pf.FORMS)
    p.add_argument("--dtype", default="bf16", choices=("bf16", "fp16"))
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--skip", type=int, default=2, help="calls left out of the medians at the start")
    p.add_argument("--sleep-ms", type=float, default=20.0, help="the device sleep the calls queue behind")
    p.add_argument("--seed", type=int, default=20261126)
    p.add_argument("--json", help="write the per-call activities and the summary here")
    a = p.parse_args(argv)
    if bool(a.problems) == bool(a.config) or (a.problems and not a.id):
        p.error("give --problems FILE --id ID, or --config NAME")

    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(a.seed)
    if a.problems:
        data = pf.select_sweep_problems([a.problems])
        problem = next((q for q in data["problems"] if q["id"] == a.id), None)
        if problem is None:
            p.error(f"no problem '{a.id}' in {a.problems}")
    else:
        data = pf.make_problem_file(pf.select_configs(a.config, []), [a.routing], a.seed)
        problem = data["problems"][0]
    ours = gg.GroupedGemm(a.lib)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[a.dtype]
    cases, _ = tb.build_cases(torch, problem, data["rotation"], dtype, a.form, False, ours)
    chosen = [c for c in cases if c.kind in (tb.OURS_KIND, tb.TORCH_KIND) and c.status == "ok"]
    print(f"# {torch.cuda.get_device_name(0)}, torch {torch.__version__}, {os.path.basename(a.lib)} {ours.version()}; "
          f"{problem['id']} {a.dtype} {a.form} (m {problem['m']}, k {problem['k']}, n {problem['n']}, "
          f"{problem['experts']} experts); medians of {a.calls - a.skip} calls, microseconds", flush=True)
    out = {"problem": problem["id"], "dtype": a.dtype, "form": a.form, "device": torch.cuda.get_device_name(0),
           "torch": torch.__version__, "library": ours.version(),
           "knobs": {k: v for k, v in os.environ.items() if k.startswith("GG_SM90_")}, "series": []}
    for case in chosen:
        chunks = timeline(torch, case, a.calls, a.warmup, a.sleep_ms)
        s = summarise(chunks, a.skip)
        between = f"{s['between_calls_us']:.1f}" if s["between_calls_us"] is not None else "-"
        print(f"\n{case.name}: a call spans {s['span_us']:.1f} us over {len(s['activities'])} activities; "
              f"{between} us from the previous call's end")
        print(f"  {'#':>2} {'gap before':>10} {'duration':>9}  name")
        for j, act in enumerate(s["activities"]):
            gap = f"{act['gap_before_us']:.1f}" if act["gap_before_us"] is not None else "-"
            print(f"  {j:>2} {gap:>10} {act['duration_us']:>9.1f}  {short(act['name'])}")
        out["series"].append({"name": case.name, "summary": s, "calls": chunks})
    if a.json:
        pf.save_json(out, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
