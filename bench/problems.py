"""Benchmark problems: the configurations, the routings, and the problem file.

The problem file is the contract between the two halves of the benchmark. The PyTorch baseline
(torch_baseline.py) writes it; the C# bench (GroupedGemm.Bench) reads it. Both therefore time
exactly the same per-expert row counts, which are drawn here once with a fixed seed.

Standard library only, so the file can be written and checked on machines without torch or numpy.
"""

from __future__ import annotations

import bisect
import json
import random
import re
import zlib
from dataclasses import dataclass

SCHEMA = "groupedgemm-bench-problems/1"

# Rotate this many input buffer sets between timed calls, so small problems are not measured out
# of a warm L2 cache; a set larger than SINGLE_SET_ABOVE_BYTES is already many times the L2 size
# (50 MB on H100/H200), so one set is used and device memory is saved for the large problems.
DEFAULT_BUFFER_SETS = 2
SINGLE_SET_ABOVE_BYTES = 1 << 30

FORMS = ("forward", "forward-transb", "weight-grad")
ROUTINGS = ("uniform", "zipf")


@dataclass(frozen=True)
class Config:
    """One MoE layer shape: tokens T, top-k, experts E, K (embedding), N (hidden)."""

    name: str
    tokens: int
    top_k: int
    experts: int
    k: int
    n: int

    @property
    def rows(self) -> int:
        """M = T * top-k: the rows of the grouped GEMM."""
        return self.tokens * self.top_k


# The benchmark configurations of the design document (shared DESIGN.md, "Benchmark configurations").
STANDARD_CONFIGS = (
    Config("seed-300M", 2048, 8, 80, 512, 2048),
    Config("qwen-moe-like", 16384, 6, 64, 4096, 1408),
    Config("deepseek-like", 65536, 8, 256, 7168, 2048),
    Config("mixtral-like", 32768, 2, 8, 4096, 14336),
    Config("small-experts", 4096, 8, 128, 2048, 768),
)


def parse_config(text: str) -> Config:
    """Parses NAME:T:TOPK:E:K:N (the --add-config flag)."""
    parts = text.split(":")
    if len(parts) != 6:
        raise ValueError(f"--add-config expects NAME:T:TOPK:E:K:N, got '{text}'")
    name, *numbers = parts
    try:
        tokens, top_k, experts, k, n = (int(p) for p in numbers)
    except ValueError as error:
        raise ValueError(f"--add-config '{text}': T, TOPK, E, K, N must be integers") from error
    if min(tokens, top_k, experts, k, n) <= 0:
        raise ValueError(f"--add-config '{text}': every size must be positive")
    return Config(name, tokens, top_k, experts, k, n)


def select_configs(names: str, extra: list[Config]) -> list[Config]:
    """The configurations named in a comma list ("all" = the standard five), plus the extra ones."""
    known = {c.name: c for c in STANDARD_CONFIGS}
    chosen: list[Config] = []
    for name in [n.strip() for n in names.split(",") if n.strip()]:
        if name == "all":
            chosen.extend(c for c in STANDARD_CONFIGS if c not in chosen)
        elif name in known:
            if known[name] not in chosen:
                chosen.append(known[name])
        elif not any(e.name == name for e in extra):
            raise ValueError(f"--configs: unknown configuration '{name}' (known: {', '.join(known)}, all)")
    chosen.extend(e for e in extra if e not in chosen)
    return chosen


def routing_weights(routing: str, experts: int) -> list[float]:
    """Unnormalised probability of each expert: equal, or 1/(e+1) for zipf."""
    if routing == "uniform":
        return [1.0] * experts
    if routing == "zipf":
        return [1.0 / (e + 1) for e in range(experts)]
    raise ValueError(f"unknown routing '{routing}' (known: {', '.join(ROUTINGS)})")


def draw_counts(config: Config, routing: str, seed: int) -> list[int]:
    """Rows per expert: every one of the M rows draws its expert independently from the routing.

    The generator is seeded from the base seed and the problem's name, so adding or removing a
    configuration never changes the counts of another.
    """
    rng = random.Random(seed ^ zlib.crc32(f"{config.name}/{routing}".encode()))
    cumulative: list[float] = []
    total = 0.0
    for w in routing_weights(routing, config.experts):
        total += w
        cumulative.append(total)
    counts = [0] * config.experts
    last = config.experts - 1
    for _ in range(config.rows):
        # min() guards the rounding edge where the draw equals the final cumulative weight.
        counts[min(bisect.bisect_right(cumulative, rng.random() * total), last)] += 1
    return counts


