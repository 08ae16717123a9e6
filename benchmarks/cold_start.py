"""Benchmark: cold start of ``cptkg query payer-matrix`` and ``cptkg validate`` (the shipped
graph, default engine) against ``python -c "import rdflib"``, with the caches in each state.

``python benchmarks/cold_start.py [--runs 7] [--cases ...] [--json PATH]`` copies the project
(ontology, data, queries) to a temporary workspace with a cache directory of its own, and for
each case runs the three commands in turn, ``--runs`` rounds (paired: each round runs all three
back to back, so machine load hits them alike), after one warm-up round. It prints the median
wall time and CPU time (user + system of the child) of each, and the ratio to ``import rdflib``
(CPU ratio first: the machine is shared). Python's bytecode is written to a directory of the
run's own (``PYTHONPYCACHEPREFIX``) by the warm-up round, for every command alike, as an
installed package has it (an editable checkout run with ``PYTHONDONTWRITEBYTECODE=1``
compiles cptkg's modules from source on every run: about 30 ms). The cases:

* ``warm``: the result cache holds the answer (a repeated run);
* ``result-miss``: the result cache is emptied before each run, the lower caches (parsed
  graph, prepared queries) are warm: what a new parameter value or an edited query costs;
* ``data-change``: one data file gets a new byte (a comment line) before each run, so the
  result and the parsed graph are missed; the prepared queries are warm;
* ``cold``: ``CPTKG_NO_CACHE=1``, every run parses and computes everything.

``--baseline SRC`` adds the two cptkg commands run from another source tree (``SRC`` put
first on ``PYTHONPATH``, e.g. the main branch's ``src``) to every round, with a cache
directory of their own, so that a change is measured against its baseline in the same
paired rounds.

Run by hand; nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
COMMANDS: dict[str, list[str]] = {
    "import rdflib": [sys.executable, "-c", "import rdflib"],
    "cptkg query payer-matrix": [sys.executable, "-m", "cptkg", "query", "payer-matrix"],
    "cptkg validate": [sys.executable, "-m", "cptkg", "validate"],
}
CASES = ("warm", "result-miss", "data-change", "cold")
#: The data file a ``data-change`` run edits.
CHANGED_FILE = Path("data") / "payers.ttl"


class Timing(NamedTuple):
    """One run of one command: wall and CPU seconds (the child's user + system time)."""

    wall: float
    cpu: float


#: Suffix of the commands run from the ``--baseline`` tree.
BASELINE = " (baseline)"


def commands(
    baseline: Path | None, baseline_cache: Path | None = None
) -> dict[str, tuple[list[str], dict[str, str]]]:
    """The commands of a round, each with the environment variables it runs with besides the
    common ones (the baseline's: its source tree first on ``PYTHONPATH``, its cache directory
    ``baseline_cache``)."""
    out: dict[str, tuple[list[str], dict[str, str]]] = {n: (c, {}) for n, c in COMMANDS.items()}
    if baseline is not None:
        extra = {"PYTHONPATH": str(baseline.resolve())}
        if baseline_cache is not None:
            extra["CPTKG_CACHE_DIR"] = str(baseline_cache)
        for name, cmd in COMMANDS.items():
            if name != "import rdflib":
                out[name + BASELINE] = (cmd, extra)
    return out


def _time(cmd: list[str], env: dict[str, str]) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The shipped graph conforms and every command here succeeds on it: any other exit code
    # (1 included: ``python -m cptkg`` without the package exits 1) is a failed run, not a time.
    if proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def workspace(directory: Path) -> Path:
    """A copy of the project's graph and queries in ``directory`` (a CPTKG_HOME)."""
    for name in ("ontology", "data", "queries"):
        shutil.copytree(ROOT / name, directory / name)
    return directory


def _baseline_cache(cache: Path) -> Path:
    return cache.with_name(cache.name + "-baseline")


def _preparation(case: str, home: Path, cache: Path) -> Callable[[int], None]:
    """What happens before each run of ``case`` (``n``: a counter of runs)."""

    def prepare(n: int) -> None:
        if case == "result-miss":
            shutil.rmtree(cache / "results", ignore_errors=True)
            shutil.rmtree(_baseline_cache(cache) / "results", ignore_errors=True)
        elif case == "data-change":
            with (home / CHANGED_FILE).open("a", encoding="utf-8") as fh:
                fh.write(f"# benchmark edit {n}\n")

    return prepare


def measure(runs: int, case: str, baseline: Path | None = None) -> dict[str, list[Timing]]:
    """Wall and CPU time of each command in ``case``, ``runs`` paired rounds after one warm-up
    round, in a fresh workspace copy and cache directory (``baseline``: see
    :func:`commands`)."""
    if case not in CASES:
        raise ValueError(f"unknown case {case!r}; cases: {', '.join(CASES)}")
    with tempfile.TemporaryDirectory(prefix="cptkg-cold-") as tmp:
        home = workspace(Path(tmp) / "home")
        cache = Path(tmp) / "cache"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CPTKG_")}
        env.update({"CPTKG_HOME": str(home), "CPTKG_CACHE_DIR": str(cache)})
        # bytecode as an installed package has it: compiled by the warm-up round (into a
        # directory of the run's own), whatever PYTHONDONTWRITEBYTECODE says
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        if case == "cold":
            env["CPTKG_NO_CACHE"] = "1"
        prepare = _preparation(case, home, cache)
        todo = commands(baseline, _baseline_cache(cache))
        times: dict[str, list[Timing]] = {name: [] for name in todo}
        n = 0
        for round_ in range(runs + 1):
            for name, (cmd, extra) in todo.items():
                if name != "import rdflib":
                    n += 1
                    prepare(n)
                t = _time(cmd, {**env, **extra})
                if round_:
                    times[name].append(t)
        return times


def summary(times: dict[str, list[Timing]]) -> dict[str, dict[str, object]]:
    """Per command: the runs, median wall and CPU, and their ratios to ``import rdflib``."""
    base_wall = statistics.median(t.wall for t in times["import rdflib"])
    base_cpu = statistics.median(t.cpu for t in times["import rdflib"])
    out: dict[str, dict[str, object]] = {}
    for name, runs in times.items():
        wall = statistics.median(t.wall for t in runs)
        cpu = statistics.median(t.cpu for t in runs)
        out[name] = {
            "wall": [t.wall for t in runs],
            "cpu": [t.cpu for t in runs],
            "median_wall": wall,
            "median_cpu": cpu,
            "ratio_wall": wall / base_wall,
            "ratio_cpu": cpu / base_cpu,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure each case, print the table, write the JSON."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=7, help="paired rounds (default 7, at least 5)")
    p.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES), help="cases to run")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="SRC",
        help="also run the cptkg commands from this source tree (e.g. ../main/src)",
    )
    args = p.parse_args(argv)
    runs = max(args.runs, 5)
    results = {case: summary(measure(runs, case, args.baseline)) for case in args.cases}
    load = os.getloadavg()
    print(f"median of {runs} paired rounds; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("| command | " + " | ".join(args.cases) + " |")
    print("|---|" + "---|" * len(args.cases))
    for name in commands(args.baseline):
        cells = []
        for case in args.cases:
            r = results[case][name]
            cells.append(
                f"{r['median_cpu'] * 1000:.0f} ms CPU = {r['ratio_cpu']:.2f}x "
                f"({r['median_wall'] * 1000:.0f} ms wall = {r['ratio_wall']:.2f}x)"
            )
        print(f"| `{name}` | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "load": load, **results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
