"""FP8 grouped GEMM benchmark (issue 25): ours (gg_gmm_scaled, row-wise scales) against torch._scaled_grouped_mm
(row-wise, bf16 out, no fast accumulation), dense fp8 of equal FLOPs (torch._scaled_mm, row-wise) and our own bf16
grouped GEMM (gg_gmm), timed round-robin in the same loop, for the configurations of bench/problems.py.

Accuracy: on sampled rows, each product against the float64 product of its own inputs (the dequantized FP8 codes for
the FP8 paths, the bf16 values for bf16), and the FP8 paths also against the float64 product of the bf16 inputs they
were quantized from (the quantization error). Needs torch with CUDA (2.11 has _scaled_grouped_mm) and
libgroupedgemm.so of ABI 3 or newer.

    python bench/fp8_bench.py --lib .gpu/native/libgroupedgemm.so [--configs all] [--kernel auto] [--json out.json]
"""

from __future__ import annotations

import argparse
import ctypes as C
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import groupedgemm_ctypes as ggc  # noqa: E402
import problems  # noqa: E402

# gg_dtype / gg_scale_mode / gg_scaled_kernel values of groupedgemm.h (ABI 3)
DTYPE_BFLOAT16, DTYPE_FLOAT8_E4M3 = 2, 5
SCALE_ROWWISE = 0
KERNELS = {"auto": 0, "portable": 1, "cutlass-sm90": 2}
E4M3_MAX = 448.0


class ScaledGmmArgs(C.Structure):
    """gg_scaled_gmm_args, field for field (enums are int32)."""

    _fields_ = [("a", C.c_void_p), ("b", C.c_void_p), ("c", C.c_void_p), ("a_scale", C.c_void_p),
                ("b_scale", C.c_void_p), ("batch_sizes", C.c_void_p), ("m", C.c_int64), ("k", C.c_int64),
                ("n", C.c_int64), ("num_experts", C.c_int64), ("a_scale_count", C.c_int64),
                ("b_scale_count", C.c_int64), ("a_dtype", C.c_int32), ("b_dtype", C.c_int32), ("c_dtype", C.c_int32),
                ("scale_mode", C.c_int32), ("counts_location", C.c_int32), ("trans_b", C.c_int32),
                ("check_counts", C.c_int32), ("check_scales", C.c_int32), ("kernel", C.c_int32),
                ("reserved", C.c_int32), ("stream", C.c_void_p)]


def quantize_rows(torch, t, chunk_rows: int = 1 << 15):
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


