"""Whether Oxigraph's canonical literals can hide a pySHACL finding from the compiled shapes.

Oxigraph stores a literal of a datatype it knows in canonical form: ``"05"^^xsd:integer`` as
``"5"``, ``"1.50"^^xsd:decimal`` as ``"1.5"``, and every integer-derived datatype as
``xsd:integer`` (``"5"^^xsd:positiveInteger`` becomes ``"5"^^xsd:integer``); two literals rdflib
keeps apart may become one. pySHACL sees the literals as written. The compiled shapes, run on an
Oxigraph copy, then agree with pySHACL on every constraint that reads a literal's *value*
(counts of distinct values aside), and may disagree on those that read its lexical form,
datatype or identity.

:func:`hiding_reason` tells, from the data and the shapes alone, whether that can happen; it
answers conservatively (a reason whenever it cannot rule it out), and
:mod:`cptkg.shacl.screened` lets pySHACL validate the whole graph when it gives one:

* a constant of ``sh:in`` / ``sh:hasValue`` Oxigraph rewrites (its lexical form or datatype);
* a literal of the data Oxigraph rewrites, reached by anything but a plain property path whose
  shapes read values only (counts, ranges, ``sh:lessThan``, ``sh:datatype``, ``sh:nodeKind``,
  ``sh:class``: a rewritten literal keeps its value and its well-formedness), or on a property
  a SHACL-SPARQL constraint names, or a target, ``sh:equals`` / ``sh:disjoint`` of a shape;
* two values of one subject and property that Oxigraph makes one;
* a ``sh:datatype`` of the integer family (``xsd:integer`` and its derived types) on a path
  whose values include an integer of another datatype (Oxigraph cannot tell them apart:
  ``"5"^^xsd:integer`` where ``xsd:positiveInteger`` is required), or on a complex path or a
  node shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from cptkg.engines.oxigraph_terms import canonical_terms
from cptkg.shacl.compiler import INTEGER_DERIVED, SHAPE_ANNOTATIONS

Triple = tuple[Node, Node, Node]

#: xsd:integer and the datatypes Oxigraph stores as it.
INTEGER_FAMILY: frozenset[URIRef] = frozenset({XSD.integer, *INTEGER_DERIVED})
#: What a shape may say about a path whose values Oxigraph retypes and the compiled shapes
#: still agree with pySHACL: constraints on values and counts, and annotations.
VALUE_ONLY: frozenset[URIRef] = frozenset(
    {
        *SHAPE_ANNOTATIONS,
        SH.minCount,
        SH.maxCount,
        SH.datatype,
        SH.minInclusive,
        SH.maxInclusive,
        SH.minExclusive,
        SH.maxExclusive,
        SH.lessThan,
        SH.lessThanOrEquals,
        SH.nodeKind,
        SH["class"],
    }
)
#: A variable in a triple pattern's predicate position (``?s ?p ?o``), roughly.
_VARIABLE_PREDICATE = re.compile(r"[?$][A-Za-z_]\w*\s+[?$][A-Za-z_]\w*\s+[^\s.;,}]")


def _members(shapes: Graph, head: Node) -> list[Node]:
    """The members of the RDF list at ``head`` (a malformed or cyclic list ends where it
    breaks or repeats)."""
    out: list[Node] = []
    seen: set[Node] = set()
    node: Node | None = head
    while node is not None and node != RDF.nil and node not in seen:
        seen.add(node)
        first = shapes.value(node, RDF.first)
        if first is not None:
            out.append(first)
        node = shapes.value(node, RDF.rest)
    return out


def _path_iris(shapes: Graph, path: Node) -> set[Node]:
    """Every IRI a (complex) SHACL path mentions."""
    seen: set[Node] = set()
    out: set[Node] = set()
    stack = [path]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, URIRef):
            out.add(node)
            continue
        for _p, o in shapes.predicate_objects(node):
            stack.append(o)
    return out - {RDF.first, RDF.rest, RDF.nil}


def hiding_reason(graphs: Iterable[Iterable[Triple]], shapes: Graph) -> str | None:
    """Why the compiled shapes on an Oxigraph copy of ``graphs`` might miss a finding pySHACL
    makes on the literals as written (see the module's docstring), or None when they cannot."""
    by_predicate: dict[Node, set[Literal]] = {}
    by_pair: dict[tuple[Node, Node], set[Literal]] = {}
    for graph in graphs:
        for s, p, o in graph:
            if type(o) is Literal and o.language is None:  # Literal is no ABC: no isinstance
                by_pair.setdefault((s, p), set()).add(o)
                if o.datatype is not None:
                    by_predicate.setdefault(p, set()).add(o)
    constants = [
        o
        for node in shapes.objects(None, SH["in"])
        for o in _members(shapes, node)
        if isinstance(o, Literal) and o.datatype is not None
    ] + [o for o in shapes.objects(None, SH.hasValue) if isinstance(o, Literal) and o.datatype]
    typed = {lit for lits in by_predicate.values() for lit in lits} | set(constants)
    canonical = {
        lit: (held.value, held.datatype.value)  # type: ignore[union-attr]  # literals stay literals
        for lit, held in canonical_terms(typed).items()
    }
    plain = str(XSD.string)
    rewritten = {
        lit
        for lit, (lexical, datatype) in canonical.items()
        if lexical != str(lit) or datatype != str(lit.datatype)
    }
    for lit in constants:
        if lit in rewritten:  # "5"^^xsd:positiveInteger in sh:in would take "5"^^xsd:integer
            lexical, datatype = canonical[lit]
            return f'Oxigraph makes the constant {lit.n3()} "{lexical}"^^<{datatype}>'
    for (s, p), lits in by_pair.items():
        if len(lits) > 1 and len(
            {canonical.get(lit, (str(lit), plain)) for lit in lits}  # "a" is "a"^^xsd:string
        ) < len(lits):
            return f"Oxigraph makes two values of {s.n3()} {p.n3()} one"
    rewritten_paths = {p for p, lits in by_predicate.items() if lits & rewritten}
    reason = _integer_datatypes(shapes, by_predicate)
    if reason is not None or not rewritten_paths:
        return reason
    return _read_by_value_only(shapes, rewritten_paths)


def _integer_datatypes(shapes: Graph, by_predicate: dict[Node, set[Literal]]) -> str | None:
    for shape, required in shapes.subject_objects(SH.datatype):
        if required not in INTEGER_FAMILY:
            continue
        path = shapes.value(shape, SH.path)
        if not isinstance(path, URIRef):
            return f"sh:datatype {required.n3()} on a node shape or a complex path"
        for lit in by_predicate.get(path, ()):
            if lit.datatype in INTEGER_FAMILY and lit.datatype != required:
                return f"{lit.n3()} where {path.n3()} must be {required.n3()}"
    return None


def _read_by_value_only(shapes: Graph, paths: set[Node]) -> str | None:
    """Why a shape might read the literals Oxigraph rewrites on ``paths`` otherwise than by
    their values, or None."""
    for shape, path in shapes.subject_objects(SH.path):
        if isinstance(path, BNode) and _path_iris(shapes, path) & paths:
            return f"literals Oxigraph rewrites on the complex path of {shape.n3()}"
        if path in paths:
            extra = set(shapes.predicates(shape)) - VALUE_ONLY
            if extra:
                names = ", ".join(sorted(str(e) for e in extra))
                return f"{shape.n3()} reads literals Oxigraph rewrites on {path.n3()} with {names}"
    for predicate in (SH.targetObjectsOf, SH.targetSubjectsOf, SH.equals, SH.disjoint):
        for _shape, named in shapes.subject_objects(predicate):
            if named in paths:
                return f"{named.n3()} holds literals Oxigraph rewrites and is a {predicate.n3()}"
    texts = [str(t) for p in (SH.select, SH.ask) for t in shapes.objects(None, p)]
    for text in texts:
        body = text[text.find("{") :]
        if _VARIABLE_PREDICATE.search(body):
            return "a SHACL-SPARQL constraint with a variable predicate"
        for path in paths:
            local = re.split(r"[#/:]", str(path))[-1]
            if str(path) in text or (local and re.search(rf"\b{re.escape(local)}\b", text)):
                return (
                    f"a SHACL-SPARQL constraint names {path.n3()}, with literals Oxigraph rewrites"
                )
    return None
