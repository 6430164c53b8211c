#!/usr/bin/env python3
"""Checks experiment plans (bench/sweep/plans/*.txt, read by `scripts/gpu-host.sh experiment`) on this machine, so that
a typo costs no GPU time: every line is "forms tokens routings variants [models]" ('#' comments), and
- each form is one of bench/problems.py's FORMS;
- each variant is `auto` or a tile of sm90_tiles.def with options bench/tune_sm90.py's `variant` accepts (its own
  parser and tile list: no second copy here);
- tokens, routings and models are those of the sweep problems the experiment step reads (the part archives under
  docs/h100/, one part of each model), and the line selects at least one problem.

  python3 bench/sweep/check_plans.py [PLAN ...]     (default: every plan in bench/sweep/plans/)

Exit 0 when every plan passes, 1 with one line per fault otherwise. Python 3 only, no torch.
"""

from __future__ import annotations

import glob
import json
import os
import sys
import tarfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
import problems as pf  # noqa: E402
import tune_sm90  # noqa: E402  (imports torch only when it times)


def sweep_problems(root: str = ROOT) -> dict[str, list[dict]]:
    """The problems of each model, from the first part archive holding one of its parts, as the experiment step
    takes them (scripts/gpu-host.sh: step_experiment)."""
    by_model: dict[str, list[dict]] = {}
    for archive in sorted(glob.glob(os.path.join(root, "docs", "h100", "*", "parts.tar.xz"))):
        with tarfile.open(archive, "r:xz") as tar:
            for member in tar.getmembers():
                if not member.isfile() or os.path.basename(member.name) != "problems.json":
                    continue
                model = member.name.split("/")[0].split("__")[0]
                if model in by_model:
                    continue
                with tar.extractfile(member) as f:
                    by_model[model] = json.load(f)["problems"]
    return by_model


def check_line(fields: list[str], by_model: dict[str, list[dict]]) -> list[str]:
    """The faults of one plan line, as messages naming the field and its value."""
    if len(fields) not in (4, 5):
        return [f"{len(fields)} fields: a line is 'forms tokens routings variants [models]'"]
    forms, tokens, routings, variants = (f.split(",") for f in fields[:4])
    models = fields[4].split(",") if len(fields) == 5 else sorted(by_model)
    faults = [f"form '{f}' (known: {', '.join(pf.FORMS)})" for f in forms if f not in pf.FORMS]
    for v in variants:
        tile = v.split("@")[0]
        if tile != "auto" and tile not in tune_sm90.TILES:
            faults.append(f"variant '{v}': tile '{tile}' is not in sm90_tiles.def (known: auto, {', '.join(tune_sm90.TILES)})")
            continue
        try:
            tune_sm90.variant(v)
        except ValueError as e:
            faults.append(str(e))
    unknown = [m for m in models if m not in by_model]
    faults += [f"model '{m}' has no part in docs/h100/*/parts.tar.xz" for m in unknown]
    known = [p for m in models if m in by_model for p in by_model[m]]
    all_tokens = sorted({p["tokens"] for p in known})
    all_routings = sorted({p["routing"] for p in known})
    for t in tokens:
        if not t.isdigit() or int(t) not in all_tokens:
            faults.append(f"tokens '{t}' (the problems have {', '.join(map(str, all_tokens))})")
    faults += [f"routing '{r}' (the problems have {', '.join(all_routings)})" for r in routings if r not in all_routings]
    if not faults:
        chosen = [p for p in known if str(p["tokens"]) in tokens and p["routing"] in routings]
        if not chosen:
            faults.append("selects no problem")
    return faults


def check_plan(path: str, by_model: dict[str, list[dict]]) -> list[str]:
    faults = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            faults += [f"{os.path.relpath(path, ROOT)}:{number}: {fault}" for fault in check_line(fields, by_model)]
    return faults


def main(argv: list[str]) -> int:
    plans = argv or sorted(glob.glob(os.path.join(HERE, "plans", "*.txt")))
    by_model = sweep_problems()
    if not by_model:
        print("check_plans: no part archive under docs/h100/", file=sys.stderr)
        return 1
    faults = [fault for plan in plans for fault in check_plan(plan, by_model)]
    for fault in faults:
        print(fault)
    print(f"check_plans: {len(plans)} plans, {len(faults)} faults")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
