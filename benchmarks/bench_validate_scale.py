"""Benchmark: full validation of a generated graph on Oxigraph against one ``bulk_load`` of the
same triples, the one-query-per-constraint form, and Apache Jena SHACL.

``python benchmarks/bench_validate_scale.py --sizes 1m [--repeat 3] [--json PATH]`` generates
the graph once per size (``--invalid-rate 0.001``, seed 1, with the shipped graph), then runs
``--repeat`` paired rounds, each measuring side by side:

* in a child process: ``pyoxigraph.Store.bulk_load`` of the files (raw), one pass over its
  quads from Python doing nothing with them (the floor of the scan), the same files loaded
  by cptkg, :func:`cptkg.shacl.sparql_runner.validate_engine` (the simple constraints by one
  scan of the store, the others by grouped compiled checks on the other processors, as the
  CLI runs it; load excluded), the same in one thread, the same without
  the scan (every check a query, ``scan=False``: same results required), the same checks run
  one query per constraint (the form before grouping), the Turtle report, and the peak RSS;
* the whole process ``cptkg validate --engine oxigraph data FILE -f turtle -o OUT``, and the
  same with ``--shacl-only`` (the shapes alone: the results Jena gives, no code checks);
* the whole process of Jena's ``shacl validate`` on the same triples as N-Triples (when
  Debian's ``libapache-jena-java`` is installed), its results compared with cptkg's.

Wall and CPU time (user + system; the JVM uses several threads) are reported, each ratio
taken within one round and the median over rounds given, so that a shared machine's load
affects both sides of a ratio alike. Run by hand; nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import SH

from cptkg import paths
from cptkg.codes.checks import NOT_IN_RELEASE, RULE_BASE
from cptkg.engines.oxigraph_engine import OxigraphEngine
from cptkg.generate import generate, parse_size
from cptkg.load import load_dataset, load_shapes, shipped_files, union_graph
from cptkg.shacl.compiler import compile_shapes
from cptkg.shacl.sparql_runner import subclass_closure, validate_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import jena_classpath, peak_rss_mib, run_jena  # noqa: E402

SCRIPT = Path(__file__).resolve()


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> dict[str, float]:
    return {"wall": time.perf_counter() - start[0], "cpu": time.process_time() - start[1]}


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _pairs_of_report(report: Graph) -> set[tuple[str, str]]:
    """(focus node, source shape) of the SHACL results of a report graph (the CLI's code
    checks against the code releases, which name no constraint component, left out)."""
    return {
        (str(report.value(r, SH.focusNode)), str(report.value(r, SH.sourceShape)))
        for r in report.subjects(RDF.type, SH.ValidationResult)
        if report.value(r, SH.sourceConstraintComponent) is not None
    }


def _explaining_uses(report: Graph) -> set[tuple[str, str, str]]:
    """(focus node, path, value) of the CLI report's code-not-in-release results (each
    replaces the ``sh:class`` result about the same use of the code: add_to_validation)."""
    return {
        (
            str(report.value(r, SH.focusNode)),
            str(report.value(r, SH.resultPath)),
            str(report.value(r, SH.value)),
        )
        for r in report.subjects(SH.sourceShape, URIRef(RULE_BASE + NOT_IN_RELEASE))
    }


# ------------------------------------------------------------------ child
def child(files: list[str], per_constraint: bool = True) -> dict[str, Any]:
    """Raw bulk_load, cptkg load, grouped validation, per-constraint queries, report."""
    out: dict[str, Any] = {}
    store = ox.Store()
    start = _clock()
    for f in files:
        p = Path(f)
        store.bulk_load(
            path=str(p),
            format=ox.RdfFormat.TURTLE if p.suffix == ".ttl" else ox.RdfFormat.N_TRIPLES,
            base_iri=p.resolve().as_uri(),
            to_graph=ox.NamedNode(paths.graph_iri(p)),
        )
    out["bulk_load"] = _since(start)
    # the floor of any pass over the store from Python: every quad read, nothing done with it
    start = _clock()
    for _quad in store.quads_for_pattern(None, None, None, None):
        pass
    out["raw_pass"] = _since(start)
    del store
    start = _clock()
    engine = OxigraphEngine.from_paths([Path(f) for f in files], include_ontology=False)
    out["load"] = _since(start)
    out["triples"] = len(engine)
    shapes = load_shapes()
    # as the CLI runs it: the queries on the other processors while the store is scanned
    out["workers"] = engine.parallel_queries()
    start = _clock()
    res = validate_engine(engine, shapes, progress=False, workers=out["workers"])
    out["validate"] = _since(start)
    out["queries"] = res.queries
    out["constraints"] = res.checks
    out["scanned"] = res.scanned
    out["scan_cpu"] = res.scan_seconds
    out["queries_cpu"] = res.query_seconds
    start = _clock()
    one_thread = validate_engine(engine, shapes, progress=False, workers=1)
    out["validate_one_thread"] = _since(start)
    out["threads_agree"] = _full(one_thread.result) == _full(res.result)
    start = _clock()
    unscanned = validate_engine(engine, shapes, progress=False, scan=False)
    out["validate_without_scan"] = _since(start)
    out["scan_agrees"] = _full(unscanned.result) == _full(res.result)
    out["results"] = len(res.result.results)
    start = _clock()
    turtle = res.result.to_turtle()
    out["turtle_report"] = _since(start)
    out["pairs"] = sorted(_pairs_of_report(Graph().parse(data=turtle, format="turtle")))
    out["class_results"] = sorted(
        (str(f.focus_node), str(f.source_shape), str(f.path), str(f.value))
        for f in res.result.results
        if f.constraint_component == SH.ClassConstraintComponent
    )
    out["peak_rss_mib"] = peak_rss_mib()
    if not per_constraint:
        return out
    compiled = compile_shapes(shapes, subclass_closure(engine))
    start = _clock()
    rows = 0
    for check in compiled.checks:
        result = engine.query(check.sparql)
        rows += len(result.rows)  # type: ignore[union-attr]
    out["per_constraint_queries"] = _since(start)
    out["per_constraint_query_count"] = len(compiled.checks)
    out["per_constraint_rows"] = rows
    return out


def _full(result: Any) -> list[tuple[str, ...]]:
    """Everything each result says, in report order."""
    return [tuple(str(x) for x in f.statement()) for f in result.results]


def run_child(files: list[str], per_constraint: bool = True) -> dict[str, Any]:
    env = dict(os.environ, CPTKG_PROGRESS="0")
    flag = [] if per_constraint else ["--no-per-constraint"]
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *flag, "--child", *files],
        capture_output=True,
        text=True,
        env=env,
        timeout=7200,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_cptkg(data: Path, out: Path, *options: str) -> dict[str, Any]:
    """The whole ``cptkg validate --engine oxigraph [OPTIONS]`` process: wall and CPU time,
    results."""
    env = dict(os.environ, CPTKG_PROGRESS="0")
    cmd = [sys.executable, "-m", "cptkg", "validate", "--engine", "oxigraph", *options]
    cmd += [str(paths.data_dir()), str(data), "-f", "turtle", "-o", str(out)]
    cpu, start = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=7200)
    wall = time.perf_counter() - start
    report = Graph().parse(out, format="turtle") if out.is_file() else Graph()
    pairs = _pairs_of_report(report)
    explaining = _explaining_uses(report)
    return {
        "wall": wall,
        "cpu": _children_cpu() - cpu,
        "exit": proc.returncode,
        "results": len(pairs),
        "pairs": sorted(pairs),
        "explaining": sorted(explaining),
        "stderr": proc.stderr[-500:],
    }


def _median(runs: list[dict[str, Any]], *keys: str) -> float | None:
    values = []
    for run in runs:
        x: Any = run
        for k in keys:
            x = x.get(k) if isinstance(x, dict) else None
        if isinstance(x, int | float):
            values.append(float(x))
    return statistics.median(values) if values else None


def _ratio(runs: list[dict[str, Any]], a: tuple[str, ...], b: tuple[str, ...]) -> float | None:
    """Median over rounds of a / b, both taken in the same round."""
    ratios = []
    for run in runs:
        x, y = run, run
        for k in a:
            x = x.get(k, {}) if isinstance(x, dict) else {}
        for k in b:
            y = y.get(k, {}) if isinstance(y, dict) else {}
        if isinstance(x, int | float) and isinstance(y, int | float) and y:
            ratios.append(x / y)
    return statistics.median(ratios) if ratios else None


def summary(size: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians and paired ratios of one size's rounds."""
    first = runs[0]["child"]
    out: dict[str, Any] = {
        "triples": first.get("triples"),
        "rounds": len(runs),
        "queries": first.get("queries"),
        "scanned": first.get("scanned"),
        "scan_agrees_in_every_round": all(r["child"].get("scan_agrees") for r in runs),
        "workers": first.get("workers"),
        "threads_agree_in_every_round": all(r["child"].get("threads_agree") for r in runs),
        "per_constraint_query_count": first.get("per_constraint_query_count"),
        "results": first.get("results"),
        "peak_rss_mib": _median(runs, "child", "peak_rss_mib"),
        "scan_cpu": _median(runs, "child", "scan_cpu"),
        "queries_cpu": _median(runs, "child", "queries_cpu"),
    }
    whats = (
        "bulk_load",
        "raw_pass",
        "load",
        "validate",
        "validate_one_thread",
        "validate_without_scan",
        "per_constraint_queries",
    )
    for what in (*whats, "turtle_report"):
        for clock in ("wall", "cpu"):
            out[f"{what}_{clock}"] = _median(runs, "child", what, clock)
    for clock in ("wall", "cpu"):
        out[f"validate_over_bulk_load_{clock}"] = _ratio(
            runs, ("child", "validate", clock), ("child", "bulk_load", clock)
        )
        out[f"one_thread_over_bulk_load_{clock}"] = _ratio(
            runs, ("child", "validate_one_thread", clock), ("child", "bulk_load", clock)
        )
        out[f"without_scan_over_validate_{clock}"] = _ratio(
            runs, ("child", "validate_without_scan", clock), ("child", "validate", clock)
        )
        out[f"per_constraint_over_validate_{clock}"] = _ratio(
            runs, ("child", "per_constraint_queries", clock), ("child", "validate", clock)
        )
        out[f"cptkg_process_{clock}"] = _median(runs, "cptkg", clock)
        out[f"cptkg_shacl_only_process_{clock}"] = _median(runs, "cptkg_shacl", clock)
        if any("jena" in r for r in runs):
            out[f"jena_process_{clock}"] = _median(runs, "jena", clock)
            out[f"cptkg_over_jena_{clock}"] = _ratio(runs, ("cptkg", clock), ("jena", clock))
            out[f"cptkg_shacl_only_over_jena_{clock}"] = _ratio(
                runs, ("cptkg_shacl", clock), ("jena", clock)
            )
            ratios = [
                (r["child"]["load"][clock] + r["child"]["validate"][clock]) / r["jena"][clock]
                for r in runs
                if "load" in r["child"] and r.get("jena", {}).get(clock)
            ]
            out[f"load_and_validate_over_jena_{clock}"] = (
                statistics.median(ratios) if ratios else None
            )
    out["same_results_in_every_round"] = all(r.get("agree", True) for r in runs)
    if out["triples"]:
        millions = out["triples"] / 1e6
        for what in ("bulk_load", "raw_pass", "validate"):
            for clock in ("wall", "cpu"):
                if out.get(f"{what}_{clock}") is not None:
                    out[f"{what}_{clock}_per_million"] = out[f"{what}_{clock}"] / millions
        out["peak_rss_mib_per_million"] = out["peak_rss_mib"] / (out["triples"] / 1e6)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python benchmarks/bench_validate_scale.py", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--sizes", nargs="+", default=["100k"], help="10k 100k 1m 5m (presets)")
    p.add_argument("--repeat", type=int, default=3, help="paired rounds per size")
    p.add_argument("--json", default="bench-validate-scale.json", metavar="PATH")
    p.add_argument("--no-jena", action="store_true")
    p.add_argument(
        "--no-cli",
        action="store_true",
        help="leave out the whole `cptkg validate` process (its code checks dominate it)",
    )
    p.add_argument(
        "--no-per-constraint",
        action="store_true",
        help="leave out the one-query-per-constraint run (slow at 5M)",
    )
    p.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "cptkg-bench-validate"))
    p.add_argument("--invalid-rate", type=float, default=0.001)
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, not args.no_per_constraint)))
        return 0
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    shapes_file = work / "shapes.ttl"
    load_shapes().serialize(shapes_file, format="turtle")
    cp = None if args.no_jena else jena_classpath(work)
    results: dict[str, Any] = {"sizes": {}, "jena_available": cp is not None}
    for size in args.sizes:
        codes, payers, versions = _size(size)
        gen = work / f"synthetic-{size}.nt"
        generate(gen, codes=codes, payers=payers, versions=versions, seed=1,
                 invalid_rate=args.invalid_rate)  # fmt: skip
        files = [str(f) for f in shipped_files()] + [str(gen)]
        merged = work / f"merged-{size}.nt"
        if cp is not None:
            with merged.open("wb") as out:
                out.write(union_graph(load_dataset(None)).serialize(format="nt", encoding="utf-8"))
                out.write(gen.read_bytes())
        runs = []
        for i in range(args.repeat):
            print(f"[{size}] round {i + 1}/{args.repeat}", file=sys.stderr)
            run: dict[str, Any] = {"child": run_child(files, not args.no_per_constraint)}
            ours = {tuple(x) for x in run["child"].get("pairs", [])}
            agree = True
            if not args.no_cli:
                run["cptkg"] = run_cptkg(gen, work / f"report-{size}.ttl")
                cli = {tuple(x) for x in run["cptkg"].pop("pairs")}
                # an sh:class result about a code that is not in its release is reported
                # by the code check instead (same focus node, path and value)
                explaining = {tuple(x) for x in run["cptkg"].pop("explaining")}
                explained = {
                    (focus, shape)
                    for focus, shape, path, value in run["child"].get("class_results", [])
                    if (focus, path, value) in explaining
                }
                run["cptkg"]["explained_by_code_checks"] = len(explained)
                run["cli_only"] = sorted(cli - ours)[:20]
                run["cli_missing"] = sorted(ours - cli - explained)[:20]
                agree = cli == ours - explained
                # the shapes alone: exactly the SHACL results, comparable with Jena's
                run["cptkg_shacl"] = run_cptkg(gen, work / f"report-{size}.ttl", "--shacl-only")
                shacl = {tuple(x) for x in run["cptkg_shacl"].pop("pairs")}
                run["cptkg_shacl"].pop("explaining")
                agree = agree and shacl == ours
            if cp is not None:
                cpu = _children_cpu()
                run["jena"] = run_jena(cp, merged, shapes_file)
                run["jena"]["cpu"] = _children_cpu() - cpu
                run["jena"]["wall"] = run["jena"].pop("validate", None)
                theirs = {tuple(x) for x in run["jena"].pop("pairs", [])}
                run["jena_only"] = sorted(theirs - ours)[:20]
                run["jena_missing"] = sorted(ours - theirs)[:20]
                agree = agree and ours == theirs
            run["agree"] = agree
            run["child"].pop("pairs", None)
            run["child"].pop("class_results", None)
            runs.append(run)
            print(json.dumps(summary(size, runs), indent=1), file=sys.stderr)
            results["sizes"][size] = {"summary": summary(size, runs), "runs": runs}
            Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
        merged.unlink(missing_ok=True)
    for size, entry in results["sizes"].items():
        print(f"{size}: {json.dumps(entry['summary'], indent=1)}")
    return 0


def _size(size: str) -> tuple[int, int, int]:
    """Presets of ``cptkg generate --size`` plus ``5m`` (100 codes, 100 payers, 25 versions)."""
    if size.lower() == "5m":
        return 100, 100, 25
    return parse_size(size)


if __name__ == "__main__":
    sys.exit(main())
