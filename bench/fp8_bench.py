"""FP8 grouped GEMM benchmark (issue 25): ours (gg_gmm_scaled, row-wise scales) against torch._scaled_grouped_mm
(row-wise, bf16 out, no fast accumulation), dense fp8 of equal FLOPs (torch._scaled_mm, row-wise) and our own bf16
grouped GEMM (gg_gmm), timed round-robin in the same loop, for the configurations of bench/problems.py.

Accuracy: on sampled rows, each product against the float64 product of its own inputs (the dequantized FP8 codes for
the FP8 paths, the bf16 values for bf16), and the FP8 paths also against the float64 product of the bf16 inputs they
were quantized from (the quantization error). Needs torch with CUDA (2.11 has _scaled_grouped_mm) and
libgroupedgemm.so of ABI 3 or newer.

    python bench/fp8_bench.py --lib .gpu/native/libgroupedgemm.so [--configs all] [--kernel auto] [--json out.json]

Timing: torch_baseline.time_round_robin, the bf16 benchmark's and the sweep's loop (seeded random order each round);
sweep problems of at most 256 tokens from CUDA graphs of --graph-calls calls per path (each row's "timing" says how).

Sweep subset: --problems takes the problems of real-model sweep parts instead (problems.json of `GroupedGemm.Bench
sweep plan`, their counts as drawn there), filtered by --min-tokens / --max-tokens / --routings / --max-problems, and
ends with a summary against the issue's bars (bench/fp8_sweep.sh runs a fixed subset of parts):

    python bench/fp8_bench.py --lib LIB --problems DIR1/problems.json,DIR2/problems.json --max-tokens 16384 \
        --routings uniform,zipf --json fp8-sweep.json

Variants (tuning and experiment builds): --variant NAME:GG_SM90_<KNOB>=<value>[,...], repeatable, adds ours once more per
variant to the same loop, with those knobs set around each of its calls (the library reads them per call, so a CUDA
graph keeps the kernels they chose at its capture), as the path "ours-fp8@NAME" with its own output and accuracy check;
each row then also prints that variant against ours and against torch. For example, decode forwards unsplit against
Auto, which splits the FP8 ones from k = 8192:

    python bench/fp8_bench.py --lib LIB --problems ... --max-tokens 256 --variant unsplit:GG_SM90_FP8_SPLIT=0

Block scales: --scales block gives ours DeepGEMM's 1x128 and 128x128 scales of the same bf16 inputs (torch's grouped
and dense paths keep row-wise ones: torch has no grouped GEMM with block scales), checked against the float64 product
of its own dequantized inputs; --also-kernel adds ours with another kernel to the same loop, for example the
cutlass-sm90 block path (K a multiple of 128, where Auto takes it) against
the portable kernel:

    python bench/fp8_bench.py --lib LIB --scales block --kernel cutlass-sm90 --also-kernel portable --json fp8-block.json

A second library: --lib-b PATH adds its call (with --kernel, no knobs) to the same loop as the path ours-fp8@lib-b, so
that a candidate and the release before it are timed side by side, as bench/tune_sm90.py --lib-b does for bf16:

    python bench/fp8_bench.py --lib CANDIDATE --lib-b RELEASE --problems ... --max-tokens 256 --scales block
"""

from __future__ import annotations

import argparse
import ctypes as C
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import groupedgemm_ctypes as ggc  # noqa: E402
import problems  # noqa: E402
import torch_baseline as tb  # noqa: E402  (the same round-robin timer as the bf16 benchmark and the sweep)

# gg_dtype / gg_scale_mode / gg_scaled_kernel values of groupedgemm.h (ABI 3)
DTYPE_BFLOAT16, DTYPE_FLOAT8_E4M3 = 2, 5
SCALE_ROWWISE, SCALE_BLOCKWISE = 0, 1
SCALE_BLOCK = 128  # DeepGEMM's block: 1 x 128 for x, 128 x 128 for w (native/src/core/scaled_validate.h kScaleBlock)
KERNELS = {"auto": 0, "portable": 1, "cutlass-sm90": 2, "decode": 3}
LIB_B = "lib-b"  # the variant name of --lib-b's calls (path "ours-fp8@lib-b")
E4M3_MAX = 448.0
QUANTIZE_CHUNK_ROWS = 1 << 15

