"""The bulk-filled store answers like rdflib's default store: every triple pattern, length,
removal, set operations with default-store graphs, namespace bindings and Turtle output."""

from __future__ import annotations

import random

import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.term import Node

from cptkg.namespaces import bind_prefixes
from cptkg.triple_store import TripleStore, bulk_graph

X = "http://example.org/"


def _triples(seed: int, n: int = 300) -> list[tuple[Node, Node, Node]]:
    rnd = random.Random(seed)
    subjects = [URIRef(f"{X}s{i}") for i in range(8)]
    predicates = [RDF.type, *(URIRef(f"{X}p{i}") for i in range(4))]
    objects: list[Node] = [*subjects, *(Literal(i) for i in range(5)), Literal("a", lang="en")]
    return [(rnd.choice(subjects), rnd.choice(predicates), rnd.choice(objects)) for _ in range(n)]


def _pairs(seed: int) -> tuple[Graph, Graph, list[tuple[Node, Node, Node]]]:
    triples = _triples(seed)
    default = Graph()
    for t in triples:
        default.add(t)
    return default, bulk_graph(triples), triples


@pytest.mark.parametrize("seed", range(3))
def test_every_pattern_matches_the_default_store(seed: int) -> None:
    default, bulk, triples = _pairs(seed)
    assert len(bulk) == len(default) < len(triples)  # duplicates counted once
    terms = {t for triple in triples for t in triple}
    for s in [None, *sorted(terms)]:
        for p in [None, RDF.type, URIRef(f"{X}p1"), URIRef(f"{X}none")]:
            for o in [None, Literal(3), URIRef(f"{X}s2"), Literal("a", lang="en")]:
                assert set(bulk.triples((s, p, o))) == set(default.triples((s, p, o)))
    assert set(bulk) == set(default)
    assert not bulk - default and not default - bulk


def test_adding_and_removing_keep_every_index() -> None:
    default, bulk, triples = _pairs(7)
    list(bulk.subjects(RDF.type, None))  # builds the predicate index
    list(bulk.subjects(None, Literal(1)))  # and the object index
    for g in (default, bulk):
        g.add((URIRef(f"{X}new"), RDF.type, Literal(9)))
        g.remove((triples[0][0], None, None))
        g.remove((None, URIRef(f"{X}p2"), None))
    assert len(bulk) == len(default)
    for pattern in [(None, None, None), (None, RDF.type, None), (None, None, Literal(9))]:
        assert set(bulk.triples(pattern)) == set(default.triples(pattern))


def test_prefixes_and_turtle_are_the_default_stores() -> None:
    default, bulk, _ = _pairs(3)
    for g in (default, bulk):
        bind_prefixes(g)
        g.bind("ex", X)
        g.bind("ex2", X, override=False)
    assert sorted(bulk.namespaces()) == sorted(default.namespaces())
    assert bulk.serialize(format="turtle") == default.serialize(format="turtle")


def test_a_store_has_no_named_graphs() -> None:
    store = TripleStore([(URIRef(f"{X}s"), RDF.type, URIRef(f"{X}C"))])
    assert list(store.contexts()) == [] and len(store) == 1
