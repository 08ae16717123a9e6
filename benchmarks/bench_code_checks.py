"""Benchmark: the share of ``cptkg validate --engine oxigraph`` spent checking codes against
their releases, on generated graphs.

``python benchmarks/bench_code_checks.py --sizes 100k 1m [--src DIR] [--format FMT]
[--json PATH]`` generates each graph once (``--invalid-rate 0.001``, seed 1, as
bench_validate_scale.py), then runs the whole process ``cptkg validate --engine oxigraph data
FILE -f FMT`` (default text) under cProfile (timing CPU seconds) with ``PYTHONPATH=DIR``
(default: this tree's ``src``; pass another checkout's ``src`` to measure it side by side) and
reports the process's wall and CPU time (profiler included) and the profiled CPU seconds of
the code checks: :func:`cptkg.codes.checks.check_engine` (reading the codes and checking
them) and :func:`cptkg.codes.checks.add_to_validation` (merging the problems into the
report), and of writing the report (``report_text``, every result, code findings included).
Run by hand; nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: The functions of the code checks timed in the profile, and the report writer.
CODE_FUNCTIONS = ("check_engine", "add_to_validation")
REPORT_FUNCTION = "report_text"


#: The child: ``python -m cptkg`` profiled on CPU time (not wall time, which a shared machine's
#: load inflates), the profile written to argv[1], the exit code kept.
PROFILED = """
import cProfile, runpy, sys, time
profile, sys.argv = sys.argv[1], sys.argv[2:]
profiler = cProfile.Profile(time.process_time)
code = 0
profiler.enable()
try:
    runpy.run_module("cptkg", run_name="__main__", alter_sys=True)
except SystemExit as exit:
    code = exit.code
finally:
    profiler.disable()
    profiler.dump_stats(profile)
sys.exit(code)
"""


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def generate(size: str, out: Path, src: Path) -> Path:
    """The generated graph of ``size`` (made once, with the tree ``src``)."""
    path = out / f"generated-{size}.nt"
    if not path.exists():
        subprocess.run(
            [sys.executable, "-m", "cptkg", "generate", "--size", size]
            + ["--invalid-rate", "0.001", "--seed", "1", "-o", str(path)],
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(src)},
        )
    return path


def code_seconds(profile: Path) -> dict[str, float]:
    """Cumulative profiled seconds of :data:`CODE_FUNCTIONS` in ``cptkg/codes/checks.py`` and
    of :data:`REPORT_FUNCTION` in ``cptkg/commands/common.py``."""
    stats = pstats.Stats(str(profile)).stats  # type: ignore[attr-defined]
    found = {name: 0.0 for name in (*CODE_FUNCTIONS, REPORT_FUNCTION)}
    for (file, _, name), (_, _, _, cumulative, _) in stats.items():
        where = file.replace(os.sep, "/")
        if name in CODE_FUNCTIONS and where.endswith("cptkg/codes/checks.py"):
            found[name] += cumulative
        elif name == REPORT_FUNCTION and where.endswith("cptkg/commands/common.py"):
            found[name] += cumulative
    return found


def run(graph: Path, src: Path, out: Path, fmt: str = "text") -> dict[str, Any]:
    """One whole validate process under cProfile: wall, CPU, code-check and report seconds."""
    profile = out / f"{graph.stem}.prof"
    report = out / f"{graph.stem}.{fmt}"
    argv = ["cptkg", "validate", "--engine", "oxigraph", "data", str(graph)]
    argv += ["-f", fmt, "-o", str(report)]
    cpu, wall = _children_cpu(), time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PROFILED, str(profile), *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(src)},
    )
    result: dict[str, Any] = {
        "wall": round(time.perf_counter() - wall, 2),
        "cpu": round(_children_cpu() - cpu, 2),
        "exit": done.returncode,
    }
    result.update({k: round(v, 2) for k, v in code_seconds(profile).items()})
    return result


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["100k"], help="10k, 100k, 1m, 10m")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="tree to measure")
    parser.add_argument("--format", default="text", help="report format: text, json, turtle")
    parser.add_argument("--work", type=Path, help="directory for graphs and profiles")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="cptkg-code-checks-"))
    work.mkdir(parents=True, exist_ok=True)
    figures = {}
    for size in args.sizes:
        graph = generate(size, work, args.src)
        figures[size] = found = run(graph, args.src.resolve(), work, args.format)
        print(f"{size}: {json.dumps(found)}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main()