# The bars: ours >= 1.0x torch._scaled_grouped_mm on every row where torch runs; on rows with
# M*N*K >= 2^36 (large enough to be compute-bound), ours >= 0.8x dense FP8 and >= 1.5x our own bf16.
LARGE_VOLUME = 2 ** 36
BARS = {"torch-scaled-grouped": 1.0, "dense-fp8": 0.8, "ours-bf16": 1.5}
# A problem runs only when its estimated bytes are at most this share of the free device memory (the rest is left
# for cuBLAS/CUTLASS workspaces, torch's own scratch and fragmentation), the rule of torch_baseline.py's padded bmm.
FREE_MEMORY_SHARE = 0.9


class ScaledGmmArgs(C.Structure):
    """gg_scaled_gmm_args, field for field (enums are int32)."""

    _fields_ = [("a", C.c_void_p), ("b", C.c_void_p), ("c", C.c_void_p), ("a_scale", C.c_void_p),
                ("b_scale", C.c_void_p), ("batch_sizes", C.c_void_p), ("m", C.c_int64), ("k", C.c_int64),
                ("n", C.c_int64), ("num_experts", C.c_int64), ("a_scale_count", C.c_int64),
                ("b_scale_count", C.c_int64), ("a_dtype", C.c_int32), ("b_dtype", C.c_int32), ("c_dtype", C.c_int32),
                ("scale_mode", C.c_int32), ("counts_location", C.c_int32), ("trans_b", C.c_int32),
                ("check_counts", C.c_int32), ("check_scales", C.c_int32), ("kernel", C.c_int32),
                ("reserved", C.c_int32), ("stream", C.c_void_p)]


def load_scaled(path: str):
    """The library at `path` with gg_gmm_scaled bound (ABI 3 or newer), as a groupedgemm_ctypes.GroupedGemm."""
    lib = ggc.load(path)
    if lib.gg_abi_version() < 3:
        raise SystemExit(f"{path} has ABI {lib.gg_abi_version()}; gg_gmm_scaled needs 3")
    lib.gg_gmm_scaled.argtypes = [C.c_void_p, C.POINTER(ScaledGmmArgs)]
    lib.gg_gmm_scaled.restype = C.c_int32
    return ggc.GroupedGemm(lib)


def quantize_rows(torch, t, chunk_rows: int = QUANTIZE_CHUNK_ROWS):
    """Row-wise e4m3 quantization over the last dimension: (codes, float32 scales), t ~ codes * scales[..., None].
    In chunks of rows, so that the fp32 temporaries of the largest configurations stay small."""
    flat = t.reshape(-1, t.shape[-1])
    codes = torch.empty(flat.shape, dtype=torch.float8_e4m3fn, device=t.device)
    scales = torch.empty(flat.shape[0], dtype=torch.float32, device=t.device)
    for r0 in range(0, flat.shape[0], chunk_rows):
        part = flat[r0:r0 + chunk_rows].float()
        amax = part.abs().amax(dim=-1)
        scale = torch.where(amax == 0, torch.ones_like(amax), amax / E4M3_MAX)
        codes[r0:r0 + chunk_rows] = (part / scale.unsqueeze(-1)).clamp(-E4M3_MAX, E4M3_MAX).to(torch.float8_e4m3fn)
        scales[r0:r0 + chunk_rows] = scale
    return codes.reshape(t.shape), scales.reshape(t.shape[:-1])


