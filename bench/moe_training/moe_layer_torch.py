#!/usr/bin/env python3
"""The PyTorch eager MoE layer of the seed, timed forward and forward + backward, with its peak memory.

The layer is the seed's VectorizedMoeFeedForward / VectorizedGatedMoeFeedForward as PyTorch code would write it:
router x.Wr (+ the Zipf bias under --routing zipf), softmax, top-k (renormalised with --renormalize), argsort
dispatch, the experts as torch._grouped_mm (path "grouped_mm") or as a zero-padded torch.bmm over
[E, max rows, ...] (path "bmm", the seed's old path), the top-k weights, index_add combine, and dense shared
experts. Biases for plain experts, none for gated ones (W1 [E, D, 2H], act(gate) * up), as the sample's layer.

Timing: CUDA events around every call, --warmup untimed calls, the median of --iters; "fwd" runs under
torch.no_grad() (inference), "fwd+bwd" runs the forward with autograd and out.backward(dy) with a fixed random dy,
gradients of x, every parameter and the router (through the top-k weights). Peak memory: the largest
torch.cuda.max_memory_allocated() during one fwd+bwd step above what the parameters, inputs and dy hold ("peak
activation memory").

Usage: python3 bench/moe_training/moe_layer_torch.py [--configs seed,small,large] [--routings uniform,zipf]
       [--forms plain,gated] [--paths grouped_mm,bmm] [--iters 50] [--warmup 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

import torch
import torch.nn.functional as F

# The seed's layer (tokens 2048 = batch 4 x 512, E 80, top-8, one shared expert) at its three widths.
CONFIGS = {
    "small": dict(tokens=2048, embed_dim=256, hidden_dim=1024, experts=80, top_k=8, shared=1),
    "seed": dict(tokens=2048, embed_dim=512, hidden_dim=2048, experts=80, top_k=8, shared=1),
    "large": dict(tokens=2048, embed_dim=1024, hidden_dim=4096, experts=80, top_k=8, shared=1),
}


class EagerMoe(torch.nn.Module):
    def __init__(self, cfg, gated, path, routing, renormalize, dtype, device, seed):
        super().__init__()
        g = torch.Generator(device="cpu").manual_seed(seed)
        d, h, e, s = cfg["embed_dim"], cfg["hidden_dim"], cfg["experts"], cfg["shared"]
        f = 2 * h if gated else h

        def uniform(*shape, fan_in):
            bound = fan_in ** -0.5
            return torch.nn.Parameter(((torch.rand(*shape, generator=g) * 2 - 1) * bound).to(device, dtype))

        self.gated, self.path, self.renormalize, self.top_k, self.h = gated, path, renormalize, cfg["top_k"], h
        self.act = F.silu if gated else F.gelu
        self.router = uniform(d, e, fan_in=d)
        self.w1, self.w2 = uniform(e, d, f, fan_in=d), uniform(e, h, d, fan_in=h)
        self.b1 = None if gated else uniform(e, f, fan_in=d)
        self.b2 = None if gated else uniform(e, d, fan_in=h)
        self.sw1 = uniform(s, d, f, fan_in=d) if s else None
        self.sw2 = uniform(s, h, d, fan_in=h) if s else None
        self.sb1 = None if gated or not s else uniform(s, f, fan_in=d)
        self.sb2 = None if gated or not s else uniform(s, d, fan_in=h)
        self.zipf = None
        if routing == "zipf":  # log(1/(e+1)) + Gumbel: the top-k draws experts with probability ~ 1/(e+1)
            gumbel = -torch.log(-torch.log(torch.rand(cfg["tokens"], e, generator=g).clamp_min(1e-20)))
            self.zipf = (-torch.log(torch.arange(1, e + 1, dtype=torch.float32)) + gumbel).to(device, dtype)

    def hidden(self, first):
        return self.act(first[:, :self.h]) * first[:, self.h:] if self.gated else self.act(first)

    def experts(self, xs, expert_of_row, counts):
        if self.path == "grouped_mm":
            offs = torch.cumsum(counts, 0, dtype=torch.int32)
            first = torch._grouped_mm(xs, self.w1, offs=offs)
            if self.b1 is not None:
                first = first + self.b1[expert_of_row]
            y = torch._grouped_mm(self.hidden(first), self.w2, offs=offs)
            return y + self.b2[expert_of_row] if self.b2 is not None else y
        # Padded bmm: every expert padded to the largest one (the seed's old path).
        e, cap = counts.numel(), int(counts.max())
        starts = torch.cumsum(counts, 0) - counts
        pos = torch.arange(xs.shape[0], device=xs.device) - starts[expert_of_row]
        padded = xs.new_zeros(e, cap, xs.shape[1]).index_put((expert_of_row, pos), xs)
        first = torch.bmm(padded, self.w1)
        if self.b1 is not None:
            first = first + self.b1[:, None, :]
        hidden = self.hidden(first.reshape(-1, first.shape[-1])).reshape(e, cap, -1)
        y = torch.bmm(hidden, self.w2)
        if self.b2 is not None:
            y = y + self.b2[:, None, :]
        return y[expert_of_row, pos]

    def forward(self, x):
        tokens = x.shape[0]
        logits = x @ self.router
        if self.zipf is not None:
            logits = logits + self.zipf
        probs = torch.softmax(logits.float(), dim=-1)
        top_p, top_i = torch.topk(probs, self.top_k, dim=-1)
        weights = top_p / top_p.sum(dim=-1, keepdim=True) if self.renormalize else top_p
        flat = top_i.reshape(-1)
        order = torch.argsort(flat, stable=True)
        counts = torch.bincount(flat, minlength=self.router.shape[1])
        rows = order // self.top_k
        expert_of_row = flat[order]
        y = self.experts(x[rows], expert_of_row, counts)
        y = y * weights.reshape(-1)[order, None].to(y.dtype)
        out = torch.zeros_like(x).index_add(0, rows, y)
        for j in range(0 if self.sw1 is None else self.sw1.shape[0]):
            first = x @ self.sw1[j]
            if self.sb1 is not None:
                first = first + self.sb1[j]
            ys = self.hidden(first) @ self.sw2[j]
            out = out + (ys + self.sb2[j] if self.sb2 is not None else ys)
        return out


def median_ms(fn, iters, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configs", default="seed,small,large")
    ap.add_argument("--routings", default="uniform,zipf")
    ap.add_argument("--forms", default="plain,gated")
    ap.add_argument("--paths", default="grouped_mm,bmm")
    ap.add_argument("--renormalize", action="store_true")
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--json", default="")
    o = ap.parse_args()
    dtype, device = getattr(torch, o.dtype), "cuda"
    rows = []
    print(f"card: {torch.cuda.get_device_name()}, torch {torch.__version__}, {o.dtype}, median of {o.iters} after {o.warmup}")
    print(f"{'config':6} {'routing':8} {'form':6} {'path':10} {'fwd ms':>8} {'fwd+bwd ms':>11} {'peak act MiB':>13}")
    for name in o.configs.split(","):
        cfg = CONFIGS[name]
        for routing in o.routings.split(","):
            for form in o.forms.split(","):
                for path in o.paths.split(","):
                    torch.cuda.empty_cache()
                    layer = EagerMoe(cfg, form == "gated", path, routing, o.renormalize, dtype, device, o.seed)
                    g = torch.Generator(device="cpu").manual_seed(o.seed + 1)
                    x = torch.randn(cfg["tokens"], cfg["embed_dim"], generator=g).to(device, dtype).requires_grad_(True)
                    dy = torch.randn(cfg["tokens"], cfg["embed_dim"], generator=g).to(device, dtype)

                    def fwd():
                        with torch.no_grad():
                            layer(x)

                    def step():
                        layer.zero_grad(set_to_none=True)
                        x.grad = None
                        layer(x).backward(dy)

                    fwd_ms = median_ms(fwd, o.iters, o.warmup)
                    step_ms = median_ms(step, o.iters, o.warmup)
                    layer.zero_grad(set_to_none=True)
                    x.grad = None
                    torch.cuda.synchronize()
                    base = torch.cuda.memory_allocated()
                    torch.cuda.reset_peak_memory_stats()
                    step()
                    torch.cuda.synchronize()
                    peak = (torch.cuda.max_memory_allocated() - base) / 2**20
                    row = dict(config=name, routing=routing, form=form, path=path, dtype=o.dtype, fwd_ms=fwd_ms,
                               fwd_bwd_ms=step_ms, peak_activation_mib=peak, card=torch.cuda.get_device_name(), **cfg)
                    rows.append(row)
                    print(f"{name:6} {routing:8} {form:6} {path:10} {fwd_ms:8.3f} {step_ms:11.3f} {peak:13.1f}", flush=True)
                    del layer, x, dy
    if o.json:
        with open(o.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
