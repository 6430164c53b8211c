#!/usr/bin/env python3
"""Parity of gg_gmm_scaled (FP8 grouped GEMM, row-wise scales) from PyTorch on a GPU host (no .NET needed).

For every shape x layout x counts location x kernel (auto, portable, cutlass-sm90 where it takes the call), compares
the bf16 output with the float64 product of the dequantized inputs (bound 1.5e-2 relative, the output's one bf16
rounding dominating) and, where torch has it, with torch._scaled_grouped_mm on the same codes and scales.

usage: python3 native/tests/fp8_parity.py [--lib artifacts/native/libgroupedgemm.so]
"""
import argparse
import ctypes as C
import os
import sys

import torch

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import groupedgemm_ctypes as ggc  # noqa: E402
from fp8_bench import DTYPE_BFLOAT16, DTYPE_FLOAT8_E4M3, KERNELS, SCALE_ROWWISE, ScaledGmmArgs, quantize_rows  # noqa: E402

BOUND = 1.5e-2
# (counts, k, n): an empty expert, rows that straddle tiles, K and N that are and are not multiples of 16.
SHAPES = [([0, 37, 5, 90], 208, 80), ([128, 0, 256], 512, 1024), ([3], 64, 16), ([7, 9], 40, 24),
          ([300] * 8, 2048, 1408)]


def run(gg, x, xs, w, ws, counts, trans_b, kernel, on_device):
    m, k = x.shape
    e = len(counts)
    n = w.shape[1] if trans_b else w.shape[2]
    out = torch.full((m, n), float("nan"), dtype=torch.bfloat16, device="cuda")
    c = torch.tensor(counts, dtype=torch.int64, device="cuda" if on_device else "cpu")
    args = ScaledGmmArgs(x.data_ptr(), w.data_ptr(), out.data_ptr(), xs.data_ptr(), ws.data_ptr(), c.data_ptr(), m, k,
                         n, e, m, e * n, DTYPE_FLOAT8_E4M3, DTYPE_FLOAT8_E4M3, DTYPE_BFLOAT16, SCALE_ROWWISE,
                         ggc.COUNTS_DEVICE if on_device else ggc.COUNTS_HOST, int(trans_b), 0, 0, KERNELS[kernel], 0,
                         torch.cuda.current_stream().cuda_stream)
    status = gg.lib.gg_gmm_scaled(gg.handle, C.byref(args))
    if status in (ggc.STATUS_NOT_SUPPORTED, ggc.STATUS_BACKEND_NOT_COMPILED):
        return None, gg.last_error()
    gg._check(status, "gg_gmm_scaled")
    torch.cuda.synchronize()
    return out, ""


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--lib", default="artifacts/native/libgroupedgemm.so")
    args = p.parse_args()
    lib = ggc.load(args.lib)
    lib.gg_gmm_scaled.argtypes = [C.c_void_p, C.POINTER(ScaledGmmArgs)]
    lib.gg_gmm_scaled.restype = C.c_int32
    gg = ggc.GroupedGemm(lib)
    gen = torch.Generator(device="cuda").manual_seed(7)
    failures, checked = [], 0
    for counts, k, n in SHAPES:
        m, e = sum(counts), len(counts)
        x = torch.randn(m, k, device="cuda", generator=gen)
        w = torch.randn(e, n, k, device="cuda", generator=gen) / k ** 0.5
        xq, xs = quantize_rows(torch, x)
        wq_nk, ws = quantize_rows(torch, w)                       # [E, N, K] codes, [E, N] scales
        x64 = xq.double() * xs.double().unsqueeze(1)
        w64 = wq_nk.double() * ws.double().unsqueeze(2)           # [E, N, K]
        ref = torch.empty(m, n, dtype=torch.float64, device="cuda")
        row = 0
        for i, c in enumerate(counts):
            ref[row:row + c] = x64[row:row + c] @ w64[i].t()
            row += c
        offs = torch.tensor(counts, device="cuda").cumsum(0).to(torch.int32)
        torch_out = None
        try:
            torch_out = torch._scaled_grouped_mm(xq, wq_nk.transpose(-2, -1), xs, ws, offs=offs,
                                                 out_dtype=torch.bfloat16)
        except Exception as ex:  # shapes torch refuses (K or N not multiples of 16, ...)
            print(f"  torch._scaled_grouped_mm {counts} k={k} n={n}: {str(ex).splitlines()[0]}")
        for trans_b in (False, True):
            w_in = wq_nk if trans_b else wq_nk.transpose(1, 2).contiguous()  # [E, N, K] or [E, K, N], same values
            for on_device in (False, True):
                for kernel in KERNELS:
                    out, why = run(gg, xq, xs, w_in, ws, counts, trans_b, kernel, on_device)
                    what = f"{kernel:<13} counts={counts} k={k} n={n} trans_b={int(trans_b)} device={int(on_device)}"
                    if out is None:
                        print(f"skip {what}: {why}")
                        continue
                    checked += 1
                    err = float((out.double() - ref).norm() / ref.norm())
                    vs_torch = ("" if torch_out is None else
                                f", vs torch {float((out.double() - torch_out.double()).norm() / ref.norm()):.2e}")
                    ok = err <= BOUND
                    print(f"{'ok  ' if ok else 'FAIL'} {what}: rel.err {err:.2e}{vs_torch}")
                    if not ok:
                        failures.append(what)
    gg.close()
    print(f"{checked} checked, {len(failures)} failed")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
