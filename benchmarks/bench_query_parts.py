"""Benchmark: where a validation on Oxigraph spends its CPU beside the scan of the store, query
by query, and what scanning the logical constraints (``sh:or`` and the like) saves.

``python benchmarks/bench_query_parts.py [--size 1m | --graph FILE.nt] [--repeat 3]`` loads the
graph (generated with seed 1 unless ``--graph`` names one) into an in-memory Oxigraph store and
runs ``--repeat`` paired rounds of two splits of the compiled shapes:

* ``logic scanned``: what :func:`cptkg.shacl.sparql_runner.validate_engine` does, every
  :func:`cptkg.shacl.scan.scannable` check in the scan, the rest as grouped queries;
* ``logic queried``: the logical constraints left to the queries, as before they were scanned.

That both splits find the same violations is tested (``tests/test_shacl_scan.py`` compares the
scan with the queries on edge cases and generated graphs). It prints the medians of the
scan's and the queries' CPU time (each in its own thread's clock) for both, and the median CPU
of every query of the first split, slowest first. Run by hand; nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rdflib import Graph

from cptkg.engines.oxigraph_engine import OxigraphEngine
from cptkg.generate import generate, parse_size
from cptkg.load import load_shapes
from cptkg.namespaces import bind_prefixes
from cptkg.shacl.compiled_cache import cached_compile
from cptkg.shacl.compiler import DIALECT_LATERAL, Check, group_checks
from cptkg.shacl.report import short_name
from cptkg.shacl.scan import LOGICAL, scan_checks, scannable
from cptkg.shacl.sparql_runner import subclass_closure


def _cpu(task: Callable[[], object]) -> float:
    """The CPU time of ``task()`` in this thread."""
    start = time.thread_time()
    task()
    return time.thread_time() - start


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print Markdown tables."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="1m", help="a `cptkg generate --size` preset")
    p.add_argument("--graph", type=Path, help="an N-Triples file instead of a generated graph")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.graph
        if path is None:
            codes, payers, versions = parse_size(args.size)
            path = Path(tmp) / f"g{args.size}.nt"
            generate(path, codes=codes, payers=payers, versions=versions, seed=1)
        engine = OxigraphEngine.from_paths([path], progress=False)
        shapes = load_shapes()
        ns = bind_prefixes(Graph())
        for prefix, iri in shapes.namespaces():
            ns.bind(prefix, iri, override=False)
        subclasses = subclass_closure(engine)
        compiled = cached_compile(shapes, subclasses, DIALECT_LATERAL)
        scanned = [c for c in compiled.checks if scannable(c, compiled)]
        splits = {
            "logic scanned": scanned,
            "logic queried": [c for c in scanned if c.component not in LOGICAL],
        }
        spent: dict[str, dict[str, list[float]]] = {name: {} for name in splits}
        for _ in range(args.repeat):
            for name, in_scan in splits.items():
                chosen = {id(c) for c in in_scan}
                groups, single = group_checks(
                    [c for c in compiled.checks if id(c) not in chosen], DIALECT_LATERAL
                )
                seconds = _cpu(lambda s=in_scan: scan_checks(engine, compiled, s, subclasses))
                spent[name].setdefault("scan", []).append(seconds)
                total = 0.0
                for label, sparql in [(_label(g.checks, ns), g.sparql) for g in groups] + [
                    (_label([c], ns), c.sparql) for c in single
                ]:
                    seconds = _cpu(lambda q=sparql: engine.query(q))
                    total += seconds
                    spent[name].setdefault(label, []).append(seconds)
                spent[name].setdefault("queries", []).append(total)
    print("| split | scan CPU | queries CPU | sum |")
    print("|---|---|---|---|")
    for name, parts in spent.items():
        scan, queries = statistics.median(parts["scan"]), statistics.median(parts["queries"])
        print(f"| {name} | {scan:.3f} s | {queries:.3f} s | {scan + queries:.3f} s |")
    print()
    print("| query beside the scan (logic scanned) | CPU (median) |")
    print("|---|---|")
    parts = spent["logic scanned"]
    per_query = {k: statistics.median(v) for k, v in parts.items() if k not in ("scan", "queries")}
    for label, seconds in sorted(per_query.items(), key=lambda kv: -kv[1]):
        print(f"| {label} | {seconds * 1000:.1f} ms |")
    return 0


def _label(checks: list[Check], ns: Graph) -> str:
    """The components and root shapes of a query's checks, named with ``ns``'s prefixes."""
    comps = sorted({short_name(c.component, ns) for c in checks})
    roots = sorted({short_name(c.root, ns) for c in checks})
    return f"{', '.join(comps)} ({', '.join(roots)})"


if __name__ == "__main__":
    sys.exit(main())
