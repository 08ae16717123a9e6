"""Run the shapes compiled to SPARQL (:mod:`cptkg.shacl.compiler`) on an engine and turn the
solutions into the same findings pySHACL reports; shapes that do not compile fall back to
pySHACL on their focus nodes' neighbourhood."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from cptkg.engines.base import Engine, SelectResult
from cptkg.load import load_ontology, load_shapes
from cptkg.namespaces import bind_prefixes
from cptkg.progress import Progress
from cptkg.shacl.compiled_cache import cached_compile
from cptkg.shacl.compiler import (
    DIALECT_LATERAL,
    TARGET_PREDICATES,
    VIOLATION_CHUNK,
    Check,
    CheckGroup,
    CompiledShapes,
    Compiler,
    NotCompilable,
    group_checks,
    violation_query,
)
from cptkg.shacl.report import (
    Finding,
    ValidationResult,
    path_text,
    severity_name,
    shape_text,
    short_name,
)

T = TypeVar("T")


@dataclass
class CompiledValidation:
    """A :class:`~cptkg.shacl.report.ValidationResult` plus how it was obtained."""

    result: ValidationResult
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    checks: int = 0  #: compiled constraints
    queries: int = 0  #: queries run for them
    scanned: int = 0  #: constraints evaluated by the scan of the store (no query of their own)
    scan_seconds: float = 0.0  #: CPU time of the scan (its thread's)
    query_seconds: float = 0.0  #: CPU time of the queries and their rows, summed over threads


# --------------------------------------------------------------------------- running
def _select(engine: Engine, sparql: str) -> SelectResult:
    result = engine.query(sparql)
    assert isinstance(result, SelectResult)
    return result


def subclass_closure(engine: Engine) -> dict[URIRef, set[URIRef]]:
    """class -> all its (transitive) subclasses, read from the store."""
    direct: dict[URIRef, set[URIRef]] = {}
    rows = engine.query(
        "SELECT ?sub ?sup WHERE { ?sub <http://www.w3.org/2000/01/rdf-schema#subClassOf> ?sup }"
    ).rows
    for sub, sup in rows:
        if isinstance(sub, URIRef) and isinstance(sup, URIRef):
            direct.setdefault(sup, set()).add(sub)
    closure: dict[URIRef, set[URIRef]] = {}
    for cls in direct:
        seen: set[URIRef] = set()
        stack = [cls]
        while stack:
            c = stack.pop()
            for s in direct.get(c, ()):
                if s not in seen:
                    seen.add(s)
                    stack.append(s)
        closure[cls] = seen
    return closure


def _substitute(template: str, bindings: dict[str, Node | None], ns: Graph) -> str:
    def repl(m: re.Match[str]) -> str:
        t = bindings.get(m.group(1))
        if t is None:
            return m.group(0)
        return str(t) if isinstance(t, Literal) else short_name(t, ns)

    return re.sub(r"\{[$?]([A-Za-z_][A-Za-z0-9_]*)\}", repl, template)


def _pick_message(messages: list[Literal]) -> str | None:
    if not messages:
        return None

    def pref(m: Literal) -> tuple[int, str]:
        lang = getattr(m, "language", None)
        return (0 if lang in (None, "en") or str(lang).startswith("en-") else 1, str(m))

    return str(sorted(messages, key=pref)[0])


def validate_engine(
    engine: Engine,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
    *,
    progress: bool = True,
    dialect: str = DIALECT_LATERAL,
    grouped: bool = True,
    scan: bool = True,
    workers: int = 1,
    fallback: bool = True,
) -> CompiledValidation:
    """Validate everything in ``engine`` (an :class:`~cptkg.engines.base.Engine`, in practice
    an :class:`~cptkg.engines.oxigraph_engine.OxigraphEngine`; the ontology must be loaded in
    it, as :meth:`OxigraphEngine.from_paths` does) against ``shapes`` (default: the shipped
    shapes). ``ontology`` (default: the shipped one) serves the pySHACL fallback. The checks
    are compiled in ``dialect`` (:data:`cptkg.shacl.compiler.DIALECTS`): Oxigraph's LATERAL,
    or standard SPARQL 1.1 for other servers. ``grouped`` (the default) runs the checks as
    :attr:`CompiledShapes.groups`, one pass per focus set; without it every constraint runs
    as a query of its own (the same results, slower). With ``scan`` (the default) an engine
    whose quads can be read directly (:class:`~cptkg.shacl.scan.QuadSource`: embedded Oxigraph)
    has its simple constraints evaluated in one pass over the store (:mod:`cptkg.shacl.scan`),
    the others by their queries. With ``workers`` > 1 up to that many queries run at once
    (threads: an engine that evaluates queries outside Python's global interpreter lock, as
    Oxigraph does, then uses that many cores), while the scan runs in the calling thread; the
    findings do not depend on it (they are sorted). Without ``fallback``, shapes that do not
    compile raise :class:`~cptkg.shacl.compiler.NotCompilable` (naming the first) before any
    query runs, instead of going to pySHACL."""
    start = time.perf_counter()
    if shapes is None:
        shapes = load_shapes()
    subclasses = subclass_closure(engine)
    compiled = cached_compile(shapes, subclasses, dialect)
    if compiled.fallback and not fallback:
        root, reason = next(iter(compiled.fallback.items()))
        raise NotCompilable(f"{root}: {reason}")
    scanned: list[Check] = []
    if scan:
        from cptkg.shacl.scan import QuadSource, scannable  # not for a graph queried only

        if isinstance(engine, QuadSource):
            scanned = [c for c in compiled.checks if scannable(c, compiled)]
    if scanned:
        chosen = {id(c) for c in scanned}
        rest = [c for c in compiled.checks if id(c) not in chosen]
        compiled.groups, compiled.single = group_checks(rest, compiled.dialect)
        compiled.checks = rest
    ns = bind_prefixes(Graph())
    for prefix, iri in shapes.namespaces():
        ns.bind(prefix, iri, override=False)
    findings: list[Finding] = []
    groups = compiled.groups if grouped else []
    single = compiled.single if grouped else compiled.checks
    # each task: the (check, row) pairs of one group or one single check, and its query count
    tasks: list[Callable[[], tuple[list[tuple[Check, dict[str, Node | None]]], int]]] = [
        *(partial(_group_violations, engine, group, compiled.dialect) for group in groups),
        *(partial(_single_violations, engine, check) for check in single),
    ]
    spent: list[float] = []  # each task's CPU time, in its own thread
    tasks = [partial(_timed, task, spent) for task in tasks]
    # the scan holds the calling thread: the queries get the other workers (without a scan,
    # one worker is the calling thread itself)
    threads = workers - 1 if scanned else (workers if workers > 1 else 0)
    pool = ThreadPoolExecutor(max_workers=threads) if threads >= 1 and tasks else None
    with Progress("validate", total=len(tasks) + 1, unit="queries") as bar:
        if not progress:
            bar.active = False
        # submitted first, so that the queries run while the store is scanned
        pending = [pool.submit(task) for task in tasks] if pool is not None else []
        try:
            scan_start = time.thread_time()
            rows, queries = [], 0
            if scanned:
                from cptkg.shacl.scan import scan_checks

                rows, queries = scan_checks(engine, compiled, scanned, subclasses)  # type: ignore[arg-type]
            scan_seconds = time.thread_time() - scan_start
            for check, row in rows:
                findings.append(_check_finding(check, row, shapes, ns))
            bar.update(1)
            outcomes = (f.result() for f in pending) if pending else (t() for t in tasks)
            for rows, ran in outcomes:  # in the order of the tasks, whatever finished first
                queries += ran
                for check, row in rows:
                    findings.append(_check_finding(check, row, shapes, ns))
                bar.update(1)
        finally:
            if pool is not None:  # after a failed query or an interrupt, queued ones never start
                pool.shutdown(wait=True, cancel_futures=True)
    notes: list[str] = []
    if compiled.fallback:
        fb, fb_notes = _fallback(engine, compiled, ontology, ns)
        findings.extend(fb)
        notes.extend(fb_notes)
    findings.sort(key=Finding.sort_key)
    report = _report_graph(findings)
    conforms = not any(f.severity == "Violation" for f in findings)
    result = ValidationResult(
        conforms=conforms, results=findings, report_graph=report, namespaces=ns
    )
    return CompiledValidation(
        result,
        notes,
        time.perf_counter() - start,
        checks=len(compiled.checks) + len(scanned),
        queries=queries,
        scanned=len(scanned),
        scan_seconds=scan_seconds,
        query_seconds=sum(spent),
    )


def _timed(task: Callable[[], T], spent: list[float]) -> T:
    """``task()``, its thread's CPU time appended to ``spent``."""
    start = time.thread_time()
    try:
        return task()
    finally:
        spent.append(time.thread_time() - start)


