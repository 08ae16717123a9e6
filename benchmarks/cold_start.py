"""Benchmark: cold start of ``cptkg query payer-matrix`` and ``cptkg validate`` (the shipped
graph, default engine) against ``python -c "import rdflib"``.

``python benchmarks/cold_start.py [--runs 7] [--json PATH]`` runs the three commands in turn,
``--runs`` rounds (paired: each round runs all three back to back, so machine load hits them
alike), and prints the median wall time of each and its ratio to ``import rdflib``. One warm-up
round first fills the result cache (``cptkg.cache``), as any earlier run would; ``--no-cache``
measures with ``CPTKG_NO_CACHE=1`` (every run computes its answer). Run by hand; nothing here
is a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS: dict[str, list[str]] = {
    "import rdflib": [sys.executable, "-c", "import rdflib"],
    "cptkg query payer-matrix": [sys.executable, "-m", "cptkg", "query", "payer-matrix"],
    "cptkg validate": [sys.executable, "-m", "cptkg", "validate"],
}


def _time(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode(errors='replace')}")
    return elapsed


def measure(runs: int, *, cache: bool) -> dict[str, list[float]]:
    """Wall seconds of each command, ``runs`` paired rounds after one warm-up round."""
    env = dict(os.environ)
    if not cache:
        env["CPTKG_NO_CACHE"] = "1"
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for round_ in range(runs + 1):
        for name, cmd in COMMANDS.items():
            t = _time(cmd, env)
            if round_:
                times[name].append(t)
    return times


def main() -> None:
    """Measure, print the table, write the JSON."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=7, help="paired rounds (default 7, at least 5)")
    p.add_argument("--no-cache", action="store_true", help="run with CPTKG_NO_CACHE=1")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args()
    times = measure(max(args.runs, 5), cache=not args.no_cache)
    base = statistics.median(times["import rdflib"])
    rows = {}
    print(f"| command | median of {len(times['import rdflib'])} | ratio to import rdflib |")
    print("|---|---|---|")
    for name, values in times.items():
        med = statistics.median(values)
        rows[name] = {"runs": values, "median": med, "ratio": med / base}
        print(f"| `{name}` | {med * 1000:.0f} ms | {med / base:.2f}x |")
    if args.json:
        args.json.write_text(json.dumps({"cache": not args.no_cache, **rows}, indent=1))


if __name__ == "__main__":
    main()
