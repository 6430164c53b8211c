#!/usr/bin/env python3
"""Checks experiment plans (bench/sweep/plans/*.txt, read by `scripts/gpu-host.sh experiment`) on this machine, so that
a typo costs no GPU time: every line is "forms tokens routings variants [models]" ('#' comments), and
- each form is one of bench/problems.py's FORMS;
- each variant is `auto` or a tile of sm90_tiles.def with options bench/tune_sm90.py's `variant` accepts (its own
  parser and tile list: no second copy here);
- tokens, routings and models are those of the sweep problems the experiment step reads (the part archives under
  docs/h100/, one part of each model), and the line selects at least one problem.

  python3 bench/sweep/check_plans.py [PLAN ...]     (default: every plan in bench/sweep/plans/)
  python3 bench/sweep/check_plans.py --problem-files DEST [MODEL,...]
      writes DEST/<model>.json for the models (default all) and prints their paths, comma-separated: the problems
      a plan line times, for the experiment step (one reading of the archives for both)

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


def problem_docs(root: str = ROOT) -> dict[str, dict]:
    """Each model's problems.json (the whole document), from the first part archive under docs/h100/ holding one of
    its parts: what the experiment step times (scripts/gpu-host.sh: step_experiment asks --problem-files for them).
    Every archive holding a model holds the same problems for it (a part's problems come from bench/sweep/models.json)."""
    docs: dict[str, dict] = {}
    for archive in sorted(glob.glob(os.path.join(root, "docs", "h100", "*", "parts.tar.xz"))):
        with tarfile.open(archive, "r:xz") as tar:
            for member in tar.getmembers():
                if not member.isfile() or os.path.basename(member.name) != "problems.json":
                    continue
                # Some archives name their members "./part/...": the part is the first real folder.
                folder = [p for p in member.name.split("/") if p not in ("", ".")][0]
                model = folder.split("__")[0]
                if model in docs:
                    continue
                with tar.extractfile(member) as f:
                    docs[model] = json.load(f)
    return docs


def sweep_problems(root: str = ROOT) -> dict[str, list[dict]]:
    """The problems of each model (problem_docs), as the plan lines select them."""
    return {model: doc["problems"] for model, doc in problem_docs(root).items()}


def write_problem_files(dest: str, models: list[str], root: str = ROOT) -> tuple[list[str], list[str]]:
    """dest/<model>.json for each model (every model when none is named): the paths, and the models with no part."""
    docs = problem_docs(root)
    os.makedirs(dest, exist_ok=True)
    paths, missing = [], [m for m in models if m not in docs]
    for model in models or sorted(docs):
        if model in docs:
            path = os.path.join(dest, f"{model}.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(docs[model], f)
            paths.append(path)
    return paths, missing


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
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    if argv[:1] == ["--problem-files"]:
        if len(argv) not in (2, 3):
            print("usage: check_plans.py --problem-files DEST [MODEL,MODEL...]", file=sys.stderr)
            return 2
        paths, missing = write_problem_files(argv[1], [m for m in (argv[2] if len(argv) == 3 else "").split(",") if m])
        for model in missing:
            print(f"check_plans: no part of {model} in the archives under docs/h100/", file=sys.stderr)
        print(",".join(paths))
        return 1 if missing or not paths else 0
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
