"""The screen (:mod:`cptkg.shacl.screened`) stands aside, and pySHACL validates the whole graph,
whenever the compiled shapes could miss a finding: shapes with ``sh:rule``, a shape that does
not compile, a term Oxigraph refuses, a flagged blank node or an IRI pySHACL would read as a
CURIE. In every case the findings are pySHACL's. (Its equality with pySHACL on every fixture
and a generated graph is tested in ``test_shacl_compile.py``.)"""

from __future__ import annotations

import warnings

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH

from cptkg.shacl import pyshacl_runner, screened
from cptkg.shacl.pyshacl_runner import validate

PREFIXES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
"""

#: Every ex:C has exactly one ex:name.
NAME_SHAPE = """
ex:NameShape a sh:NodeShape ; sh:targetClass ex:C ;
    sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:maxCount 1 ] .
"""


def _graph(text: str) -> Graph:
    return Graph().parse(data=PREFIXES + text, format="turtle")


def _same_as_pyshacl(data: Graph, shapes: Graph):
    found = screened.validate_screened(data, shapes, Graph())
    reference = validate(data, shapes=shapes, ontology=Graph())
    assert [f.statement() for f in found.results] == [f.statement() for f in reference.results]
    assert found.conforms == reference.conforms
    assert found.report_graph.isomorphic(reference.report_graph)
    return found


def test_conforming_graph_never_runs_pyshacl(pyshacl_runs):
    data = _graph('ex:a a ex:C ; ex:name "A" .')
    found = _same_as_pyshacl(data, _graph(NAME_SHAPE))
    assert found.conforms and found.results == []
    assert pyshacl_runs == []


def test_pyshacl_runs_on_the_flagged_focus_nodes_only(pyshacl_runs):
    data = _graph('ex:a a ex:C . ex:b a ex:C ; ex:name "B" . ex:c a ex:C ; ex:name "C1", "C2" .')
    found = _same_as_pyshacl(data, _graph(NAME_SHAPE))
    assert {str(f.focus_node) for f in found.results} == {
        "http://example.org/a",
        "http://example.org/c",
    }
    assert pyshacl_runs == [[URIRef("http://example.org/a"), URIRef("http://example.org/c")]]


def test_rules_make_pyshacl_validate_everything(pyshacl_runs):
    # the rule gives every ex:C a second ex:name: a violation only pySHACL's rules produce
    shapes = _graph(
        NAME_SHAPE
        + "ex:NameShape sh:rule [ a sh:TripleRule ; sh:subject sh:this ; sh:predicate ex:name ;"
        ' sh:object "inferred" ] .'
    )
    found = _same_as_pyshacl(_graph('ex:a a ex:C ; ex:name "A" .'), shapes)
    assert not found.conforms
    assert pyshacl_runs == [None]


def test_shape_that_does_not_compile_makes_pyshacl_validate_everything(pyshacl_runs):
    shapes = _graph(
        NAME_SHAPE + "ex:ClosedShape a sh:NodeShape ; sh:targetClass ex:C ; sh:closed true ;"
        " sh:ignoredProperties ( <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> ) ."
    )
    found = _same_as_pyshacl(_graph('ex:a a ex:C ; ex:name "A" ; ex:other 1 .'), shapes)
    assert {str(f.source_shape) for f in found.results} == {"http://example.org/ClosedShape"}
    assert pyshacl_runs == [None]


def test_flagged_blank_node_makes_pyshacl_validate_everything(pyshacl_runs):
    found = _same_as_pyshacl(_graph("[] a ex:C ."), _graph(NAME_SHAPE))
    assert len(found.results) == 1
    assert pyshacl_runs == [None]


def test_flagged_iri_pyshacl_would_read_as_a_curie_makes_it_validate_everything(pyshacl_runs):
    found = _same_as_pyshacl(_graph("<tag:example.org,2026:a> a ex:C ."), _graph(NAME_SHAPE))
    assert [str(f.focus_node) for f in found.results] == ["tag:example.org,2026:a"]
    assert pyshacl_runs == [None]


def test_term_oxigraph_refuses_makes_pyshacl_validate_everything(pyshacl_runs):
    data = _graph('ex:a a ex:C ; ex:name "A" .')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rdflib warns about the space, and keeps the IRI
        data.add((URIRef("http://example.org/a b"), URIRef("http://example.org/p"), Literal("x")))
    assert screened.flagged_focus_nodes([data], _graph(NAME_SHAPE), Graph()) is None
    _same_as_pyshacl(data, _graph(NAME_SHAPE))
    assert pyshacl_runs == [None]


def test_nameable_focus():
    assert pyshacl_runner.nameable_focus(URIRef("https://w3id.org/cptkg/kg/payer-aetna"))
    assert pyshacl_runner.nameable_focus(URIRef("urn:uuid:1"))
    assert not pyshacl_runner.nameable_focus(URIRef("tag:example.org,2026:a"))


# ------------------------------------------------------------------ Oxigraph's canonical literals
#: ex:n is one xsd:positiveInteger, ex:m one value, ex:s one of at most three characters.
VALUE_SHAPES = """
ex:ValueShape a sh:NodeShape ; sh:targetClass ex:C ;
    sh:property [ sh:path ex:n ; sh:maxCount 1 ; sh:datatype xsd:positiveInteger ] ;
    sh:property [ sh:path ex:m ; sh:maxCount 1 ] ;
    sh:property [ sh:path ex:s ; sh:maxCount 1 ; sh:maxLength 3 ] .
