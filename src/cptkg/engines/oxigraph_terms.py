"""Terms between rdflib and pyoxigraph: :func:`to_rdflib` and its inverse :func:`to_oxigraph`
(the Oxigraph engine's query results, intake's Oxigraph copy, the SHACL scan's findings), and
:func:`canonical_terms`, terms as a store holds them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from cptkg.trusted_terms import iri, text_literal

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def to_rdflib(term: Any) -> URIRef | Literal | BNode | None:
    """A pyoxigraph term as the equal rdflib term (xsd:string literals without datatype,
    as rdflib's parsers and SPARQL engine give them)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return iri(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        dt = term.datatype.value
        if dt == XSD_STRING:
            return text_literal(term.value)
        return Literal(term.value, datatype=URIRef(dt))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    raise TypeError(f"unsupported term {term!r}")  # RDF-star triples: not used by cptkg


def to_oxigraph(term: Identifier) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as the equal pyoxigraph term (blank nodes keep their ids); the inverse
    of :func:`to_rdflib`."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"unsupported term {term!r}")


def canonical_terms(
    terms: Iterable[Identifier],
) -> dict[Identifier, ox.NamedNode | ox.BlankNode | ox.Literal]:
    """Each rdflib term as a store holds it (pyoxigraph canonicalises some literals when it
    stores them: ``"01"^^xsd:integer`` becomes ``"1"``, ``"1.50"^^xsd:decimal`` ``"1.5"``,
    integer-derived datatypes ``xsd:integer``, language tags lower case); ValueError if
    Oxigraph refuses one."""
    scratch = ox.Store()
    pred = ox.NamedNode("urn:x-cptkg:canonical")
    items = list(dict.fromkeys(terms))
    scratch.extend(
        ox.Quad(ox.NamedNode(f"urn:x-cptkg:{i}"), pred, to_oxigraph(t))  # type: ignore[arg-type]
        for i, t in enumerate(items)
    )
    out: dict[Identifier, ox.NamedNode | ox.BlankNode | ox.Literal] = {}
    for q in scratch.quads_for_pattern(None, pred, None, None):
        out[items[int(q.subject.value.rsplit(":", 1)[1])]] = q.object  # type: ignore[assignment]
    return out
