"""The embedded Oxigraph engine answers every stored query with the same values as the
rdflib engine, on the shipped graph and on a generated one; load, store reuse, export."""

from __future__ import annotations

from collections import Counter

import pytest
from rdflib import Graph, Literal, URIRef

from cptkg.catalog import load_catalog
from cptkg.engines.base import QueryError, SelectResult
from cptkg.engines.oxigraph_engine import OxigraphEngine, to_rdflib
from cptkg.engines.rdflib_engine import RdflibEngine
from cptkg.errors import ParseError
from cptkg.load import load_dataset, shipped_files, union_graph
from cptkg.query import bind_params
from goldens import GOLDEN_PARAMS
from scale_helpers import generate_small, value_key

CATALOG = load_catalog()


def _normal(outcome):
    if isinstance(outcome, SelectResult):
        rows = Counter(tuple(value_key(t) for t in row) for row in outcome.rows)
        return ("select", list(outcome.variables), rows)
    if isinstance(outcome, bool):
        return ("ask", outcome)
    return ("graph", Counter(tuple(value_key(t) for t in tr) for tr in outcome))


def _same_answers(rdf_engine, ox_engine) -> int:
    assert CATALOG, "no stored queries found"
    compared = 0
    for name, stored in sorted(CATALOG.items()):
        bindings = bind_params(stored, GOLDEN_PARAMS.get(name))
        expected = _normal(rdf_engine.query(stored.text, bindings))
        got = _normal(ox_engine.query(stored.text, bindings))
        assert got == expected, f"stored query {name} differs between rdflib and Oxigraph"
        compared += 1
    return compared


@pytest.fixture(scope="module")
def shipped_ox():
    return OxigraphEngine.from_paths()


def test_every_stored_query_same_values_on_shipped_graph(shipped_union, shipped_ox):
    assert _same_answers(RdflibEngine(shipped_union), shipped_ox) == len(CATALOG)


def test_every_stored_query_same_values_on_generated_graph(tmp_path, shipped_union):
    res = generate_small(tmp_path, rate=0.0, codes=5, payers=4, versions=3)
    rdf = Graph()
    rdf += shipped_union
    rdf += union_graph(load_dataset([res.path], include_ontology=False))
    ox = OxigraphEngine.from_paths(shipped_files() + [res.path], include_ontology=False)
    assert len(ox) == len(rdf), "one quad per triple: no triple repeated across files"
    _same_answers(RdflibEngine(rdf), ox)
    # the synthetic policies are really there and seen through the union default graph
    n = ox.query(
        "PREFIX cptkg: <https://w3id.org/cptkg/ontology#> "
        "SELECT (COUNT(*) AS ?n) WHERE { ?p a cptkg:PayerPolicy ; cptkg:synthetic true }"
    )
    assert int(n.rows[0][0]) == 5 * 4 * 3


def test_named_graph_per_source_file(shipped_ox):
    graphs = {str(g.value) for g in shipped_ox.store.named_graphs()}
    assert "https://w3id.org/cptkg/graph/data/policies/aetna" in graphs
    assert "https://w3id.org/cptkg/graph/ontology/cptkg" in graphs
    assert len(graphs) == len(shipped_files())


def test_parameters_bound_as_terms(shipped_ox):
    q = "SELECT ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
    res = shipped_ox.query(q, {"s": URIRef("https://w3id.org/cptkg/id/payer-aetna")})
    assert res.rows == [(Literal("Aetna"),)]
    hostile = Literal('x" } ; DROP ALL ; #')
    res = shipped_ox.query(q, {"label": hostile})
    assert res.rows == []  # bound as a literal, never pasted into the query text


def test_ask_and_construct(shipped_ox):
    assert shipped_ox.query("ASK { ?s a <https://w3id.org/cptkg/ontology#Payer> }") is True
    g = shipped_ox.query(
        "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c . "
        "FILTER(?c = <https://w3id.org/cptkg/ontology#Payer>) }"
    )
    assert isinstance(g, Graph) and len(g) == 5


def test_syntax_error_is_a_query_error(shipped_ox):
    with pytest.raises(QueryError):
        shipped_ox.query("SELECT WHERE {")


