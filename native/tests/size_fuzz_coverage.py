#!/usr/bin/env python3
"""Checks that gg_size_fuzz (native/tests/size_fuzz_test.cpp) calls every C entry point that takes sizes, so that a new
entry point cannot miss it: the header (native/include/groupedgemm/groupedgemm.h, the one source of the ABI) is read
for GG_API functions with an int64_t or size_t parameter, or an args struct whose fields hold int64_t sizes, and each
must be called in the fuzz, unless it is listed in EXEMPT with the reason.

  python3 native/tests/size_fuzz_coverage.py      (exit 0 when covered, 1 with one line per missing function)
"""

from __future__ import annotations

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, "..", "include", "groupedgemm", "groupedgemm.h")
FUZZ = os.path.join(HERE, "size_fuzz_test.cpp")

# Entry points with sizes that the fuzz does not call, and why.
EXEMPT = {
    "gg_malloc": "a byte count for cudaMalloc, which refuses what it cannot allocate",
    "gg_malloc_host": "a byte count for cudaMallocHost, likewise",
    "gg_memcpy": "raw bytes between caller buffers: CUDA checks the addresses",
    "gg_memset": "raw bytes of a caller buffer: CUDA checks the address",
    "gg_device_get_name": "the capacity of the caller's host buffer, not a tensor size",
    "gg_handle_reserve": "needs a device; its bound (max_experts in [1, 2^31)) is gg_validate's",
    "gg_device_get_properties": "fills a struct of the device's sizes; reads none",
}


def sized_entry_points(header: str) -> list[str]:
    text = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
    sized_structs = set()
    for m in re.finditer(r"typedef struct (\w+)\s*\{(.*?)\}\s*\1\s*;", text, flags=re.S):
        if re.search(r"\bint64_t\s+\w+\s*;", m.group(2)):
            sized_structs.add(m.group(1))
    names = []
    for m in re.finditer(r"GG_API\s+gg_status\s+(\w+)\s*\(([^;]*?)\)\s*;", text, flags=re.S):
        name, params = m.group(1), [p.strip() for p in m.group(2).split(",")]
        by_value = any(re.search(r"\b(int64_t|size_t)\s+\w+$", p) for p in params)
        by_struct = any(re.search(r"\b(\w+)\s*\*\s*\w+$", p) and re.search(r"\b(\w+)\s*\*", p).group(1) in sized_structs
                        for p in params)
        if by_value or by_struct:
            names.append(name)
    return names


def main() -> int:
    with open(HEADER, encoding="utf-8") as f:
        header = f.read()
    with open(FUZZ, encoding="utf-8") as f:
        fuzz = f.read()
    names = sized_entry_points(header)
    missing = [n for n in names if n not in EXEMPT and not re.search(r"\b%s\(" % re.escape(n), fuzz)]
    stale = [n for n in EXEMPT if n not in names]
    for n in missing:
        print(f"{n}: takes sizes but size_fuzz_test.cpp never calls it (add it there, or to EXEMPT with the reason)")
    for n in stale:
        print(f"{n}: in EXEMPT but not a sized entry point of the header any more")
    covered = len(names) - len(missing)
    print(f"size fuzz coverage: {covered} of {len(names)} sized entry points ({len(EXEMPT)} exempt with a reason)")
    return 1 if missing or stale else 0


if __name__ == "__main__":
    sys.exit(main())
