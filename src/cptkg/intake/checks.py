"""The checks intake makes itself, beside the SHACL shapes: ill-typed literals (which pySHACL
cannot compare), an existing policy described again with other content, and resources that no
rule checks because they have no type."""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from cptkg.intake.diff import describe_changes
from cptkg.intake.hints import datatype_hint, shape_local
from cptkg.intake.reading import NewData
from cptkg.intake.report import Problem
from cptkg.intake.schema import Schema
from cptkg.namespaces import CPTKG
from cptkg.shacl.report import Finding, short_name

Triple = tuple[Node, Node, Literal]

#: Shapes that ask whether a date is there: silent when the date is there but ill-typed.
DATE_PRESENCE_SHAPES = {"PolicyEffectiveDateStatedShape", "PolicyEndWithoutStartShape"}
#: How many changes an "already in the graph" problem lists.
CHANGES_SHOWN = 6


def ill_typed(triples: Iterable[tuple[Node, Node, Node]]) -> list[Triple]:
    """Triples (of a Graph, or listed) whose object is an ill-typed literal
    ("2025-13-45"^^xsd:date, "next year"^^…)."""
    out = [
        (s, p, o)
        for s, p, o in triples
        if isinstance(o, Literal) and getattr(o, "ill_typed", False)
    ]
    return sorted(out, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))


def datatype_shape(shapes: Graph, path: Node, datatype: Node | None) -> Node | None:
    """The property shape that requires ``datatype`` on ``path`` (for the rule's name)."""
    for shape in sorted(shapes.subjects(SH.path, path), key=str):
        if datatype is not None and (shape, SH.datatype, datatype) in shapes:
            return shape
    return None


def ill_typed_problem(
    triple: Triple, shapes: Graph, ns: Graph, new: NewData, policies: set[URIRef]
) -> Problem:
    """A Problem for an ill-typed literal, named after the shape requiring its datatype."""
    s, p, o = triple
    shape = datatype_shape(shapes, p, o.datatype)
    msg = shapes.value(shape, SH.message) if shape is not None else None
    shown = short_name(o, ns)
    dt = short_name(o.datatype, ns)
    text = str(msg).replace("{$value}", shown) if msg is not None else f"Invalid {dt} literal."
    return Problem(
        severity="Violation",
        rule=short_name(shape, ns) if shape is not None else "intake:IllTypedLiteral",
        message=f"{text} {str(o)!r} is not a valid {dt}.",
        subject=s,
        policy=s if s in policies else None,
        path=short_name(p, ns),
        value=shown,
        where=new.location(s, p),
        hint=datatype_hint(o.datatype, ns),
    )


def hidden_by_ill_typed(f: Finding, dropped: set[tuple[Node, Node]]) -> bool:
    """True if ``f`` only says a date is missing whose ill-typed value is already reported."""
    return shape_local(f.source_shape) in DATE_PRESENCE_SHAPES and any(
        (f.focus_node, p) in dropped for p in (CPTKG.effectiveDate, CPTKG.endDate)
    )


def existing_policy_changed(
    iri: URIRef,
    old: Graph,
    new: NewData,
    labels: Graph,
    ns: Graph,
    schema: Schema,
    source: str | None,
) -> Problem:
    """Policy ``iri`` is already in the graph (described by ``old``) with other content."""
    changes = describe_changes(old, iri, new.graph, iri, labels, schema=schema)
    summary = "; ".join(changes[:CHANGES_SHOWN]) + ("; …" if len(changes) > CHANGES_SHOWN else "")
    return Problem(
        severity="Violation",
        rule="intake:ExistingPolicyChanged",
        message=f"Policy {short_name(iri, ns)} is already in the graph"
        + (f" ({source})" if source else "")
        + f" with different content: {summary}",
        subject=iri,
        policy=iri,
        path="",
        value=short_name(iri, ns),
        where=new.location(iri),
        hint="existing versions are never overwritten: give the revised version its own "
        'IRI and identifier (e.g. "<identifier>@<effective date>") with cptkg:supersedes '
        f"{short_name(iri, ns)}, or run `cptkg add --new-version FILE` to do that",
    )


def untyped_resource(s: URIRef, new: NewData, ns: Graph) -> Problem:
    """``s`` has no rdf:type in the new data or the graph, so no rule checks it."""
    return Problem(
        severity="Warning",
        rule="intake:UntypedResource",
        message=f"{short_name(s, ns)} has no rdf:type here or in the graph, so no rule checks it",
        subject=s,
        policy=None,
        path="rdf:type",
        value=None,
        where=new.location(s),
        hint="add `a cptkg:PayerPolicy` (or the right class), or fix the IRI if it "
        "should name an existing resource",
    )
