#!/usr/bin/env python3
"""Auto's rules for the decode kernels, derived from same-loop measurements (bench/sweep/decode-rules.json lists them).

A rule sends a call to its decode kernel when it has at most R rows (m) and its live experts' weights are at most B
bytes: min(m, E) experts' k x n elements (decode_groups::weight_bytes_bound). For each rule this script tries every R
of rows_bounds and B of mib_bounds on its inputs (each row: the kernel's time, the GEMM path's time, torch's time) and
picks by these steps:
  1. admissible: no row the rule takes falls below 1.0x torch where the GEMM path was at 1.0x or above, nor below 0.9x
     where the GEMM path was at 0.9x or above (the sweep's bars: the rule adds no row to either count), and every row it
     takes has a kernel time;
  2. score: the lowest, over the rule's inputs (one per card and scale mode), of the geometric mean of the GEMM path's
     time over the chosen time, across every row of the input (rows the rule does not take count 1.0);
  3. the smallest R, then the smallest B, whose score is within 0.2 % of the best admissible score (R = 0: never).

usage: decode_rules.py [--table] [--check] [--probe PROGRAM]
  --table  every candidate's score per input
  --check  exit 1 unless the code's constants (each rule's "code": a header and the names of its bounds) are the picks;
           the gg_decode_rules ctest runs this
  --probe  native/tests' gg_decode_groups_test: with --check, also exit 1 unless this script's weight_bytes is the
           code's decode_groups::weight_bytes_bound on every row of every input (the program prints the code's value)
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SPEC = os.path.join(ROOT, "bench", "sweep", "decode-rules.json")
TOLERANCE = 0.002


def load_rows(spec):
    """(card, rows) of one input: rows as dicts of m, experts, k, n and the kernel's, the GEMM path's and torch's times
    (ms)."""
    with open(os.path.join(ROOT, spec["file"])) as f:
        data = json.load(f)
    rows = []
    if spec["format"] == "experiment":  # bench/tune_sm90.py via gpu-host.sh experiment
        for x in data["rows"]:
            if x["form"] != spec["form"]:
                continue
            ms = x["median_ms"]
            rows.append(dict(id=x["problem"], m=x["m"], experts=x["experts"], k=x["k"], n=x["n"],
                             kernel=ms.get(spec["kernel"]), gemm=ms[spec["gemm"]], torch=ms["torch._grouped_mm"]))
    elif spec["format"] == "fp8_bench":  # bench/fp8_bench.py --json
        for x in data["results"]:
            ms = x["ms"]
            if spec["gemm"] not in ms:
                continue
            rows.append(dict(id=x["id"], m=x["m"], experts=x["experts"], k=x["k"], n=x["n"],
                             kernel=ms.get(spec["kernel"]), gemm=ms[spec["gemm"]], torch=ms["torch-scaled-grouped"]))
    else:
        raise SystemExit(f"{spec['file']}: unknown format {spec['format']!r}")
    if not rows:
        raise SystemExit(f"{spec['file']}: no rows for {spec}")
    return data["device"], rows


def weight_bytes(row, element_bytes):
    # decode_groups::weight_bytes_bound's twin; --probe checks them against each other
    return min(row["m"], row["experts"]) * row["k"] * row["n"] * element_bytes


def takes(row, element_bytes, rows_bound, byte_bound):
    """Whether a rule of these bounds sends the row's call to its decode kernel (the code's test, tile_choice.h:
    decode_forward and fp8/scaled_dispatch.cpp: decode_auto_supports)."""
    return row["m"] <= rows_bound and weight_bytes(row, element_bytes) <= byte_bound


def probe_mismatches(program, cases):
    """Rows of `cases` ((row, element_bytes) pairs) where weight_bytes differs from what `program --weight-bytes`
    prints for them (decode_groups::weight_bytes_bound), as messages."""
    lines = "".join(f"{r['m']} {r['experts']} {r['k']} {r['n']} {eb}\n" for r, eb in cases)
    out = subprocess.run([program, "--weight-bytes"], input=lines, capture_output=True, text=True, check=True).stdout
    code = [float(v) for v in out.split()]
    if len(code) != len(cases):
        return [f"{program} printed {len(code)} values for {len(cases)} rows"]
    return [f"{r['id']} (m {r['m']}, {r['experts']} experts, k {r['k']}, n {r['n']}, {eb} B): this script "
            f"{weight_bytes(r, eb)}, the code {c:.17g}" for (r, eb), c in zip(cases, code) if weight_bytes(r, eb) != c]


def evaluate(inputs, element_bytes, rows_bound, byte_bound):
    """(admissible, why not, score, per-input geometric means) of one candidate."""
    means, why = [], ""
    for name, rows in inputs:
        logs = []
        for r in rows:
            if not takes(r, element_bytes, rows_bound, byte_bound):
                logs.append(0.0)
                continue
            if r["kernel"] is None:
                why = why or f"{name} {r['id']}: no kernel time"
                logs.append(0.0)
                continue
            ours, before = r["torch"] / r["kernel"], r["torch"] / r["gemm"]
            if (ours < 1.0 <= before) or (ours < 0.9 <= before):
                why = why or f"{name} {r['id']}: {ours:.2f}x torch, {before:.2f}x on the GEMM path"
            logs.append(math.log(r["gemm"] / r["kernel"]))
        means.append(math.exp(sum(logs) / len(logs)))
    return not why, why, min(means), means


def below_counts(rows, element_bytes, rows_bound, byte_bound):
    """Rows below 0.9x and below 1.0x torch over every row of one input when the rule takes what the bounds say (the
    kernel's time) and the GEMM path runs the rest: what the sweep's bars count. pick's test looks only at the rows a
    rule takes, so a smaller bound that hands rows back to a slower GEMM path passes it (docs/perf-notes.md, "An FP8
    rule per scale mode"); the summary prints these counts beside the pick for that reason."""
    below_09 = below_10 = 0
    for r in rows:
        taken = takes(r, element_bytes, rows_bound, byte_bound) and r["kernel"] is not None
        ratio = r["torch"] / (r["kernel"] if taken else r["gemm"])
        below_09 += ratio < 0.9
        below_10 += ratio < 1.0
    return below_09, below_10


def pick(rule, spec_rows, spec_mib):
    inputs = []
    for s in rule["inputs"]:
        card, rows = load_rows(s)
        inputs.append((f"{card}, {os.path.basename(s['file'])}", rows))
    candidates = []
    for rows_bound in spec_rows:
        for mib in spec_mib:
            ok, why, score, means = evaluate(inputs, rule["element_bytes"], rows_bound, mib * 2**20)
            candidates.append(dict(rows=rows_bound, mib=mib, ok=ok, why=why, score=score, means=means))
    best = max(c["score"] for c in candidates if c["ok"])
    chosen = min((c for c in candidates if c["ok"] and c["score"] >= best * (1 - TOLERANCE)),
                 key=lambda c: (c["rows"], c["mib"]))
    return inputs, candidates, chosen


def code_value(path, name):
    """The value of `name = <number or product of numbers>;` in a header (the policy's field or constant)."""
    with open(os.path.join(ROOT, path)) as f:
        text = f.read()
    found = re.findall(rf"\b{re.escape(name)}\s*=\s*([0-9.\s*]+);", text)
    if len(found) != 1:
        raise SystemExit(f"{path}: expected one assignment of {name}, found {len(found)}")
    value = 1.0
    for factor in found[0].split("*"):
        value *= float(factor)
    return value


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--table", action="store_true")
    p.add_argument("--check", action="store_true")
    p.add_argument("--probe", metavar="PROGRAM")
    o = p.parse_args()
    with open(SPEC) as f:
        spec = json.load(f)
    mismatches = 0
    cases = []
    for name, rule in spec["rules"].items():
        inputs, candidates, chosen = pick(rule, spec["rows_bounds"], spec["mib_bounds"])
        cases += [(r, rule["element_bytes"]) for _, rows in inputs for r in rows]
        bounds = (f"rows <= {chosen['rows']}, live weights <= {chosen['mib']} MiB" if chosen["rows"] else "never")
        print(f"{name}: {bounds}; score {chosen['score']:.3f} ("
              + ", ".join(f"{n} {m:.3f}" for (n, _), m in zip(inputs, chosen["means"])) + ")")
        for n, rows in inputs:
            never = below_counts(rows, rule["element_bytes"], 0, 0)
            ruled = below_counts(rows, rule["element_bytes"], chosen["rows"], chosen["mib"] * 2**20)
            print(f"  {n}: rows below 0.9x / 1.0x torch {never[0]} / {never[1]} on the GEMM path, {ruled[0]} / "
                  f"{ruled[1]} with the rule ({len(rows)} rows)")
        if o.table:
            for c in candidates:
                state = "ok" if c["ok"] else f"no: {c['why']}"
                print(f"  R {c['rows']:4d}  B {c['mib']:5d} MiB  score {c['score']:.4f}  "
                      + " ".join(f"{m:.3f}" for m in c["means"]) + f"  {state}")
        code = rule["code"]
        rows_now = code_value(code["file"], code["rows"])
        bytes_now = code_value(code["file"], code["bytes"])
        # With R = 0 the rule takes nothing and its byte bound says nothing.
        same = rows_now == chosen["rows"] and (chosen["rows"] == 0 or bytes_now == chosen["mib"] * 2**20)
        if not same:
            mismatches += 1
            print(f"  MISMATCH {code['file']}: {code['rows']} = {rows_now:g}, {code['bytes']} = {bytes_now / 2**20:g} MiB;"
                  f" the measurements give {chosen['rows']} and {chosen['mib']} MiB")
    twin_ok = True
    if o.probe:
        wrong = probe_mismatches(o.probe, cases)
        print(f"weight bytes: {len(cases) - len(wrong)} of {len(cases)} rows as decode_groups::weight_bytes_bound")
        for w in wrong[:10]:
            print("  MISMATCH", w)
        twin_ok = not wrong
    if o.check:
        print("decode rules: " + ("the code's bounds are the measurements' picks" if not mismatches
                                  else f"{mismatches} rule(s) differ from the measurements' picks"))
        return 1 if mismatches or not twin_ok else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
