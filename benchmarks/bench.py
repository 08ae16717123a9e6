"""Benchmark: rdflib vs Oxigraph, cptkg vs raw pyoxigraph, compiled SHACL vs pySHACL / Jena.

``python benchmarks/bench.py --sizes 10k 100k 1m [--json PATH]`` generates a synthetic graph per
size (plus the shipped graph and ontology), then measures side by side in one run, each
engine in its own child process (so peak RSS is per engine, read from ``VmHWM``):

* load time: cptkg on rdflib, cptkg on Oxigraph, raw ``pyoxigraph.Store.bulk_load``;
* each stored query's median latency: rdflib, cptkg on Oxigraph, raw ``Store.query``; and,
  paired in the Oxigraph child (cptkg and raw in alternation on the same store, so a change
  of the machine's load hits both), cptkg on Oxigraph against raw ``Store.query``;
* Turtle export: rdflib (cptkg's canonical export), cptkg on Oxigraph, raw pyoxigraph
  ``serialize`` of the same union of graphs;
* full validation: pySHACL on rdflib, shapes compiled to SPARQL on Oxigraph, Apache Jena
  ``shacl validate`` (wall, JVM included) when its jars are installed; and the default
  engine's (pySHACL on the focus nodes the compiled shapes flag), checked equal to pySHACL's
  where both run;
* one new policy file validated in the context of the graph (cptkg.intake.validation), on Oxigraph,
  versus the same against the shipped graph on rdflib;
* cold start of ``cptkg query payers`` versus ``python -c "import rdflib"``.

Prints a Markdown table and writes everything to ``bench-results.json`` (or ``--json``).
Run by hand; nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib import RDF, Graph
from rdflib.namespace import SH

from cptkg import paths
from cptkg.catalog import load_catalog
from cptkg.engines.base import inject_values
from cptkg.engines.oxigraph_engine import OxigraphEngine
from cptkg.engines.rdflib_engine import RdflibEngine
from cptkg.export import export
from cptkg.generate import generate, parse_size
from cptkg.intake.context import SparqlContext
from cptkg.intake.validation import validate_files
from cptkg.load import load_dataset, load_ontology, load_shapes, shipped_files, union_graph
from cptkg.query import bind_params
from cptkg.shacl.pyshacl_runner import validate
from cptkg.shacl.sparql_runner import validate_engine

#: This script, run again in a child process per engine (``--child``).
SCRIPT = Path(__file__).resolve()

NEW_POLICY = """\
@prefix cptkg: <https://w3id.org/cptkg/ontology#> .
@prefix kg: <https://w3id.org/cptkg/id/> .
@prefix syn: <https://w3id.org/cptkg/id/synthetic/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
syn:new-policy-bench a cptkg:PayerPolicy ;
    rdfs:label "Illustrative new policy (benchmark)" ;
    dcterms:identifier "bench-new-policy-1" ;
    cptkg:payer kg:payer-aetna ;
    cptkg:appliesToCode kg:cpt-64866 ;
    cptkg:codeApplicabilityBasis cptkg:applicability-stated-by-code ;
    cptkg:effectiveDate "2026-01-01"^^xsd:date ;
    cptkg:coverage cptkg:coverage-conditional ;
    cptkg:priorAuthorization cptkg:pa-required ;
    cptkg:siteOfServiceRestriction cptkg:site-not-stated ;
    cptkg:documentationRequired cptkg:doc-clinical ;
    cptkg:medicalNecessityCriteria cptkg:criteria-not-stated ;
    cptkg:evidenceStatus cptkg:evidence-illustrative ;
    prov:wasDerivedFrom kg:document-aetna-cpb-0366 ;
    cptkg:synthetic true .
