"""``validate --endpoint`` on real servers against embedded compiled validation, and its growth.

For each size (generator presets 100k, 1m): the shipped graph plus a synthetic graph with
seeded violations is validated

* embedded: pyoxigraph, shapes compiled with Oxigraph's LATERAL (what ``--engine oxigraph``
  runs); with ``--embedded-standard`` also in the standard SPARQL 1.1 dialect, to show what
  LATERAL saves a bottom-up evaluator;
* on ``oxigraph serve`` (bulk-loaded with ``oxigraph load``), through the query endpoint:
  :class:`cptkg.engines.remote.RemoteEngine` finds LATERAL there;
* on Virtuoso Open Source 7.2 (bulk-loaded with its ``ld_dir`` / ``rdf_loader_run``),
  through the query endpoint: standard SPARQL 1.1.

Every run must report the same (focus node, source shape) pairs. Printed: one line per run and
the growth from the smallest to the largest size (time ratio against triple ratio); with
``--output FILE`` the figures as JSON too. Not a timed test: run it by hand, e.g.::

    PYTHONPATH=src python benchmarks/bench_endpoint.py --sizes 100k 1m --output bench-endpoint.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cptkg.engines.oxigraph_engine import OxigraphEngine
from cptkg.engines.remote import RemoteEngine
from cptkg.generate import generate, parse_size
from cptkg.load import load_ontology, load_shapes, shipped_files
from cptkg.server import OxigraphServer, find_oxigraph
from cptkg.shacl.compiler import DIALECT_LATERAL, DIALECT_STANDARD
from cptkg.shacl.report import ValidationResult
from cptkg.shacl.sparql_runner import validate_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from virtuoso_support import DBA, VirtuosoServer, find_virtuoso  # noqa: E402

GRAPH = "https://w3id.org/cptkg/graph/bench"


def pairs(result: ValidationResult) -> set[tuple[str, str]]:
    """(focus node, source shape) of every finding."""
    return {(str(f.focus_node), str(f.source_shape)) for f in result.results}


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of process ``pid`` so far; None: this process."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


#: One measured run: load seconds, validate wall seconds, validate CPU seconds (this process
#: plus the server's), the result.
Run = tuple[float, float, float, ValidationResult]


def timed(
    run: Callable[[], ValidationResult], server_pid: int | None = None
) -> tuple[float, float, ValidationResult]:
    """(wall seconds, CPU seconds of this process and of ``server_pid``, result): CPU time
    is what to compare on a machine shared with other jobs."""
    cpu = cpu_seconds() + (cpu_seconds(server_pid) if server_pid else 0.0)
    start = time.perf_counter()
    result = run()
    wall = time.perf_counter() - start
    cpu = cpu_seconds() + (cpu_seconds(server_pid) if server_pid else 0.0) - cpu
    return wall, cpu, result


def embedded(files: list[Path], dialect: str) -> Run:
    """One run on embedded pyoxigraph."""
    start = time.perf_counter()
    engine = OxigraphEngine.from_paths(files, include_ontology=False, progress=False)
    load = time.perf_counter() - start
    shapes, ontology = load_shapes(), load_ontology()
    wall, cpu, result = timed(
        lambda: validate_engine(engine, shapes, ontology, progress=False, dialect=dialect).result
    )
    return load, wall, cpu, result


def on_oxigraph_serve(files: list[Path], work: Path) -> Run:
    """One run through oxigraph serve's query endpoint."""
    binary = find_oxigraph()
    if binary is None:
        raise SystemExit("the oxigraph binary is missing (pip install oxigraph)")
    store = Path(tempfile.mkdtemp(prefix="bench-oxigraph-", dir=work))
    start = time.perf_counter()
    subprocess.run(
        [binary, "load", "--location", str(store), "--graph", GRAPH, "--file", *map(str, files)],
        check=True,
        capture_output=True,
    )
    load = time.perf_counter() - start
    with OxigraphServer(0, location=store, binary=binary, union_default_graph=False) as server:
        engine = RemoteEngine(server.query_url, default_graph=GRAPH, timeout=3600)
        assert engine.sparql_dialect() == DIALECT_LATERAL
        wall, cpu, result = timed(lambda: engine.validate(), server.pid)
    return load, wall, cpu, result


