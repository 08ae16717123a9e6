"""Validation API: conformance rule, findings, report formats, subclass-aware targets."""

from __future__ import annotations

import json

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH, XSD

from cptkg.engines.oxigraph_engine import OxigraphEngine
from cptkg.shacl.pyshacl_runner import validate
from cptkg.shacl.sparql_runner import validate_engine

EX = "http://example.org/"


def data(text: str) -> Graph:
    prefixes = f"@prefix ex: <{EX}> .\n@prefix xsd: <{XSD}> .\n"
    return Graph().parse(data=prefixes + text, format="turtle")


def test_conforming_data(tiny_graphs):
    ont, shapes = tiny_graphs
    result = validate(
        data('ex:p a ex:Policy ; ex:effectiveDate "2024-01-01"^^xsd:date .'), shapes, ont
    )
    assert result.conforms is True
    assert result.results == []
    assert result.counts() == {"Violation": 0, "Warning": 0, "Info": 0, "total": 0}


def test_violation_breaks_conformance_and_is_described(tiny_graphs):
    ont, shapes = tiny_graphs
    result = validate(data("ex:p a ex:Policy ."), shapes, ont)
    assert result.conforms is False
    [finding] = result.results
    assert finding.focus_node == URIRef(EX + "p")
    assert finding.path == URIRef(EX + "effectiveDate")
    assert finding.severity == "Violation"
    assert finding.constraint_component == SH.MinCountConstraintComponent
    assert finding.message == "A policy needs an effective date (xsd:date)."


def test_warnings_alone_do_not_break_conformance(tiny_graphs):
    ont, shapes = tiny_graphs
    result = validate(
        data('ex:p a ex:Policy ; ex:effectiveDate "2024-01-01"^^xsd:date ; ex:note "a", "b" .'),
        shapes,
        ont,
    )
    assert result.conforms is True
    assert [f.severity for f in result.results] == ["Warning"]
    assert result.counts()["Warning"] == 1


def test_subclass_from_ontology_counts_for_target_class(tiny_graphs):
    """ex:SpecialPolicy rdfs:subClassOf ex:Policy lives only in the ontology graph."""
    ont, shapes = tiny_graphs
    d = data("ex:s a ex:SpecialPolicy .")
    assert validate(d, shapes, ont).conforms is False
    assert validate(d, shapes, Graph()).conforms is True  # without the ontology: no target
    assert len(d) == 1  # the data graph was not modified


def test_value_and_datatype_violation(tiny_graphs):
    ont, shapes = tiny_graphs
    result = validate(data('ex:p a ex:Policy ; ex:effectiveDate "soon" .'), shapes, ont)
    [finding] = result.results
    assert finding.value == Literal("soon")
    assert finding.constraint_component == SH.DatatypeConstraintComponent


def test_focus_nodes_restrict_validation(tiny_graphs):
    ont, shapes = tiny_graphs
    d = data("ex:a a ex:Policy . ex:b a ex:Policy .")
    assert len(validate(d, shapes, ont).results) == 2
    result = validate(d, shapes, ont, focus_nodes=[URIRef(EX + "b")])
    assert [f.focus_node for f in result.results] == [URIRef(EX + "b")]


def test_results_are_sorted_and_grouped(tiny_graphs):
    ont, shapes = tiny_graphs
    d = data('ex:z a ex:Policy ; ex:note "1", "2" . ex:a a ex:Policy .')
    result = validate(d, shapes, ont)
    focus = [str(f.focus_node) for f in result.results]
    assert focus == sorted(focus)
    groups = result.by_focus_node()
    assert list(groups) == [URIRef(EX + "a"), URIRef(EX + "z")]
    # within a focus node: violations before warnings
    assert [f.severity for f in groups[URIRef(EX + "z")]] == ["Violation", "Warning"]


def test_json_report_is_stable_and_complete(tiny_graphs):
    ont, shapes = tiny_graphs
    d = data('ex:z a ex:Policy ; ex:note "1", "2" . ex:a a ex:Policy .')
    first = validate(d, shapes, ont).to_json()
    assert first == validate(d, shapes, ont).to_json()
    doc = json.loads(first)
    assert doc["conforms"] is False
    assert doc["counts"] == {"Violation": 2, "Warning": 1, "Info": 0, "total": 3}
    r0 = doc["results"][0]
    assert r0["focus_node"] == f"<{EX}a>"
    assert r0["path"] == f"<{EX}effectiveDate>"
    assert r0["severity"] == "Violation"
    assert r0["source_shape"] == "ex:PolicyShape[ex:effectiveDate]"


def test_text_report_uses_prefixes_and_groups(tiny_graphs):
    ont, shapes = tiny_graphs
    d = data("ex:a a ex:Policy .")
    text = validate(d, shapes, ont).to_text()
    assert text.startswith("Validation: does NOT conform (1 violation(s)")
    assert "\nex:a\n" in text
    assert (
        "[Violation] A policy needs an effective date (xsd:date). | path: ex:effectiveDate" in text
    )


def test_turtle_report_is_a_w3c_validation_report(tiny_graphs):
    ont, shapes = tiny_graphs
    ttl = validate(data("ex:a a ex:Policy ."), shapes, ont).to_turtle()
    g = Graph().parse(data=ttl, format="turtle")
    [report] = list(g.subjects(None, SH.ValidationReport))
    assert g.value(report, SH.conforms) == Literal(False)
    assert len(list(g.objects(report, SH.result))) == 1


