#!/usr/bin/env python3
"""Parity of gg_gmm_scaled (FP8 grouped GEMM) from PyTorch on a GPU host (no .NET needed).

For every shape x scale mode x layout x counts location x kernel (auto, portable, cutlass-sm90 and decode where they
take the call),
compares the bf16 output with the float64 product of the dequantized inputs (bound 1.5e-2 relative, the output's one
bf16 rounding dominating) and, for row-wise scales where torch has it, with torch._scaled_grouped_mm on the same codes
and scales. Scale modes: row-wise (one scale per row of x and per expert and column of w) and block (DeepGEMM's: one
per row and 128-deep block of K for x, [M, ceil(K/128)]; one per expert and 128x128 block of (N, K) for w,
[E, ceil(N/128), ceil(K/128)], whichever layout w is stored in).

usage: python3 native/tests/fp8_parity.py [--lib artifacts/native/libgroupedgemm.so] [--sm90-knobs KEY=VALUE,...]
  --sm90-knobs: one more cutlass-sm90 run of every call with these tuning knobs set (GG_SM90_FP8_SPLIT=4: the decode
  forwards' split-K in 4 chunks wherever it can run, k of any depth; Auto splits from k = 8192); needs a tuning or
  experiment build
"""
import argparse
import ctypes as C
import os
import sys

import torch

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import groupedgemm_ctypes as ggc  # noqa: E402
from fp8_bench import (DTYPE_BFLOAT16, DTYPE_FLOAT8_E4M3, KERNELS, SCALE_BLOCK, SCALE_BLOCKWISE,  # noqa: E402
                       SCALE_ROWWISE, ScaledGmmArgs, dequantize_blocks, quantize_rows)
from fp8_bench import quantize_blocks as quantize_blocks_codes  # noqa: E402

BOUND = 1.5e-2
# (counts, k, n): an empty expert, rows that straddle tiles, K and N that are and are not multiples of 16.
SHAPES = [([0, 37, 5, 90], 208, 80), ([128, 0, 256], 512, 1024), ([3], 64, 16), ([7, 9], 40, 24),
          ([300] * 8, 2048, 1408),
          # Decode forwards for cutlass-sm90's split along k (tile_choice.h: fp8_forward_split_chunks): one row on one
          # live expert of a long k, which Auto splits (16 chunks); six rows on three of six experts, a last chunk shorter
          # than the others (k = 1040) and 32 rows over four experts, which split only when a knob forces chunks
          # (--sm90-knobs GG_SM90_FP8_SPLIT=4; Auto splits from k = 8192).
          ([0, 1, 0, 0], 8192, 512), ([0, 3, 0, 2, 0, 1], 2048, 256), ([2, 0, 1], 1040, 384), ([8] * 4, 4096, 128),
          # Block scales on cutlass-sm90: n = 208 ends in a partial 128-wide scale block, rows of one expert cross a
          # 128-row tile, one expert is empty; k = 2880 (gpt-oss's) ends in a 64-deep scale block, which the kernel
          # reads zero-filled past k (and k = 208 above in one of 80).
          ([5, 0, 140, 3], 384, 208), ([0, 3, 61, 130], 2880, 256),
          # The decode kernel (m <= 256, k a multiple of 16): 8 one-row experts of 128 (qwen3-30b-a3b's down-projection
          # at one token), one expert of 40 rows (three groups of 16) beside one of 2 with a last k block of 64 and
          # n = 264 (a partial block of 32 columns), and n = 20 (a partial group of 8 columns); 200 rows over 16 experts,
          # whose 29 groups' blocks each walk several of 129 column blocks (decode_groups::grid_column_blocks).
          ([1 if i % 16 == 3 else 0 for i in range(128)], 768, 2048), ([0, 40, 2], 2880, 264), ([2, 5], 96, 20),
          ([60, 0, 31, 17, 40, 2, 0, 9, 11, 5, 1, 3, 8, 6, 4, 3], 256, 4104)]