def run_config(torch, gg, config, args) -> dict:
    counts = problems.draw_counts(config, args.routing, args.seed)
    m, k, n, experts = config.rows, config.k, config.n, config.experts
    dev = torch.device("cuda")
    gen = torch.Generator(device=dev).manual_seed(args.seed)
    x = torch.randn(m, k, device=dev, generator=gen).to(torch.bfloat16)
    w = (torch.randn(experts, n, k, device=dev, generator=gen) / k ** 0.5).to(torch.bfloat16)  # [E, N, K] (trans_b)
    xq, xs = quantize_rows(torch, x)           # [M, K], [M]
    wq, ws = quantize_rows(torch, w)           # [E, N, K], [E, N]: one scale per (expert, output column)
    counts_dev = torch.tensor(counts, dtype=torch.int64, device=dev)
    offs = torch.cumsum(counts_dev, 0).to(torch.int32)
    out_ours = torch.empty(m, n, dtype=torch.bfloat16, device=dev)
    out_bf16 = torch.empty(m, n, dtype=torch.bfloat16, device=dev)
    stream = torch.cuda.current_stream().cuda_stream
    sargs = ScaledGmmArgs(xq.data_ptr(), wq.data_ptr(), out_ours.data_ptr(), xs.data_ptr(), ws.data_ptr(),
                          counts_dev.data_ptr(), m, k, n, experts, m, experts * n, DTYPE_FLOAT8_E4M3,
                          DTYPE_FLOAT8_E4M3, DTYPE_BFLOAT16, SCALE_ROWWISE, ggc.COUNTS_DEVICE, 1, 0, 0,
                          KERNELS[args.kernel], 0, stream)
    bargs = gg.args(x, w, out_bf16, counts_dev, trans_b=True)
    dense_a, dense_b = xq, wq[0].t()           # [M, K] . [K, N] column-major: equal FLOPs, one weight
    dense_sa, dense_sb = xs.unsqueeze(1), ws[0].unsqueeze(0)

    def ours():
        gg._check(gg.lib.gg_gmm_scaled(gg.handle, C.byref(sargs)), "gg_gmm_scaled")

    def ours_bf16():
        gg.gmm_args(bargs)

    def torch_fp8():
        return torch._scaled_grouped_mm(xq, wq.transpose(-2, -1), xs, ws, offs=offs, out_dtype=torch.bfloat16,
                                        use_fast_accum=False)

    def dense_fp8():
        return torch._scaled_mm(dense_a, dense_b, scale_a=dense_sa, scale_b=dense_sb, out_dtype=torch.bfloat16,
                                use_fast_accum=False)

    cases = {"ours-fp8": ours, "torch-scaled-grouped": torch_fp8, "dense-fp8": dense_fp8, "ours-bf16": ours_bf16}
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

    # Same loop: every case once per iteration, in rotation, each between its own pair of events.
    for _ in range(args.warmup):
        for fn in cases.values():
            fn()
    events = {name: [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                     for _ in range(args.iters)] for name in cases}
    for i in range(args.iters):
        for name, fn in cases.items():
            start, end = events[name][i]
            start.record()
            fn()
            end.record()
    torch.cuda.synchronize()
    flop = 2.0 * m * k * n
    result = {"config": config.name, "m": m, "k": k, "n": n, "experts": experts, "kernel": args.kernel,
              "skipped": skipped, "tflops": {}, "ms": {}, "rel_error": {}, "rel_error_vs_bf16_inputs": {}}
    for name in cases:
        times = sorted(s.elapsed_time(e) for s, e in events[name])
        median = times[len(times) // 2]
        result["ms"][name] = median
        result["tflops"][name] = flop / (median * 1e-3) / 1e12

    # Accuracy on sampled rows against float64.
    rows = torch.randperm(m, device=dev, generator=gen)[: args.sample_rows].sort().values
    xd = xq[rows].double() * xs[rows].double().unsqueeze(1)
    xb = x[rows].double()
    ref_fp8 = sampled_reference(torch, rows, counts, xd, lambda e: wq[e].double() * ws[e].double().unsqueeze(1))
    ref_bf16 = sampled_reference(torch, rows, counts, xb, lambda e: w[e].double())
    for name in ("ours-fp8", "torch-scaled-grouped"):
        if outputs.get(name) is not None:
            result["rel_error"][name] = rel_error(outputs[name][rows], ref_fp8)
            result["rel_error_vs_bf16_inputs"][name] = rel_error(outputs[name][rows], ref_bf16)
    if outputs.get("ours-bf16") is not None:
        result["rel_error"]["ours-bf16"] = rel_error(outputs["ours-bf16"][rows], ref_bf16)
    if outputs.get("dense-fp8") is not None:
        ref_dense = xd @ (wq[0].double() * ws[0].double().unsqueeze(1)).t()
        result["rel_error"]["dense-fp8"] = rel_error(outputs["dense-fp8"][rows], ref_dense)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lib", default=".gpu/native/libgroupedgemm.so")
    parser.add_argument("--configs", default="all", help="comma-separated names of bench/problems.py, or all")
    parser.add_argument("--routing", default="uniform", choices=problems.ROUTINGS)
    parser.add_argument("--kernel", default="auto", choices=sorted(KERNELS))
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--sample-rows", type=int, default=256)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    import torch

    lib = ggc.load(args.lib)
    if lib.gg_abi_version() < 3:
        raise SystemExit(f"{args.lib} has ABI {lib.gg_abi_version()}; gg_gmm_scaled needs 3")
    lib.gg_gmm_scaled.argtypes = [C.c_void_p, C.POINTER(ScaledGmmArgs)]
    lib.gg_gmm_scaled.restype = C.c_int32
    gg = ggc.GroupedGemm(lib)
    results = []
    # What ran: the card, torch, the library and the forced FP8 knobs (experiment builds only), in the JSON as well.
    run_info = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "library": gg.version(),
                "routing": args.routing, "forced_fp8_tile": os.environ.get("GG_SM90_FP8_TILE"),
                "forced_fp8_raster": os.environ.get("GG_SM90_FP8_RASTER"),
                "forced_fp8_swizzle": os.environ.get("GG_SM90_FP8_SWIZZLE")}
    print(", ".join(f"{k}: {v}" for k, v in run_info.items()))
    print(f"{'config':<16} {'ours-fp8':>9} {'torch-fp8':>9} {'dense-fp8':>9} {'ours-bf16':>9}  "
          f"{'x torch':>7} {'x dense':>7} {'x bf16':>7}  rel.err ours/torch (TFLOP/s, {args.kernel})")
    for config in problems.select_configs(args.configs, []):
        r = run_config(torch, gg, config, args)
        results.append(r)
        t = r["tflops"]

        def ratio(a, b):
            return f"{t[a] / t[b]:7.2f}" if a in t and b in t else "      -"

        def cell(name):
            return f"{t[name]:9.0f}" if name in t else "        -"

        err = r["rel_error"]
        print(f"{config.name:<16} {cell('ours-fp8')} {cell('torch-scaled-grouped')} {cell('dense-fp8')} "
              f"{cell('ours-bf16')}  {ratio('ours-fp8', 'torch-scaled-grouped')} {ratio('ours-fp8', 'dense-fp8')} "
              f"{ratio('ours-fp8', 'ours-bf16')}  {err.get('ours-fp8', float('nan')):.2e}/"
              f"{err.get('torch-scaled-grouped', float('nan')):.2e}")
        for name, why in r["skipped"].items():
            print(f"    {name} skipped: {why}")
    gg.close()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({**run_info, "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
