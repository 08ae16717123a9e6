"""pySHACL's findings at about the cost of the compiled shapes: the shapes compiled to SPARQL
(:mod:`cptkg.shacl.compiler`) run on an in-memory Oxigraph copy of the data and name the focus
nodes with any result; pySHACL, the reference validator, then validates those focus nodes only,
so every finding reported is pySHACL's own. A graph the compiled shapes find nothing in gets
the conforming report pySHACL gives (:func:`cptkg.shacl.pyshacl_runner.conforming_result`)
without pySHACL running at all.

The screen stands aside, and pySHACL validates every focus node, whenever it could miss
something: a shape that does not compile (the compiler's fallback), shapes with ``sh:rule``
(pySHACL applies rules to the data before validating it; the compiled shapes do not), a term
Oxigraph refuses, a literal Oxigraph stores in a canonical form the compiled shapes could judge
otherwise than pySHACL judges the literal as written (:mod:`cptkg.shacl.literal_fidelity`), a
compiled query the store cannot run. And pySHACL validates the whole graph when a flagged focus
node is one its ``focus_nodes`` option cannot name (a blank node, or an IRI pySHACL would read
as a CURIE), when the shapes validate a property's values against other shapes, which that
option would skip for values it does not list (:func:`focus_runs_complete`), or when more than
:data:`FOCUS_LIMIT` nodes are flagged (the restricted run would cost as much as the whole).

That the compiled shapes flag exactly the focus nodes pySHACL reports is tested on every
fixture, on the W3C SHACL tests and on generated graphs (``tests/test_shacl_compiled.py``,
``tests/test_shacl_screened.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rdflib import Graph
from rdflib.namespace import SH
from rdflib.term import Node

from cptkg.engines.base import QueryError
from cptkg.engines.oxigraph_engine import OxigraphEngine
from cptkg.load import load_ontology, load_shapes
from cptkg.shacl.compiler import NotCompilable
from cptkg.shacl.literal_fidelity import hiding_reason
from cptkg.shacl.pyshacl_runner import conforming_result, focus_option_complete, validate
from cptkg.shacl.report import ValidationResult
from cptkg.shacl.sparql_runner import validate_engine

Triple = tuple[Node, Node, Node]

#: Quads from which the simple constraints are evaluated by one pass over the copy
#: (:mod:`cptkg.shacl.scan`) rather than by their queries: measured, the scan costs 27 ms
#: against 22 ms for the queries on the shipped graph (2,900 quads), 56 against 75 ms at 13,000.
SCAN_FROM = 5_000
#: Quads from which the compiled queries run in worker threads beside the scan (measured: on the
#: shipped graph the threads cost 3 ms of 27; at 109,000 quads they save 50 ms of 380).
PARALLEL_FROM = 100_000
#: Flagged focus nodes above which pySHACL validates the whole graph rather than those nodes:
#: pySHACL tests each target of each shape for membership in the list of focus nodes, so a
#: restricted run costs more with every node listed (measured at 109,000 triples: 55 flagged,
#: 4.9 s against 29.4 s for the whole graph; 1,585 flagged, 36.9 s against 37.0 s).
FOCUS_LIMIT = 500


def flagged_focus_nodes(
    graphs: Sequence[Iterable[Triple]],
    shapes: Graph,
    ontology: Graph,
    focus: Sequence[Node] | None = None,
) -> set[Node] | None:
    """The focus nodes (among ``focus``, default: all) the shapes compiled to SPARQL report any
    result for, on an in-memory Oxigraph copy of ``graphs`` (Graphs or lists of triples) and
    ``ontology``; None when the screen cannot stand for pySHACL (see the module's docstring)."""
    if (None, SH.rule, None) in shapes:
        return None
    triples = [t for g in (*graphs, ontology) for t in g]  # rdflib's iteration, once
    try:
        if hiding_reason([triples], shapes) is not None:
            return None
        engine = OxigraphEngine.from_triples(triples)
    except (ValueError, TypeError, SyntaxError):
        return None
    size = len(engine.store)
    try:
        compiled = validate_engine(
            engine,
            shapes,
            ontology,
            progress=False,
            scan=size >= SCAN_FROM,
            workers=engine.parallel_queries() if size >= PARALLEL_FROM else 1,
            fallback=False,
        )
    except (NotCompilable, QueryError):
        return None
    flagged = {f.focus_node for f in compiled.result.results}
    if focus is not None:
        flagged &= set(focus)
    return flagged


def validate_screened(
    data: Graph, shapes: Graph | None = None, ontology: Graph | None = None
) -> ValidationResult:
    """pySHACL's validation of every focus node of ``data`` against ``shapes`` (default: the
    shipped shapes) with ``ontology`` (default: the shipped one), run on the focus nodes the
    compiled shapes flag only (:func:`flagged_focus_nodes`): the same findings as
    :func:`cptkg.shacl.pyshacl_runner.validate` on the whole graph."""
    shapes = shapes if shapes is not None else load_shapes()
    ontology = ontology if ontology is not None else load_ontology()
    flagged = flagged_focus_nodes([data], shapes, ontology)
    if flagged is not None and not flagged:
        return conforming_result(data, shapes, ontology)
    if flagged is None or len(flagged) > FOCUS_LIMIT or not focus_option_complete(shapes, flagged):
        return validate(data, shapes=shapes, ontology=ontology)
    return validate(data, shapes=shapes, ontology=ontology, focus_nodes=sorted(flagged, key=str))
