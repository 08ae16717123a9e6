"""The shapes compiled to SPARQL on Oxigraph report exactly what pySHACL reports: the same
(focus node, path, source shape, severity) on the shipped graph, on every valid and invalid
fixture (each with the shipped graph), and on a generated graph with seeded violations; and so
the default engine's validation screened by them (:mod:`cptkg.shacl.screened`) is pySHACL's,
every field of every finding, pySHACL running on the focus nodes with a result only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import SH

from cptkg.engines.oxigraph_engine import OxigraphEngine
from cptkg.generate import manifest_path_for
from cptkg.load import load_dataset, load_ontology, load_shapes, shipped_files, union_graph
from cptkg.shacl import pyshacl_runner, screened
from cptkg.shacl.compiler import DIALECT_LATERAL, DIALECT_STANDARD, compile_shapes
from cptkg.shacl.literal_fidelity import hiding_reason
from cptkg.shacl.pyshacl_runner import validate
from cptkg.shacl.sparql_runner import subclass_closure, validate_engine
from scale_helpers import finding_keys, generate_small

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "tests" / "data" / "valid").glob("*.ttl")) + sorted(
    (ROOT / "tests" / "data" / "invalid").glob("*.ttl")
)


@pytest.fixture(scope="module")
def shapes():
    return load_shapes()


@pytest.fixture(scope="module")
def ontology():
    return load_ontology()


def _compiled(files, shapes, ontology):
    engine = OxigraphEngine.from_paths(files, include_ontology=False, progress=False)
    return validate_engine(engine, shapes, ontology, progress=False)


def test_fixture_folders_are_not_empty():
    names = {p.parent.name for p in FIXTURES}
    assert names == {"valid", "invalid"}, "tests/data/valid and tests/data/invalid need fixtures"


def test_every_shipped_shape_compiles(shapes):
    engine = OxigraphEngine.from_paths(progress=False)
    compiled = compile_shapes(shapes, subclass_closure(engine))
    assert compiled.fallback == {}, compiled.fallback
    assert len(compiled.checks) > 100


def test_same_as_pyshacl_on_shipped_graph(shipped_union, shapes, ontology):
    compiled = _compiled(shipped_files(), shapes, ontology)
    reference = validate(shipped_union, shapes=shapes, ontology=ontology)
    assert finding_keys(compiled.result) == finding_keys(reference)
    assert compiled.result.conforms == reference.conforms
    assert compiled.notes == []


def _everything(result):
    """Everything each finding says, in report order."""
    return [(*f.statement(), f.path_text, f.shape_text) for f in result.results]


def _assert_screened_is_pyshacl(data, shapes, ontology, reference, runs):
    """The default engine's validation equals pySHACL's whole-graph one in every field, and
    pySHACL ran on exactly the focus nodes with a result (not at all without one), or on the
    whole graph where Oxigraph's canonical literals could hide a finding."""
    found = screened.validate_screened(data, shapes, ontology)
    assert _everything(found) == _everything(reference)
    assert found.conforms == reference.conforms
    assert found.report_graph.isomorphic(reference.report_graph)
    flagged = {f.focus_node for f in reference.results}
    if hiding_reason([data, ontology], shapes) is not None:
        assert runs == [None]  # Oxigraph's canonical literals could hide a finding
    elif not flagged:
        assert runs == []
    elif all(pyshacl_runner.nameable_focus(n) for n in flagged):
        assert runs == [sorted(flagged, key=str)]
    else:
        assert runs == [None]


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_same_as_pyshacl_on_fixture(fixture, shipped_union, shapes, ontology, pyshacl_runs):
    compiled = _compiled(shipped_files() + [fixture], shapes, ontology)
    data = Graph()
    data += shipped_union
    data += union_graph(load_dataset([fixture], include_ontology=False))
    reference = validate(data, shapes=shapes, ontology=ontology)
    assert finding_keys(compiled.result) == finding_keys(reference)
    assert compiled.result.conforms == reference.conforms
    if fixture.parent.name == "invalid":
        assert not compiled.result.conforms or compiled.result.results
        assert reference.results
    _assert_screened_is_pyshacl(data, shapes, ontology, reference, pyshacl_runs)


