#!/usr/bin/env python3
"""Parity and quick timing of libgroupedgemm.so's C ABI from PyTorch (GPU host, no .NET needed).

Calls gg_gmm through ctypes on torch tensors' device pointers and compares every backend x dtype x
form x counts location with a float64 reference computed by torch on the same (rounded) inputs.
`--perf` adds a side-by-side timing of the sm90/sm80 backends against torch._grouped_mm, for
tuning the kernel selection; the reported benchmark is bench/ (C#), not this.

usage: python3 native/tests/gmm_parity.py [--lib artifacts/native/libgroupedgemm.so] [--perf]
"""
import argparse
import math
import os
import sys

import torch

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from groupedgemm_ctypes import BACKENDS, GroupedGemm  # noqa: E402  (bench/groupedgemm_ctypes.py: the C ABI binding)

# ||out - ref|| / ||ref|| bounds: fp32 with fp32 accumulation; fp16 / bf16 outputs rounded once.
BOUNDS = {torch.float32: 1e-5, torch.float16: 2e-3, torch.bfloat16: 1.5e-2}


def counts_for(m, e, routing, gen):
    if e == 1:
        return [m]
    if routing == "uniform":
        ids = torch.randint(0, e, (m,), generator=gen)
    elif routing == "zipf":
        p = 1.0 / torch.arange(1, e + 1, dtype=torch.float64)
        ids = torch.multinomial(p / p.sum(), m, replacement=True, generator=gen)
    elif routing == "one":
        ids = torch.full((m,), e // 2)
    else:
        raise ValueError(routing)
    return torch.bincount(ids, minlength=e).tolist()


def reference(a, b, counts, trans_a, trans_b):
    a64, b64 = a.double(), b.double()
    e = len(counts)
    if trans_a:
        out = torch.zeros(e, a.shape[1], b.shape[1], dtype=torch.float64, device=a.device)
    else:
        out = torch.zeros(a.shape[0], b.shape[1] if trans_b else b.shape[2], dtype=torch.float64, device=a.device)
    start = 0
    for i, cnt in enumerate(counts):
        rows = slice(start, start + cnt)
        if trans_a:
            out[i] = a64[rows].t() @ b64[rows]
        elif cnt:
            out[rows] = a64[rows] @ (b64[i].t() if trans_b else b64[i])
        start += cnt
    return out


def parity(gg, shapes, failures, sm90_tiles=()):
    gen = torch.Generator().manual_seed(torch.seed() % (2**31))
    rows = 0
    for (m, k, n, e, routing) in shapes:
        counts = counts_for(m, e, routing, gen)
        for dtype in (torch.bfloat16, torch.float16, torch.float32):
            for form in ("fwd", "trans_b", "trans_a"):
                trans_a, trans_b = form == "trans_a", form == "trans_b"
                a = torch.randn(m, k, device="cuda").to(dtype)
                if trans_a:
                    b = torch.randn(m, n, device="cuda").to(dtype)
                    c = torch.full((e, k, n), float("nan"), device="cuda", dtype=dtype)
                else:
                    b = torch.randn(e, n, k, device="cuda").to(dtype) if trans_b else torch.randn(e, k, n, device="cuda").to(dtype)
                    c = torch.full((m, n), float("nan"), device="cuda", dtype=dtype)
                ref = reference(a, b, counts, trans_a, trans_b)
                for on_device in (False, True):
                    counts_t = torch.tensor(counts, dtype=torch.int64, device="cuda" if on_device else "cpu")
                    # cutlass-sm90 once as Auto's tile choice leaves it, then once per forced tile.
                    runs = [(backend, None) for backend in BACKENDS] + [("cutlass-sm90", t) for t in sm90_tiles]
                    for backend, tile in runs:
                        args = gg.args(a, b, c, counts_t, trans_a, trans_b, backend)
                        st, why = gg.supported(args, backend)
                        if st:
                            continue
                        c.fill_(float("nan"))
                        if tile:
                            os.environ["GG_SM90_TILE"] = tile
                            backend = f"{backend}[{tile}]"
                        try:
                            gg.gmm_args(args)  # raises GroupedGemmError "gg_gmm: <status>: <message>"
                            torch.cuda.synchronize()
                        except RuntimeError as ex:
                            failures.append(f"{backend} {dtype} {form} dev={on_device} m={m} k={k} n={n} e={e}: {ex}")
                            continue
                        finally:
                            os.environ.pop("GG_SM90_TILE", None)
                        denom = ref.norm().item()
                        err = (c.double() - ref).norm().item() / denom if denom > 0 else (c.double() - ref).norm().item()
                        ok = math.isfinite(err) and err <= BOUNDS[dtype]
                        rows += 1
                        if not ok:
                            failures.append(f"{backend} {dtype} {form} dev={on_device} m={m} k={k} n={n} e={e} {routing}: rel err {err:.3e}")
    return rows


def bench(fn, iters=20, warmup=3, inner=5):
    """Median milliseconds of one call, timing `inner` back-to-back calls per sample so that host-side
    launch overhead overlaps GPU work as it does in a real training step."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        s, t = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        for _ in range(inner):
            fn()
        t.record()
        t.synchronize()
        times.append(s.elapsed_time(t) / inner)
    times.sort()
    return times[len(times) // 2]


SM90_TILES = ("coop128x256", "pingpong128x128", "coop128x256c1x1", "coop256x128", "coop128x256k32",
              "pingpong128x128c1x2")


def perf(gg, configs, iters):
    """Side-by-side medians (TFLOP/s) of torch._grouped_mm, a dense matmul of equal FLOPs, each forced sm90
    tile (GG_SM90_TILE), the sm90 backend's own choice, cutlass-sm80 and cublas-loop. Ratios are ours/torch."""
    gen = torch.Generator().manual_seed(0)
    cols = ["torch", "dense"] + list(SM90_TILES) + ["sm90", "sm80", "loop", "grouped"]
    print(f"{'config':<15}{'routing':<8}{'form':<8}" + "".join(f"{c:>16}" for c in cols), flush=True)
    for name, (t, topk, e, k, n) in configs.items():
        m = t * topk
        for routing in ("uniform", "zipf"):
            counts = counts_for(m, e, routing, gen)
            cnt = torch.tensor(counts, dtype=torch.int64, device="cuda")
            cnt_host = cnt.cpu()  # kept alive: gg_gmm reads it through a raw pointer
            offs = torch.cumsum(cnt, 0).to(torch.int32)
            x = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
            flops = 2.0 * m * n * k
            xd = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
            wd = torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
            for form in ("fwd", "trans_b", "trans_a"):
                if form == "trans_a":
                    b = torch.randn(m, n, device="cuda", dtype=torch.bfloat16)
                    out = torch.empty(e, k, n, device="cuda", dtype=torch.bfloat16)
                    ref_fn = lambda: torch._grouped_mm(x.t(), b, offs=offs)
                else:
                    b = torch.randn(e, n, k, device="cuda", dtype=torch.bfloat16) if form == "trans_b" else \
                        torch.randn(e, k, n, device="cuda", dtype=torch.bfloat16)
                    out = torch.empty(m, n, device="cuda", dtype=torch.bfloat16)
                    bb = b.transpose(-2, -1) if form == "trans_b" else b
                    ref_fn = lambda: torch._grouped_mm(x, bb, offs=offs)
                ta, tb = form == "trans_a", form == "trans_b"
                tt = bench(ref_fn, iters)
                td = bench(lambda: xd @ wd, iters)
                cells = [f"{flops / tt / 1e9:.0f}", f"{flops / td / 1e9:.0f}"]
                runs = [(tile, "cutlass-sm90", tile) for tile in SM90_TILES] + \
                       [("sm90", "cutlass-sm90", None), ("sm80", "cutlass-sm80", None), ("loop", "cublas-loop", None),
                        ("grouped", "cublas-grouped", None)]
                for label, backend, tile in runs:
                    os.environ.pop("GG_SM90_TILE", None)
                    if tile:
                        os.environ["GG_SM90_TILE"] = tile
                    args = gg.args(x, b, out, cnt, ta, tb, backend)
                    if gg.supported(args, backend)[0]:
                        args = gg.args(x, b, out, cnt_host, ta, tb, backend)
                    if gg.supported(args, backend)[0]:
                        cells.append("-")
                        continue
                    try:
                        to = bench(lambda: gg.gmm_args(args), iters)
                        cells.append(f"{flops / to / 1e9:.0f} ({tt / to:.2f})")
                    except RuntimeError as ex:
                        cells.append("ERR")
                        print("   ", label, ex, flush=True)
                os.environ.pop("GG_SM90_TILE", None)
                print(f"{name:<15}{routing:<8}{form:<8}" + "".join(f"{c:>16}" for c in cells), flush=True)
            del x, b, out, xd, wd
            torch.cuda.empty_cache()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lib", default="artifacts/native/libgroupedgemm.so")
    p.add_argument("--perf", action="store_true")
    p.add_argument("--no-parity", action="store_true")
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--sm90-tiles", default="", help="comma list of GG_SM90_TILE names to check one by one as well")
    p.add_argument("--configs", default="seed-300M,qwen-moe-like,deepseek-like,mixtral-like,small-experts")
    o = p.parse_args()
    gg = GroupedGemm(o.lib, torch.cuda.current_device())
    print("device:", torch.cuda.get_device_name(), "torch", torch.__version__)
    failures = []
    if not o.no_parity:
        shapes = [(256, 128, 64, 4, "uniform"), (1000, 256, 512, 16, "zipf"), (300, 64, 128, 1, "uniform"),
                  (512, 128, 256, 8, "one"), (200, 65, 127, 5, "uniform"), (96, 0, 64, 3, "uniform"),
                  (0, 64, 64, 4, "uniform"), (4096, 64, 64, 4096, "uniform"),
                  (2048, 64, 64, 1024, "zipf"), (2048, 64, 64, 1025, "zipf"), (777, 64, 64, 33, "uniform"), (2048, 512, 1024, 64, "zipf")]
        rows = parity(gg, shapes, failures, [t for t in o.sm90_tiles.split(",") if t])
        print(f"parity: {rows} checks, {len(failures)} failures")
        for f in failures[:60]:
            print("  FAIL", f)
    if o.perf:
        all_configs = {"seed-300M": (2048, 8, 80, 512, 2048), "qwen-moe-like": (16384, 6, 64, 4096, 1408),
                       "deepseek-like": (65536, 8, 256, 7168, 2048), "mixtral-like": (32768, 2, 8, 4096, 14336),
                       "small-experts": (4096, 8, 128, 2048, 768)}
        perf(gg, {c: all_configs[c] for c in o.configs.split(",")}, o.iters)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