def _single_violations(
    engine: Engine, check: Check
) -> tuple[list[tuple[Check, dict[str, Node | None]]], int]:
    """The violation rows of ``check`` run as a query of its own, and the query count (1)."""
    return [(check, row) for row in _rows(engine, check.sparql)], 1


def _rows(engine: Engine, sparql: str) -> list[dict[str, Node | None]]:
    result = _select(engine, sparql)
    return [dict(zip(result.variables, sol, strict=True)) for sol in result.rows]


def _group_violations(
    engine: Engine, group: CheckGroup, dialect: str
) -> tuple[list[tuple[Check, dict[str, Node | None]]], int]:
    """The violation rows of ``group``'s checks, and the number of queries it took: the
    group's query finds the focus nodes violating any check; :func:`violation_query` finds
    which checks and values, for those nodes only (a blank focus node cannot be named in a
    query: then each check runs on its own)."""
    focus = list(dict.fromkeys(r[0] for r in _select(engine, group.sparql).rows))
    if not focus:
        return [], 1
    if any(isinstance(f, BNode) for f in focus):
        return [(c, row) for c in group.checks for row in _rows(engine, c.sparql)], 1 + len(
            group.checks
        )
    out: list[tuple[Check, dict[str, Node | None]]] = []
    ran = 1
    for start in range(0, len(focus), VIOLATION_CHUNK):
        chunk = focus[start : start + VIOLATION_CHUNK]
        ran += 1
        for row in _rows(engine, violation_query(group, chunk, dialect)):
            out.append((group.checks[int(row.pop("_k"))], row))  # type: ignore[call-overload]
    return out, ran