def test_same_as_pyshacl_and_manifest_on_generated_graph(
    tmp_path, shipped_union, shapes, ontology, pyshacl_runs
):
    res = generate_small(tmp_path, rate=0.2)
    compiled = _compiled(shipped_files() + [res.path], shapes, ontology)
    data = Graph()
    data += shipped_union
    data += union_graph(load_dataset([res.path], include_ontology=False))
    reference = validate(data, shapes=shapes, ontology=ontology)
    assert finding_keys(compiled.result) == finding_keys(reference)
    _assert_screened_is_pyshacl(data, shapes, ontology, reference, pyshacl_runs)
    manifest = json.loads(manifest_path_for(res.path).read_text())["expected"]
    assert len(manifest) > 10
    assert finding_keys(compiled.result) == {
        (
            URIRef(e["focus_node"]),
            URIRef(e["path"]) if e["path"] else None,
            URIRef(e["source_shape"]),
            e["severity"],
        )
        for e in manifest
    }
    # components agree too
    comps = {
        (f.focus_node, f.source_shape, f.constraint_component) for f in compiled.result.results
    }
    assert comps == {
        (f.focus_node, f.source_shape, f.constraint_component) for f in reference.results
    }


FALLBACK_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@prefix cptkg: <https://w3id.org/cptkg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:PayerLabelShape a sh:NodeShape ;
    sh:targetClass cptkg:Payer ;
    sh:property [ sh:path rdfs:label ; sh:uniqueLang true ; sh:minCount 1 ] .
ex:PayerNameShape a sh:NodeShape ;
    sh:targetClass cptkg:Payer ;
    sh:property [ sh:path rdfs:label ; sh:maxCount 0 ] .
"""


def test_uncompilable_shape_falls_back_to_pyshacl_on_its_focus_nodes(tmp_path, ontology):
    extra = tmp_path / "payer.ttl"
    extra.write_text(
        "<https://w3id.org/cptkg/id/payer-aetna> <http://www.w3.org/2000/01/rdf-schema#label> "
        '"Aetna Inc."@en, "Aetna US"@en .\n',
        encoding="utf-8",
    )
    shapes = Graph().parse(data=FALLBACK_SHAPES, format="turtle")
    compiled = _compiled(shipped_files() + [extra], shapes, ontology)
    assert any("PayerLabelShape" in n and "pySHACL" in n for n in compiled.notes)
    data = union_graph(load_dataset(shipped_files() + [extra], include_ontology=False))
    reference = validate(data, shapes=shapes, ontology=ontology)
    assert finding_keys(compiled.result) == finding_keys(reference)
    shapes_hit = {f.source_shape for f in compiled.result.results}
    assert URIRef("http://example.org/PayerNameShape") not in shapes_hit  # blank property shape
    assert len(compiled.result.results) == len(reference.results) > 5


INLINE_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:OrShape a sh:NodeShape ; sh:targetClass ex:C ;
    sh:message "or" ;
    sh:or ( [ sh:path ex:a ; sh:lessThan ex:b ; sh:minCount 1 ]
            [ sh:path ex:c ; sh:datatype xsd:integer ; sh:minCount 1 ] ) .
ex:NestedShape a sh:NodeShape ; sh:targetClass ex:C ;
    sh:message "nested" ;
    sh:and ( [ sh:path ex:d ; sh:property [ sh:path ex:e ; sh:minCount 1 ] ]
             [ sh:deactivated true ; sh:class ex:Nope ] ) .
ex:NotShape a sh:NodeShape ; sh:targetClass ex:C ;
    sh:message "not" ;
    sh:not [ sh:or ( [ sh:hasValue ex:ok ] [ sh:hasValue ex:int ] [ sh:hasValue ex:bad ] ) ] ;
    sh:sparql [ sh:deactivated true ; sh:select "SELECT $this WHERE { $this ?p ?o }" ] .
"""
INLINE_DATA = """
@prefix ex: <http://example.org/> .
ex:ok a ex:C ; ex:a 1 ; ex:b 2 ; ex:d ex:d1 . ex:d1 ex:e 1 .
ex:int a ex:C ; ex:a 3 ; ex:b 2 ; ex:c 5 .
ex:bad a ex:C ; ex:a 3 ; ex:b 2 ; ex:c "x" ; ex:d ex:d2 .
"""