"""
#: ex:code is one of a list.
LIST_SHAPES = """
ex:ListShape a sh:NodeShape ; sh:targetClass ex:C ;
    sh:property [ sh:path ex:code ; sh:in ( "5"^^xsd:positiveInteger "6"^^xsd:positiveInteger ) ] .
"""


@pytest.mark.parametrize(
    ("data", "shapes", "reason"),
    [
        # Oxigraph cannot tell an xsd:integer from the xsd:positiveInteger required
        ("ex:a a ex:C ; ex:n 5 .", VALUE_SHAPES, "must be"),
        ('ex:a a ex:C ; ex:n "5"^^xsd:nonNegativeInteger .', VALUE_SHAPES, "must be"),
        # "1.50" (four characters) is stored as "1.5"
        ('ex:a a ex:C ; ex:s "1.50"^^xsd:decimal .', VALUE_SHAPES, "maxLength"),
        # two values in rdflib, one in Oxigraph
        ('ex:a a ex:C ; ex:m 1, "1"^^xsd:positiveInteger .', VALUE_SHAPES, "one"),
        ('ex:a a ex:C ; ex:s "1", "1"^^xsd:string .', VALUE_SHAPES, "one"),
        # the list's "5"^^xsd:positiveInteger is "5"^^xsd:integer in the copy
        ("ex:a a ex:C ; ex:code 5 .", LIST_SHAPES, "constant"),
    ],
)
def test_canonical_literals_that_could_hide_a_finding_make_pyshacl_validate_everything(
    data, shapes, reason, pyshacl_runs
):
    from cptkg.shacl.literal_fidelity import hiding_reason

    graph, shapes_graph = _graph(data), _graph(shapes)
    found = hiding_reason([graph], shapes_graph)
    assert found is not None and reason in found
    result = _same_as_pyshacl(graph, shapes_graph)
    assert result.results  # a finding the copy would not show
    assert pyshacl_runs == [None]


@pytest.mark.parametrize(
    ("shapes", "reason"),
    [
        (
            "ex:S a sh:NodeShape ; sh:targetClass ex:C ;"
            " sh:property [ sh:path ex:n ; sh:in ( 5 ) ] .",
            "with http://www.w3.org/ns/shacl#in",
        ),
        (
            "ex:S a sh:NodeShape ; sh:targetClass ex:C ;"
            " sh:property [ sh:path ( ex:n ) ; sh:minCount 1 ] .",
            "complex path",
        ),
        (
            "ex:S a sh:NodeShape ; sh:targetObjectsOf ex:n ; sh:nodeKind sh:Literal .",
            "targetObjectsOf",
        ),
        (
            "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ sh:select "
            '"SELECT $this WHERE { $this ex:n ?v . FILTER (datatype(?v) = xsd:integer) }" ] .',
            "names",
        ),
        (
            "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ sh:select "
            '"SELECT $this WHERE { $this ?p ?v . FILTER (datatype(?v) = xsd:integer) }" ] .',
            "variable predicate",
        ),
    ],
)
def test_shapes_reading_rewritten_literals_otherwise_than_by_value_stand_the_screen_aside(
    shapes, reason
):
    from cptkg.shacl.literal_fidelity import hiding_reason

    data = _graph('ex:a a ex:C ; ex:n "5"^^xsd:positiveInteger .')
    found = hiding_reason([data], _graph(shapes))
    assert found is not None and reason in found
    # the constraints on values agree on the copy: the screen stands
    values = _graph(
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:n ; sh:maxCount 1 ;"
        " sh:datatype xsd:positiveInteger ; sh:minInclusive 1 ] ."
    )
    assert hiding_reason([data], values) is None


def test_the_shipped_graph_is_screened(pyshacl_runs):
    from cptkg.load import load_ontology, load_shapes, load_union
    from cptkg.shacl.literal_fidelity import hiding_reason

    data, shapes, ontology = load_union(include_ontology=True), load_shapes(), load_ontology()
    assert hiding_reason([data, ontology], shapes) is None
    assert screened.flagged_focus_nodes([data], shapes, ontology) == set()
    assert screened.validate_screened(data, shapes, ontology).conforms
    assert pyshacl_runs == []


# ------------------------------------------------------------------ nested shapes
#: A person's address has a city (a property shape on the values of another).
NESTED_SHAPES = """
ex:PersonShape a sh:NodeShape ; sh:targetClass ex:Person ;
    sh:property [ sh:path ex:address ; sh:property [ sh:path ex:city ; sh:minCount 1 ] ] .