def _check_finding(check: Check, row: dict[str, Node | None], shapes: Graph, ns: Graph) -> Finding:
    focus = row.get("this")
    value = row.get("value")
    if value is None and check.value_is_focus:
        value = focus
    return _finding(check, focus, value, row, shapes, ns)


def _finding(
    check: Check,
    focus: Node | None,
    value: Node | None,
    row: dict[str, Any],
    shapes: Graph,
    ns: Graph,
) -> Finding:
    template = _pick_message(check.messages)
    bindings = dict(row)
    bindings["value"] = value
    bindings["this"] = focus
    if template is not None:
        message = _substitute(template, bindings, ns)
    else:
        comp = str(check.component).rsplit("#", 1)[-1]
        message = f"{comp.replace('ConstraintComponent', '')} constraint not met"
    path = check.path
    if path is None and isinstance(row.get("path"), URIRef):
        path = row["path"]  # a SPARQL constraint of a node shape may report the path
    shown_path = path_text(path, shapes, ns) if path is not None else ""
    return Finding(
        focus_node=focus,
        path=path,
        value=value,
        source_shape=check.shape,
        constraint_component=check.component,
        severity=severity_name(check.severity),
        message=message,
        path_text=shown_path,
        shape_text=shape_text(check.shape, shapes, shapes, ns),
        severity_iri=check.severity,
    )