def quantize_blocks(t, rows_block, cols_block):
    """E4M3 codes of t [..., R, C] with one scale per rows_block x cols_block block (fp8_bench.quantize_blocks, the rule
    the benchmark quantizes by): (codes [..., R, C], float32 scales [..., ceil(R / rows_block), ceil(C / cols_block)],
    the dequantized values in float64)."""
    codes, scales = quantize_blocks_codes(torch, t, rows_block, cols_block)
    flat_codes, flat_scales = codes.reshape(-1, *codes.shape[-2:]), scales.reshape(-1, *scales.shape[-2:])
    deq = torch.stack([dequantize_blocks(c, s, rows_block, cols_block) for c, s in zip(flat_codes, flat_scales)])
    return codes, scales, deq.reshape(codes.shape)


def run(gg, x, xs, w, ws, counts, trans_b, kernel, on_device, mode=SCALE_ROWWISE):
    m, k = x.shape
    e = len(counts)
    n = w.shape[1] if trans_b else w.shape[2]
    out = torch.full((m, n), float("nan"), dtype=torch.bfloat16, device="cuda")
    c = torch.tensor(counts, dtype=torch.int64, device="cuda" if on_device else "cpu")
    args = ScaledGmmArgs(x.data_ptr(), w.data_ptr(), out.data_ptr(), xs.data_ptr(), ws.data_ptr(), c.data_ptr(), m, k,
                         n, e, xs.numel(), ws.numel(), DTYPE_FLOAT8_E4M3, DTYPE_FLOAT8_E4M3, DTYPE_BFLOAT16, mode,
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
    p.add_argument("--sm90-knobs", default="", help="KEY=VALUE[,KEY=VALUE]: one more cutlass-sm90 run of every call "
                   "with these tuning knobs set; needs a tuning or experiment build")
    args = p.parse_args()
    knobs = ggc.parse_sm90_knobs(args.sm90_knobs, args.lib)
    # Each kernel as Auto's policy runs it, then cutlass-sm90 once more with the knobs (read by the library per call).
    variants = [(kernel, {}) for kernel in KERNELS] + ([("cutlass-sm90", knobs)] if knobs else [])
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
        # Block scales: x per row and 128 of K, w per 128x128 block of its [E, N, K] codes.
        bxq, bxs, bx64 = quantize_blocks(x, 1, SCALE_BLOCK)
        bwq_nk, bws, bw64 = quantize_blocks(w, SCALE_BLOCK, SCALE_BLOCK)
        bref = torch.empty(m, n, dtype=torch.float64, device="cuda")
        row = 0
        for i, c in enumerate(counts):
            bref[row:row + c] = bx64[row:row + c] @ bw64[i].t()
            row += c
        modes = (("row-wise", SCALE_ROWWISE, xq, xs, wq_nk, ws, ref, torch_out),
                 ("block", SCALE_BLOCKWISE, bxq, bxs, bwq_nk, bws, bref, None))
        for mode_name, mode, xq_m, xs_m, wq_m, ws_m, ref_m, torch_m in modes:
            for trans_b in (False, True):
                w_in = wq_m if trans_b else wq_m.transpose(1, 2).contiguous()  # [E, N, K] or [E, K, N], same values
                for on_device in (False, True):
                    for kernel, variant_knobs in variants:
                        with ggc.knobs_set(variant_knobs):
                            out, why = run(gg, xq_m, xs_m, w_in, ws_m, counts, trans_b, kernel, on_device, mode)
                        forced = "".join(f" {key}={value}" for key, value in variant_knobs.items())
                        what = (f"{kernel:<13} {mode_name:<8} counts={counts} k={k} n={n} trans_b={int(trans_b)} "
                                f"device={int(on_device)}{forced}")
                        if out is None:
                            print(f"skip {what}: {why}")
                            continue
                        checked += 1
                        err = float((out.double() - ref_m).norm() / ref_m.norm())
                        vs_torch = ("" if torch_m is None else
                                    f", vs torch {float((out.double() - torch_m.double()).norm() / ref_m.norm()):.2e}")
                        ok = err <= BOUND
                        print(f"{'ok  ' if ok else 'FAIL'} {what}: rel.err {err:.2e}{vs_torch}")
                        if not ok:
                            failures.append(what)
    gg.close()
    print(f"{checked} checked, {len(failures)} failed")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