def test_inline_shapes_compile_like_pyshacl(tmp_path):
    """Constraints inside sh:or / sh:and: a pair constraint, a value test on a path, a
    property shape on a path and a deactivated member."""
    data = tmp_path / "inline.ttl"
    data.write_text(INLINE_DATA, encoding="utf-8")
    shapes = Graph().parse(data=INLINE_SHAPES, format="turtle")
    engine = OxigraphEngine.from_paths([data], include_ontology=False, progress=False)
    compiled = validate_engine(engine, shapes, Graph(), progress=False)
    assert compiled.notes == []
    reference = validate(Graph().parse(data), shapes=shapes, ontology=Graph())
    keys = {(f.focus_node, f.source_shape, f.constraint_component) for f in reference.results}
    assert {
        (f.focus_node, f.source_shape, f.constraint_component) for f in compiled.result.results
    } == keys
    ex = "http://example.org/"
    assert {(str(f), str(s)) for f, s, _ in keys} == {
        (ex + "bad", ex + "OrShape"),
        (ex + "bad", ex + "NestedShape"),
        *((ex + node, ex + "NotShape") for node in ("ok", "int", "bad")),
    }


def test_unclaimed_component_is_named_in_the_fallback_note(tmp_path):
    data = tmp_path / "closed.ttl"
    data.write_text("<http://example.org/x> <http://example.org/p> 1 .\n", encoding="utf-8")
    shapes = Graph().parse(
        data="@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .\n"
        "ex:ClosedShape a sh:NodeShape ; sh:targetNode ex:x ; sh:closed true .",
        format="turtle",
    )
    engine = OxigraphEngine.from_paths([data], include_ontology=False, progress=False)
    compiled = validate_engine(engine, shapes, Graph(), progress=False)
    [note] = compiled.notes
    assert "ex:ClosedShape" in note and "sh:ClosedConstraintComponent" in note
    assert [f.constraint_component for f in compiled.result.results] == [
        URIRef("http://www.w3.org/ns/shacl#ClosedConstraintComponent")
    ]


def test_ill_typed_date_is_one_violation_on_both_runners(shipped_union, shapes, ontology):
    """An ill-typed date ("2025-13-45"^^xsd:date): sh:datatype reports it, the date-order
    check stays silent."""
    fixture = ROOT / "tests" / "data" / "invalid" / "payer-policy-effective-date-month-13.ttl"
    policy = URIRef("https://w3id.org/cptkg/id/policy-ill-aetna-2025-month13")
    compiled = _compiled(shipped_files() + [fixture], shapes, ontology).result
    data = Graph()
    data += shipped_union
    data += union_graph(load_dataset([fixture], include_ontology=False))
    reference = validate(data, shapes=shapes, ontology=ontology)
    for result in (compiled, reference):
        [finding] = [f for f in result.results if f.focus_node == policy]
        assert finding.severity == "Violation"
        assert finding.constraint_component == SH.DatatypeConstraintComponent
        assert str(finding.value) == "2025-13-45"


def test_custom_constraint_component_falls_back(tmp_path):
    """A parameter of a SPARQL-based constraint component declared in the shapes graph is
    not SHACL Core: the shape goes to pySHACL, said in a note."""
    data = tmp_path / "custom.ttl"
    data.write_text("<http://example.org/x> <http://example.org/p> 1 .\n", encoding="utf-8")
    shapes = Graph().parse(
        data="@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .\n"
        "ex:Even a sh:ConstraintComponent ; sh:parameter [ sh:path ex:even ] ;\n"
        '  sh:validator [ a sh:SPARQLAskValidator ; sh:message "odd" ;\n'
        '    sh:ask "ASK { FILTER (!?even || $value != 1) }" ] .\n'
        "ex:S a sh:NodeShape ; sh:targetNode ex:x ; sh:property [ sh:path ex:p ; ex:even true ] .",
        format="turtle",
    )
    engine = OxigraphEngine.from_paths([data], include_ontology=False, progress=False)
    compiled = validate_engine(engine, shapes, Graph(), progress=False)
    [note] = compiled.notes
    assert "ex:S" in note and "ex:even" in note and "pySHACL" in note


SPARQL_BODIES = {
    # ?this matched by the body's first triple pattern: the focus nodes go last
    "Late": ("$this ex:p ?value . FILTER (?value > 1)", True),
    # the first pattern is an OPTIONAL: it must see ?this bound (pre-binding), so first
    "OptionalFirst": ("OPTIONAL { $this ex:q ?q } $this ex:p ?value FILTER (!BOUND(?q))", False),
    # ?this only inside NOT EXISTS: no body solution binds it
    "OnlyInFilter": ("FILTER NOT EXISTS { $this ex:q ?q }", False),
    # a parenthesised expression mentioning ?this is no triple pattern
    "InExpression": (
        "FILTER (?this != ex:b || EXISTS { ?s ?p ?o }) OPTIONAL { $this ex:p ?v }",
        False,
    ),
    # BIND could bind ?this another way
    "Bind": ("$this ex:p ?value . BIND (?value AS ?copy)", False),
}