def _report_graph(findings: list[Finding]) -> Graph:
    g = bind_prefixes(Graph())
    report = BNode()
    g.add((report, RDF.type, SH.ValidationReport))
    sev = {"Violation": SH.Violation, "Warning": SH.Warning, "Info": SH.Info}
    for f in findings:
        r = BNode()
        g.add((report, SH.result, r))
        g.add((r, RDF.type, SH.ValidationResult))
        if f.focus_node is not None:
            g.add((r, SH.focusNode, f.focus_node))
        if isinstance(f.path, URIRef):
            g.add((r, SH.resultPath, f.path))
        if f.value is not None:
            g.add((r, SH.value, f.value))
        if f.source_shape is not None:
            g.add((r, SH.sourceShape, f.source_shape))
        if f.constraint_component is not None:
            g.add((r, SH.sourceConstraintComponent, f.constraint_component))
        g.add((r, SH.resultSeverity, f.severity_iri or sev.get(f.severity, SH.Violation)))
        g.add((r, SH.resultMessage, Literal(f.message)))
    # SHACL 1.0 section 3.6.1: conforms only when there is no result at all
    g.add((report, SH.conforms, Literal(not findings)))
    return g


def _fallback(
    engine: Engine, compiled: CompiledShapes, ontology: Graph | None, ns: Graph
) -> tuple[list[Finding], list[str]]:
    """pySHACL on the focus nodes of the shapes that did not compile, over the two-hop
    neighbourhood of those nodes (extracted from the store) plus the ontology."""
    from cptkg.shacl.pyshacl_runner import validate_focus  # pySHACL: only where needed

    if ontology is None:
        ontology = load_ontology()
    notes: list[str] = []
    findings: list[Finding] = []
    comp = Compiler(compiled.shapes, subclass_closure(engine))
    for root, reason in sorted(compiled.fallback.items(), key=lambda kv: str(kv[0])):
        try:
            target = comp.target_pattern(root)
        except NotCompilable:
            target = None
        if target is None:
            notes.append(
                f"shape {short_name(root, ns)} not compiled ({reason}) and its targets "
                "cannot be computed in SPARQL: skipped"
            )
            continue
        focus = [row[0] for row in engine.query(f"SELECT DISTINCT ?this WHERE {{ {target} }}").rows]
        notes.append(
            f"shape {short_name(root, ns)} not compiled ({reason}): validated by pySHACL "
            f"on its {len(focus)} focus node(s) only"
        )
        if not focus:
            continue
        sub = Graph()
        for chunk_start in range(0, len(focus), 500):
            chunk = focus[chunk_start : chunk_start + 500]
            vals = " ".join(t.n3() for t in chunk if not isinstance(t, BNode))
            q = (
                "CONSTRUCT { ?s ?p ?o . ?o ?p2 ?o2 } WHERE { VALUES ?s { " + vals + " } "
                "?s ?p ?o OPTIONAL { ?o ?p2 ?o2 } }"
            )
            sub += engine.query(q)
        result = validate_focus(sub, compiled.shapes, ontology, focus)
        for f in result.results:
            if _root_of(compiled.shapes, f.source_shape) == root:
                findings.append(f)
    return findings, notes


def _root_of(shapes: Graph, shape: Node | None) -> Node | None:
    """The shape with targets that ``shape`` is (nested through ``sh:property``) part of."""
    seen: set[Node] = set()
    while shape is not None and shape not in seen:
        seen.add(shape)
        if any(True for p in TARGET_PREDICATES if (shape, p, None) in shapes):
            return shape
        parent = next(iter(shapes.subjects(SH.property, shape)), None)
        if parent is None:
            return shape
        shape = parent
    return shape
