#!/usr/bin/env python3
"""The sweep report of one card over the newest run of every part.

A card's folder (docs/h100/) keeps each sweep run's part folders in a packed archive of its own (sweep-0.7.0/,
sweep-0.9.0/, sweep-older-libraries/, ...: <folder>/parts.tar.xz). The card's report (<card folder>/sweep.md,
sweep-results.json, sweep-distribution.png) is the one over the newest run of each part, the part's torch.json
environment date_utc deciding, so that a part run again on a newer library replaces its older run and nothing else.

    python3 bench/sweep/report_newest.py docs/h100 [--bench-exe .gpu/GroupedGemm.Bench] [--dry-run]

Prints which archive each part comes from, then runs bench/run_sweep.sh --report into the card's folder.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_SWEEP = os.path.join(HERE, "..", "run_sweep.sh")


def part_date(folder: str) -> str:
    """The part's timing date (ISO 8601, so that strings order as times), or '' when it has none."""
    try:
        with open(os.path.join(folder, "torch.json"), encoding="utf-8") as f:
            return json.load(f).get("environment", {}).get("date_utc", "")
    except (OSError, ValueError):
        return ""


def newest_parts(card_folder: str, unpack_to: str) -> dict[str, tuple[str, str, str]]:
    """Part folder name -> (date, archive, unpacked folder) of its newest run over the card's archives."""
    chosen: dict[str, tuple[str, str, str]] = {}
    for archive in sorted(glob.glob(os.path.join(card_folder, "*", "parts.tar.xz"))):
        target = os.path.join(unpack_to, os.path.basename(os.path.dirname(archive)))
        os.makedirs(target, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
        for plan in glob.glob(os.path.join(target, "*", "plan.json")):
            folder = os.path.dirname(plan)
            name, date = os.path.basename(folder), part_date(folder)
            if name not in chosen or date > chosen[name][0]:
                chosen[name] = (date, os.path.relpath(archive), folder)
    return chosen


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("card_folder", help="a card's folder of sweep archives, such as docs/h100")
    p.add_argument("--bench-exe", help="the published GroupedGemm.Bench (run_sweep.sh's default: .gpu/GroupedGemm.Bench)")
    p.add_argument("--dry-run", action="store_true", help="print the choice only")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sweep-parts-") as unpack_to:
        chosen = newest_parts(args.card_folder, unpack_to)
        if not chosen:
            print(f"report_newest: no <folder>/parts.tar.xz under {args.card_folder}", file=sys.stderr)
            return 2
        for name, (date, archive, _) in sorted(chosen.items()):
            print(f"{name}\t{date or 'no date'}\t{archive}")
        if args.dry_run:
            return 0
        command = ["bash", RUN_SWEEP, "--report", "--out", args.card_folder]
        if args.bench_exe:
            command[2:2] = ["--bench-exe", args.bench_exe]
        for _, _, folder in sorted(chosen.values(), key=lambda c: os.path.basename(c[2])):
            command += ["--in", folder]
        return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
