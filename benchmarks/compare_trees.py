"""Time the same cptkg commands on two source trees, side by side, in one run.

    python benchmarks/compare_trees.py --before ../before --after . --runs 5 \\
        -- "validate" "query payer-matrix"

Each command runs as ``python -m cptkg ARGS`` with ``PYTHONPATH=<tree>/src`` and the tree as
working directory, alternating before/after in every round so that machine noise falls on both
alike; ``python -c "import rdflib"`` is timed in the same rounds as the cold-start yardstick.
Prints the median wall time of each command per tree and the after/before ratio (Markdown, or
JSON with ``--json``). Exit status 1 when any command fails in either tree.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASELINE = "import rdflib"


def _run(tree: Path, argv: list[str]) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPTKG_")}
    env["PYTHONPATH"] = str(tree / "src")
    start = time.perf_counter()
    proc = subprocess.run(
        argv, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.stderr.write(f"{tree}: {' '.join(argv)} exited {proc.returncode}\n")
        sys.stderr.write(proc.stderr.decode("utf-8", "replace")[-2000:])
    return elapsed, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="source tree timed first")
    parser.add_argument("--after", type=Path, required=True, help="source tree timed second")
    parser.add_argument("--runs", type=int, default=5, help="rounds (median over them)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("commands", nargs="+", help="cptkg arguments, one string per command")
    opts = parser.parse_args()
    trees = {"before": opts.before.resolve(), "after": opts.after.resolve()}
    jobs = {"python -c 'import rdflib'": [sys.executable, "-c", BASELINE]}
    for command in opts.commands:
        jobs[f"cptkg {command}"] = [sys.executable, "-m", "cptkg", *shlex.split(command)]
    times: dict[str, dict[str, list[float]]] = {j: {"before": [], "after": []} for j in jobs}
    failed = False
    for _ in range(max(1, opts.runs)):
        for job, argv in jobs.items():
            for side, tree in trees.items():
                seconds, code = _run(tree, argv)
                failed |= code not in (0, 1)
                times[job][side].append(seconds)
    rows = []
    for job, sides in times.items():
        before, after = statistics.median(sides["before"]), statistics.median(sides["after"])
        rows.append({"command": job, "before_s": before, "after_s": after, "ratio": after / before})
    if opts.json:
        print(
            json.dumps(
                {"runs": opts.runs, "trees": {k: str(v) for k, v in trees.items()}, "rows": rows},
                indent=2,
            )
        )
    else:
        print(f"median of {opts.runs} paired runs; before={trees['before']} after={trees['after']}")
        print("| command | before (ms) | after (ms) | after/before |")
        print("|---|---:|---:|---:|")
        for row in rows:
            print(
                f"| `{row['command']}` | {row['before_s'] * 1000:.0f} | "
                f"{row['after_s'] * 1000:.0f} | {row['ratio']:.2f} |"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
