"""Benchmark: validating an on-disk Oxigraph store that is already loaded (``--store DIR``)
against loading the same files into memory and validating there.

``python benchmarks/bench_store.py [--size 1m | --graph FILE] [--runs 3] [--json PATH]``
generates the synthetic graph (or takes ``FILE``), builds the store once from ``data/`` plus
the graph, then runs paired rounds, each case in its own child process:

* ``memory``: ``open_graph`` in memory (bulk load of every file), then ``validate``;
* ``store``: ``open_graph`` on the built store (the sources' record checked, nothing loaded),
  then ``validate``.

Each child reports the time to open the graph, the whole validation, the part of it spent in
the engine's ``query`` calls (the compiled SHACL queries) and the part in the scan of the store
(:func:`cptkg.shacl.scan.scan_checks`, its own queries not counted twice), the queries run one
at a time (no thread beside the scan) so that the parts add up; the overhead of the
store is the open time plus validation time outside the queries and the scan. Prints medians
and writes the JSON.
Run by hand; nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()


def child(mode: str, graph: Path, store: Path) -> dict[str, float]:
    """One measurement in this process: open (``memory`` or ``store``), then validate."""
    from cptkg import paths
    from cptkg.engines import open_graph
    from cptkg.engines.settings import GraphSettings
    from cptkg.load import load_ontology, load_shapes
    from cptkg.shacl import scan as scan_module

    shapes, ontology = load_shapes(), load_ontology()
    settings = GraphSettings(
        engine="oxigraph",
        paths=(paths.data_dir(), graph),
        store=store if mode != "memory" else None,
        progress=False,
    )
    start = time.perf_counter()
    engine = open_graph(settings)
    opened = time.perf_counter()
    spent = {"queries": 0.0, "scan": 0.0}
    query = engine.query
    scan = scan_module.scan_checks

    def timed(sparql: str, bindings: Any = None) -> Any:
        t = time.perf_counter()
        try:
            return query(sparql, bindings)
        finally:
            spent["queries"] += time.perf_counter() - t

    def timed_scan(*args: Any) -> Any:
        t, before = time.perf_counter(), spent["queries"]
        try:
            return scan(*args)
        finally:
            spent["scan"] += time.perf_counter() - t - (spent["queries"] - before)

    engine.query = timed  # type: ignore[method-assign]
    scan_module.scan_checks = timed_scan  # type: ignore[assignment]  # read at each validation
    # one query at a time, none beside the scan, so that the parts add up to the whole
    engine.parallel_queries = lambda: 1  # type: ignore[method-assign]
    result = engine.validate(shapes, ontology)
    done = time.perf_counter()
    return {
        "open": opened - start,
        "validate": done - opened,
        **spent,
        "results": float(len(result.results)),
    }


def _run_child(mode: str, graph: Path, store: Path) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--child",
            mode,
            "--graph",
            str(graph),
            "--store",
            str(store),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Generate, build the store, run the paired rounds, print and write the figures."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="1m", help="generator preset when no --graph (default 1m)")
    p.add_argument("--graph", type=Path, default=None, help="an existing synthetic graph file")
    p.add_argument("--store", type=Path, default=None, help="store directory (default: temp)")
    p.add_argument("--runs", type=int, default=3, help="paired rounds (default 3)")
    p.add_argument("--json", type=Path, default=Path("bench-store.json"))
    p.add_argument("--child", choices=["memory", "store"], default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.graph, args.store)))
        return
    with tempfile.TemporaryDirectory(prefix="cptkg-bench-store-") as tmp:
        graph = args.graph
        if graph is None:
            from cptkg.generate import generate, parse_size

            graph = Path(tmp) / f"g{args.size}.nt"
            codes, payers, versions = parse_size(args.size)
            generate(graph, codes=codes, payers=payers, versions=versions, seed=0)
        store = args.store or Path(tmp) / "store"
        build = _run_child("store", graph, store)  # the first open loads the store
        rounds: dict[str, list[dict[str, float]]] = {"memory": [], "store": []}
        for _ in range(args.runs):
            for mode in rounds:
                rounds[mode].append(_run_child(mode, graph, store))
    summary: dict[str, Any] = {"graph": str(graph), "build": build, "runs": rounds}
    print(
        f"| case | open | validate | of which queries | scan | other | ({args.runs} paired runs) |"
    )
    print("|---|---|---|---|---|---|---|")
    for mode, runs in rounds.items():
        keys = ("open", "validate", "queries", "scan")
        med = {k: statistics.median(r[k] for r in runs) for k in keys}
        other = statistics.median(
            r["open"] + r["validate"] - r["queries"] - r["scan"] for r in runs
        )
        summary[mode] = {**med, "overhead": other}
        print(
            f"| {mode} | {med['open']:.2f} s | {med['validate']:.2f} s | {med['queries']:.2f} s "
            f"| {med['scan']:.2f} s | {other:.2f} s | |"
        )
    print(f"store build (first open + validate): open {build['open']:.2f} s")
    args.json.write_text(json.dumps(summary, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
