"""SHACL validation with pySHACL: the reference validator, for the shipped graph and for new data
validated in context (``focus_nodes``).

pySHACL runs with ``inference="none"``, ``advanced=True`` (SHACL-SPARQL constraints and
``sh:SPARQLTarget``) and ``allow_warnings=True``. The ontology is passed as ``ont_graph``:
pySHACL mixes it into a copy of the data graph, so ``rdfs:subClassOf`` axioms of the ontology
count for ``sh:targetClass`` and ``sh:class`` (tested). pySHACL itself is imported only when
validating (start-up time of the CLI).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from cptkg.errors import CptkgError
from cptkg.load import load_dataset, load_ontology, load_shapes, union_graph
from cptkg.namespaces import bind_prefixes
from cptkg.shacl.report import ValidationResult, findings_from_report

#: IRIs pySHACL's ``focus_nodes`` option takes as they are (it reads any other text as a CURIE).
_FOCUS_SCHEMES = ("http:", "https:", "urn:", "file:")


def nameable_focus(node: Node) -> bool:
    """Whether pySHACL's ``focus_nodes`` option can name ``node``: an IRI whose scheme it
    does not read as a CURIE prefix."""
    return isinstance(node, URIRef) and str(node).lower().startswith(_FOCUS_SCHEMES)


#: Constraints that validate a value node against other shapes: pySHACL's ``focus_nodes`` option
#: skips that validation for a value node it does not list (pySHACL 0.40 filters every shape's
#: focus nodes by the option, nested shapes included), so a run restricted to some focus nodes
#: would miss what such a constraint finds on a property shape's values.
NESTING: tuple[URIRef, ...] = (
    SH.property,
    SH.node,
    SH["and"],
    SH["or"],
    SH["not"],
    SH.xone,
    SH.qualifiedValueShape,
)


def focus_runs_complete(shapes: Graph) -> bool:
    """Whether pySHACL run with ``focus_nodes`` reports every finding of those focus nodes that
    a run on the whole graph reports: no property shape validates its values against other
    shapes (:data:`NESTING`)."""
    return not any(
        (shape, nesting, None) in shapes
        for shape in set(shapes.subjects(SH.path, None))
        for nesting in NESTING
    )


def focus_option_complete(shapes: Graph, nodes: Iterable[Node]) -> bool:
    """Whether pySHACL run with ``focus_nodes=nodes`` reports everything a run on the whole
    graph reports for those nodes: it can name each of them (:func:`nameable_focus`) and
    ``shapes`` nest no shapes on property values (:func:`focus_runs_complete`)."""
    return focus_runs_complete(shapes) and all(nameable_focus(n) for n in nodes)


def validate_focus(
    data: Graph, shapes: Graph, ontology: Graph, nodes: Sequence[Node]
) -> ValidationResult:
    """pySHACL's findings for the focus nodes ``nodes`` of ``data``: a run restricted to them
    where :func:`focus_option_complete`, else a run on the whole graph keeping their results
    only."""
    if focus_option_complete(shapes, nodes):
        return validate(data, shapes=shapes, ontology=ontology, focus_nodes=nodes)
    return validate(data, shapes=shapes, ontology=ontology, only_focus=nodes)


def validate(
    data: Graph,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
    focus_nodes: Sequence[Node] | None = None,
    only_focus: Sequence[Node] | None = None,
) -> ValidationResult:
    """Validate ``data`` against ``shapes`` (default: the shipped shapes) with ``ontology``
    (default: the shipped ontology) as class hierarchy. ``focus_nodes`` restricts validation
    to those nodes (pySHACL's option: it also skips nested shapes on values it does not list);
    ``only_focus`` validates the whole graph and reports the results of those focus nodes
    only. The data graph is not modified."""
    if shapes is None:
        shapes = load_shapes()
    if ontology is None:
        ontology = load_ontology()
    import pyshacl
    from pyshacl.errors import ReportableRuntimeError, ShapeLoadError, ValidationFailure

    from cptkg.shacl.prepared_queries import prepared_queries  # rdflib's SPARQL, like pyshacl

    kwargs: dict[str, Any] = {}
    if focus_nodes is not None:
        kwargs["focus_nodes"] = list(focus_nodes)
    try:
        with prepared_queries():
            _conforms, report, _text = pyshacl.validate(
                data,
                shacl_graph=shapes,
                ont_graph=ontology,
                inference="none",
                advanced=True,
                allow_warnings=True,
                allow_infos=True,
                abort_on_first=False,
                **kwargs,
            )
    except (ShapeLoadError, ReportableRuntimeError, ValidationFailure) as exc:
        msg = getattr(exc, "message", None) or str(exc)
        raise CptkgError(
            f"SHACL validation could not run: {' '.join(str(msg).split())}",
            hint="check the shapes in ontology/shapes/ (and any focus nodes given)",
        ) from None
    if only_focus is not None:
        keep_results(report, set(only_focus))
    ns = report_namespaces(data, shapes, ontology)
    bind_prefixes(report)
    findings = findings_from_report(report, shapes, ns)
    # pySHACL's allow_warnings sets sh:conforms true with warnings; SHACL 1.0 section 3.6.1
    # says true only when there is no result at all
    for node in report.subjects(RDF.type, SH.ValidationReport):
        report.set((node, SH.conforms, Literal(not findings)))
    conforms = not any(f.severity == "Violation" for f in findings)
    return ValidationResult(conforms=conforms, results=findings, report_graph=report, namespaces=ns)


def keep_results(report: Graph, focus: set[Node]) -> None:
    """Drop from a validation ``report`` every result whose focus node is not in ``focus``, and
    what only those results held (their values, paths, details)."""
    roots = list(report.subjects(RDF.type, SH.ValidationReport))
    for root in roots:
        for result in list(report.objects(root, SH.result)):
            if report.value(result, SH.focusNode) not in focus:
                report.remove((root, SH.result, result))
    reachable: set[Node] = set()
    stack: list[Node] = list(roots)
    while stack:
        node = stack.pop()
        if node in reachable:
            continue
        reachable.add(node)
        stack.extend(o for o in report.objects(node, None) if isinstance(o, BNode))
    for triple in list(report):
        if triple[0] not in reachable:
            report.remove(triple)


def report_namespaces(data: Graph, shapes: Graph, ontology: Graph) -> Graph:
    """The prefixes findings are shown with: the ontology's, the shapes', the data's (the
    first binding of a prefix wins) and the project's."""
    ns = Graph()
    for g in (ontology, shapes, data):
        for prefix, iri in g.namespaces():
            ns.bind(prefix, iri, override=False)
    return bind_prefixes(ns)


def conforming_result(data: Graph, shapes: Graph, ontology: Graph) -> ValidationResult:
    """What :func:`validate` returns when there is no result at all: a report that
    conforms, with the namespaces of :func:`report_namespaces`."""
    report = bind_prefixes(Graph())
    node = BNode()
    report.add((node, RDF.type, SH.ValidationReport))
    report.add((node, SH.conforms, Literal(True)))
    ns = report_namespaces(data, shapes, ontology)
    return ValidationResult(conforms=True, results=[], report_graph=report, namespaces=ns)


def validate_shipped() -> ValidationResult:
    """Validate the shipped graph (ontology + data) against the shipped shapes."""
    ontology = load_ontology()
    data = union_graph(load_dataset(include_ontology=True))
    return validate(data, ontology=ontology)