"""

QUERY_PARAMS = {
    "policies-as-of": {"asOf": "2025-06-30"},
    "payer-policy": {"payer": "Aetna"},
    "search-labels": {"text": "spinal accessory"},
}

_SIZE_UNITS = {"k": 1_000, "m": 1_000_000}


def size_value(text: str) -> int:
    t = text.lower()
    return int(float(t[:-1]) * _SIZE_UNITS[t[-1]]) if t[-1] in _SIZE_UNITS else int(t)


def peak_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _median_time(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _queries() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for name, stored in sorted(load_catalog().items()):
        out.append((name, stored.text, bind_params(stored, QUERY_PARAMS.get(name))))
    return out


# ------------------------------------------------------------------ child tasks
def child_rdflib(files: list[str], repeat: int, pyshacl: bool, new_file: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    t = time.perf_counter()
    ds = load_dataset([Path(f) for f in files], include_ontology=False)
    g = union_graph(ds)
    out["load"] = time.perf_counter() - t
    out["triples"] = len(g)
    engine = RdflibEngine(g)
    out["queries"] = {}
    for name, text, bindings in _queries():
        engine.query(text, bindings)  # warm-up (rdflib's parser warms up once)
        out["queries"][name] = _median_time(lambda t=text, b=bindings: engine.query(t, b), repeat)
    t = time.perf_counter()
    data = export(ds, "ttl")
    out["export"] = time.perf_counter() - t
    out["export_bytes"] = len(data)
    del data
    if pyshacl:
        t = time.perf_counter()
        res = validate(g)
        out["validate"] = time.perf_counter() - t
        out["validate_results"] = len(res.results)
    t = time.perf_counter()
    screened = engine.validate()  # pySHACL on the focus nodes the compiled shapes flag
    out["validate_screened"] = time.perf_counter() - t
    out["validate_screened_results"] = len(screened.results)
    if pyshacl and [f.statement() for f in screened.results] != [
        f.statement() for f in res.results
    ]:
        raise AssertionError("the default engine's validation differs from pySHACL's")
    validate_files([new_file])  # warm-up
    out["new_file"] = _median_time(lambda: validate_files([new_file]), repeat)
    out["peak_rss_mib"] = peak_rss_mib()
    return out


def child_oxigraph(files: list[str], repeat: int, new_file: str, tmp: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    t = time.perf_counter()
    engine = OxigraphEngine.from_paths([Path(f) for f in files], include_ontology=False)
    out["load"] = time.perf_counter() - t
    out["triples"] = len(engine)
    out["queries"] = {}
    for name, text, bindings in _queries():
        engine.query(text, bindings)
        out["queries"][name] = _median_time(lambda t=text, b=bindings: engine.query(t, b), repeat)
    out["paired"] = paired_queries(engine, repeat)
    target = Path(tmp) / "ox-export.ttl"
    t = time.perf_counter()
    engine.write("ttl", target)
    out["export"] = time.perf_counter() - t
    out["export_bytes"] = target.stat().st_size
    target.unlink()
    shapes, ontology = load_shapes(), load_ontology()
    t = time.perf_counter()
    res = validate_engine(engine, shapes, ontology, progress=False)
    out["validate"] = time.perf_counter() - t
    out["validate_results"] = len(res.result.results)
    out["validate_pairs"] = sorted(
        {(str(f.focus_node), str(f.source_shape)) for f in res.result.results}
    )
    ctx = SparqlContext(engine)
    validate_files([new_file], context=ctx)
    out["new_file"] = _median_time(lambda: validate_files([new_file], context=ctx), repeat)
    out["peak_rss_mib"] = peak_rss_mib()
    return out


def paired_queries(engine: OxigraphEngine, repeat: int) -> dict[str, dict[str, float]]:
    """Each stored query run by cptkg (``engine.query``: parameters bound, rows as rdflib
    terms) and raw (``Store.query`` of the same text on the same store, solutions iterated) in
    alternation, ``repeat`` times each: the medians of the two, measured under the same load."""
    out: dict[str, dict[str, float]] = {}
    for name, text, bindings in _queries():
        q = inject_values(text, bindings)

        def raw(q: str = q) -> None:
            for _sol in engine.store.query(q, use_default_graph_as_union=True):
                pass

        raw()
        engine.query(text, bindings)
        ours, theirs = [], []
        for _ in range(repeat):
            t = time.perf_counter()
            engine.query(text, bindings)
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            raw()
            theirs.append(time.perf_counter() - t)
        out[name] = {"cptkg": statistics.median(ours), "raw": statistics.median(theirs)}
    return out


def over_target(cptkg: float, raw: float) -> bool:
    """Whether a query misses the target: more than 1.5x raw pyoxigraph and more than 5 ms
    over it."""
    return cptkg > 1.5 * raw and cptkg - raw > 0.005


def child_raw(files: list[str], repeat: int, tmp: str) -> dict[str, Any]:
    fmts = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES}
    out: dict[str, Any] = {}
    store = ox.Store()
    t = time.perf_counter()
    for f in files:
        p = Path(f)
        store.bulk_load(
            path=str(p),
            format=fmts[p.suffix],
            base_iri=p.resolve().as_uri(),
            to_graph=ox.NamedNode(paths.graph_iri(p)),
        )
    out["load"] = time.perf_counter() - t
    out["queries"] = {}
    for name, text, bindings in _queries():
        q = inject_values(text, bindings)

        def run(q: str = q) -> None:
            for _sol in store.query(q, use_default_graph_as_union=True):
                pass

        run()
        out["queries"][name] = _median_time(run, repeat)
    target = Path(tmp) / "raw-export.ttl"
    t = time.perf_counter()
    ox.serialize(
        store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", use_default_graph_as_union=True),
        str(target),
        format=ox.RdfFormat.TURTLE,
    )
    out["export"] = time.perf_counter() - t
    target.unlink()
    out["peak_rss_mib"] = peak_rss_mib()
    return out


# ------------------------------------------------------------------ Jena
JENA_JARS = (
    "jena-base jena-core jena-arq jena-shacl jena-cmds jena-iri jena-shex jena-rdfconnection "
    "jena-tdb jena-tdb2 jena-dboe-base jena-dboe-index jena-dboe-storage jena-dboe-trans-data "
    "jena-dboe-transaction commons-cli commons-codec commons-compress commons-csv commons-io "
    "commons-lang3 dexx.collection gson guava httpclient httpcore jackson-annotations "
    "jackson-core jackson-databind jakarta.json-api jsonld-java protobuf slf4j-api slf4j-nop "
    "thrift titanium-json-ld"
).split()


def jena_classpath(workdir: Path) -> str | None:
    """The Debian Jena jars plus the Xerces-messages workaround jar (see engines.md), or None."""
    java_dir = Path("/usr/share/java")
    core = java_dir / "jena-core.jar"
    if not core.is_file():
        return None
    fix = workdir / "jena-xerces-messages.jar"
    if not fix.is_file():
        prefix = "org/apache/jena/ext/xerces/"
        with zipfile.ZipFile(core) as src, zipfile.ZipFile(fix, "w") as dst:
            for name in src.namelist():
                if name.startswith(prefix) and not name.endswith("/"):
                    dst.writestr("xerces/" + name[len(prefix) :], src.read(name))
    jars = [java_dir / f"{j}.jar" for j in JENA_JARS]
    missing = [j.name for j in jars if not j.is_file()]
    if missing:
        return None
    return ":".join([str(fix)] + [str(j) for j in jars])


def run_jena(cp: str, data: Path, shapes: Path) -> dict[str, Any]:
    t = time.perf_counter()
    proc = subprocess.run(
        [
            "java",
            "-cp",
            cp,
            "shacl.shacl",
            "validate",
            "--shapes",
            str(shapes),
            "--data",
            str(data),
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    wall = time.perf_counter() - t
    pairs: set[tuple[str, str]] = set()
    results = 0
    try:
        report = Graph().parse(data=proc.stdout, format="turtle")
        for r in report.subjects(RDF.type, SH.ValidationResult):
            results += 1
            pairs.add((str(report.value(r, SH.focusNode)), str(report.value(r, SH.sourceShape))))
    except Exception as exc:  # a report we cannot read is recorded, not fatal to the run
        return {"validate": wall, "exit": proc.returncode, "error": f"report unreadable: {exc}"}
    return {
        "validate": wall,
        "exit": proc.returncode,
        "results": results,
        "pairs": sorted(pairs),
        "stderr": proc.stderr[-500:],
    }


# ------------------------------------------------------------------ driver
def run_child(task: str, args: list[str]) -> dict[str, Any]:
    """Run one engine's measurements (``rdflib``, ``oxigraph`` or ``raw``) in a fresh process.

    Returns the child's figures, or ``{"error": ...}`` with the end of its stderr.
    """
    cmd = [sys.executable, str(SCRIPT), "--child", task, *args]
    env = dict(os.environ, CPTKG_PROGRESS="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=7200)
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cold_start(repeat: int = 5) -> dict[str, float]:
    def wall(cmd: list[str]) -> float:
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        return time.perf_counter() - t

    rdflib_import = statistics.median(
        wall([sys.executable, "-c", "import rdflib"]) for _ in range(repeat)
    )
    query = statistics.median(
        wall([sys.executable, "-m", "cptkg", "query", "payers", "-f", "csv"]) for _ in range(repeat)
    )
    return {"import_rdflib": rdflib_import, "cptkg_query": query, "ratio": query / rdflib_import}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(
            int(x.split()[1])
            for x in Path("/proc/meminfo").read_text().splitlines()
            if x.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem = 0
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem / 1024 / 1024, 1),
        "python": platform.python_version(),
        "rdflib": rdflib.__version__,
        "pyoxigraph": getattr(ox, "__version__", "0.5"),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python benchmarks/bench.py", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--sizes", nargs="+", default=["10k", "100k"], help="10k 100k 1m 10m")
    p.add_argument("--json", default="bench-results.json", metavar="PATH")
    p.add_argument("--repeat", type=int, default=5, help="runs per query latency (median)")
    p.add_argument("--skip-pyshacl-above", default="10k", metavar="SIZE")
    p.add_argument("--skip-rdflib-above", default="1m", metavar="SIZE")
    p.add_argument("--no-jena", action="store_true")
    p.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "cptkg-bench"))
    p.add_argument("--invalid-rate", type=float, default=0.001)
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--files", nargs="*", help=argparse.SUPPRESS)
    p.add_argument("--pyshacl", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--new-file", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        if args.child == "rdflib":
            res = child_rdflib(args.files, args.repeat, args.pyshacl, args.new_file)
        elif args.child == "oxigraph":
            res = child_oxigraph(args.files, args.repeat, args.new_file, args.workdir)
        else:
            res = child_raw(args.files, args.repeat, args.workdir)
        print(json.dumps(res))
        return 0
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    new_file = work / "new-policy.ttl"
    new_file.write_text(NEW_POLICY, encoding="utf-8")
    shapes_file = work / "shapes.ttl"
    load_shapes().serialize(shapes_file, format="turtle")
    cp = None if args.no_jena else jena_classpath(work)
    results: dict[str, Any] = {"machine": machine(), "sizes": {}, "jena_available": cp is not None}
    print(f"machine: {results['machine']}", file=sys.stderr)
    results["cold_start"] = cold_start()
    base_files = [str(f) for f in shipped_files()]
    for size in args.sizes:
        codes, payers, versions = parse_size(size)
        gen = work / f"synthetic-{size}.nt"
        t = time.perf_counter()
        g = generate(
            gen,
            codes=codes,
            payers=payers,
            versions=versions,
            seed=1,
            invalid_rate=args.invalid_rate,
        )
        entry: dict[str, Any] = {
            "generated_triples": g.triples,
            "generate_s": time.perf_counter() - t,
        }
        files = base_files + [str(gen)]
        common = [
            "--files",
            *files,
            "--repeat",
            str(args.repeat),
            "--workdir",
            str(work),
            "--new-file",
            str(new_file),
        ]
        print(f"[{size}] raw pyoxigraph ...", file=sys.stderr)
        entry["raw"] = run_child("raw", common)
        print(f"[{size}] cptkg on Oxigraph ...", file=sys.stderr)
        entry["oxigraph"] = run_child("oxigraph", common)
        if size_value(size) <= size_value(args.skip_rdflib_above):
            print(f"[{size}] cptkg on rdflib ...", file=sys.stderr)
            extra = ["--pyshacl"] if size_value(size) <= size_value(args.skip_pyshacl_above) else []
            entry["rdflib"] = run_child("rdflib", common + extra)
        if cp is not None:
            print(f"[{size}] Jena SHACL ...", file=sys.stderr)
            merged = work / f"merged-{size}.nt"
            # Jena reads the source triples as written: not an Oxigraph export, which would
            # carry Oxigraph's canonical datatypes (xsd:positiveInteger -> xsd:integer) and
            # so give Jena datatype violations the data does not have
            with merged.open("wb") as out:
                out.write(union_graph(load_dataset(None)).serialize(format="nt", encoding="utf-8"))
                with gen.open("rb") as src:
                    shutil.copyfileobj(src, out)
            entry["jena"] = run_jena(cp, merged, shapes_file)
            merged.unlink()
            ours = {tuple(x) for x in entry["oxigraph"].get("validate_pairs", [])}
            theirs = {tuple(x) for x in entry["jena"].pop("pairs", [])}
            # the same (focus node, source shape) set as cptkg's compiled validator?
            entry["jena"]["agrees_with_cptkg"] = ours == theirs
            entry["jena"]["only_jena"] = sorted(theirs - ours)[:20]
            entry["jena"]["only_cptkg"] = sorted(ours - theirs)[:20]
        results["sizes"][size] = entry
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(render_table(results))
    Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


def _f(x: Any, unit: str = "s") -> str:
    if x is None:
        return "–"
    if unit == "s":
        return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"
    return f"{x:.0f} MiB"


def _ratio(a: Any, b: Any) -> str:
    return f"{a / b:.2f}x" if a and b else "–"


def _jena_cell(j: dict[str, Any], o: dict[str, Any]) -> str:
    """Jena's wall time, and whether its results match cptkg's (focus node, shape) set."""
    if not j:
        return ""
    if "agrees_with_cptkg" not in j:
        return _f(j.get("validate"))
    same = "same" if j["agrees_with_cptkg"] else "DIFFERENT"
    return f"{_f(j.get('validate'))} ({j.get('results')} results, {same} as compiled)"


def render_table(results: dict[str, Any]) -> str:
    """The benchmark as Markdown tables."""
    lines = []
    m = results["machine"]
    lines.append(
        f"Machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gib']} GiB RAM; Python {m['python']}, "
        f"rdflib {m['rdflib']}, pyoxigraph {m['pyoxigraph']}."
    )
    cs = results.get("cold_start", {})
    if cs:
        lines.append(
            f'Cold start: `cptkg query payers` {_f(cs["cptkg_query"])} vs `python -c "import '
            f'rdflib"` {_f(cs["import_rdflib"])} ({cs["ratio"]:.2f}x).'
        )
    lines.append("")
    lines.append(
        "| size (triples) | measure | rdflib | cptkg on Oxigraph | raw pyoxigraph | cptkg-ox / raw "
        "| rdflib / cptkg-ox | Jena |"
    )
    lines.append("|---|---|---|---|---|---|---|---|")
    for size, e in results["sizes"].items():
        r, o, w, j = e.get("rdflib", {}), e.get("oxigraph", {}), e.get("raw", {}), e.get("jena", {})
        n = o.get("triples", e["generated_triples"])
        label = f"{size} ({n:,})"
        for key, name in (("load", "load"), ("export", "Turtle export")):
            lines.append(
                f"| {label} | {name} | {_f(r.get(key))} | {_f(o.get(key))} | {_f(w.get(key))} "
                f"| {_ratio(o.get(key), w.get(key))} | {_ratio(r.get(key), o.get(key))} | |"
            )
        qo, qw, qr = o.get("queries", {}), w.get("queries", {}), r.get("queries", {})
        if qo:
            worst = max(qo, key=lambda k: qo[k] - 1.5 * qw.get(k, 0))
            tot_o, tot_w = sum(qo.values()), sum(qw.values())
            tot_r = sum(qr.values()) if qr else None
            lines.append(
                f"| {label} | {len(qo)} stored queries, sum of medians | {_f(tot_r)} | {_f(tot_o)} "
                f"| {_f(tot_w)} | {_ratio(tot_o, tot_w)} | {_ratio(tot_r, tot_o)} | |"
            )
            slowest = max(qo, key=qo.get)
            lines.append(
                f"| {label} | slowest query ({slowest}) | {_f(qr.get(slowest))} | {_f(qo[slowest])} "  # noqa: E501
                f"| {_f(qw.get(slowest))} | {_ratio(qo[slowest], qw.get(slowest))} "
                f"| {_ratio(qr.get(slowest), qo[slowest])} | |"
            )
            lines.append(
                f"| {label} | worst query vs raw ({worst}) | {_f(qr.get(worst))} | {_f(qo[worst])} "
                f"| {_f(qw.get(worst))} | {_ratio(qo[worst], qw.get(worst))} "
                f"| {_ratio(qr.get(worst), qo[worst])} | |"
            )
        paired = o.get("paired", {})
        if paired:
            pw = max(paired, key=lambda k: paired[k]["cptkg"] - 1.5 * paired[k]["raw"])
            over = sorted(k for k, v in paired.items() if over_target(v["cptkg"], v["raw"]))
            ours, theirs = paired[pw]["cptkg"], paired[pw]["raw"]
            lines.append(
                f"| {label} | worst query vs raw, paired in one process ({pw}; over 1.5x and "
                f"5 ms: {', '.join(over) or 'none'}) | | {_f(ours)} | {_f(theirs)} "
                f"| {_ratio(ours, theirs)} | | |"
            )
        lines.append(
            f"| {label} | full validation | {_f(r.get('validate'))} (pySHACL) "
            f"| {_f(o.get('validate'))} (compiled) | | | {_ratio(r.get('validate'), o.get('validate'))} "  # noqa: E501
            f"| {_jena_cell(j, o)} |"
        )
        lines.append(
            f"| {label} | full validation, default engine | "
            f"{_f(r.get('validate_screened'))} (pySHACL screened, "
            f"{r.get('validate_screened_results', '–')} results) | | | "
            f"| {_ratio(r.get('validate'), r.get('validate_screened'))} vs pySHACL alone | |"
        )
        lines.append(
            f"| {label} | one new policy file | {_f(r.get('new_file'))} (shipped graph) "
            f"| {_f(o.get('new_file'))} | | | | |"
        )
        lines.append(
            f"| {label} | peak RSS | {_f(r.get('peak_rss_mib'), 'm')} | {_f(o.get('peak_rss_mib'), 'm')} "  # noqa: E501
            f"| {_f(w.get('peak_rss_mib'), 'm')} | | | |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