"""
NESTED_DATA = "ex:p a ex:Person ; ex:address ex:home . ex:home a ex:Address ."


def test_pyshacl_focus_nodes_skip_nested_shapes_on_values():
    """Why the screen and intake stand aside for nested shapes: pySHACL (0.40) run with
    ``focus_nodes`` does not validate a value it does not list against a nested shape."""
    data, shapes = _graph(NESTED_DATA), _graph(NESTED_SHAPES)
    whole = validate(data, shapes=shapes, ontology=Graph())
    # the inner property shape's focus node is the outer one's value
    assert [str(f.focus_node) for f in whole.results] == ["http://example.org/home"]
    for listed, found in ((["p"], 0), (["home"], 0), (["p", "home"], 1)):
        nodes = [URIRef("http://example.org/" + n) for n in listed]
        run = validate(data, shapes=shapes, ontology=Graph(), focus_nodes=nodes)
        assert len(run.results) == found  # the value is validated only when listed too
    assert not pyshacl_runner.focus_runs_complete(shapes)
    assert pyshacl_runner.focus_runs_complete(_graph(NAME_SHAPE))


def test_nested_shapes_make_pyshacl_validate_everything(pyshacl_runs):
    found = _same_as_pyshacl(_graph(NESTED_DATA), _graph(NESTED_SHAPES))
    assert len(found.results) == 1
    assert pyshacl_runs == [None]


def test_new_data_with_nested_shapes_reports_their_findings():
    from cptkg.intake.validation import shacl_results

    new = _graph(NESTED_DATA + " ex:q a ex:Person ; ex:address ex:work . ex:work ex:city ex:x .")
    context = _graph("ex:other a ex:Person ; ex:address ex:nowhere .")  # not new: not reported
    focus = sorted({s for s in new.subjects() if isinstance(s, URIRef)}, key=str)
    found = shacl_results([new, context], focus, _graph(NESTED_SHAPES), Graph())
    assert [str(f.focus_node) for f in found.results] == ["http://example.org/home"]
    assert len(list(found.report_graph.objects(None, SH.result))) == 1


def test_a_cyclic_sh_in_list_does_not_hang_the_literal_check():
    from cptkg.shacl.literal_fidelity import hiding_reason

    shapes = _graph(
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:n ; sh:in _:l ] ."
        ' _:l rdf:first "5"^^xsd:positiveInteger ; rdf:rest _:l .'
    )
    found = hiding_reason([_graph("ex:a a ex:C ; ex:n 5 .")], shapes)
    assert found is not None and "constant" in found


def test_many_flagged_focus_nodes_make_pyshacl_validate_everything(pyshacl_runs, monkeypatch):
    monkeypatch.setattr(screened, "FOCUS_LIMIT", 1)
    data = _graph("ex:a a ex:C . ex:b a ex:C .")  # two nodes without a name: both flagged
    found = _same_as_pyshacl(data, _graph(NAME_SHAPE))
    assert len(found.results) == 2
    assert pyshacl_runs == [None]


def test_new_data_with_an_iri_pyshacl_would_read_as_a_curie_reports_its_findings():
    from cptkg.intake.validation import shacl_results

    new = _graph("<tag:example.org,2026:a> a ex:C .")
    focus = [URIRef("tag:example.org,2026:a")]
    found = shacl_results([new], focus, _graph(NAME_SHAPE), Graph())
    assert [str(f.focus_node) for f in found.results] == ["tag:example.org,2026:a"]
