"""pySHACL's SHACL-SPARQL constraints run through prepared queries: each distinct text is
translated once, the bindings still differ per evaluation, and rdflib's own processor is back
in place after validation (also when validation fails). Within validation, triple patterns are
matched bound-subject first, so the look-ups per focus node do not grow with the graph."""

from __future__ import annotations

import pytest
from rdflib import RDF, Graph, Literal, URIRef, Variable, plugin
from rdflib.namespace import DCTERMS
from rdflib.plugins.sparql.processor import SPARQLProcessor
from rdflib.query import Processor

from cptkg.shacl.prepared_queries import (
    PreparingSPARQLProcessor,
    evaluate_bgp,
    order_patterns,
    prepared_queries,
)

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


UNIQUE = """
SELECT $this ?value ?other WHERE {
    $this <http://purl.org/dc/terms/identifier> ?value .
    ?other a <http://example.org/Policy> ; <http://purl.org/dc/terms/identifier> ?value .
    FILTER (?other != $this)
}"""


class CountingGraph(Graph):
    """A Graph counting the triples its triple-pattern look-ups return."""

    matched = 0

    def triples(self, pattern):  # type: ignore[override]
        for t in super().triples(pattern):
            self.matched += 1
            yield t


def _policies(n: int) -> CountingGraph:
    g = CountingGraph()
    for i in range(n):
        p = URIRef(f"{EX}policy-{i}")
        g.add((p, RDF.type, URIRef(EX + "Policy")))
        g.add((p, DCTERMS.identifier, Literal(f"id-{i}")))
    g.add((URIRef(EX + "policy-dup"), RDF.type, URIRef(EX + "Policy")))
    g.add((URIRef(EX + "policy-dup"), DCTERMS.identifier, Literal("id-0")))
    return g


def test_bound_subject_pattern_goes_before_a_class_scan():
    this, value, other = Variable("this"), Variable("value"), Variable("other")
    has_id = (this, DCTERMS.identifier, value)
    other_type = (other, RDF.type, URIRef(EX + "Policy"))
    other_id = (other, DCTERMS.identifier, value)
    ordered = order_patterns(
        [has_id, other_type, other_id], lambda t: t == this or not isinstance(t, Variable)
    )
    assert ordered == [has_id, other_id, other_type]
    # nothing bound: the fewest unbound terms first, as rdflib does
    assert (
        order_patterns([has_id, other_type], lambda t: not isinstance(t, Variable))[0] == other_type
    )


@pytest.mark.parametrize("focus", ["policy-0", "policy-5"])
def test_look_ups_per_focus_node_do_not_grow_with_the_graph(focus):
    matched = {}
    answers = {}
    for n in (10, 100):
        g = _policies(n)
        with prepared_queries():
            rows = list(g.query(UNIQUE, initBindings={"this": URIRef(EX + focus)}))
        answers[n] = sorted(str(r[2]) for r in rows)
        matched[n] = g.matched
    assert matched[10] == matched[100] <= 6
    plain = _policies(100)  # rdflib's own order scans every policy
    list(plain.query(UNIQUE, initBindings={"this": URIRef(EX + focus)}))
    assert plain.matched > 100
    assert answers[10] == answers[100] == ([EX + "policy-dup"] if focus == "policy-0" else [])


def test_ordering_is_rdflibs_only_inside_the_block():
    from rdflib.plugins.sparql import CUSTOM_EVALS

    g = _policies(3)
    with prepared_queries():
        assert any(f is evaluate_bgp for f in CUSTOM_EVALS.values())
        inside = set(g.query(UNIQUE, initBindings={"this": URIRef(EX + "policy-0")}))
    assert all(f is not evaluate_bgp for f in CUSTOM_EVALS.values())
    outside = set(g.query(UNIQUE, initBindings={"this": URIRef(EX + "policy-0")}))
    assert inside == outside and len(inside) == 1