def quantize_blocks(torch, t, rows_block: int, cols_block: int, chunk_rows: int = QUANTIZE_CHUNK_ROWS):
    """E4M3 codes of t [..., R, C] with one float32 scale per rows_block x cols_block block, a partial block at the end
    of R or C scaled by its own amax: (codes [..., R, C], scales [..., ceil(R / rows_block), ceil(C / cols_block)]),
    t ~ codes * the scale of each element's block. One leading index and about chunk_rows rows (whole blocks) at a time,
    so that the float32 temporaries stay small (DeepGEMM's layout; x takes rows_block 1, w 128)."""
    *lead, rows, cols = t.shape
    row_blocks, col_blocks = -(-rows // rows_block), -(-cols // cols_block)
    flat = t.reshape(-1, rows, cols)
    codes = torch.empty(flat.shape, dtype=torch.float8_e4m3fn, device=t.device)
    scales = torch.empty(flat.shape[0], row_blocks, col_blocks, dtype=torch.float32, device=t.device)
    step = max(1, chunk_rows // rows_block) * rows_block
    for i in range(flat.shape[0]):
        for r0 in range(0, rows, step):
            part = flat[i, r0:r0 + step].float()
            blocks_here = -(-part.shape[0] // rows_block)
            padded = torch.zeros(blocks_here * rows_block, col_blocks * cols_block, dtype=torch.float32,
                                 device=t.device)
            padded[:part.shape[0], :cols] = part
            blocks = padded.reshape(blocks_here, rows_block, col_blocks, cols_block)
            amax = blocks.abs().amax(dim=(1, 3))
            scale = torch.where(amax == 0, torch.ones_like(amax), amax / E4M3_MAX)
            q = (blocks / scale[:, None, :, None]).clamp(-E4M3_MAX, E4M3_MAX).to(torch.float8_e4m3fn)
            codes[i, r0:r0 + part.shape[0]] = q.reshape(padded.shape)[:part.shape[0], :cols]
            scales[i, r0 // rows_block:r0 // rows_block + blocks_here] = scale
    return codes.reshape(t.shape), scales.reshape(*lead, row_blocks, col_blocks)


def dequantize_blocks(codes, scales, rows_block: int, cols_block: int):
    """float64 values of 2-D codes [R, C] under their block scales [ceil(R / rows_block), ceil(C / cols_block)]."""
    rows, cols = codes.shape
    expanded = scales.double().repeat_interleave(rows_block, 0)[:rows].repeat_interleave(cols_block, 1)[:, :cols]
    return codes.double() * expanded


def rel_error(out, ref) -> float:
    return float((out.double() - ref).norm() / ref.norm().clamp_min(1e-300))


def sampled_reference(torch, rows, counts, x64, w64_of):
    """float64 rows of the grouped product: x64[r] . w64_of(e(r))^T for the sampled rows (w64_of(e) is [N, K])."""
    offsets = [0]
    for c in counts:
        offsets.append(offsets[-1] + c)
    expert = torch.bucketize(rows.cpu(), torch.tensor(offsets[1:]), right=True)
    out = None
    for e in expert.unique().tolist():
        pick = (expert == e).nonzero().flatten()
        part = x64[pick] @ w64_of(e).t()
        if out is None:
            out = torch.empty(rows.numel(), part.shape[1], dtype=torch.float64, device=part.device)
        out[pick.to(part.device)] = part
    return out


def empty_row(head: dict, m: int, k: int, n: int, experts: int, args, skipped: dict) -> dict:
    """A result row without figures yet: `head` names it (config, or the sweep problem's id and axes)."""
    return {**head, "m": m, "k": k, "n": n, "experts": experts, "kernel": args.kernel, "scales": args.scales,
            "skipped": skipped,
            "tflops": {}, "ms": {}, "rel_error": {}, "rel_error_vs_bf16_inputs": {}}


def run_config(torch, gg, config, args) -> dict:
    """One configuration of bench/problems.py, with counts drawn for --routing."""
    counts = problems.draw_counts(config, args.routing, args.seed)
    return run_shape(torch, gg, {"config": config.name}, counts, config.rows, config.k, config.n, config.experts, args)


def with_knobs(knobs: dict, call):
    """`call` with the environment variables `knobs` set around it (restored after): a variant of ours."""
    def run():
        with ggc.knobs_set(knobs):
            return call()
    return run


def run_shape(torch, gg, head: dict, counts: list[int], m: int, k: int, n: int, experts: int, args) -> dict:
    """Times the four paths, and ours once more per --variant and --also-kernel, round-robin on one grouped GEMM and
    checks them on sampled rows. With --scales block, ours (and its variants) take DeepGEMM's block scales of the same
    bf16 inputs, and torch's and the dense path keep row-wise ones (torch has no grouped GEMM with block scales)."""
    dev = torch.device("cuda")
    gen = torch.Generator(device=dev).manual_seed(args.seed)
    x = torch.randn(m, k, device=dev, generator=gen).to(torch.bfloat16)
    w = (torch.randn(experts, n, k, device=dev, generator=gen) / k ** 0.5).to(torch.bfloat16)  # [E, N, K] (trans_b)
    xq, xs = quantize_rows(torch, x)           # [M, K], [M]
    wq, ws = quantize_rows(torch, w)           # [E, N, K], [E, N]: one scale per (expert, output column)
    block = args.scales == "block"
    if block:  # ours' operands: x per row and 128 of K, w per 128 x 128 block of its [N, K]
        oxq, oxs = quantize_blocks(torch, x, 1, SCALE_BLOCK)
        owq, ows = quantize_blocks(torch, w, SCALE_BLOCK, SCALE_BLOCK)
    else:
        oxq, oxs, owq, ows = xq, xs, wq, ws
    counts_dev = torch.tensor(counts, dtype=torch.int64, device=dev)
    offs = torch.cumsum(counts_dev, 0).to(torch.int32)
    out_ours = torch.empty(m, n, dtype=torch.bfloat16, device=dev)
    out_bf16 = torch.empty(m, n, dtype=torch.bfloat16, device=dev)
    dense_a, dense_b = xq, wq[0].t()           # [M, K] . [K, N] column-major: equal FLOPs, one weight
    dense_sa, dense_sb = xs.unsqueeze(1), ws[0].unsqueeze(0)

    # Our calls, their arguments naming the stream current when built: torch's at first, a graph capture's when
    # time_paths rebuilds them (a call's closure keeps its arguments alive, and a graph keeps its call).
    def ours_on_current_stream(out=out_ours, kernel=args.kernel, lib=gg):
        a = ScaledGmmArgs(oxq.data_ptr(), owq.data_ptr(), out.data_ptr(), oxs.data_ptr(), ows.data_ptr(),
                          counts_dev.data_ptr(), m, k, n, experts, oxs.numel(), ows.numel(), DTYPE_FLOAT8_E4M3,
                          DTYPE_FLOAT8_E4M3, DTYPE_BFLOAT16, SCALE_BLOCKWISE if block else SCALE_ROWWISE,
                          ggc.COUNTS_DEVICE, 1, 0, 0, KERNELS[kernel], 0, torch.cuda.current_stream().cuda_stream)
        return lambda: lib._check(lib.lib.gg_gmm_scaled(lib.handle, C.byref(a)), "gg_gmm_scaled")

    def bf16_on_current_stream():
        a = gg.args(x, w, out_bf16, counts_dev, trans_b=True)
        return lambda: gg.gmm_args(a)

    ours, ours_bf16 = ours_on_current_stream(), bf16_on_current_stream()

    def torch_fp8():
        return torch._scaled_grouped_mm(xq, wq.transpose(-2, -1), xs, ws, offs=offs, out_dtype=torch.bfloat16,
                                        use_fast_accum=False)

    def dense_fp8():
        return torch._scaled_mm(dense_a, dense_b, scale_a=dense_sa, scale_b=dense_sb, out_dtype=torch.bfloat16,
                                use_fast_accum=False)

    cases = {"ours-fp8": ours, "torch-scaled-grouped": torch_fp8, "dense-fp8": dense_fp8, "ours-bf16": ours_bf16}
    rebinds = {"ours-fp8": ours_on_current_stream, "ours-bf16": bf16_on_current_stream}
    variant_outputs = {}
    for name, knobs, kernel, other in args.variants:
        path = f"ours-fp8@{name}"
        out = variant_outputs[path] = torch.empty(m, n, dtype=torch.bfloat16, device=dev)
        rebinds[path] = (lambda knobs=knobs, out=out, kernel=kernel, lib=other or gg:
                         with_knobs(knobs, ours_on_current_stream(out, kernel, lib)))
        cases[path] = rebinds[path]()
    outputs, skipped = {}, {}
    for name, fn in list(cases.items()):
        try:
            outputs[name] = fn()
        except Exception as e:  # a path this torch or this build lacks: reported, not fatal
            skipped[name] = str(e).splitlines()[0]
            del cases[name]
    torch.cuda.synchronize()
    outputs["ours-fp8"] = out_ours if "ours-fp8" in cases else None
    outputs["ours-bf16"] = out_bf16 if "ours-bf16" in cases else None
    for path, out in variant_outputs.items():
        outputs[path] = out if path in cases else None

    graph_calls = args.graph_calls if tb.is_decode(head) else 0
    timing, medians, alone = time_paths(torch, cases, rebinds, args.warmup, args.iters, graph_calls)
    flop = 2.0 * m * k * n
    result = empty_row(head, m, k, n, experts, args, skipped)
    result["timing"] = timing
    if alone is not None:
        result["graph_alone_ms"] = alone
    for name, median in medians.items():
        result["ms"][name] = median
        result["tflops"][name] = flop / (median * 1e-3) / 1e12

    # Accuracy on sampled rows against float64.
    rows = torch.randperm(m, device=dev, generator=gen)[: args.sample_rows].sort().values
    xd = xq[rows].double() * xs[rows].double().unsqueeze(1)
    xb = x[rows].double()
    ref_fp8 = sampled_reference(torch, rows, counts, xd, lambda e: wq[e].double() * ws[e].double().unsqueeze(1))
    ref_bf16 = sampled_reference(torch, rows, counts, xb, lambda e: w[e].double())
    # Ours against the float64 product of its own dequantized inputs (block-scaled ones with --scales block).
    ref_ours = ref_fp8 if not block else sampled_reference(
        torch, rows, counts, dequantize_blocks(oxq[rows], oxs[rows], 1, SCALE_BLOCK),
        lambda e: dequantize_blocks(owq[e], ows[e], SCALE_BLOCK, SCALE_BLOCK))
    for name in ("ours-fp8", "torch-scaled-grouped", *variant_outputs):
        if outputs.get(name) is not None:
            result["rel_error"][name] = rel_error(outputs[name][rows],
                                                  ref_fp8 if name == "torch-scaled-grouped" else ref_ours)
            result["rel_error_vs_bf16_inputs"][name] = rel_error(outputs[name][rows], ref_bf16)
    if outputs.get("ours-bf16") is not None:
        result["rel_error"]["ours-bf16"] = rel_error(outputs["ours-bf16"][rows], ref_bf16)
    if outputs.get("dense-fp8") is not None:
        ref_dense = xd @ (wq[0].double() * ws[0].double().unsqueeze(1)).t()
        result["rel_error"]["dense-fp8"] = rel_error(outputs["dense-fp8"][rows], ref_dense)
    return result


def time_paths(torch, calls: dict, rebinds: dict, warmup: int, iters: int, graph_calls: int):
    """Times the paths in one loop, as the bf16 benchmark and the sweep do (torch_baseline.time_round_robin): every path
    once per round, in a fresh seeded random order, each call between its own pair of events. With graph_calls > 0 (the
    sweep's decode problems) each path's graph_calls calls are captured in one CUDA graph and replayed, since one eager
    call of tens of microseconds also holds the host's enqueue time; a path that cannot be captured sends them all back
    to eager timing, and ours-fp8 is then also replayed alone from a graph. `calls`: path -> a call without arguments;
    `rebinds`: for paths whose arguments name a stream (ours), path -> a function giving the same call on the current
    stream, for the capture.
    Returns (timing, {path: median ms}, ours-fp8's graph-alone median ms or None)."""
    def indexed(fn):  # a Case calls with the round's index, which these paths do not use
        return lambda _i: fn()

    series = []
    for name, fn in calls.items():
        kind = tb.OURS_KIND if name == "ours-fp8" else tb.VARIANT_KIND if name.startswith("ours-fp8@") else name
        case = tb.Case(name, kind, indexed(fn))
        if name in rebinds:
            case.rebind = lambda rebind=rebinds[name]: indexed(rebind())
        series.append(case)
    _, _, timing = tb.time_round_robin(torch, series, warmup, iters, graph_calls=graph_calls)
    medians, alone = {}, None
    for case in series:
        times = sorted(case.times_ms)
        medians[case.name] = times[len(times) // 2]
        alone = case.extra.get("graph_alone_median_ms", alone)
    return timing, medians, alone


def estimated_bytes(m: int, k: int, n: int, experts: int, block: bool = False) -> int:
    """Peak device bytes of run_shape, from above: x and w in bf16 and as e4m3 codes with their float32 scales (with
    block scales, a second set of codes and scales); five [M, N] bf16 outputs (ours FP8 and bf16, the first torch and
    dense outputs kept for the check, one transient in the loop); and the larger of the set-up transients (w drawn in
    float32; quantize_rows' float32 chunk, its absolute value and its quotient) and the check's two float64 copies of
    one expert's [N, K] weights."""
    inputs = 3 * m * k + 3 * experts * n * k + 4 * (m + experts * n)
    if block:
        k_blocks, n_blocks = -(-k // SCALE_BLOCK), -(-n // SCALE_BLOCK)
        inputs += m * k + experts * n * k + 4 * (m * k_blocks + experts * n_blocks * k_blocks)
    outputs = 5 * 2 * m * n
    setup = max(4 * experts * n * k, 3 * 4 * min(max(m, experts * n), QUANTIZE_CHUNK_ROWS) * k)
    check = 2 * 8 * n * k
    return inputs + outputs + max(setup, check)


def run_problem(torch, gg, problem: dict, args) -> dict:
    """One sweep problem, with the counts its file holds. One that cannot fit the card is skipped with the reason in
    its row (skipped["problem"]), so that a run over many problems ends with every row accounted for."""
    head = {key: problem.get(key) for key in ("id", "model", "projection", "tokens", "routing")}
    shape = (problem["m"], problem["k"], problem["n"], problem["experts"])
    torch.cuda.empty_cache()  # the blocks torch still caches from the previous problem are free for this one
    free, _ = torch.cuda.mem_get_info()
    need = estimated_bytes(*shape, block=args.scales == "block")
    if need > FREE_MEMORY_SHARE * free:
        why = (f"out of memory: needs about {need / 2**30:.1f} GiB by estimated_bytes, more than "
               f"{FREE_MEMORY_SHARE:.0%} of the {free / 2**30:.1f} GiB free")
    else:
        try:
            return run_shape(torch, gg, head, problem["counts"], *shape, args)
        except torch.OutOfMemoryError as error:  # the estimate fell short: this row is lost, not the run
            why = f"out of memory: {str(error).splitlines()[0][:300]}"
    return empty_row(head, *shape, args, {"problem": why})


def ratio_stats(pairs: list[tuple[str, float | None]], bar: float) -> dict:
    """pairs: (problem id, ours / the other path, None when ours has no figure) over the rows where the other path
    ran. The bar holds when every such row has ours at bar or above (a row without ours fails it); None: no rows."""
    ratios = [(pid, x) for pid, x in pairs if x is not None]
    above = sum(1 for _, x in ratios if x >= bar)
    stats = {"rows": len(pairs), "bar": bar, "at_or_above_bar": above, "without_ours": len(pairs) - len(ratios),
             "geomean": None, "lowest": None, "pass": above == len(pairs) if pairs else None}
    if ratios:
        stats["geomean"] = math.exp(sum(math.log(x) for _, x in ratios) / len(ratios))
        pid, x = min(ratios, key=lambda p: p[1])
        stats["lowest"] = {"id": pid, "ratio": x}
    return stats


def summarize(results: list[dict]) -> dict:
    """The sweep subset against the issue's bars (BARS): ours / torch._scaled_grouped_mm on every row where torch ran;
    ours / dense FP8 and ours / our bf16 on the rows with M*N*K >= LARGE_VOLUME. Ratios of TFLOP/s, as in the table."""
    def pairs(rows, other):
        return [(r.get("id"), r["tflops"]["ours-fp8"] / r["tflops"][other] if "ours-fp8" in r["tflops"] else None)
                for r in rows if other in r["tflops"]]

    large = [r for r in results if problems.flops(r) // 2 >= LARGE_VOLUME]
    timings: dict[str, int] = {}
    for r in results:
        if "timing" in r:
            kind = "graph" if r["timing"].startswith("graph") else "eager"
            timings[kind] = timings.get(kind, 0) + 1
    return {"rows": len(results), "skipped": sum(1 for r in results if "problem" in r["skipped"]),
            "timing": timings,
            "vs_torch": ratio_stats(pairs(results, "torch-scaled-grouped"), BARS["torch-scaled-grouped"]),
            "large_min_volume": LARGE_VOLUME, "large_rows": len(large),
            "large_vs_dense": ratio_stats(pairs(large, "dense-fp8"), BARS["dense-fp8"]),
            "large_vs_bf16": ratio_stats(pairs(large, "ours-bf16"), BARS["ours-bf16"])}


def summary_lines(summary: dict) -> list[str]:
    """The summary as printed at the end of a --problems run."""
    def line(name, st):
        if not st["rows"]:
            return f"{name}: no rows"
        text = f"{name} on {st['rows']} rows: {st['at_or_above_bar']} at >= {st['bar']:.1f}x"
        if st["lowest"] is not None:
            text += (f", geometric mean {st['geomean']:.2f}x, lowest {st['lowest']['ratio']:.2f}x "
                     f"({st['lowest']['id']})")
        if st["without_ours"]:
            text += f", {st['without_ours']} without ours"
        return text + ("; bar met" if st["pass"] else "; bar NOT met")

    timed = ", ".join(f"{n} {kind}-timed" for kind, n in sorted(summary.get("timing", {}).items()))
    return [f"summary: {summary['rows']} rows, {summary['skipped']} skipped" + (f" ({timed})" if timed else ""),
            "  " + line("ours / torch._scaled_grouped_mm", summary["vs_torch"]),
            f"  {summary['large_rows']} rows with M*N*K >= 2^{summary['large_min_volume'].bit_length() - 1}:",
            "    " + line("ours / dense fp8", summary["large_vs_dense"]),
            "    " + line("ours / our bf16", summary["large_vs_bf16"])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lib", default=".gpu/native/libgroupedgemm.so")
    parser.add_argument("--configs", help="comma-separated names of bench/problems.py, or all (the default; not with "
                                          "--problems)")
    parser.add_argument("--routing", default="uniform", choices=problems.ROUTINGS, help="the configurations' routing")
    parser.add_argument("--kernel", default="auto", choices=sorted(KERNELS))
    parser.add_argument("--scales", default="row-wise", choices=("row-wise", "block"),
                        help="ours' scales: row-wise (torch._scaled_grouped_mm's) or block (DeepGEMM's 1x128 and "
                             "128x128 of the same inputs; torch's and the dense path stay row-wise)")
    parser.add_argument("--also-kernel", action="append", default=[], choices=sorted(KERNELS),
                        help="ours once more in the same loop with this kernel, as the path ours-fp8@<kernel> "
                             "(repeatable)")
    parser.add_argument("--lib-b", help="a second build (the release before a candidate, say) timed with --kernel in the "
                                        f"same loop, as the path ours-fp8@{LIB_B}")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--sample-rows", type=int, default=256)
    parser.add_argument("--graph-calls", type=int, default=tb.GRAPH_CALLS,
                        help="sweep problems of at most %d tokens are timed from CUDA graphs of this many calls per "
                             "series (0: every problem call by call)" % tb.DECODE_TOKENS)
    parser.add_argument("--json", help="write the results here")
    sweep = parser.add_argument_group("sweep subset", "the problems of real-model sweep parts instead of --configs")
    sweep.add_argument("--problems", help="comma list of problems.json files (GroupedGemm.Bench sweep plan); their "
                                          "problems are timed with the counts the files hold")
    sweep.add_argument("--min-tokens", type=int, help="only problems of at least this many tokens")
    sweep.add_argument("--max-tokens", type=int, help="only problems of at most this many tokens")
    sweep.add_argument("--routings", help="comma list of routings to keep (default: all)")
    sweep.add_argument("--max-problems", type=int, help="keep every k-th problem, k = selected / N, so that N remain")
    parser.add_argument("--variant", action="append", default=[],
                        help="NAME:GG_SM90_<KNOB>=<value>[,...]: ours once more in the same loop with these knobs "
                             "(tuning and experiment builds; repeatable)")
    args = parser.parse_args()
    args.variants = []
    for text in args.variant:
        name, sep, knobs = text.partition(":")
        if not sep or not name or not knobs:
            parser.error(f"--variant {text!r} is not NAME:GG_SM90_<KNOB>=<value>[,...]")
        args.variants.append((name, knobs))
    filters = (args.min_tokens, args.max_tokens, args.routings, args.max_problems)
    if args.problems is None and any(f is not None for f in filters):
        parser.error("--min-tokens, --max-tokens, --routings and --max-problems filter --problems; give --problems")
    if args.problems is not None and args.configs is not None:
        parser.error("--configs and --problems exclude each other")
    sweep_mode, chosen = args.problems is not None, []
    routings = tb.split(args.routings) if args.routings else None
    if sweep_mode:  # before torch and the library load: a bad file or filter fails at once
        try:
            chosen = problems.select_sweep_problems(tb.split(args.problems), args.min_tokens, args.max_tokens,
                                                    routings, args.max_problems)["problems"]
        except (OSError, ValueError) as error:
            parser.error(str(error))
        except KeyError as error:
            parser.error(f"--problems: a problem lacks the field {error}")
        if not chosen:
            parser.error("--problems: no problem passes the filters")

    import torch

    # Each variant: (name, knobs, kernel, library): a library of its own only for --lib-b, None for --lib's.
    args.variants = ([(name, ggc.parse_sm90_knobs(knobs, args.lib, f"--variant {name}"), args.kernel, None)
                      for name, knobs in args.variants]
                     + [(kernel, {}, kernel, None) for kernel in args.also_kernel])
    gg = load_scaled(args.lib)
    if args.lib_b:
        other = load_scaled(args.lib_b)
        # Loaded by path, a second file is a second copy even with the same soname; the same file twice (or through a
        # link) is the same loaded object, and its path would time --lib again.
        if other.lib._handle == gg.lib._handle:
            parser.error("--lib-b names the library --lib loaded")
        args.variants.append((LIB_B, {}, args.kernel, other))
    results = []
    # What ran: the card, torch, the library and the forced FP8 knobs (experiment builds only), in the JSON as well.
    run_info = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "library": gg.version()}
    if sweep_mode:
        run_info["problems"] = tb.split(args.problems)
        run_info["selection"] = {"min_tokens": args.min_tokens, "max_tokens": args.max_tokens,
                                 "routings": routings, "max_problems": args.max_problems,
                                 "selected": len(chosen)}
        label, width = "problem", max(len(p["id"]) for p in chosen)
        jobs = [(p["id"], lambda p=p: run_problem(torch, gg, p, args)) for p in chosen]
    else:
        run_info["routing"] = args.routing
        label, width = "config", 16
        jobs = [(c.name, lambda c=c: run_config(torch, gg, c, args))
                for c in problems.select_configs(args.configs or "all", [])]
    run_info.update({"forced_fp8_tile": os.environ.get("GG_SM90_FP8_TILE"),
                     "forced_fp8_raster": os.environ.get("GG_SM90_FP8_RASTER"),
                     "forced_fp8_swizzle": os.environ.get("GG_SM90_FP8_SWIZZLE"),
                     "forced_fp8_split": os.environ.get("GG_SM90_FP8_SPLIT"),
                     "scales": args.scales,
                     "variants": {name: {"knobs": knobs, "kernel": kernel,
                                         **({"library": other.version()} if other is not None else {})}
                                  for name, knobs, kernel, other in args.variants}})
    print(", ".join(f"{k}: {v}" for k, v in run_info.items()))
    print(f"{label:<{width}} {'ours-fp8':>9} {'torch-fp8':>9} {'dense-fp8':>9} {'ours-bf16':>9}  "
          f"{'x torch':>7} {'x dense':>7} {'x bf16':>7}  rel.err ours/torch (TFLOP/s, {args.kernel}, "
          f"ours {args.scales})")
    for row_name, job in jobs:
        r = job()
        results.append(r)
        t = r["tflops"]

        def ratio(a, b):
            return f"{t[a] / t[b]:7.2f}" if a in t and b in t else "      -"

        def cell(name):
            return f"{t[name]:9.0f}" if name in t else "        -"

        err = r["rel_error"]
        print(f"{row_name:<{width}} {cell('ours-fp8')} {cell('torch-scaled-grouped')} {cell('dense-fp8')} "
              f"{cell('ours-bf16')}  {ratio('ours-fp8', 'torch-scaled-grouped')} {ratio('ours-fp8', 'dense-fp8')} "
              f"{ratio('ours-fp8', 'ours-bf16')}  {err.get('ours-fp8', float('nan')):.2e}/"
              f"{err.get('torch-scaled-grouped', float('nan')):.2e}")
        for name, _, _, _ in args.variants:
            path = f"ours-fp8@{name}"
            print(f"    {path}: {cell(path).strip()} TFLOP/s, x ours {ratio(path, 'ours-fp8').strip()}, x torch "
                  f"{ratio(path, 'torch-scaled-grouped').strip()}, rel.err {err.get(path, float('nan')):.2e}")
        for name, why in r["skipped"].items():
            print(f"    {name} skipped: {why}")
    gg.close()
    for _, _, _, other in args.variants:
        if other is not None:
            other.close()
    output = {**run_info, "results": results}
    if sweep_mode:
        output["summary"] = summarize(results)
        print("\n".join(summary_lines(output["summary"])))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(output, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
