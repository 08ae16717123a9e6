"""rdflib terms made from text that has been checked already (by Oxigraph, which checks every
IRI it stores, or by rdflib's own parser), without rdflib's checks: equal in value, hash,
datatype, language and n3 to what rdflib's constructors make (tested), at a fraction of the
cost for the many terms of a query result or a cached graph."""

from __future__ import annotations

from rdflib import Literal, URIRef


def iri(text: str) -> URIRef:
    """``URIRef(text)`` for an IRI already checked: rdflib's character check is skipped."""
    return str.__new__(URIRef, text)


def text_literal(lexical: str, language: str | None = None) -> Literal:
    """``Literal(lexical, lang=language)``: a text without datatype (with a language tag or
    none) already read, made without rdflib's checks of a datatype and a language tag."""
    literal = str.__new__(Literal, lexical)
    literal._language = language
    literal._datatype = None
    literal._value = lexical
    literal._ill_typed = None
    return literal
