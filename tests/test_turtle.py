"""The one-pass Turtle writer: the same bytes as rdflib's serializer, tricky literals
round-trip, and the files ``cptkg add`` / ``import-csv`` write are unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from cptkg.export import export
from cptkg.intake.add import serialize_new
from cptkg.intake.csv_intake import csv_to_new_data
from cptkg.namespaces import bind_prefixes
from cptkg.turtle import pretty_turtle

ROOT = Path(__file__).resolve().parent.parent
INTAKE = ROOT / "tests" / "data" / "intake"

#: quotes, backslashes, newlines, carriage returns, tabs, non-BMP characters, language tags,
#: datatypes (bound, unbound, shortened numbers), nested and shared blank nodes, a list, an
#: unreferenced blank node, a predicate and a subject in a namespace without a prefix, local
#: names rdflib escapes or cannot shorten, an rdfs:Class (written first).
TRICKY = r"""
@prefix ex: <https://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:z a rdfs:Class ; rdfs:label "Z" .
ex:a rdfs:label "A \"quoted\" \\ back"@en-GB , "line1\nline2" , "tab\there" , "'single'" ,
    "ends with quote\"" , "\"\"\"triple\"\"\"" ;
  ex:n 1, 2.5, 1e3, true, -0.0, "01"^^xsd:integer, "x"^^xsd:token, "x"^^<http://other.org/dt> ;
  ex:emoji "\U0001F600 non-BMP é" , "\U0001F600"@x-emoji ;
  ex:list ( 1 "two" ex:three [ ex:q 1 ] ) , () ;
  ex:nest [ ex:p [ ex:q "deep" ; ex:r ex:b, ex:c ] ; ex:s 2 ] ;
  <http://unbound.org/ns#pred> <http://unbound.org/ns#obj> ;
  ex:weird <https://example.org/end.> , <https://example.org/par(x)> , <https://example.org/pc%zz> .
_:shared ex:p 1 . ex:b ex:r _:shared . ex:c ex:r _:shared .
[] ex:top "unreferenced" .
ex:c ex:empty "" ; ex:cr "a\rb" .
<http://unbound.org/ns#s> ex:p "subject in a namespace only a predicate binds" .
"""


def _copy(g: Graph) -> Graph:
    """The same triples (same blank nodes, same order) and prefixes in a new graph."""
    out = Graph(bind_namespaces="none")
    for prefix, ns in g.namespaces():
        out.bind(prefix, ns)
    for triple in g:
        out.add(triple)
    return out


def test_tricky_graph_is_written_as_rdflib_writes_it_and_parses_back():
    g = Graph().parse(data=TRICKY, format="turtle")
    expected = _copy(g).serialize(format="turtle")
    text = pretty_turtle(g)
    assert text == expected
    assert isomorphic(Graph().parse(data=text, format="turtle"), g)
    assert "ns1:pred" in text and "@prefix ns1: <http://unbound.org/ns#> ." in text


@pytest.mark.parametrize(
    "literal",
    [
        Literal('say "hi" \\ then\nnew line\r\tend'),
        Literal("\U0001f600\U00010348 and \u00e9", lang="fr-CA"),
        Literal('"'),
        Literal("\\"),
        Literal('ends in a quote"\n'),
        Literal("3.10", datatype=URIRef("http://www.w3.org/2001/XMLSchema#decimal")),
        Literal("2026-02-30", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date")),
        Literal("x", datatype=URIRef("https://example.org/unbound#type")),
    ],
)
def test_tricky_literals_round_trip(literal):
    g = Graph()
    g.add((URIRef("https://example.org/s"), URIRef("https://example.org/p"), literal))
    g.add((BNode(), URIRef("https://example.org/p"), literal))
    text = pretty_turtle(g)
    assert text == _copy(g).serialize(format="turtle")
    back = Graph().parse(data=text, format="turtle")
    assert isomorphic(back, g)
    assert set(back.objects()) == {literal}


def test_other_namespace_manager_supplies_the_prefixes():
    g = Graph(bind_namespaces="none")
    g.add((URIRef("https://w3id.org/cptkg/id/x"), URIRef("https://example.org/p"), Literal(1)))
    prefixes = bind_prefixes(Graph(bind_namespaces="none"))
    text = pretty_turtle(g, prefixes.namespace_manager)
    assert text.startswith("@prefix kg: <https://w3id.org/cptkg/id/> .\n")
    assert "kg:x " in text
    assert isomorphic(Graph().parse(data=text, format="turtle"), g)


def _old_serialization(g: Graph) -> bytes:
    """The body ``serialize_new`` wrote before the one-pass writer: the deterministic export."""
    out = Graph()
    bind_prefixes(out)
    out += g
    return export(out, "ttl")


def _body(g: Graph) -> bytes:
    return serialize_new(g, []).split(b"\n", 1)[1]


def test_serialize_new_is_byte_identical_to_the_export():
    policy = Graph().parse(INTAKE / "valid-policy.ttl")
    sheet = csv_to_new_data(INTAKE / "valid-policies.csv").graph
    mixed = Graph().parse(INTAKE / "valid-policy.ttl")
    mixed.parse(data=TRICKY, format="turtle")  # blank nodes and an unbound predicate
    for g in (policy, sheet, mixed):
        assert _body(g) == _old_serialization(g)
    assert isomorphic(Graph().parse(data=_body(mixed), format="turtle"), mixed)
