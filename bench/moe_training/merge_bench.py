#!/usr/bin/env python3
"""Puts the .NET layer's --bench-train rows beside the PyTorch eager layer's (moe_layer_torch.py --json) and prints
the ratio .NET / PyTorch per row and PyTorch path: time of fwd and fwd+bwd, peak activation memory. A ratio below 1
means .NET is faster or smaller; the issue's bar is fwd+bwd <= 0.5 and peak <= 1 against grouped_mm at the seed size.

Usage: python3 bench/moe_training/merge_bench.py NET.json TORCH.json
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        net = {(r["config"], r["routing"], r["form"]): r for r in json.load(f)}
    with open(sys.argv[2], encoding="utf-8") as f:
        torch_rows = json.load(f)
    print(f"{'config':6} {'routing':8} {'form':6} {'torch path':10} {'net fwd':>8} {'torch fwd':>9} {'ratio':>6} "
          f"{'net f+b':>8} {'torch f+b':>9} {'ratio':>6} {'net MiB':>8} {'torch MiB':>9} {'ratio':>6}")
    missing = 0
    for t in torch_rows:
        key = (t["config"], t["routing"], t["form"])
        n = net.get(key)
        if n is None:
            missing += 1
            print(f"{key[0]:6} {key[1]:8} {key[2]:6} {t['path']:10} (no .NET row)")
            continue
        print(f"{key[0]:6} {key[1]:8} {key[2]:6} {t['path']:10} "
              f"{n['fwd_ms']:8.3f} {t['fwd_ms']:9.3f} {n['fwd_ms'] / t['fwd_ms']:6.2f} "
              f"{n['fwd_bwd_ms']:8.3f} {t['fwd_bwd_ms']:9.3f} {n['fwd_bwd_ms'] / t['fwd_bwd_ms']:6.2f} "
              f"{n['peak_activation_mib']:8.1f} {t['peak_activation_mib']:9.1f} "
              f"{n['peak_activation_mib'] / t['peak_activation_mib']:6.2f}")
    cards = {r.get("card") for r in list(net.values()) + torch_rows}
    if len(cards) > 1:
        print(f"warning: the rows come from different cards: {sorted(c for c in cards if c)}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
