"""Oxigraph's query results become rdflib terms equal in every respect to the ones rdflib's
own constructors make (the fast paths for plain texts and IRIs skip only checks that cannot
fail on what Oxigraph holds)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from cptkg.engines.oxigraph_engine import to_oxigraph, to_rdflib
from cptkg.trusted_terms import iri, text_literal

TEXTS = ["", "x", "Aetna", 'hé 64866\n"quoted" \\ back', "  spaced  ", "1", "true", "2025-01-01"]


@pytest.mark.parametrize("text", TEXTS)
def test_a_plain_text_is_the_literal_rdflib_makes(text):
    fast, slow = text_literal(text), Literal(text)
    assert fast == slow and hash(fast) == hash(slow) and fast.eq(slow)
    assert (fast.value, fast.datatype, fast.language, fast.ill_typed) == (
        slow.value,
        slow.datatype,
        slow.language,
        slow.ill_typed,
    )
    assert fast.n3() == slow.n3() and repr(fast) == repr(slow)


@pytest.mark.parametrize(
    "text", ["https://w3id.org/cptkg/id/payer-aetna", "urn:x:1", "http://example.org/é#a"]
)
def test_an_iri_is_the_uriref_rdflib_makes(text):
    fast, slow = iri(text), URIRef(text)
    assert fast == slow and hash(fast) == hash(slow) and type(fast) is URIRef
    assert fast.n3() == slow.n3() and repr(fast) == repr(slow)


@pytest.mark.parametrize(
    "term",
    [
        URIRef("https://w3id.org/cptkg/id/payer-aetna"),
        Literal("plain"),
        Literal("chaîne", lang="fr"),
        Literal("42", datatype=XSD.integer),
        Literal("2025-06-30", datatype=XSD.date),
    ],
)
def test_terms_round_trip_through_oxigraph(term):
    back = to_rdflib(to_oxigraph(term))
    assert back == term and back.n3() == term.n3()
    if isinstance(term, Literal):
        assert back.value == term.value and back.datatype == term.datatype


def test_query_rows_hold_the_equal_terms():
    from cptkg.engines.oxigraph_engine import OxigraphEngine

    store = ox.Store()
    s, p = ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p")
    store.add(ox.Quad(s, p, ox.Literal("text")))
    store.add(ox.Quad(s, p, ox.Literal("7", datatype=ox.NamedNode(str(XSD.integer)))))
    engine = OxigraphEngine(store)
    result = engine.query("SELECT ?s ?o ?none WHERE { ?s ?p ?o OPTIONAL { ?s ?none 1 } }")
    rows = sorted(result.rows, key=lambda r: str(r[1]))
    assert rows == [
        (URIRef("http://example.org/s"), Literal("7", datatype=XSD.integer), None),
        (URIRef("http://example.org/s"), Literal("text"), None),
    ]