def on_virtuoso(files: list[Path]) -> Run:
    """One run through Virtuoso's query endpoint."""
    binary = find_virtuoso()
    if binary is None:
        raise SystemExit("virtuoso-t is missing (apt-get install virtuoso-opensource)")
    server = VirtuosoServer(binary, buffers=60000).start()  # about 470 MiB of page cache
    try:
        incoming = server.directory / "load"
        incoming.mkdir()
        for i, f in enumerate(files):
            shutil.copyfile(f, incoming / f"{i:03d}-{f.name}")  # inside the ini's DirsAllowed
        start = time.perf_counter()
        sql = (
            f"ld_dir('{incoming}', '*.*', '{GRAPH}'); rdf_loader_run(); checkpoint;"
            "select count(*) from DB.DBA.LOAD_LIST where ll_error is not null;"
        )
        loaded = subprocess.run(
            ["isql-vt", str(server.sql_port), DBA[0], DBA[1], f"exec={sql}"],
            check=True,
            capture_output=True,
            text=True,
        )
        load = time.perf_counter() - start
        engine = RemoteEngine(server.query_url, default_graph=GRAPH, timeout=3600)
        assert engine.sparql_dialect() == DIALECT_STANDARD, loaded.stdout
        wall, cpu, result = timed(lambda: engine.validate(), server.pid)
    finally:
        server.stop()
    return load, wall, cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["100k", "1m"])
    parser.add_argument("--invalid-rate", type=float, default=0.01)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--skip", nargs="*", default=[], help="runs to leave out")
    parser.add_argument(
        "--embedded-standard",
        action="store_true",
        help="also run the standard dialect on embedded pyoxigraph (quadratic: at 100k it was "
        "stopped after 150 s holding 8 GB; use with 10k)",
    )
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-endpoint-"))
    work.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {"machine": platform.platform(), "sizes": {}}
    for size in args.sizes:
        codes, payers, versions = parse_size(size)
        synthetic = work / f"synthetic-{size}.nt"
        generated = generate(
            synthetic,
            codes=codes,
            payers=payers,
            versions=versions,
            seed=1,
            invalid_rate=args.invalid_rate,
        )
        files = [*shipped_files(), synthetic]
        runs: dict[str, Callable[[], Run]] = {
            "embedded-lateral": lambda f=files: embedded(f, DIALECT_LATERAL),
            "oxigraph-serve": lambda f=files: on_oxigraph_serve(f, work),
            "virtuoso": lambda f=files: on_virtuoso(f),
        }
        if args.embedded_standard:
            runs["embedded-standard"] = lambda f=files: embedded(f, DIALECT_STANDARD)
        entry: dict[str, Any] = {"generated_triples": generated.triples, "runs": {}}
        reference: set[tuple[str, str]] | None = None
        for name, run in runs.items():
            if name in args.skip:
                continue
            load, seconds, cpu, result = run()
            found = pairs(result)
            reference = found if reference is None else reference
            entry["runs"][name] = {
                "load_s": round(load, 2),
                "validate_s": round(seconds, 2),
                "validate_cpu_s": round(cpu, 2),
                "findings": len(result.results),
                "same_as_embedded": found == reference,
            }
            line = (
                f"load {load:.1f} s, validate {seconds:.1f} s (CPU {cpu:.1f} s), "
                f"{len(result.results)} findings"
            )
            print(f"[{size}] {name}: {line}, same: {found == reference}", flush=True)
        figures["sizes"][size] = entry
    if len(args.sizes) > 1:
        small, large = (figures["sizes"][s] for s in (args.sizes[0], args.sizes[-1]))
        triples = large["generated_triples"] / small["generated_triples"]
        growth = {
            name: {
                key: round(large["runs"][name][key] / small["runs"][name][key], 1)
                for key in ("validate_s", "validate_cpu_s")
            }
            for name in large["runs"]
            if name in small["runs"]
        }
        figures["growth"] = {"triples": round(triples, 1), "validate": growth}
        sizes = f"{args.sizes[0]} -> {args.sizes[-1]}"
        print(f"growth {sizes}: triples x{triples:.1f}, validate (wall, CPU) x {growth}")
    if args.output:
        args.output.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
