"""The same stored queries, bound the same way, give the golden results on Oxigraph too."""

from __future__ import annotations

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from cptkg.catalog import load_catalog, query_files
from cptkg.engine import QueryOutcome, SelectResult, inject_values
from cptkg.query import bind_params
from goldens import GOLDEN_PARAMS, normal_result, read_golden

pyoxigraph = pytest.importorskip("pyoxigraph")

NAMES = [p.stem for p in query_files()]


def _term(t):
    if t is None:
        return None
    if isinstance(t, pyoxigraph.NamedNode):
        return URIRef(t.value)
    if isinstance(t, pyoxigraph.BlankNode):
        return BNode(t.value)
    if t.language:
        return Literal(t.value, lang=t.language)
    return Literal(t.value, datatype=URIRef(t.datatype.value))


class OxigraphTestEngine:
    """A minimal Engine over pyoxigraph.Store for this test (issue 6 ships the real one)."""

    name = "oxigraph-test"

    def __init__(self, graph) -> None:
        self.store = pyoxigraph.Store()
        data = graph.serialize(format="nt", encoding="utf-8")
        self.store.load(data, format=pyoxigraph.RdfFormat.N_TRIPLES)

    def query(self, sparql: str, bindings: dict[str, Identifier] | None = None) -> QueryOutcome:
        result = self.store.query(inject_values(sparql, bindings))
        if isinstance(result, pyoxigraph.QueryBoolean):
            return bool(result)
        variables = [v.value for v in result.variables]
        rows = [tuple(_term(sol[v]) for v in variables) for sol in result]
        return SelectResult(variables, rows)


@pytest.fixture(scope="module")
def oxigraph(shipped_union):
    return OxigraphTestEngine(shipped_union)


@pytest.mark.parametrize("name", NAMES)
def test_oxigraph_matches_golden(oxigraph, name):
    query = load_catalog()[name]
    params = GOLDEN_PARAMS.get(name, {})
    result = oxigraph.query(query.text, bind_params(query, params))
    assert isinstance(result, SelectResult)
    _golden_params, expected = read_golden(name)
    assert normal_result(result) == normal_result(expected)


def test_oxigraph_payer_by_name_and_iri(oxigraph):
    from cptkg.query import run_stored

    by_name = run_stored(oxigraph, "payer-policy", {"payer": "unitedhealthcare"})
    by_iri = run_stored(oxigraph, "payer-policy", {"payer": "kg:payer-uhc"})
    assert len(by_name) == 1
    assert normal_result(by_name) == normal_result(by_iri)
