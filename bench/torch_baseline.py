#!/usr/bin/env python3
"""PyTorch baselines for the grouped GEMM benchmark.

Writes the problem file (per-expert row counts drawn with a fixed seed; the C# bench reads it and
times the very same counts) and, on a CUDA machine, times for every problem, dtype and form:

  torch._grouped_mm   the reference grouped GEMM, offsets = cumsum(counts) as int32 on the device
  torch.matmul        a dense GEMM of equal FLOPs in the same layout: the yardstick
  padded bmm          torch.bmm over [E, max_count, ...] zero-padded operands; TFLOP/s counted on
                      the useful FLOPs 2*M*K*N; the padding copy itself is not timed
  ours (same loop)    with --ours-lib: our gg_gmm through ctypes (bench/groupedgemm_ctypes.py), backend Auto,
                      int64 counts on the device, into a preallocated output, on the same input buffers as
                      torch._grouped_mm; kind "ours-inprocess". The only ratio ours / torch._grouped_mm whose
                      two figures share one loop (the C# half runs in another process). After timing, its
                      output is compared with torch._grouped_mm's (check_ours); a wrong one keeps no timing.

Forms (tgale96/grouped_gemm semantics):
  forward          x[M,K] . w[E,K,N]                 -> [M,N]
  forward-transb   x[M,K] . w[E,N,K]^T               -> [M,N]   (w passed as w.transpose(-2, -1))
  weight-grad      x[rows of e]^T . dy[rows of e]    -> [E,K,N] (torch._grouped_mm(x.t(), dy, offs))

The series of one (problem, dtype, form) are timed round-robin, one call each per iteration
with CUDA events around every call, in a fresh (seeded) random order each iteration, so clock and
thermal drift hit them alike. Results: median of --iters timed calls after --warmup untimed rounds.

Usage:
  python3 bench/torch_baseline.py --problems-out out/problems.json --out out/torch.json
  python3 bench/torch_baseline.py --problems-out out/problems.json --out out/torch.json --ours-lib artifacts/native/libgroupedgemm.so
  python3 bench/torch_baseline.py --problems-out out/problems.json --problems-only   (no torch needed)
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import warnings

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__ on the GPU host and here
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import problems as pf  # noqa: E402  (sibling module; the path line above makes it importable)
import groupedgemm_ctypes as gg  # noqa: E402  (the ctypes binding of our C ABI; imports neither torch nor the library)

RESULTS_SCHEMA = "groupedgemm-bench-results/1"
OURS_KIND = "ours-inprocess"
VARIANT_KIND = "ours-variant"  # a tuning variant of ours (bench/tune_sm90.py); not in the published results
TORCH_KIND = "torch-grouped-mm"
OURS_NAME = "ours (Auto, device counts, same loop)"
DTYPES = ("bf16", "fp16")
ORDER_SEED = 20261126  # the round-robin orders; fixed, so that a rerun times the series in the same orders
# check_ours: ours against torch._grouped_mm, relative Frobenius error. Far above the rounding of two fp32-accumulated
# results (bf16 half an ulp is 2^-9) and far below a wrong problem's error (order 1).
OURS_CHECK_BOUND = 2e-2


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", default="all", help="comma list of configuration names, or 'all' (default)")
    p.add_argument("--add-config", action="append", default=[], metavar="NAME:T:TOPK:E:K:N",
                   help="an extra configuration (repeatable)")
    p.add_argument("--routings", default="uniform,zipf", help="comma list of uniform, zipf")
    p.add_argument("--dtype", default="bf16", help="comma list of bf16, fp16")
    p.add_argument("--forms", default=",".join(pf.FORMS), help="comma list of " + ", ".join(pf.FORMS))
    p.add_argument("--iters", type=int, default=25, help="timed calls per series (median reported)")
    p.add_argument("--warmup", type=int, default=5, help="untimed rounds before timing")
    p.add_argument("--seed", type=int, default=20261126, help="seed of the routing draws")
    p.add_argument("--problems-in", help="reuse this problem file instead of drawing a new one (--configs and --routings filter it)")
    p.add_argument("--problems-out", help="write the problem file here")
    p.add_argument("--problems-only", action="store_true", help="write the problem file and stop")
    p.add_argument("--no-padded", action="store_true", help="skip the padded bmm baseline")
    p.add_argument("--ours-lib", default=os.environ.get("GROUPEDGEMM_NATIVE_PATH") or None, metavar="PATH",
                   help="libgroupedgemm.so: also time ours (gg_gmm, Auto, device counts) in the same loop "
                        "(default: $GROUPEDGEMM_NATIVE_PATH if set, else off)")
    p.add_argument("--no-ours", action="store_true", help="do not time ours in this process, whatever --ours-lib says")
    p.add_argument("--out", help="results JSON (required unless --problems-only)")
    args = p.parse_args(argv)
    if args.iters < 1 or args.warmup < 0:
        p.error("--iters must be >= 1 and --warmup >= 0")
    for name, allowed in (("dtype", DTYPES), ("forms", pf.FORMS), ("routings", pf.ROUTINGS)):
        for value in split(getattr(args, name)):
            if value not in allowed:
                p.error(f"--{name}: unknown '{value}' (known: {', '.join(allowed)})")
    if not args.problems_only and not args.out:
        p.error("--out is required unless --problems-only")
    if not args.problems_in and not args.problems_out:
        p.error("give --problems-out (to draw and write the counts) or --problems-in (to reuse a file)")
    return args


# The sweep's decode problems: at most DECODE_TOKENS tokens (bench/GroupedGemm.Bench/Sweep/SweepProblems.cs, IsDecode),
# timed from CUDA graphs of GRAPH_CALLS calls per series (time_round_robin's graph_calls): one eager call of 20-50 us
# between two events also holds the host's enqueue time, which moved such rows by up to 10 us between runs
# (docs/perf-notes.md, "Eager against graph"). bench/sweep/sweep_part.py and bench/tune_sm90.py time them so.
DECODE_TOKENS = 256
GRAPH_CALLS = 10
# Rounds of a slow sweep group (time_round_robin's budget; bench/sweep/sweep_part.py, bench/tune_sm90.py --problems):
# the training-size groups are 90% of the sweep's device time, and a call of 10-100 ms is long next to the timer and
# launch jitter that 30 rounds average out for microsecond calls; decode groups keep the plan's rounds unless their graph
# rounds (GRAPH_CALLS calls a series) are slow too (weight gradients that write a large dW of zeros). The rounds
# each group ran are in torch.json ("warmup", "iters").
SWEEP_ROUND_BUDGET = {"series_ms": 300, "min_iters": 10, "warmup_ms": 100}


def is_decode(problem: dict) -> bool:
    """Whether a sweep problem (or a row naming its tokens) is decode-sized; a configuration, without tokens, is not."""
    tokens = problem.get("tokens")
    return tokens is not None and tokens <= DECODE_TOKENS


def decode_graph_calls(problem: dict) -> int:
    """time_round_robin's graph_calls for a sweep problem: GRAPH_CALLS for decode, 0 (eager) otherwise."""
    return GRAPH_CALLS if is_decode(problem) else 0


