"""Look-up cost by index size: the same SQLite index layout holding 50, 1,000, 10,000 and all
~98,000 ICD-10-CM FY2026 codes (real codes, release order), timed on hits and misses.

    PYTHONPATH=src python benchmarks/code_lookup.py [--lookups 20000]

Prints, per size, the mean microseconds per look-up by notation (hit: a code present in that
index; miss: a notation absent from every index) and per count of billable codes under a code.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cptkg.codes.index import CodeIndex, open_index, write_entries
from cptkg.codes.releases import ICD10CM_FY2026


def _time(fn: Callable[[str], object], args: list[str]) -> float:
    start = time.perf_counter()
    for a in args:
        fn(a)
    return (time.perf_counter() - start) / len(args) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--lookups", type=int, default=20000)
    args = parser.parse_args()
    full = open_index(ICD10CM_FY2026)
    codes = [e for e in full.entries() if not e.is_group]
    rng = random.Random(64866)
    print("| codes in index | hit (µs/look-up) | miss (µs/look-up) | count under (µs) |")
    print("|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (50, 1000, 10000, len(codes)):
            subset = codes[:size]
            path = Path(tmp) / f"icd-{size}.sqlite"
            write_entries(ICD10CM_FY2026, path, [], subset)
            index = CodeIndex(ICD10CM_FY2026, path)
            hits = [rng.choice(subset).notation for _ in range(args.lookups)]
            misses = [f"Z{rng.randrange(100):02d}.9{rng.randrange(10)}Q" for _ in hits]
            parents = [rng.choice(subset).notation[:5] for _ in range(args.lookups // 10)]
            index.get(hits[0])
            hit = _time(index.get, hits)
            miss = _time(index.get, misses)
            count = _time(index.count_billable_under, parents)
            print(f"| {size:,} | {hit:.1f} | {miss:.1f} | {count:.1f} |")
            index.close()


if __name__ == "__main__":
    main()
