#!/usr/bin/env python3
"""The sample's --train run, repeated in PyTorch, and the two loss curves compared.

The sample (`GroupedGemm.MoE --train --export DIR`) writes its layer's configuration, the student's initial
parameters, the teacher's parameters, the held-out batch, the first 100 training batches and its own losses
(DIR/manifest.json + DIR/tensors.bin, see samples/GroupedGemm.MoE/Training/TrainingExport.cs). This script builds
the same layer in PyTorch from those parameters (router softmax, top-k, optional renormalisation, argsort dispatch,
per-expert FFN, index_add combine, shared experts, Switch load-balancing loss with the expert fractions as
constants), trains it with torch.optim.AdamW on the same batches, and checks that its training loss agrees with the
sample's at every exported step within --rtol.

Usage:  python3 bench/moe_training/train_torch.py DIR [--device cpu|cuda] [--dtype float64|float32] [--rtol 1e-6]
Exit status: 0 when the curves agree, 1 when they do not, 2 on a bad export.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F


def load(directory):
    with open(os.path.join(directory, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    if manifest.get("format") != "groupedgemm-moe-training-1":
        raise SystemExit(f"{directory}: not a groupedgemm-moe-training-1 export")
    blob = open(os.path.join(directory, "tensors.bin"), "rb").read()

    def tensor(entry):
        count = math.prod(entry["shape"])
        data = torch.frombuffer(bytearray(blob[entry["offset"]:entry["offset"] + 8 * count]), dtype=torch.float64)
        return data.reshape(entry["shape"])  # the file is little-endian, as every host torch runs on

    params = {e["name"]: tensor(e) for e in manifest["tensors"]}
    batches = [tensor(e) for e in manifest["batches"]]
    return manifest, params, batches, tensor(manifest["eval_x"])


def activate(name, x):
    if name == "gelu":
        return F.gelu(x)  # exact (erf) form, as the sample's
    if name == "silu":
        return F.silu(x)
    if name == "relu":
        return F.relu(x)
    if name == "none":
        return x
    raise SystemExit(f"unknown activation {name}")


def experts_ffn(cfg, p, prefix, e, x):
    """One expert's FFN on rows x: first = x.W1[e] + b1[e]; hidden = act(first) or act(gate).up; y = hidden.W2[e] + b2[e]."""
    first = x @ p[prefix + "w1"][e]
    if prefix + "b1" in p:
        first = first + p[prefix + "b1"][e]
    h = cfg["hidden_dim"]
    hidden = activate(cfg["activation"], first[:, :h]) * first[:, h:] if cfg["gated"] else activate(cfg["activation"], first)
    y = hidden @ p[prefix + "w2"][e]
    if prefix + "b2" in p:
        y = y + p[prefix + "b2"][e]
    return y


def forward(cfg, p, x):
    """The sample's layer (ReferenceMoe.Forward): returns the output [T, D] and the load-balancing loss."""
    tokens, experts, k = x.shape[0], cfg["num_experts"], cfg["top_k"]
    probs = torch.softmax(x @ p["router"], dim=-1)
    top_p, top_i = torch.topk(probs, k, dim=-1)  # descending; exact ties have probability ~0 with float64 data
    weights = top_p / top_p.sum(dim=-1, keepdim=True) if cfg["renormalize"] else top_p
    flat_expert = top_i.reshape(-1)
    order = torch.argsort(flat_expert, stable=True)  # dispatch sorted by expert, as the device's counting sort
    counts = torch.bincount(flat_expert, minlength=experts)
    out = torch.zeros_like(x)
    start = 0
    for e in range(experts):
        slots = order[start:start + int(counts[e])]
        start += int(counts[e])
        if slots.numel() == 0:
            continue
        rows = slots // k
        y = experts_ffn(cfg, p, "routed.", e, x[rows])
        out = out.index_add(0, rows, weights.reshape(-1)[slots, None] * y)
    for j in range(cfg["num_shared"]):
        out = out + experts_ffn(cfg, p, "shared.", j, x)
    fraction = counts.to(x.dtype) / (tokens * k)  # a count: constant, as in the sample
    aux = experts * (fraction * probs.mean(dim=0)).sum()
    return out, aux


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("export_dir")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--rtol", type=float, default=1e-6,
                    help="largest relative difference of the training loss allowed at any exported step")
    o = ap.parse_args()
    manifest, raw, batches, eval_x = load(o.export_dir)
    dtype = getattr(torch, o.dtype)
    cfg, opt = manifest["config"], manifest["optimizer"]
    student = {n[len("student."):]: t.to(o.device, dtype).requires_grad_(True) for n, t in raw.items() if n.startswith("student.")}
    teacher = {n[len("teacher."):]: t.to(o.device, dtype) for n, t in raw.items() if n.startswith("teacher.")}
    # The sample's parameter order (router, routed, shared), so that AdamW sees the same tensors.
    optimizer = torch.optim.AdamW(list(student.values()), lr=opt["lr"], betas=(opt["beta1"], opt["beta2"]),
                                  eps=opt["eps"], weight_decay=opt["weight_decay"])
    coef = manifest["aux_coefficient"]
    eval_x = eval_x.to(o.device, dtype)
    with torch.no_grad():
        eval_target = forward(cfg, teacher, eval_x)[0]
        eval_before = F.mse_loss(forward(cfg, student, eval_x)[0], eval_target).item()
    print(f"device {o.device}, {o.dtype}, torch {torch.__version__}; layer {cfg}; AdamW {opt}; aux coefficient {coef}")
    worst = 0.0
    theirs = {row["step"]: row for row in manifest["losses"]}
    for step, x in enumerate(batches, start=1):
        x = x.to(o.device, dtype)
        with torch.no_grad():
            target = forward(cfg, teacher, x)[0]
        out, aux = forward(cfg, student, x)
        mse = F.mse_loss(out, target)
        optimizer.zero_grad(set_to_none=True)
        (mse + coef * aux).backward()
        optimizer.step()
        sample = theirs[step]["mse"]
        rel = abs(mse.item() - sample) / abs(sample)
        worst = max(worst, rel)
        if step == 1 or step % 10 == 0 or step == len(batches):
            print(f"step {step:4d}  torch mse {mse.item():.10e}  sample mse {sample:.10e}  rel diff {rel:.2e}  "
                  f"aux {aux.item():.6f} / {theirs[step]['aux']:.6f}")
    ok = worst <= o.rtol
    print(f"{len(batches)} steps: largest relative difference of the training loss {worst:.3e} "
          f"({'within' if ok else 'ABOVE'} --rtol {o.rtol:g}); held-out mse before: torch {eval_before:.6e}, "
          f"sample {manifest['eval_mse_before']:.6e}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
