"""The standard SPARQL 1.1 dialect of the compiled shapes (for Virtuoso and other servers without
Oxigraph's LATERAL): the same findings as the LATERAL dialect on the same store, and a remote
engine choosing its dialect by asking the server. No Virtuoso needed here."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from cptkg.engines.oxigraph_engine import OxigraphEngine
from cptkg.engines.remote import LATERAL_PROBE, RemoteEngine
from cptkg.errors import EndpointError
from cptkg.load import shipped_files
from cptkg.shacl.compiler import (
    DIALECT_LATERAL,
    DIALECT_STANDARD,
    compile_shapes,
    standard_spelling,
)
from cptkg.shacl.sparql_runner import subclass_closure, validate_engine
from scale_helpers import generate_small, value_key
from server_support import stub_endpoint

HERE = Path(__file__).resolve().parent
INVALID = sorted((HERE / "data" / "invalid").glob("*.ttl"))


def _keys(result) -> set[tuple]:
    return {
        (
            f.focus_node,
            f.path,
            value_key(f.value),
            f.source_shape,
            f.constraint_component,
            f.severity,
            f.message,
        )
        for f in result.results
    }


@pytest.fixture(scope="module")
def invalid_store():
    """The shipped graph with every invalid fixture, in embedded Oxigraph."""
    return OxigraphEngine.from_paths(
        shipped_files() + INVALID, include_ontology=False, progress=False
    )


def test_standard_dialect_finds_what_the_lateral_dialect_finds(invalid_store):
    lateral = validate_engine(invalid_store, progress=False, dialect=DIALECT_LATERAL).result
    standard = validate_engine(invalid_store, progress=False, dialect=DIALECT_STANDARD).result
    assert len(lateral.results) > len(INVALID)
    assert _keys(standard) == _keys(lateral)


def test_standard_dialect_on_a_generated_graph(tmp_path):
    generated = generate_small(tmp_path, rate=0.2)
    engine = OxigraphEngine.from_paths(
        shipped_files() + [generated.path], include_ontology=False, progress=False
    )
    lateral = validate_engine(engine, progress=False, dialect=DIALECT_LATERAL).result
    standard = validate_engine(engine, progress=False, dialect=DIALECT_STANDARD).result
    assert lateral.results and _keys(standard) == _keys(lateral)


def test_standard_dialect_has_no_lateral_and_no_same_term_on_a_constant(invalid_store):
    from cptkg.load import load_shapes

    shapes = load_shapes()
    closure = subclass_closure(invalid_store)
    lateral = compile_shapes(shapes, closure, DIALECT_LATERAL)
    standard = compile_shapes(shapes, closure, DIALECT_STANDARD)
    assert any("LATERAL" in c.sparql for c in lateral.checks)
    assert not any("LATERAL" in c.sparql for c in standard.checks)
    assert not any("sameTerm(?value, <" in c.sparql for c in standard.checks)
    assert len(standard.checks) == len(lateral.checks)


def test_unknown_dialect_is_refused():
    with pytest.raises(ValueError, match="dialect"):
        compile_shapes(Graph(), {}, "sparql10")
    with pytest.raises(EndpointError, match="dialect"):
        RemoteEngine("http://127.0.0.1:9/sparql", dialect="sparql10")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "FILTER (!(sameTerm(?value, <http://e/a>) || sameTerm(?value, <http://e/b>)))",
            "FILTER (!((isIRI(?value) && ?value = <http://e/a>) || "
            "(isIRI(?value) && ?value = <http://e/b>)))",
        ),
        (
            'sameTerm(?v, "01"^^<http://www.w3.org/2001/XMLSchema#integer>)',
            '(isLiteral(?v) && lang(?v) = "" && '
            'datatype(?v) = <http://www.w3.org/2001/XMLSchema#integer> && str(?v) = "01")',
        ),
        (
            'sameTerm(?v, "chat"@FR)',
            '(isLiteral(?v) && lcase(lang(?v)) = "fr" && str(?v) = "chat")',
        ),
        ("sameTerm(?a, ?b)", "sameTerm(?a, ?b)"),
        (
            "datatype(?v) != <http://www.w3.org/2001/XMLSchema#string>",
            '(lang(?v) != "" || datatype(?v) != <http://www.w3.org/2001/XMLSchema#string>)',
        ),
        (
            "datatype(?v) != <http://www.w3.org/1999/02/22-rdf-syntax-ns#langString>",
            '(lang(?v) = "")',
        ),
        (
            "!COALESCE(isLiteral(<http://www.w3.org/2001/XMLSchema#date>(str(?v))), false)",
            "!COALESCE(COALESCE(<http://www.w3.org/2001/XMLSchema#date>(str(?v)) = "
            "<http://www.w3.org/2001/XMLSchema#date>(str(?v)), false), false)",
        ),
        (
            '&& isLiteral(xsd:dateTime(concat(str(?end), "T00:00:00")))',
            "&& COALESCE(xsd:date(str(?end)) = xsd:date(str(?end)), false)",
        ),
        ('# isLiteral(xsd:date("x")) in a comment', '# isLiteral(xsd:date("x")) in a comment'),
    ],
)
def test_standard_spelling(before, after):
    assert standard_spelling(before) == after


@pytest.mark.server
def test_oxigraph_serve_is_asked_for_lateral(oxigraph_server):
    assert RemoteEngine(oxigraph_server.query_url).sparql_dialect() == DIALECT_LATERAL


def test_a_server_refusing_lateral_gets_standard_sparql():
    with stub_endpoint(status=400, body=b"syntax error at 'LATERAL'") as stub:
        engine = RemoteEngine(stub.url + "/sparql", use_env_credentials=False)
        assert engine.sparql_dialect() == DIALECT_STANDARD
        assert engine.sparql_dialect() == DIALECT_STANDARD
    assert len(stub.requests) == 1  # asked once
    assert b"LATERAL" in stub.requests[0]["body"]
    assert "LATERAL" in LATERAL_PROBE


def test_an_unreachable_server_is_an_error_not_a_dialect():
    with stub_endpoint(status=503, body=b"down") as stub:
        engine = RemoteEngine(stub.url + "/sparql", use_env_credentials=False)
        with pytest.raises(EndpointError, match="HTTP 503"):
            engine.sparql_dialect()