def split(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def log(message: str) -> None:
    print(f"[torch_baseline {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def obtain_problem_file(args: argparse.Namespace) -> dict:
    if args.problems_in:
        data = pf.load_problem_file(args.problems_in)
        # --configs and --routings narrow a reused file; the counts themselves stay as written.
        names = set(split(args.configs))
        routings = set(split(args.routings))
        data["problems"] = [q for q in data["problems"]
                            if ("all" in names or q["config"] in names) and q["routing"] in routings]
        if not data["problems"]:
            raise ValueError(f"{args.problems_in}: no problem matches --configs {args.configs} --routings {args.routings}")
    else:
        extra = [pf.parse_config(t) for t in args.add_config]
        configs = pf.select_configs(args.configs, extra)
        data = pf.make_problem_file(configs, split(args.routings), args.seed)
    if args.problems_out:
        pf.save_json(data, args.problems_out)
        log(f"problem file: {args.problems_out} ({len(data['problems'])} problems)")
    return data


# --------------------------------------------------------------------------------------------
# Everything below needs torch and a CUDA device.
# --------------------------------------------------------------------------------------------


def environment(torch) -> dict:
    """What the figures were measured on, as text."""
    props = torch.cuda.get_device_properties(0)
    env = {
        "device": torch.cuda.get_device_name(0),
        "compute_capability": f"{props.major}.{props.minor}",
        "multiprocessors": props.multi_processor_count,
        "memory_gib": round(props.total_memory / 2**30, 1),
        "torch": torch.__version__,
        "cuda_runtime": torch.version.cuda,
        "python": platform.python_version(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    try:  # the driver's own version string ("580.95.05"); torch does not expose it
        query = ["nvidia-smi", "--query-gpu=driver_version,clocks.max.sm,power.limit", "--format=csv,noheader", "-i", "0"]
        line = subprocess.run(query, capture_output=True, text=True, timeout=20, check=True).stdout.strip()
        driver, sm_clock, power = (part.strip() for part in line.split(","))
        env.update(driver=driver, max_sm_clock=sm_clock, power_limit=power)
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        env["driver"] = f"unknown ({error.__class__.__name__})"
    return {key: str(value) for key, value in env.items()}  # the C# reader takes a map of strings


class Case:
    """One series of a round-robin: a name, a kind, a call taking the iteration index."""

    def __init__(self, name: str, kind: str, call=None, status: str = "ok", note: str = "", extra: dict | None = None):
        self.name, self.kind, self.call, self.status, self.note = name, kind, call, status, note
        self.extra = extra or {}  # further result fields (ours: backend, resolved_backend, counts)
        self.times_ms: list[float] = []
        # For graph timing (time_round_robin's graph_calls): a function returning a call bound to the stream current
        # when it is called (the capture's). None: `call` itself uses whatever stream is current (torch's calls do;
        # ours' prepared arguments name a stream, so ours sets it).
        self.rebind = None

    def result(self, flop: int) -> dict:
        out = {"name": self.name, "kind": self.kind, "status": self.status, "note": self.note,
               "times_ms": [round(t, 6) for t in self.times_ms]}
        out.update(self.extra)
        if self.times_ms:
            median = statistics.median(self.times_ms)
            out.update(median_ms=round(median, 6), tflops=round(flop / (median * 1e-3) / 1e12, 3))
        return out


def failure_status(torch, error: BaseException) -> tuple[str, str]:
    """Maps an exception to a status and a short note."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else error.__class__.__name__
    if isinstance(error, torch.OutOfMemoryError) or "out of memory" in text.lower():
        return "out of memory", text[:300]
    if isinstance(error, gg.GroupedGemmError):  # ours: the status code says which word
        word = {gg.STATUS_NOT_SUPPORTED: "unsupported", gg.STATUS_BACKEND_NOT_COMPILED: "not compiled",
                gg.STATUS_OUT_OF_MEMORY: "out of memory"}
        return word.get(error.status, "error"), text[:300]
    return "unsupported", f"{error.__class__.__name__}: {text[:300]}"


def probe(torch, case: Case) -> None:
    """Runs one call; on failure the case keeps a status and note and is left out of timing."""
    if case.status != "ok":
        return
    try:
        case.call(0)
        torch.cuda.synchronize()
    except (RuntimeError, TypeError, ValueError, NotImplementedError) as error:
        case.status, case.note = failure_status(torch, error)
        if case.extra.get("resolved_backend"):
            case.note = f"Auto chose {case.extra['resolved_backend']}; {case.note}"
        case.call = None
        torch.cuda.synchronize()
        torch.cuda.empty_cache()


def capture_graph(torch, case: Case, calls: int):
    """A CUDA graph of `calls` calls of the case (input sets rotated as in the loop), captured in relaxed mode: a
    captured call of ours may allocate its own scratch slice (groupedgemm.h, "Graphs"), which the default mode refuses.
    The call is warmed on a side stream first, so that workspaces have grown before the capture."""
    graph = torch.cuda.CUDAGraph()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        (case.rebind() if case.rebind is not None else case.call)(0)
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    # An empty graph (torch warns, it does not raise) would replay in no time and flatter the other side: a call that
    # ran outside the capture stream (torch's fp16 _grouped_mm fallback on an H100 did, docs/perf-notes.md) is a failure.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with torch.cuda.graph(graph, capture_error_mode="relaxed"):
            call = case.rebind() if case.rebind is not None else case.call
            for j in range(calls):
                call(j)
    empty = [w for w in caught if "empty" in str(w.message).lower()]
    if empty:
        raise RuntimeError(f"{case.name}: {str(empty[0].message).splitlines()[0]}")
    graph.keep_alive = call  # a rebound call's arguments must outlive the graph
    return graph


def time_round_robin(torch, cases: list[Case], warmup: int, iters: int, budget: dict | None = None,
                     graph_calls: int = 0) -> tuple[int, int, str]:
    """Interleaves the runnable cases: each iteration times one call of each, in a fresh random order (seeded).
    A fixed cyclic order would always run the same case right after padded bmm, whose low, memory-bound power
    lets the clocks recover: the case after it gained up to 10% (docs/perf-notes.md).

    `budget` (the sweep's, bench/sweep/sweep_part.py) caps the rounds of a slow group: the first warm-up round is timed,
    and with t its slowest call, the group runs min(warmup, 1 + ceil(warmup_ms / t)) warm-up rounds and
    min(iters, max(min_iters, ceil(series_ms / (t x calls a round)))) timed ones, a round being graph_calls calls per
    series when the group is timed from graphs, else one. Fewer iterations, never fewer problems: a 50 ms call
    gets 3 and 10 where the plan says 5 and 30.

    `graph_calls` > 0 (the sweep's decode groups): after the warm-up each series' `graph_calls` calls are captured in
    one CUDA graph, and each timed round replays every series' graph between its own pair of events, in the same
    random order; a time is the replay's over graph_calls. At 20-50 us a call, one eager call between two events also
    holds the host's enqueue time whenever the device waits for it (ours through ctypes and torch alike), which moved
    such rows by up to 10 us between runs where their replays held within 1-2 us (docs/perf-notes.md). A series that
    cannot be captured sends the whole group back to eager timing, so that its series are timed alike; ours is then
    also replayed alone from a graph for the HBM floor (time_ours_alone_from_graph).
    Returns the (warm-up, timed) rounds run and how: "eager" or "graph xN" (or "eager (capture failed: ...)")."""
    live = [c for c in cases if c.status == "ok"]
    if not live:
        return 0, 0, "eager"
    done = 0
    if budget is not None and warmup > 0:
        first = {id(c): (torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for c in live}
        for c in live:
            start, end = first[id(c)]
            start.record()
            c.call(0)
            end.record()
        torch.cuda.synchronize()
        slowest = max(max(s.elapsed_time(e) for s, e in first.values()), 1e-3)
        warmup = min(warmup, 1 + math.ceil(budget["warmup_ms"] / slowest))
        # A timed round of a graph-timed group replays graph_calls calls per series: the budget counts them all (a
        # llama-4-maverick decode weight gradient, 6.6 ms a call, ran 15 rounds of 10 calls, ten times its 300 ms).
        per_round = slowest * (graph_calls if graph_calls > 0 else 1)
        iters = min(iters, max(budget["min_iters"], math.ceil(budget["series_ms"] / per_round)))
        done = 1
    for w in range(done, warmup):
        for c in live:
            c.call(w)
    torch.cuda.synchronize()
    timing, graphs = "eager", {}
    if graph_calls > 0:
        try:
            for c in live:
                graphs[id(c)] = capture_graph(torch, c, graph_calls)
            timing = f"graph x{graph_calls}"
        except (RuntimeError, gg.GroupedGemmError) as error:  # capture refused: the group is timed eagerly
            graphs = {}
            torch.cuda.synchronize()
            text = str(error).strip().splitlines()[0] if str(error).strip() else error.__class__.__name__
            timing = f"eager (capture failed: {text[:160]})"
    events = {id(c): [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                      for _ in range(iters)] for c in live}
    order = random.Random(ORDER_SEED)
    for i in range(iters):
        for c in order.sample(live, len(live)):
            start, end = events[id(c)][i]
            start.record()
            if graphs:
                graphs[id(c)].replay()
            else:
                c.call(i)
            end.record()
    torch.cuda.synchronize()
    per = graph_calls if graphs else 1
    for c in live:
        c.times_ms = [s.elapsed_time(e) / per for s, e in events[id(c)]]
    capture_failed = graph_calls > 0 and not graphs
    del graphs
    if capture_failed:
        time_ours_alone_from_graph(torch, live, graph_calls, iters)
    return warmup, iters, timing


def time_ours_alone_from_graph(torch, live: list[Case], graph_calls: int, iters: int) -> None:
    """A decode group timed eagerly because a series could not be captured (torch's fp16 grouped mm copies to the
    host): ours is also replayed alone from a CUDA graph, `iters` times, into extra["graph_alone_median_ms"], the time the
    sweep's HBM floor fraction is taken from (an eager call's enqueue time is not memory traffic). The ratio to torch
    stays on the same loop's eager times. A capture of ours that fails leaves the field out."""
    for c in live:
        if c.kind != OURS_KIND:
            continue
        try:
            graph = capture_graph(torch, c, graph_calls)
        except (RuntimeError, gg.GroupedGemmError):
            torch.cuda.synchronize()
            continue
        pairs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(iters)]
        for start, end in pairs:
            start.record()
            graph.replay()
            end.record()
        torch.cuda.synchronize()
        c.extra["graph_alone_median_ms"] = round(statistics.median(s.elapsed_time(e) / graph_calls for s, e in pairs), 6)
        del graph


def scatter_to_padded(torch, rows, counts_dev, starts_dev, experts: int, capacity: int):
    """rows[M, C] grouped by expert -> zero-padded [E, capacity, C]."""
    m, cols = rows.shape
    expert_of_row = torch.repeat_interleave(torch.arange(experts, device=rows.device), counts_dev, output_size=m)
    slot = expert_of_row * capacity + (torch.arange(m, device=rows.device) - starts_dev[expert_of_row])
    padded = torch.zeros(experts * capacity, cols, dtype=rows.dtype, device=rows.device)
    padded[slot] = rows
    return padded.view(experts, capacity, cols)


def padded_bytes(problem: dict, form: str, sets: int, element: int) -> int:
    """Device bytes the padded bmm needs: its padded inputs (per set) and its output."""
    e, cap, k, n = problem["experts"], problem["max_count"], problem["k"], problem["n"]
    inputs = e * cap * (k + n) if form == "weight-grad" else e * cap * k
    output = e * k * n if form == "weight-grad" else e * cap * n
    return (sets * inputs + output) * element


def build_cases(torch, problem: dict, rotation: dict, dtype, form: str, with_padded: bool,
                ours=None, variants=(), libraries=()) -> tuple[list[Case], int]:
    """Allocates fresh random operands and returns the series of one (problem, dtype, form); `ours` is a
    groupedgemm_ctypes.GroupedGemm (or the reason it could not be loaded, a string), None when not asked for.
    `variants` (bench/tune_sm90.py) adds one series of ours per (name, environment) on the same buffers, and
    `libraries` one series per (name, GroupedGemm of another build), Auto, so that two builds meet in one loop."""
    dev = torch.device("cuda")
    m, k, n, e = problem["m"], problem["k"], problem["n"], problem["experts"]
    element = torch.tensor([], dtype=dtype).element_size()
    second = m * n if form == "weight-grad" else e * k * n
    sets = pf.buffer_sets(rotation, (m * k + second) * element)

    def randn(*shape):
        return torch.randn(*shape, dtype=dtype, device=dev)

    counts_dev = torch.tensor(problem["counts"], dtype=torch.int64, device=dev)
    offs = torch.cumsum(counts_dev, 0).to(torch.int32)
    starts_dev = offs.to(torch.int64) - counts_dev
    xs = [randn(m, k) for _ in range(sets)]
    if form == "forward":
        bs = [randn(e, k, n) for _ in range(sets)]
        dense_b = randn(k, n)
        grouped = lambda i: torch._grouped_mm(xs[i % sets], bs[i % sets], offs=offs)  # noqa: E731
        dense = lambda i: torch.matmul(xs[i % sets], dense_b)  # noqa: E731
    elif form == "forward-transb":
        bs = [randn(e, n, k) for _ in range(sets)]
        dense_b = randn(n, k)
        grouped = lambda i: torch._grouped_mm(xs[i % sets], bs[i % sets].transpose(-2, -1), offs=offs)  # noqa: E731
        dense = lambda i: torch.matmul(xs[i % sets], dense_b.t())  # noqa: E731
    else:
        bs = [randn(m, n) for _ in range(sets)]  # dy
        grouped = lambda i: torch._grouped_mm(xs[i % sets].t(), bs[i % sets], offs=offs)  # noqa: E731
        dense = lambda i: torch.matmul(xs[i % sets].t(), bs[i % sets])  # noqa: E731

    cases = [Case("torch._grouped_mm", TORCH_KIND, grouped),
             Case("torch.matmul (dense, equal FLOPs)", "dense", dense)]
    probe(torch, cases[0])
    if form == "weight-grad" and cases[0].status != "ok":
        # Some builds want the 2-D left operand contiguous; time that form instead and say so.
        first_note = cases[0].note
        xts = [x.t().contiguous() for x in xs]
        cases[0] = Case("torch._grouped_mm", TORCH_KIND,
                        lambda i: torch._grouped_mm(xts[i % sets], bs[i % sets], offs=offs),
                        note=f"x.t() view refused ({first_note}); timed with x.t().contiguous() prepared outside the loop")
        probe(torch, cases[0])
    probe(torch, cases[1])

    if ours is not None:  # before the padded case, so that its memory estimate sees our output buffer
        cases.append(build_ours_case(torch, ours, problem, form, dtype, sets, xs, bs, counts_dev))
        cases += [build_ours_case(torch, ours, problem, form, dtype, sets, xs, bs, counts_dev, v) for v in variants]
        cases += [build_ours_case(torch, other, problem, form, dtype, sets, xs, bs, counts_dev, (name, {}), "auto")
                  for name, other in libraries]
    if with_padded:
        cases.append(build_padded_case(torch, problem, form, sets, element, xs, bs, counts_dev, starts_dev))
    return cases, sets


def build_ours_case(torch, ours, problem, form, dtype, sets, xs, bs, counts_dev, variant=None,
                    variant_backend="cutlass-sm90") -> Case:
    """Our gg_gmm (Auto, int64 counts on the device) on the torch case's input buffers, into one preallocated
    output; the arguments of each buffer set are built once, outside the loop, as GmmInto does in C#.
    `variant` = (name, environment): `variant_backend` (cutlass-sm90 unless said) instead of Auto, with those tuning
    variables set around each call (GG_SM90_TILE, GG_SM90_GRID; bench/tune_sm90.py)."""
    name, kind, env = (OURS_NAME, OURS_KIND, {}) if variant is None else (variant[0], VARIANT_KIND, variant[1])
    backend = "auto" if variant is None else variant_backend
    extra = {"backend": backend, "counts": "device"}
    if isinstance(ours, str):
        return Case(name, kind, status="error", note=ours, extra=extra)
    m, k, n, e = problem["m"], problem["k"], problem["n"], problem["experts"]
    trans_a, trans_b = form == "weight-grad", form == "forward-transb"
    try:
        out = torch.empty((e, k, n) if trans_a else (m, n), dtype=dtype, device=xs[0].device)
        args = [ours.args(xs[s], bs[s], out, counts_dev, trans_a, trans_b, backend) for s in range(sets)]
        extra["resolved_backend"] = ours.select_backend_args(args[0])
    except (RuntimeError, ValueError) as error:  # GroupedGemmError is a RuntimeError; torch's OOM is one too
        status, note = failure_status(torch, error)
        torch.cuda.empty_cache()
        return Case(name, kind, status=status, note=note, extra=extra)

    def bound_to(arguments):
        """A call over these prepared arguments (one per input set)."""
        if not env:
            return lambda i: ours.gmm_args(arguments[i % sets])

        def with_env(i):  # a tuning variant: its variables hold for its own calls only
            with gg.knobs_set(env):
                ours.gmm_args(arguments[i % sets])
        return with_env

    def call(i):
        bound(i)

    bound = bound_to(args)

    def rebind():
        """The same call with arguments naming the current stream (a graph capture's), built on it."""
        again = [ours.args(xs[s], bs[s], out, counts_dev, trans_a, trans_b, backend) for s in range(sets)]
        fn = bound_to(again)
        fn.keep_alive = again
        return fn

    # The arguments hold raw device pointers: every tensor they point into must outlive the series. counts_dev is in
    # no other closure, and once freed the allocator handed its block to the next small tensor, whose values ours
    # then read as counts (docs/perf-notes.md v15).
    call.keep_alive = (out, args, counts_dev, xs, bs)
    call.output = out
    chose = f"Auto chose {extra['resolved_backend']}" if variant is None else f"{backend} with {env}"
    case = Case(name, kind, call, extra=extra,
                note=f"{chose}; gg_gmm through ctypes in the PyTorch process, timed in the same round-robin as "
                     "torch._grouped_mm")
    case.rebind = rebind
    probe(torch, case)
    return case


def relative_error(torch, out, ref) -> float:
    """||out - ref|| / ||ref|| in float64, a block of rows at a time (deepseek-like's output is 2^30 elements)."""
    a, b = out.reshape(-1, out.shape[-1]), ref.reshape(-1, ref.shape[-1])
    rows = max(1, (1 << 24) // max(1, a.shape[1]))
    num = den = 0.0
    for start in range(0, a.shape[0], rows):
        r = b[start:start + rows].double()
        num += float((a[start:start + rows].double() - r).square().sum())
        den += float(r.square().sum())
    if den == 0.0:
        return 0.0 if num == 0.0 else float("inf")
    return (num / den) ** 0.5


def check_ours(torch, cases: list[Case]) -> None:
    """After timing: every series of ours, called once more on input set 0, against torch._grouped_mm on the same
    set, ||ours - torch|| / ||torch||. Both accumulate in fp32 and round once, so they agree to about an ulp; a call
    that reads the wrong counts or buffers is off by order 1. A series over OURS_CHECK_BOUND keeps no timing (status
    error), so that no wrong answer is ever reported as a speed."""
    reference = next((c for c in cases if c.kind == TORCH_KIND and c.status == "ok"), None)
    ours = [c for c in cases if c.kind in (OURS_KIND, VARIANT_KIND) and c.status == "ok" and c.call is not None]
    if reference is None or not ours:
        return
    try:
        ref = reference.call(0)
        if not bool(torch.isfinite(ref).all()):
            for c in ours:
                c.extra["check"] = "skipped: torch._grouped_mm's output holds non-finite values"
            return
        for c in ours:
            try:
                c.call(0)
            except gg.GroupedGemmError as error:
                c.status, c.note = failure_status(torch, error)
                c.note, c.times_ms = f"failed in the check after timing: {c.note}", []
                continue
            error = relative_error(torch, c.call.output, ref)
            c.extra["checked_rel_error"] = error
            if not error <= OURS_CHECK_BOUND:
                c.status = "error"
                c.note = (f"wrong result: ||ours - torch._grouped_mm|| / ||torch._grouped_mm|| = {error:.3g} on input "
                          f"set 0 after timing (bound {OURS_CHECK_BOUND}); timings dropped. {c.note}")
                c.times_ms = []
    except torch.OutOfMemoryError:
        for c in ours:
            c.extra.setdefault("check", "skipped: out of memory")
    finally:
        ref = None
        torch.cuda.empty_cache()


def build_padded_case(torch, problem, form, sets, element, xs, bs, counts_dev, starts_dev) -> Case:
    """The padded bmm series, or its reason for not running (estimated or real out of memory)."""
    name, kind = "padded bmm (useful FLOPs)", "padded-bmm"
    e, cap = problem["experts"], problem["max_count"]
    need = padded_bytes(problem, form, sets, element)
    free, _ = torch.cuda.mem_get_info()
    if need > 0.9 * free:
        return Case(name, kind, status="out of memory",
                    note=f"needs {need / 2**30:.1f} GiB, {free / 2**30:.1f} GiB free (max count {cap})")
    try:
        xpads = [scatter_to_padded(torch, x, counts_dev, starts_dev, e, cap) for x in xs]
        if form == "forward":
            call = lambda i: torch.bmm(xpads[i % sets], bs[i % sets])  # noqa: E731
        elif form == "forward-transb":
            call = lambda i: torch.bmm(xpads[i % sets], bs[i % sets].transpose(1, 2))  # noqa: E731
        else:
            dypads = [scatter_to_padded(torch, dy, counts_dev, starts_dev, e, cap) for dy in bs]
            call = lambda i: torch.bmm(xpads[i % sets].transpose(1, 2), dypads[i % sets])  # noqa: E731
    except torch.OutOfMemoryError as error:
        torch.cuda.empty_cache()
        return Case(name, kind, status="out of memory", note=str(error).splitlines()[0][:300])
    case = Case(name, kind, call, note=f"padded to {cap} rows per expert; padding copy not timed")
    probe(torch, case)
    return case


def run(args: argparse.Namespace, data: dict, plan=None, env_extra=None, graph_calls_for=None) -> dict:
    """Times every (problem, dtype, form) of the problem file, or only those of `plan` (a list of (problem id, dtype,
    form), bench/sweep/sweep_part.py). `env_extra(torch)` may add strings to the environment (the sweep's copy
    bandwidth), measured after CUDA is set up and before any group. `graph_calls_for(problem)` gives a group's
    graph_calls (time_round_robin; the sweep's decode groups), 0 or None: eager."""
    import torch  # imported here so --problems-only works without torch

    if not torch.cuda.is_available():
        raise SystemExit("torch_baseline: no CUDA device visible to torch")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch_dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16}
    env = environment(torch)
    log(f"{env['device']}, driver {env.get('driver')}, torch {env['torch']} (CUDA {env['cuda_runtime']})")
    torch.manual_seed(args.seed)
    ours = load_ours(args, env)
    if env_extra is not None:
        env.update({key: str(value) for key, value in env_extra(torch).items()})
    if plan is None:
        plan = [(q["id"], d, f) for q in data["problems"] for d in split(args.dtype) for f in split(args.forms)]
    by_id = {q["id"]: q for q in data["problems"]}
    groups = []
    budget = getattr(args, "round_budget", None)
    began = time.time()
    for problem_id, dtype_name, form in plan:
        problem = by_id[problem_id]
        # Host seconds per step of the group (operands, timing loop, check), in torch.json's "seconds": where a part's
        # time goes, which the device time of a whole sweep depends on.
        step_began = time.time()
        cases, sets = build_cases(torch, problem, data["rotation"], torch_dtypes[dtype_name], form,
                                  not args.no_padded, ours)
        torch.cuda.synchronize()
        seconds = {"build": time.time() - step_began}
        step_began = time.time()
        graph_calls = (graph_calls_for(problem) or 0) if graph_calls_for is not None else 0
        rounds = (args.warmup, args.iters, "eager")
        try:
            try:
                rounds = time_round_robin(torch, cases, args.warmup, args.iters, budget, graph_calls)
            except gg.GroupedGemmError as error:
                # Ours failed inside the loop (the probe passed): drop it and time the others again.
                torch.cuda.synchronize()
                for c in cases:
                    if c.kind == OURS_KIND and c.status == "ok":
                        c.status, c.note = failure_status(torch, error)
                        c.note = f"failed while timed: {c.note}"
                        c.call = None
                rounds = time_round_robin(torch, cases, args.warmup, args.iters, budget, graph_calls)
        except torch.OutOfMemoryError as error:
            for c in cases:
                if not c.times_ms:
                    c.status, c.note = failure_status(torch, error)
        seconds["time"] = time.time() - step_began
        step_began = time.time()
        check_ours(torch, cases)
        seconds["check"] = time.time() - step_began
        flop = pf.flops(problem)
        group = {"problem": problem["id"], "dtype": dtype_name, "form": form, "flops": flop,
                 "buffer_sets": sets, "series": [c.result(flop) for c in cases],
                 "seconds": {key: round(value, 3) for key, value in seconds.items()}}
        if budget is not None:
            group["warmup"], group["iters"] = rounds[0], rounds[1]
        if graph_calls_for is not None:
            group["timing"] = rounds[2]
        groups.append(group)
        summary = ", ".join(f"{c.name.split(' ')[0]} {c.result(flop).get('tflops', c.status)}" for c in cases)
        log(f"{problem['id']} {dtype_name} {form}: {summary} [{time.time() - began:.0f} s; build "
            f"{seconds['build']:.2f}, time {seconds['time']:.2f}, check {seconds['check']:.2f}]")
        del cases
        torch.cuda.empty_cache()
    return {"schema": RESULTS_SCHEMA, "tool": "torch_baseline", "environment": env,
            "settings": {"warmup": args.warmup, "iters": args.iters, "seed": data["seed"],
                         "timing": "CUDA events around each call; series round-robin, a fresh random order every iteration"
                                   + ("; ours (gg_gmm via ctypes) in the same loop"
                                      if isinstance(ours, gg.GroupedGemm) else "")
                                   + (f"; rounds capped per group: warm-up min(warmup, 1 + ceil({budget['warmup_ms']} ms / t)), "
                                      f"timed min(iters, max({budget['min_iters']}, ceil({budget['series_ms']} ms / (t x N)))), t = the "
                                      "slowest call of the first warm-up round, N the calls a round replays per series (1 "
                                      "eager, the graph's N when timed from graphs); each group's rounds in its 'warmup' and "
                                      "'iters'"
                                      if budget is not None else "")
                                   + ("; groups with a 'timing' of 'graph xN': each series' N calls captured in one CUDA "
                                      "graph, every round replaying each graph between its own events, time / N"
                                      if graph_calls_for is not None else "")},
            "groups": groups}


def load_ours(args: argparse.Namespace, env: dict):
    """The GroupedGemm handle for the same-loop series, None when not asked for, or a string saying why it could
    not be had (every row then carries it as the series' note; the run goes on)."""
    if args.no_ours or not args.ours_lib:
        env["groupedgemm_inprocess"] = "not run"
        return None
    try:
        ours = gg.GroupedGemm(args.ours_lib)
        info = ours.build_info()
        # The library is its bytes: the sweep's bars need every part on one library, and its report groups the parts by
        # this label, so the label names the file's sha256, not its name (a release copied under another name is the
        # same library; two builds of one version are not).
        with open(args.ours_lib, "rb") as f:
            env["groupedgemm_sha256"] = hashlib.sha256(f.read()).hexdigest()
        env["groupedgemm_inprocess"] = (f"libgroupedgemm {ours.version()} sha256:{env['groupedgemm_sha256'][:16]} "
                                        f"(backends {'/'.join(info['backends'])}; sm {'/'.join(info['architectures'])})")
        log(f"ours in the same loop: {args.ours_lib}, {env['groupedgemm_inprocess']}")
        return ours
    except (OSError, RuntimeError, AttributeError) as error:  # no file, a load error, a missing symbol, no handle
        reason = f"could not load {args.ours_lib}: {error.__class__.__name__}: {str(error).strip()[:300]}"
        env["groupedgemm_inprocess"] = reason
        log(f"ours in the same loop: {reason}")
        return reason


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        data = obtain_problem_file(args)
    except (ValueError, OSError, KeyError) as error:
        print(f"torch_baseline: {error}", file=sys.stderr)
        return 2
    if args.problems_only:
        return 0
    results = run(args, data)
    pf.save_json(results, args.out)
    log(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