def test_bad_file_is_a_parse_error(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n", encoding="utf-8")
    with pytest.raises(ParseError):
        OxigraphEngine.from_paths([bad], include_ontology=False)


def test_on_disk_store_is_reused_while_files_are_unchanged(tmp_path):
    res = generate_small(tmp_path, codes=2, payers=2, versions=2)
    store = tmp_path / "store"
    first = OxigraphEngine.from_paths([res.path], store_dir=store, progress=False)
    n = len(first)
    del first
    import gc

    gc.collect()
    again = OxigraphEngine(path=store)
    assert len(again) == n  # persisted
    from cptkg.load import source_files

    again.load_files(source_files([res.path]), progress=False)  # the same: used as it is
    assert len(again) == n
    again.load_files([], progress=False, rebuild=True)  # other sources: rebuilt when asked
    assert len(again) == 0


def test_export_holds_the_same_triples(shipped_ox, shipped_union):
    out = Graph().parse(data=shipped_ox.export("ttl"), format="turtle")
    assert len(out) == len(shipped_union)
    assert Counter(tuple(value_key(t) for t in tr) for tr in out) == Counter(
        tuple(value_key(t) for t in tr) for tr in shipped_union
    )
    nq = shipped_ox.export("nq").decode()
    assert "<https://w3id.org/cptkg/graph/data/payers>" in nq


def test_terms_convert_to_rdflib():
    import pyoxigraph as ox

    assert to_rdflib(ox.Literal("a")) == Literal("a")
    assert to_rdflib(ox.Literal("a", language="en")) == Literal("a", lang="en")
    assert to_rdflib(ox.NamedNode("http://x/y")) == URIRef("http://x/y")
    assert to_rdflib(None) is None


# --------------------------------------------------------------------------- one interface

_EXTRA = """
@prefix ex: <http://example.org/cptkg-test/> .
ex:a ex:p "one" ; ex:q ex:b .
"""


@pytest.mark.parametrize("kind", ["rdflib", "oxigraph"])
def test_every_embedded_engine_offers_the_engine_interface(kind, tmp_path):
    from cptkg.engines import open_graph
    from cptkg.engines.base import Engine
    from cptkg.engines.settings import GraphSettings

    extra = tmp_path / "extra.ttl"
    extra.write_text(_EXTRA, encoding="utf-8")
    engine = open_graph(GraphSettings(engine=kind, paths=(extra,), include_ontology=False))
    assert isinstance(engine, Engine) and engine.name == kind
    ask = "ASK { <http://example.org/cptkg-test/a> ?p ?o }"
    assert engine.query(ask) is True
    more = tmp_path / "more.nt"
    more.write_text('<http://example.org/x> <http://example.org/y> "z" .\n', encoding="utf-8")
    engine.load([more])
    assert engine.query('ASK { ?s ?p "z" }') is True
    exported = Graph().parse(data=engine.export("nt"), format="nt")
    assert len(exported) == 3
    nq = engine.export("nq").decode()
    assert "/graph/external/extra>" in nq and "/graph/external/more>" in nq


_TYPED = """
@prefix ex: <http://example.org/cptkg-test/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:a ex:label "Alpha"@en , "plain" ; ex:on "2025-01-31"^^xsd:date ; ex:n 3 , 1.5 ;
    ex:next [ ex:label "inner" ; ex:next ex:b ] .
"""


def test_both_embedded_engines_export_the_same_triples(tmp_path):
    """(Oxigraph's store keeps literals in canonical form: "1.50" as "1.5", derived integer
    datatypes such as xsd:positiveInteger as xsd:integer; this data has canonical literals.)"""
    from rdflib.compare import isomorphic

    from cptkg.engines import open_graph
    from cptkg.engines.settings import GraphSettings

    data = tmp_path / "typed.ttl"
    data.write_text(_TYPED, encoding="utf-8")
    for fmt, parse_as in (("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")):
        graphs = [
            Graph().parse(
                data=open_graph(
                    GraphSettings(engine=k, paths=(data,), include_ontology=False)
                ).export(fmt),
                format=parse_as,
            )
            for k in ("rdflib", "oxigraph")
        ]
        assert len(graphs[0]) == 8
        assert isomorphic(graphs[0], graphs[1]), fmt


def test_the_remote_engine_refuses_to_load_files(tmp_path):
    from cptkg.engines import open_graph
    from cptkg.engines.settings import GraphSettings
    from cptkg.errors import EndpointError

    engine = open_graph(GraphSettings.remote("http://127.0.0.1:9/query"))
    with pytest.raises(EndpointError, match="not supported") as info:
        engine.load([tmp_path / "x.ttl"])
    assert "cptkg push" in (info.value.hint or "")