def test_broken_shapes_are_a_cptkg_error():
    from cptkg.errors import CptkgError

    bad = Graph().parse(
        data="@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .\n"
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:minCount 1 ] .",
        format="turtle",
    )
    with pytest.raises(CptkgError, match="SHACL validation could not run"):
        validate(data("ex:a ex:p 1 ."), bad, Graph())


def test_shipped_graph_conforms_to_shipped_shapes(shipped_union):
    from cptkg.load import load_shapes

    shapes = load_shapes()
    assert len(shapes) > 0, "no shapes in ontology/shapes/*.ttl"
    result = validate(shipped_union, shapes)
    assert result.conforms, result.to_text()


def test_message_placeholders_are_filled():
    shapes = Graph().parse(
        data="@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .\n"
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ;"
        ' sh:class ex:C ; sh:message "{$this}: {$value} via {$path} is not an ex:C" ] ;'
        ' sh:property [ sh:path ex:q ; sh:minCount 1 ; sh:message "no {?value} here" ] .',
        format="turtle",
    )
    result = validate(data("ex:a ex:p ex:b ."), shapes, Graph())
    assert sorted(f.message for f in result.results) == [
        "ex:a: ex:b via ex:p is not an ex:C",
        "no {?value} here",  # no value node for a missing property: left as written
    ]


WARNING_ONLY = 'ex:p a ex:Policy ; ex:effectiveDate "2024-01-01"^^xsd:date ; ex:note "a", "b" .'


def _compiled_result(tmp_path, text: str, ontology: Graph, shapes: Graph):
    data_file = tmp_path / "data.ttl"
    (data(text) + ontology).serialize(data_file, format="turtle")
    engine = OxigraphEngine.from_paths([data_file], include_ontology=False, progress=False)
    return validate_engine(engine, shapes, ontology, progress=False).result


def _run(runner: str, tmp_path, text: str, ontology: Graph, shapes: Graph):
    """``text`` validated by pySHACL or by the compiled shapes on Oxigraph."""
    if runner == "pyshacl":
        return validate(data(text), shapes, ontology)
    return _compiled_result(tmp_path, text, ontology, shapes)


def _turtle_conforms(result) -> list:
    """The sh:conforms values of the W3C Turtle report."""
    g = Graph().parse(data=result.to_turtle(), format="turtle")
    [report] = list(g.subjects(None, SH.ValidationReport))
    return list(g.objects(report, SH.conforms))


@pytest.mark.parametrize("runner", ["pyshacl", "compiled"])
def test_turtle_report_does_not_conform_with_warnings_only(runner, tiny_graphs, tmp_path):
    """SHACL 1.0 section 3.6.1: sh:conforms is true only when there is no result at all;
    the CLI's conformance (exit code) still allows warnings."""
    result = _run(runner, tmp_path, WARNING_ONLY, *tiny_graphs)
    assert [f.severity for f in result.results] == ["Warning"]
    assert result.conforms is True
    assert result.shacl_conforms is False
    assert _turtle_conforms(result) == [Literal(False)]
    doc = json.loads(result.to_json())
    assert doc["conforms"] is True and doc["shacl_conforms"] is False
    assert doc["counts"]["total"] == len(doc["results"]) == 1
    assert doc["counts"]["Warning"] == 1


@pytest.mark.parametrize("runner", ["pyshacl", "compiled"])
def test_turtle_report_conforms_without_results(runner, tiny_graphs, tmp_path):
    text = 'ex:p a ex:Policy ; ex:effectiveDate "2024-01-01"^^xsd:date .'
    result = _run(runner, tmp_path, text, *tiny_graphs)
    assert _turtle_conforms(result) == [Literal(True)]
    doc = json.loads(result.to_json())
    assert doc["conforms"] is True and doc["shacl_conforms"] is True
    assert doc["counts"]["total"] == len(doc["results"]) == 0


def test_json_counts_equal_the_results_listed(tiny_graphs):
    ont, shapes = tiny_graphs
    d = data('ex:z a ex:Policy ; ex:note "1", "2" . ex:a a ex:Policy ; ex:effectiveDate "x" .')
    doc = json.loads(validate(d, shapes, ont).to_json())
    listed = [r["severity"] for r in doc["results"]]
    assert doc["counts"]["total"] == len(listed) == 3
    for severity in ("Violation", "Warning", "Info"):
        assert doc["counts"][severity] == listed.count(severity)


def test_turtle_report_is_deterministic_and_the_same_graph(tiny_graphs):
    """Blank nodes get labels from the report's content (no full canonicalisation, which is
    quadratic in the number of results): two runs print the same text, and the text is the
    report graph."""
    from rdflib.compare import isomorphic

    ont, shapes = tiny_graphs
    d = data('ex:z a ex:Policy ; ex:note "1", "2" . ex:a a ex:Policy . ex:b a ex:Policy .')
    first, second = validate(d, shapes, ont), validate(d, shapes, ont)
    assert first.to_turtle() == second.to_turtle()
    parsed = Graph().parse(data=first.to_turtle(), format="turtle")
    assert isomorphic(parsed, first.report_graph)
    assert len(list(parsed.objects(None, SH.result))) == 4
