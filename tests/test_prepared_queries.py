"""pySHACL's SHACL-SPARQL constraints run through prepared queries: each distinct text is
translated once, the bindings still differ per evaluation, and rdflib's own processor is back
in place after validation (also when validation fails)."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef, plugin
from rdflib.plugins.sparql.processor import SPARQLProcessor
from rdflib.query import Processor

from cptkg.shacl.prepared_queries import PreparingSPARQLProcessor, prepared_queries

EX = "http://example.org/"
QUERY = "SELECT ?o WHERE { ?s <http://example.org/p> ?o }"


def _graph() -> Graph:
    g = Graph()
    g.add((URIRef(EX + "a"), URIRef(EX + "p"), Literal(1)))
    g.add((URIRef(EX + "b"), URIRef(EX + "p"), Literal(2)))
    return g


def test_one_text_many_bindings_gives_each_binding_its_answer():
    g = _graph()
    with prepared_queries():
        assert plugin.get("sparql", Processor) is PreparingSPARQLProcessor
        a = [row[0] for row in g.query(QUERY, initBindings={"s": URIRef(EX + "a")})]
        b = [row[0] for row in g.query(QUERY, initBindings={"s": URIRef(EX + "b")})]
    assert a == [Literal(1)] and b == [Literal(2)]


def test_rdflibs_processor_is_restored_even_after_an_error():
    with pytest.raises(RuntimeError), prepared_queries():
        raise RuntimeError("validation failed")
    assert plugin.get("sparql", Processor) is SPARQLProcessor


def test_validation_leaves_rdflibs_processor_in_place(shipped_union):
    from cptkg.shacl.pyshacl_runner import validate

    result = validate(shipped_union)
    assert result.conforms
    assert plugin.get("sparql", Processor) is SPARQLProcessor