def test_sparql_constraint_focus_last_only_where_the_body_binds_this_first(tmp_path):
    """A SHACL-SPARQL constraint is compiled with its focus nodes as a last FILTER EXISTS
    only when its body matches ?this before anything nested; every form gives pySHACL's
    results, including bodies whose results would change with the focus nodes last."""
    shapes_text = (
        "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .\n"
    )
    for name, (body, _late) in SPARQL_BODIES.items():
        shapes_text += (
            f"ex:{name} a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [\n"
            f'  sh:message "{name}" ; sh:prefixes ex:decl ;\n'
            f'  sh:select """SELECT $this ?value WHERE {{ {body} }}""" ] .\n'
        )
    shapes_text += (
        'ex:decl sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^'
        "<http://www.w3.org/2001/XMLSchema#anyURI> ] .\n"
    )
    shapes = Graph().parse(data=shapes_text, format="turtle")
    data = tmp_path / "bodies.ttl"
    data.write_text(
        "@prefix ex: <http://example.org/> .\n"
        "ex:a a ex:C ; ex:p 5 .\n"  # no ex:q
        "ex:b a ex:C ; ex:p 0 ; ex:q 1 .\n"
        "ex:c a ex:C .\n"
        "ex:z ex:p 7 .\n",  # not a focus node
        encoding="utf-8",
    )
    engine = OxigraphEngine.from_paths([data], include_ontology=False, progress=False)
    compiled = compile_shapes(shapes, subclass_closure(engine))
    forms = {
        str(c.root).rsplit("/", 1)[-1]: "FILTER EXISTS" in c.sparql.rsplit("}", 2)[0]
        and "SELECT DISTINCT ?this" not in c.sparql
        for c in compiled.checks
    }
    assert forms == {name: late for name, (_body, late) in SPARQL_BODIES.items()}
    result = validate_engine(engine, shapes, Graph(), progress=False).result
    reference = validate(Graph().parse(data), shapes=shapes, ontology=Graph())
    assert finding_keys(result) == finding_keys(reference)
    by_shape = {}
    for f in reference.results:
        by_shape.setdefault(str(f.source_shape).rsplit("/", 1)[-1], set()).add(str(f.focus_node))
    ex = "http://example.org/"
    assert by_shape["Late"] == {ex + "a"}  # not ex:z, which is no focus node
    assert by_shape["OptionalFirst"] == {ex + "a"}
    assert by_shape["OnlyInFilter"] == {ex + "a", ex + "c"}


BIND_IN_OPTIONAL = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ sh:message "x unbound" ; sh:select '''
    SELECT $this WHERE {
        $this <http://example.org/p> ?v .
        OPTIONAL { BIND ($this AS ?x) }
        FILTER (!BOUND(?x)) }''' ] .
ex:a a ex:C ; ex:p 1 .
"""


@pytest.mark.parametrize("dialect", [DIALECT_LATERAL, DIALECT_STANDARD])
def test_bind_of_this_inside_optional_sees_this_on_both_dialects(tmp_path, dialect):
    """Pre-binding gives the BIND ``$this``: no violation. Oxigraph's LATERAL evaluates the
    OPTIONAL with ``?this`` bound; standard SPARQL's left join would not, so there the
    constraint is left to pySHACL (said in a note)."""
    data = tmp_path / "bind.ttl"
    data.write_text(BIND_IN_OPTIONAL, encoding="utf-8")
    shapes = Graph().parse(data=BIND_IN_OPTIONAL, format="turtle")
    engine = OxigraphEngine.from_paths([data], include_ontology=False, progress=False)
    found = validate_engine(engine, shapes, Graph(), progress=False, dialect=dialect)
    reference = validate(Graph().parse(data), shapes=shapes, ontology=Graph())
    assert reference.results == [] and found.result.results == []
    if dialect == DIALECT_STANDARD:
        [note] = found.notes
        assert "OPTIONAL with a BIND" in note
    else:
        assert found.notes == []