def make_problem(config: Config, routing: str, seed: int) -> dict:
    """One entry of the problem file."""
    counts = draw_counts(config, routing, seed)
    return {
        "id": f"{config.name}/{routing}",
        "config": config.name,
        "routing": routing,
        "tokens": config.tokens,
        "top_k": config.top_k,
        "experts": config.experts,
        "m": config.rows,
        "k": config.k,
        "n": config.n,
        "max_count": max(counts),
        "empty_experts": sum(1 for c in counts if c == 0),
        "counts": counts,
    }


def make_problem_file(configs: list[Config], routings: list[str], seed: int) -> dict:
    """The whole problem file as a JSON-ready dictionary."""
    for routing in routings:
        routing_weights(routing, 1)  # rejects unknown names before any work
    return {
        "schema": SCHEMA,
        "seed": seed,
        "rotation": {"buffer_sets": DEFAULT_BUFFER_SETS, "single_set_above_bytes": SINGLE_SET_ABOVE_BYTES},
        "problems": [make_problem(c, r, seed) for c in configs for r in routings],
    }


def check_problem(problem: dict) -> None:
    """Raises ValueError when an entry is inconsistent (hand-edited files are allowed)."""
    counts = problem["counts"]
    where = f"problem '{problem.get('id', '?')}'"
    if len(counts) != problem["experts"]:
        raise ValueError(f"{where}: {len(counts)} counts for {problem['experts']} experts")
    if any(c < 0 for c in counts):
        raise ValueError(f"{where}: negative count")
    if sum(counts) != problem["m"]:
        raise ValueError(f"{where}: counts sum to {sum(counts)}, m = {problem['m']}")


def load_problem_file(path: str) -> dict:
    """Reads and checks a problem file."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: schema '{data.get('schema')}', expected '{SCHEMA}'")
    for problem in data["problems"]:
        check_problem(problem)
    return data


def select_sweep_problems(paths: list[str], min_tokens: int | None = None, max_tokens: int | None = None,
                          routings: list[str] | None = None, max_problems: int | None = None,
                          tokens: set[int] | None = None) -> dict:
    """One problem file (the first file's schema, seed and rotation) of the problems of sweep parts' problem files
    (`GroupedGemm.Bench sweep plan`), with the counts drawn there, in file order and each id once (a model split by
    form into several parts holds the same problems in each part's file); those with min_tokens <= tokens <=
    max_tokens, tokens in `tokens` and a routing of `routings` (None: any); then, if more than max_problems are left,
    every k-th, k = (how many) / max_problems (pick i is index floor(i * k)), so that exactly max_problems remain,
    spread over the whole list and the same on every run. The files list routings innermost, so a k of exactly 2 over
    two routings keeps only one of them: narrow with the other filters first. bench/fp8_bench.py and
    bench/tune_sm90.py --problems select with it."""
    if max_problems is not None and max_problems < 1:
        raise ValueError(f"--max-problems must be at least 1, got {max_problems}")
    merged, chosen, seen, present = None, [], set(), set()
    for path in paths:
        data = load_problem_file(path)
        merged = merged or data
        for problem in data["problems"]:
            present.add(problem["routing"])
            if problem["id"] in seen:
                continue
            seen.add(problem["id"])
            if ((min_tokens is None or problem["tokens"] >= min_tokens)
                    and (max_tokens is None or problem["tokens"] <= max_tokens)
                    and (tokens is None or problem["tokens"] in tokens)
                    and (routings is None or problem["routing"] in routings)):
                chosen.append(problem)
    unknown = [r for r in routings or [] if r not in present]
    if unknown:  # a misspelt routing would otherwise just select nothing of its kind
        raise ValueError(f"--routings: {', '.join(unknown)} in none of the files "
                         f"(they hold {', '.join(sorted(present))})")
    if max_problems is not None and len(chosen) > max_problems:
        chosen = [chosen[i * len(chosen) // max_problems] for i in range(max_problems)]
    return dict(merged or {"schema": SCHEMA}, problems=chosen)


_NUMBER_LIST = re.compile(r"\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]")


def save_json(data: dict, path: str) -> None:
    """Writes indented JSON with a trailing newline; lists of numbers (counts, timings) stay on one line."""
    text = json.dumps(data, indent=1)
    text = _NUMBER_LIST.sub(lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def buffer_sets(rotation: dict, set_bytes: int) -> int:
    """How many input sets to rotate for a call whose inputs take set_bytes (same rule in C#)."""
    if set_bytes > rotation["single_set_above_bytes"]:
        return 1
    return max(1, int(rotation["buffer_sets"]))


def flops(problem: dict) -> int:
    """Useful FLOPs of one grouped GEMM of the problem, any form: 2 * M * K * N."""
    return 2 * problem["m"] * problem["k"] * problem["n"]
