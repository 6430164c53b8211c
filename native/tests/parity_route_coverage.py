#!/usr/bin/env python3
"""Whether gmm_parity.py's default run reaches both kernels of each of Auto's device route choices on an H100.

Auto routes forwards with device counts between our contiguous kernel and the 128x256 tile on the H100's card class
(cutlass_sm90/tile_choice.h: device_route, the row bound R), and trans_b decode forwards between the contiguous kernel
and the decode tile (the row-tile bound T). A release build reads no tuning knobs, so the release run's parity
check (scripts/gpu-host.sh release) reaches the routed path only through the shapes of gmm_parity.py's default list.
0.15.0's release run passed parity with the contiguous kernel's side of the choice unreached: the shapes that reach it
were added only under `--sm90-knobs GG_SM90_ROUTE=...` (docs/release.md, "The 0.15.0 run").

This reads that list from gmm_parity.py's source (the `shapes` assignments among main()'s own statements, not those
under an `if`, such as a knob's), asks gg_sm90_choice (the library's own tile_choice.h, an H100's SMs and DRAM by
default) which of the forward and trans_b calls Auto routes and with which bound, and which kernel the routing rule
runs on each shape's expected counts (gg_sm90_choice --route R, --route-decode T). At least one routed call of each
rule must run each of its two kernels. And every shape of ROUTED_MORE (the shapes `--routed-only` adds, the routed
path alone under the sanitizer) must be a trans_b forward that Auto routes by one of the rules.

Usage: python3 native/tests/parity_route_coverage.py --probe gg_sm90_choice [--parity native/tests/gmm_parity.py]
Exit 0 when every kernel is reached, 1 when one is not, 2 when the script or the probe cannot be read.
"""
import argparse
import ast
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CONTIG = "contig256x128"
COOP = "coop128x256c1x1"
DECODE = "pingpong64x128k128"
# Each rule: the field gg_sm90_choice prints its bound in, the probe option that applies it to counts, its two kernels.
RULES = (("route", "--route", (CONTIG, COOP)), ("route_decode", "--route-decode", (CONTIG, DECODE)))
FORMS = ("forward", "forward-transb")  # the forms Auto routes (weight gradients never are)


def read_script(path):
    """gmm_parity.py's syntax tree."""
    with open(path, encoding="utf-8") as f:
        return ast.parse(f.read(), path)


def default_shapes(tree):
    """(m, k, n, experts, routing) of every shape gmm_parity.py's main() checks without options."""
    main = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main")
    shapes = []
    for stmt in main.body:  # main()'s own statements only: a shape under an `if` needs an option to run
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "shapes" for t in stmt.targets):
            shapes = list(ast.literal_eval(stmt.value))
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == "shapes":
            shapes += list(ast.literal_eval(stmt.value))
    return shapes


def routed_more_shapes(tree):
    """gmm_parity.py's ROUTED_MORE: the shapes its --routed-only run adds to the default list's routed ones."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "ROUTED_MORE" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return []


def expected_counts(m, e, routing):
    """Each expert's rows as gmm_parity.py's counts_for draws them, in expectation (its draws are random)."""
    if e == 1:
        return [m]
    if routing == "uniform":
        weights = [1.0] * e
    elif routing == "zipf":
        weights = [1.0 / (i + 1) for i in range(e)]
    elif routing == "last":
        weights = [1.0 / (e - i) for i in range(e)]
    elif routing == "one":
        return [m if i == e // 2 else 0 for i in range(e)]
    else:
        raise ValueError(f"routing '{routing}' is not one gmm_parity.py's counts_for knows")
    total = sum(weights)
    return [round(m * w / total) for w in weights]


def bound_of(choice, field):
    """The bound gg_sm90_choice printed as `field=<bound>` on one output line (0: none)."""
    return next((int(w[len(field) + 1:]) for w in choice.split() if w.startswith(field + "=")), 0)


def run_probe(probe, args, lines):
    out = subprocess.run([probe, *args], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--probe", required=True, help="gg_sm90_choice (native/tests/sm90_choice.cpp)")
    p.add_argument("--parity", default=os.path.join(HERE, "gmm_parity.py"), help="the parity script to read")
    args = p.parse_args(argv)
    try:
        tree = read_script(args.parity)
        shapes = default_shapes(tree)
        calls = [(s, form) for s in shapes for form in FORMS if s[0] > 0 and s[1] > 0]
        choices = run_probe(args.probe, [], [f"{m} {k} {n} {e} {form} 0" for (m, k, n, e, _), form in calls])
    except (OSError, SyntaxError, ValueError, StopIteration, subprocess.CalledProcessError) as ex:
        print(f"parity_route_coverage: {ex}")
        return 2
    failed = False
    for field, option, kernels in RULES:
        # The routed calls by their bound, so that the probe runs the rule once per bound over all of them.
        routed = {}
        for ((m, k, n, e, routing), form), choice in zip(calls, choices):
            bound = bound_of(choice, field)
            if bound > 0:
                routed.setdefault(bound, []).append((f"{m} {k} {n} {e} {routing} {form} ({field}={bound})",
                                                     " ".join(map(str, expected_counts(m, e, routing)))))
        reached = {kernel: [] for kernel in kernels}
        try:
            for bound, items in routed.items():
                picks = run_probe(args.probe, [option, str(bound)], [counts for _, counts in items])
                for (name, _), kernel in zip(items, picks):
                    reached.setdefault(kernel.strip(), []).append(name)
        except (OSError, subprocess.CalledProcessError) as ex:
            print(f"parity_route_coverage: {ex}")
            return 2
        for kernel in kernels:
            names = reached[kernel]
            print(f"{field}: {kernel}: {len(names)} routed call(s) of the default run"
                  + (f", e.g. {names[0]}" if names else ""))
        missing = [kernel for kernel in kernels if not reached[kernel]]
        if missing:
            print(f"FAIL: gmm_parity.py's default run reaches no call that {field} routes to {', '.join(missing)}: "
                  "add a shape that Auto routes there to its default list (a release build reads no knobs)")
            failed = True
    # ROUTED_MORE's trans_b forwards are there for the routed path alone (--routed-only under the sanitizer): each must
    # be one Auto routes, by either rule, or its check is a duplicate of an unrouted one.
    try:
        more = [s for s in routed_more_shapes(tree) if s[0] > 0 and s[1] > 0]
        more_choices = run_probe(args.probe, [], [f"{m} {k} {n} {e} forward-transb 0" for (m, k, n, e, _) in more])
    except (OSError, ValueError, subprocess.CalledProcessError) as ex:
        print(f"parity_route_coverage: {ex}")
        return 2
    unrouted = [(shape, choice) for shape, choice in zip(more, more_choices)
                if not any(bound_of(choice, field) > 0 for field, _, _ in RULES)]
    for shape, choice in unrouted:
        print(f"FAIL: ROUTED_MORE's {shape} is no call Auto routes (trans_b forward: {choice.strip()})")
    if unrouted:
        failed = True
    else:
        print(f"ROUTED_MORE: {len(more)} shape(s), each routed")
    if failed:
        return 1
    print("ok: the default run reaches both kernels of every route choice")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
