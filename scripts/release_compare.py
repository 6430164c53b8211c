#!/usr/bin/env python3
"""Release check: the installed package's forwards against GroupedGemm.Bench's, same card, same call.

Reads the release consumer's JSON (tests/package/release/Program.cs --json) and the bench's results file
(GroupedGemm.Bench run --out) and prints, per problem, both medians and their ratio. Exit status 1 when a problem is
missing from either, or the consumer's median is more than 5% away from the bench's.

usage: python3 scripts/release_compare.py CONSUMER_JSON BENCH_JSON
"""
import json
import sys

TOLERANCE = 0.05


def bench_medians(path):
    """(problem, form, dtype) -> median ms of ours, Auto, device counts."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    medians = {}
    for group in data["groups"]:
        for series in group["series"]:
            if series.get("kind") == "ours" and series.get("backend") == "auto" and series.get("counts") == "device" \
                    and series.get("status") == "ok":
                medians[(group["problem"], group["form"], group["dtype"])] = series["median_ms"]
    return medians


def main(consumer_path, bench_path):
    with open(consumer_path, encoding="utf-8") as f:
        consumer = json.load(f)
    bench = bench_medians(bench_path)
    failures = 0
    print(f"card: {consumer.get('card')}; library: {consumer.get('library')}")
    print("| problem | form | dtype | package consumer (ms) | GroupedGemm.Bench (ms) | consumer / bench |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in consumer["timings"]:
        key = (row["problem"], row["form"], row["dtype"])
        if key not in bench:
            print(f"| {' | '.join(key)} | {row['median_ms']:.4f} | missing | - |")
            failures += 1
            continue
        ratio = row["median_ms"] / bench[key]
        ok = abs(ratio - 1.0) <= TOLERANCE
        failures += 0 if ok else 1
        print(f"| {' | '.join(key)} | {row['median_ms']:.4f} | {bench[key]:.4f} | {ratio:.3f}{'' if ok else ' (off by more than 5%)'} |")
    if not consumer["timings"]:
        print("no timings in the consumer's file")
        failures += 1
    print("within 5% on every problem" if failures == 0 else f"{failures} problem(s) not within 5%")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
