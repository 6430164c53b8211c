#!/usr/bin/env python3
"""Parity of libgroupedgemm.so's C ABI from PyTorch (GPU host, no .NET needed).

Calls gg_gmm through ctypes on torch tensors' device pointers and compares every backend x dtype x
form x counts location x accumulate with a float64 reference computed by torch on the same (rounded)
inputs (accumulate: c starts random and must come back as c + a.b); --sm90-tiles also checks each named
cutlass-sm90 configuration, forced through GG_SM90_TILE (store-only epilogue without accumulate, source
epilogue with it): a tuning or experiment build only, since a release build reads no tuning knobs.
Timing is not here: bench/ is the benchmark, bench/tune_sm90.py the tuning aid.

usage: python3 native/tests/gmm_parity.py [--lib artifacts/native/libgroupedgemm.so] [--sm90-tiles a,b,...]
       [--shard I/N] [--backends name,...|none] [--memory-each-shape]
(--backends none --memory-each-shape under compute-sanitizer: the card memory that PyTorch alone keeps there,
docs/h100/sanitizer-memory/)
"""
import argparse
import math
import os
import sys

import torch

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from groupedgemm_ctypes import GroupedGemm, knobs_set, parse_sm90_knobs, require_tuning_knobs  # noqa: E402  (bench/groupedgemm_ctypes.py: the C ABI binding)

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
    elif routing == "last":
        # zipf with the largest expert last: cutlass-sm90's weight gradients move it to group 0 (group_slot)
        p = 1.0 / torch.arange(e, 0, -1, dtype=torch.float64)
        ids = torch.multinomial(p / p.sum(), m, replacement=True, generator=gen)
    elif routing == "one":
        ids = torch.full((m,), e // 2)
    else:
        raise ValueError(routing)
    return torch.bincount(ids, minlength=e).tolist()


# Our own sm90 kernel (tile_choice.h): forward and trans_b without accumulate, at most 1024 experts. Forced on any
# other call it fails with GG_STATUS_NOT_SUPPORTED, as it should; those calls are not run with it.
CONTIGUOUS = "contig256x128"


def contiguous_eligible(e, trans_a, accumulate):
    return not trans_a and not accumulate and 1 <= e <= 1024


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


def card_memory():
    """The card's free memory beside what PyTorch holds, as text: memory that the library or the sanitizer keeps growing
    over a run shows as free memory that PyTorch's tensors do not explain."""
    free, total = torch.cuda.mem_get_info()
    return (f"{free / 2**30:.1f} of {total / 2**30:.1f} GiB free, PyTorch holds {torch.cuda.memory_allocated() / 2**30:.1f} "
            f"GiB ({torch.cuda.memory_reserved() / 2**30:.1f} GiB reserved)")


def parity(gg, shapes, failures, at, sm90_tiles=(), shard=(0, 1), sm90_knobs=None, backends=None,
           memory_each_shape=False):
    # at["unit"]: the (shape, dtype, form) being checked, for main's report when the script's own tensors do not fit.
    # backends: the names to call (None: every compiled one; []: none, so that only the script's own tensors and float64
    # reference run, which tells the card memory PyTorch keeps from memory the library keeps).
    names = list(gg.backends) if backends is None else backends
    sm90 = "cutlass-sm90" in names
    gen = torch.Generator().manual_seed(torch.seed() % (2**31))
    rows = 0
    unit = -1
    for (m, k, n, e, routing) in shapes:
        counts = counts_for(m, e, routing, gen)
        for dtype in (torch.bfloat16, torch.float16, torch.float32):
            for form in ("fwd", "trans_b", "trans_a"):
                # --shard I/N: this process checks every N-th (shape, dtype, form), so that slow runs (under
                # compute-sanitizer) split over processes; together the shards check exactly the unsharded set.
                unit += 1
                if unit % shard[1] != shard[0]:
                    continue
                trans_a, trans_b = form == "trans_a", form == "trans_b"
                at["unit"] = f"m={m} k={k} n={n} e={e} {routing} {dtype} {form}"
                a = torch.randn(m, k, device="cuda").to(dtype)
                if trans_a:
                    b = torch.randn(m, n, device="cuda").to(dtype)
                    c = torch.full((e, k, n), float("nan"), device="cuda", dtype=dtype)
                else:
                    b = torch.randn(e, n, k, device="cuda").to(dtype) if trans_b else torch.randn(e, k, n, device="cuda").to(dtype)
                    c = torch.full((m, n), float("nan"), device="cuda", dtype=dtype)
                ref = reference(a, b, counts, trans_a, trans_b)
                for on_device, accumulate in ((False, False), (True, False), (False, True), (True, True)):
                    counts_t = torch.tensor(counts, dtype=torch.int64, device="cuda" if on_device else "cpu")
                    # Accumulate: c0 random (rounded to dtype), expected c0 + a.b; the reference adds in float64.
                    c0 = torch.randn(c.shape, device="cuda").to(dtype) if accumulate else None
                    want = ref + c0.double() if accumulate else ref
                    # cutlass-sm90 once as Auto's tile choice leaves it, then once per forced tile.
                    runs = [(backend, {}) for backend in names]
                    runs += [("cutlass-sm90", {"GG_SM90_TILE": t}) for t in sm90_tiles
                             if sm90 and (t != CONTIGUOUS or contiguous_eligible(e, trans_a, accumulate))]
                    if sm90_knobs and sm90:
                        runs.append(("cutlass-sm90", dict(sm90_knobs)))
                    for backend, env in runs:
                        args = gg.args(a, b, c, counts_t, trans_a, trans_b, backend, accumulate)
                        st, why = gg.supported(args, backend)
                        if st:
                            continue
                        if accumulate:
                            c.copy_(c0)
                        else:
                            c.fill_(float("nan"))
                        if env:
                            backend = f"{backend}{env}"
                        what = f"{backend} {dtype} {form} dev={on_device} acc={accumulate} m={m} k={k} n={n} e={e}"
                        try:
                            with knobs_set(env):
                                gg.gmm_args(args)  # raises GroupedGemmError "gg_gmm: <status>: <message>"
                                torch.cuda.synchronize()
                        except RuntimeError as ex:
                            failures.append(f"{what}: {ex}")
                            continue
                        denom = want.norm().item()
                        err = (c.double() - want).norm().item() / denom if denom > 0 else (c.double() - want).norm().item()
                        ok = math.isfinite(err) and err <= BOUNDS[dtype]
                        rows += 1
                        if not ok:
                            failures.append(f"{what} {routing}: rel err {err:.3e}")
        if memory_each_shape:
            print(f"memory after m={m} k={k} n={n} e={e} {routing}: {card_memory()}", flush=True)
    return rows


# More of the second rule's calls (trans_b forwards on the decode tile, at most 128 rows), with --routed-only only
# (their float64 weight gradients cost a default run's memory under the sanitizer): one live expert of 16 rows; zipf
# over 8 at 64 rows (row tiles near the bound of 4); 16 experts at n = 1024 (a bound of 8), one live and zipf; k not a
# multiple of 64 (4104), one live expert of 48 rows.
ROUTED_MORE = [(16, 4096, 2048, 8, "one"), (64, 4096, 2048, 8, "zipf"), (128, 4096, 1024, 16, "one"),
               (128, 4096, 1024, 16, "zipf"), (48, 4104, 2048, 8, "one")]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lib", default="artifacts/native/libgroupedgemm.so")
    p.add_argument("--sm90-tiles", default="", help="comma list of GG_SM90_TILE names to check one by one as well")
    p.add_argument("--sm90-knobs", default="",
                   help="KEY=VALUE[,KEY=VALUE]: one more cutlass-sm90 run of every call with these tuning knobs set "
                        "(GG_SM90_DECODE_WGRAD=4096: the decode weight-gradient kernel on every weight gradient with device "
                        "counts; GG_SM90_ROUTE=192: the device's choice between the contiguous kernel and the 128x256 "
                        "tile on any card, which Auto makes on an H100 without it); needs a tuning or experiment build")
    p.add_argument("--shard", default="0/1", help="I/N: check only every N-th (shape, dtype, form) starting at I")
    p.add_argument("--backends", default="",
                   help="comma list of backend names to call (default: every one compiled in); 'none' calls none, so that "
                        "only the script's own tensors and float64 reference run")
    p.add_argument("--memory-each-shape", action="store_true",
                   help="print the card's free memory and what PyTorch holds after each shape")
    routed = p.add_mutually_exclusive_group()
    routed.add_argument("--skip-routed", action="store_true",
                   help="the default list without its routed shapes (scripts/gpu-host.sh memcheck's shards, beside "
                        "--routed-only: under the sanitizer none of PyTorch's allocations is freed, and these shapes' "
                        "float64 references ran two of six shards out of an H100's memory)")
    routed.add_argument("--routed-only", action="store_true",
                   help="only the shapes of Auto's device route choices (the default list's last ones and "
                        "ROUTED_MORE), for a short run under compute-sanitizer (scripts/gpu-host.sh memcheck: "
                        "parity-routed)")
    o = p.parse_args()
    shard = tuple(int(x) for x in o.shard.split("/"))
    if len(shard) != 2 or not 0 <= shard[0] < shard[1]:
        p.error(f"--shard must be I/N with 0 <= I < N, got {o.shard}")
    if o.sm90_tiles:
        require_tuning_knobs(o.lib, "--sm90-tiles")
    knobs = parse_sm90_knobs(o.sm90_knobs, o.lib)
    gg = GroupedGemm(o.lib, torch.cuda.current_device())
    backends = None
    if o.backends:
        backends = [] if o.backends == "none" else o.backends.split(",")
        unknown = [b for b in backends if b not in gg.backends]
        if unknown:
            p.error(f"--backends: {', '.join(unknown)} not among this library's backends ({', '.join(gg.backends)})")
    print("device:", torch.cuda.get_device_name(), "torch", torch.__version__)
    failures = []
    shapes = [(256, 128, 64, 4, "uniform"), (1000, 256, 512, 16, "zipf"), (300, 64, 128, 1, "uniform"),
              (512, 128, 256, 8, "one"), (200, 65, 127, 5, "uniform"), (96, 0, 64, 3, "uniform"),
              (0, 64, 64, 4, "uniform"), (4096, 64, 64, 4096, "uniform"), (2048, 64, 64, 1024, "zipf"),
              (2048, 64, 64, 1025, "zipf"), (777, 64, 64, 33, "uniform"), (2048, 512, 1024, 64, "zipf"),
              # one expert far above the mean (weight gradients: one long reduction among short ones)
              (3000, 128, 256, 8, "one"), (6000, 64, 136, 16, "zipf"),
              # the largest expert last, moved to group 0 by cutlass-sm90's weight gradients: with the one-block scan of
              # more than 1024 experts, and with split-K of that expert (zipf over 4: it holds ~48%)
              (3000, 64, 72, 1100, "last"), (36871, 2048, 1024, 4, "last"),
              # n a multiple of 192 but not of 256 (gpt-oss's 2880 and 5760, shrunk as the sweep's float64 sample does):
              # Auto's cutlass-sm90 128x192 tile for weight gradients (576) and forwards of 256-1023 rows per expert
              # with n a multiple of 128 (384); k = 320 leaves a partial 128-row tile of dW
              (2048, 320, 576, 16, "zipf"), (8192, 320, 384, 16, "uniform"),
              # decode weight gradients with nearly every expert empty: cutlass-sm90 writes their zeros apart
              # (zero_empty_experts.cuh) over c filled with NaN; "one": every expert but one empty
              (4, 320, 576, 128, "uniform"), (64, 256, 512, 64, "zipf"), (2048, 320, 576, 64, "one"),
              # split-K of the largest expert (cutlass-sm90 weight gradients with device counts, >= 120 GFLOP, 64 tiles
              # of dW per expert): all rows in one expert, and zipf over 4 (the largest holds ~48%), odd chunk bounds
              (36864, 2048, 1024, 4, "one"), (36871, 2048, 1024, 4, "zipf"),
              # split-K of decode forwards (at most 32 rows, k >= 1024): every expert's k in chunks of whole 64-deep
              # steps; k = 1096 leaves a 136-deep last chunk; one live expert of 8; at most 8 rows and k >= 8192,
              # chunked as for one live expert (16 chunks) whether one or four experts hold the rows
              (8, 1024, 512, 16, "uniform"), (13, 1096, 264, 4, "zipf"), (32, 2048, 1024, 8, "one"),
              (4, 8192, 256, 16, "uniform"), (4, 8256, 264, 16, "one"),
              # the contiguous kernel's tiling, decided on the device (contiguous_tiling.h; Auto's tile for decode
              # classes, forced with --sm90-tiles contig256x128): 300 rows of one expert in 64-row tiles, 8 k chunks;
              # 10000 rows of one expert in 128-row tiles; 512 rows of one expert in 72 tiles of 64 rows, unsplit (a
              # jetmoe-sized 512 x 5632 x 2048 in its place took 704 MB a float64 operand; under compute-sanitizer each
              # shard ran out of the card's memory there, with 77 GB held by PyTorch)
              (300, 2048, 264, 4, "one"), (10000, 256, 128, 2, "one"), (512, 1024, 1152, 8, "one"),
              # the decode forward kernel (cutlass_common/decode_forward.cuh; --sm90-knobs GG_SM90_DECODE_FWD=256 on a
              # tuning or experiment build): one expert of 40 rows (three groups of 16), k with a partial 64-deep chunk,
              # n with a partial 32-column block; 1024 experts and 256 rows (its limits; each block walks 8 column
              # blocks, decode_groups::grid_column_blocks); 130 rows of one expert; 6 rows over 300 experts, most empty
              # (n = 264: 9 column blocks, the last partial; at n = 1032 its bf16 and fp16 weight gradients' float64
              # reference ran out of an H100's memory under compute-sanitizer, the 0.13.0 memcheck's shards 0 and 3);
              # 29 groups' blocks walking 129 column blocks, the last partial
              (40, 136, 72, 1, "uniform"), (256, 64, 1000, 1024, "zipf"), (130, 200, 48, 7, "one"),
              (6, 1024, 264, 300, "uniform"), (200, 128, 4104, 16, "zipf")]
    # The device route choice between the contiguous kernel and the 128x256 tile (tile_choice.h: device_route_rows),
    # which Auto makes on the H100's card class since 0.15.0 and a tuning build with --sm90-knobs GG_SM90_ROUTE=192 on
    # any card: forwards whose host tile is either, n a multiple of 256, at least 4096 rows and a wave of 128x256 tiles.
    # At R = 192: the contiguous kernel with every expert small (uniform, 128 rows each) and with a few large ones among
    # many small (zipf over 64), each time over the 128x256 tile's groups of no rows; the 128x256 tile with most rows in
    # large experts (zipf over 16), the contiguous kernel exiting at once. (The routed contiguous kernel cannot split k
    # from 4096 rows on with n a multiple of 256: its fewest tiles, 64 rows by 128 columns, fill half the SMs.) In the
    # default run since 0.15.0's release run, whose parity reached the contiguous kernel's side only through the knob,
    # which release builds do not read (docs/release.md, "The 0.15.0 run"). From here on the routed shapes (--routed-only).
    routed_from = len(shapes)
    shapes += [(8192, 256, 512, 64, "uniform"), (8192, 256, 512, 64, "zipf"), (8192, 256, 512, 16, "zipf")]
    # The device route choice between the contiguous kernel and the decode tile (tile_choice.h: decode_route_row_tiles),
    # trans_b forwards of at most 128 rows on the decode tile, on the H100's card class: n = 2048 (16 column tiles) gives
    # at most 4 row tiles to the contiguous kernel on 132 SMs. All rows in one expert: 1 row tile, the contiguous kernel
    # over the decode tile's groups of no rows; uniform over 8: 8 row tiles, the decode tile with the contiguous kernel
    # exiting at once. (k = 4096 is the smallest k whose class the measured tile table gives the decode tile.)
    shapes += [(32, 4096, 2048, 8, "one"), (32, 4096, 2048, 8, "uniform")]
    if o.routed_only:
        shapes = shapes[routed_from:] + ROUTED_MORE
    elif o.skip_routed:
        shapes = shapes[:routed_from]
    at = {}
    try:
        rows = parity(gg, shapes, failures, at, [t for t in o.sm90_tiles.split(",") if t], shard, knobs, backends,
                      o.memory_each_shape)
    except Exception as ex:  # torch.OutOfMemoryError, or AcceleratorError from a later call (PyTorch 2.11)
        # The inputs and the float64 reference are PyTorch's allocations: say which check and how much of the card was
        # free, so that the script's own size is told apart from memory the library holds.
        if "out of memory" not in str(ex):
            raise
        print(f"parity: out of memory at {at.get('unit', 'the start')}: {card_memory()}")
        raise
    # Wrong results first: a build without some kernels (an experiment build's GG_SM90_KERNELS) fails many calls with
    # BACKEND_NOT_COMPILED, which must not hide a wrong answer past the printed 60.
    not_compiled = [f for f in failures if "not compiled" in f]
    wrong = [f for f in failures if "not compiled" not in f]
    print(f"parity: {rows} checks, {len(failures)} failures ({len(wrong)} wrong or failed, {len(not_compiled)} kernels "
          "not compiled)")
    for f in (wrong + not_compiled)[:60]:
        print("  FAIL", f)
    print(f"memory at the end: {card_memory()}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
