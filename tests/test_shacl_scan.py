"""The scan of the store (cptkg.shacl.scan) reports exactly what the compiled SPARQL queries
report for the constraints it takes over (focus node, path, value, source shape, constraint
component, severity, message), and what pySHACL reports: on generated graphs with seeded
violations and on a graph of edge cases (a subject spread over two graphs, a triple stated
twice, ill-formed and language-tagged literals, canonicalised list members, subclasses,
literal values of sh:class, focus nodes without any triple, every kind of target)."""

from __future__ import annotations

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import SH

from cptkg.engines.oxigraph_engine import OxigraphEngine
from cptkg.load import load_ontology, load_shapes, shipped_files
from cptkg.shacl.compiler import compile_shapes
from cptkg.shacl.pyshacl_runner import validate
from cptkg.shacl.scan import LOGICAL, SCANNED, QuadSource, scannable
from cptkg.shacl.sparql_runner import subclass_closure, validate_engine
from scale_helpers import generate_small


def _full(result) -> list[tuple]:
    """Everything a result says, in report order."""
    return [f.statement() for f in result.results]


def _keys(result) -> set[tuple]:
    """What a result says but its message, blank nodes all alike (two stores name them
    differently)."""
    return {
        (
            f.focus_node,
            f.path,
            "_:" if isinstance(f.value, BNode) else f.value,
            f.source_shape,
            f.constraint_component,
            f.severity,
        )
        for f in result.results
    }


@pytest.mark.parametrize("rate", [0.05, 0.5])
def test_scan_equals_the_compiled_queries_on_generated_graphs(tmp_path, rate):
    res = generate_small(tmp_path, rate=rate, payers=6)
    engine = OxigraphEngine.from_paths(
        [*shipped_files(), res.path], include_ontology=False, progress=False
    )
    shapes, ontology = load_shapes(), load_ontology()
    scanned = validate_engine(engine, shapes, ontology, progress=False)
    queried = validate_engine(engine, shapes, ontology, progress=False, scan=False)
    assert scanned.scanned > 100 and queried.scanned == 0
    assert scanned.checks == queried.checks
    assert scanned.queries < queried.queries
    assert _full(scanned.result) == _full(queried.result)
    # the seeded violations include scanned components
    assert {f.constraint_component for f in scanned.result.results} & SCANNED


def test_values_beyond_the_kept_verdicts_are_judged_alike(tmp_path, monkeypatch):
    """With one verdict kept per slot and the types of one node kept, every other value is
    judged on each occurrence (its types read again): the same findings as with them kept."""
    from cptkg.shacl import scan

    res = generate_small(tmp_path, rate=0.5, payers=6)
    engine = OxigraphEngine.from_paths(
        [*shipped_files(), res.path], include_ontology=False, progress=False
    )
    shapes, ontology = load_shapes(), load_ontology()
    kept = validate_engine(engine, shapes, ontology, progress=False)
    monkeypatch.setattr(scan, "MEMO_LIMIT", 1)
    monkeypatch.setattr(scan, "TYPES_LIMIT", 1)
    judged = validate_engine(engine, shapes, ontology, progress=False)
    assert len(kept.result.results) >= 40
    assert _full(judged.result) == _full(kept.result)


def test_scan_takes_the_simple_constraints_of_root_shapes_only():
    engine = OxigraphEngine.from_paths(progress=False)
    assert isinstance(engine, QuadSource)
    compiled = compile_shapes(load_shapes(), subclass_closure(engine))
    taken = [c for c in compiled.checks if scannable(c, compiled)]
    assert taken and all(c.component in SCANNED | LOGICAL for c in taken)
    # every shipped sh:or reads the focus node's own values only (counts, sh:hasValue)
    assert {c.component for c in taken} & LOGICAL == {SH.OrConstraintComponent}
    assert all(c.path is None for c in taken if c.component in LOGICAL)
    left = {c.component for c in compiled.checks if not scannable(c, compiled)}
    assert left == {
        SH.SPARQLConstraintComponent,
        SH.PatternConstraintComponent,
        SH.MinInclusiveConstraintComponent,
        SH.LessThanOrEqualsConstraintComponent,
    }, left


EDGE_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

ex:ThingShape a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:one ; sh:minCount 1 ; sh:maxCount 1 ] ,
        [ sh:path ex:two ; sh:minCount 2 ] ,
        [ sh:path ex:date ; sh:datatype xsd:date ; sh:maxCount 1 ] ,
        [ sh:path ex:label ; sh:datatype xsd:string ; sh:severity sh:Warning ;
          sh:message "label {$value} of {$this}" ] ,
        [ sh:path ex:n ; sh:in ( 1 2 "a"@en ) ] ,
        [ sh:path ex:small ; sh:datatype xsd:byte ] ,
        [ sh:path ex:ref ; sh:class ex:Target ] ,
        [ sh:path ex:kind ; sh:nodeKind sh:IRI ] ,
        [ sh:path ex:text ; sh:minLength 2 ; sh:maxLength 4 ] ,
        [ sh:path ex:must ; sh:hasValue ex:yes ] ,
        [ sh:path ex:off ; sh:minCount 1 ; sh:deactivated true ] .

ex:NodeTargetShape a sh:NodeShape ; sh:targetNode ex:lonely , ex:t1 ;
    sh:nodeKind sh:BlankNodeOrIRI ; sh:class ex:Thing ;
    sh:property [ sh:path ex:one ; sh:minCount 1 ; sh:severity sh:Info ] .

ex:ObjectsShape a sh:NodeShape ; sh:targetObjectsOf ex:points ;
    sh:nodeKind sh:IRI ; sh:maxLength 22 .

ex:SubjectsShape a sh:NodeShape ; sh:targetSubjectsOf ex:points ;
    sh:property [ sh:path ex:points ; sh:maxCount 1 ] .

ex:Target a rdfs:Class , sh:NodeShape ;
    sh:property [ sh:path ex:name ; sh:minCount 1 ] .

ex:LogicShape a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:or ( [ sh:path ex:one ; sh:maxCount 0 ] [ sh:path ex:two ; sh:minCount 2 ] ) ,
        ( [ sh:path ex:none ; sh:minCount 1 ; sh:deactivated true ] ) ,
        ( [ sh:path ex:none ; sh:minCount 0 ] ) ;
    sh:and ( [ sh:path ex:must ; sh:hasValue ex:yes ] [ sh:not [ sh:path ex:n ; sh:in ( 3 ) ] ]
             [ sh:path ex:one ; sh:maxCount 1 ] ) ;
    sh:xone ( [ sh:path ex:ref ; sh:class ex:Target ] [ sh:path ex:must ; sh:hasValue ex:yes ]
              [ sh:path ex:label ; sh:datatype xsd:string ; sh:minCount 1 ]
              [ sh:nodeKind sh:BlankNode ] ) ;
    sh:not [ sh:path ex:text ; sh:minLength 2 ; sh:maxLength 4 ; sh:minCount 1 ] .

# not judged on the focus node's own values: left to SPARQL
ex:NotLocalShape a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:or ( [ sh:path ex:date ; sh:datatype xsd:date ] [ sh:path ex:one ; sh:minCount 5 ] ) ;
    sh:property [ sh:path ex:ref ; sh:not [ sh:class ex:Other ] ] .
"""

EDGE_A = """
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:SubThing rdfs:subClassOf ex:Thing .
ex:SubTarget rdfs:subClassOf ex:Target .
ex:t1 a ex:Thing ; ex:one 1 ; ex:two "x" ; ex:date "2025-01-31"^^xsd:date ;
    ex:label "plain" , "tagged"@en ; ex:n 1 , "01"^^xsd:integer , "a"@en , 3 ;
    ex:small 5 , 300 ; ex:ref ex:r1 , ex:r2 , "lit" ; ex:kind ex:k , _:b , "k" ;
    ex:text "abc" , "a" , "abcde" , ex:x ; ex:must ex:yes .
ex:t2 a ex:SubThing ; ex:one 1 , 2 ; ex:two "x" , "y" ; ex:date "2025-13-45"^^xsd:date ;
    ex:points ex:p1 , ex:p2 ; ex:label "l" .
ex:r1 a ex:SubTarget ; ex:name "r1" .
ex:r2 a ex:Other .
ex:s1 ex:points ex:p1 , "a literal focus" .
ex:t4 ex:one 1 , 2 .
"""

EDGE_B = """
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:t1 ex:one 1 ; ex:two "x" ; ex:date "2025-02-01"^^xsd:date .
ex:t3 a ex:Thing ; ex:one 1 ; ex:two "x" , "y" ; ex:must ex:no ; ex:text "abc" ; ex:ref ex:r2 ;
    ex:date "2025-01-01"^^xsd:date , "2025-01-01"^^xsd:date .
ex:r3 a ex:Target .
ex:t4 a ex:Thing .
"""


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    """The edge cases in two files (two named graphs): ex:t1's triples in both, one of them
    (ex:one 1, ex:two "x") stated in both."""
    folder = tmp_path_factory.mktemp("scan-edges")
    a, b = folder / "a.ttl", folder / "b.ttl"
    a.write_text(EDGE_A, encoding="utf-8")
    b.write_text(EDGE_B, encoding="utf-8")
    engine = OxigraphEngine.from_paths([a, b], include_ontology=False, progress=False)
    shapes = Graph().parse(data=EDGE_SHAPES, format="turtle")
    data = Graph().parse(a).parse(b)
    return engine, shapes, data


def test_scan_equals_the_compiled_queries_on_edge_cases(edge):
    engine, shapes, _data = edge
    scanned = validate_engine(engine, shapes, Graph(), progress=False)
    queried = validate_engine(engine, shapes, Graph(), progress=False, scan=False)
    assert scanned.notes == [] and scanned.checks == 28
    assert scanned.scanned == 26  # all but the two of ex:NotLocalShape
    assert _full(scanned.result) == _full(queried.result)


def test_scan_equals_pyshacl_on_edge_cases(edge):
    """Everything pySHACL reports, but the in-range xsd:byte value 5 that the store keeps as
    xsd:integer (the documented difference of the compiled checks, tests/test_w3c_shacl.py)."""
    engine, shapes, data = edge
    scanned = validate_engine(engine, shapes, Graph(), progress=False)
    reference = validate(data, shapes=shapes, ontology=Graph())
    ex = "http://example.org/"
    byte_5 = {
        k
        for k in _keys(reference)
        if k[1] == URIRef(ex + "small") and str(k[2]) == "5" and k[0] == URIRef(ex + "t1")
    }
    assert len(byte_5) == 1
    assert _keys(scanned.result) == _keys(reference) - byte_5


def test_edge_case_results(edge):
    """What the edge cases are there for, spelled out."""
    engine, shapes, _data = edge
    found = {
        (str(f.focus_node), str(f.path or ""), str(f.value), str(f.constraint_component))
        for f in validate_engine(engine, shapes, Graph(), progress=False).result.results
    }
    ex, sh = "http://example.org/", str(SH)

    def has(focus: str, path: str, value: object, comp: str) -> bool:
        return (ex + focus, ex + path if path else "", str(value), sh + comp) in found

    # a triple stated in two graphs is one value; a subject in two graphs is one focus node
    assert not has("t1", "one", None, "MaxCountConstraintComponent")
    assert has("t1", "two", None, "MinCountConstraintComponent")
    assert has("t1", "date", None, "MaxCountConstraintComponent")
    # the same value twice in one subject: one value
    assert not has("t3", "date", None, "MaxCountConstraintComponent")
    assert has("t2", "one", None, "MaxCountConstraintComponent")
    # typed in one graph, its values in the other: a focus node all the same
    assert has("t4", "one", None, "MaxCountConstraintComponent")
    assert has("t2", "date", "2025-13-45", "DatatypeConstraintComponent")
    assert has("t1", "label", "tagged", "DatatypeConstraintComponent")
    assert not has("t1", "label", "plain", "DatatypeConstraintComponent")
    # "01"^^xsd:integer is stored as 1: in the list; 3 is not
    assert has("t1", "n", 3, "InConstraintComponent")
    assert not has("t1", "n", 1, "InConstraintComponent")
    assert has("t1", "small", 300, "DatatypeConstraintComponent")
    assert has("t1", "ref", ex + "r2", "ClassConstraintComponent")
    assert has("t1", "ref", "lit", "ClassConstraintComponent")
    assert not has("t1", "ref", ex + "r1", "ClassConstraintComponent")  # a subclass instance
    assert has("t1", "kind", "k", "NodeKindConstraintComponent")
    assert has("t1", "text", "a", "MinLengthConstraintComponent")
    assert has("t1", "text", "abcde", "MaxLengthConstraintComponent")
    assert has("t1", "text", ex + "x", "MaxLengthConstraintComponent")
    assert has("t3", "must", None, "HasValueConstraintComponent")
    assert not has("t1", "off", None, "MinCountConstraintComponent")  # deactivated
    # targets: a node without any triple, objects (a literal among them), subjects
    assert has("lonely", "", ex + "lonely", "ClassConstraintComponent")
    assert has("lonely", "one", None, "MinCountConstraintComponent")
    literal = ("a literal focus", "", "a literal focus", sh + "NodeKindConstraintComponent")
    assert literal in found
    assert has("t2", "points", None, "MaxCountConstraintComponent")
    assert has("r3", "name", None, "MinCountConstraintComponent")  # implicit class target
    # logical constraints: ex:two "x" stated in both graphs is one value, not two
    logic = {
        (focus.rsplit("/", 1)[-1], comp.rsplit("#", 1)[-1].replace("ConstraintComponent", ""))
        for focus, _path, _value, comp in found
        if comp.rsplit("#", 1)[-1]
        in {f"{c}ConstraintComponent" for c in ("Or", "And", "Not", "Xone")}
    }
    assert logic == {
        ("t1", "Or"),
        ("t2", "And"),
        ("t3", "And"),
        ("t4", "Or"),
        ("t4", "And"),
        ("t2", "Xone"),  # two of its shapes hold
        ("t3", "Xone"),  # none holds
        ("t3", "Not"),
        ("t2", "Or"),  # ex:NotLocalShape: ex:date "2025-13-45" is no xsd:date
        ("t1", "Not"),  # ex:NotLocalShape's property shape: ex:r2 is an ex:Other
    }, logic


def test_scan_of_an_on_disk_store_equals_its_queries(tmp_path):
    res = generate_small(tmp_path, rate=0.3)
    shapes, ontology = load_shapes(), load_ontology()
    disk = OxigraphEngine.from_paths(
        [*shipped_files(), res.path],
        include_ontology=False,
        progress=False,
        store_dir=tmp_path / "store",
    )
    try:
        scanned = validate_engine(disk, shapes, ontology, progress=False)
        queried = validate_engine(disk, shapes, ontology, progress=False, scan=False)
        # queries from worker threads beside the scan, as `cptkg validate --store` runs them
        threaded = validate_engine(disk, shapes, ontology, progress=False, workers=3)
    finally:
        disk.close()
    assert scanned.scanned > 100
    assert _full(scanned.result) == _full(queried.result) == _full(threaded.result)


def test_the_scan_leaves_no_reference_cycle(tmp_path, monkeypatch):
    """Everything a scan builds (plans, verdicts, types, the functions judging logical
    constraints) is freed when it returns, not left for a full pass of the cyclic collector
    (a million objects after a pass over 5M triples, and the engine kept alive with them)."""
    import gc
    import weakref

    from cptkg.shacl import scan
    from cptkg.shacl.compiled_cache import cached_compile
    from cptkg.shacl.compiler import DIALECT_LATERAL

    res = generate_small(tmp_path, rate=0.3, payers=3)
    engine = OxigraphEngine.from_paths(
        [*shipped_files(), res.path], include_ontology=False, progress=False
    )
    subclasses = subclass_closure(engine)
    compiled = cached_compile(load_shapes(), subclasses, DIALECT_LATERAL)
    checks = [c for c in compiled.checks if scannable(c, compiled)]
    assert any(c.component in LOGICAL for c in checks)  # a judge function is written
    made: list[weakref.ref] = []
    real = scan._Scan.__init__

    def recording(self, *args, **kwargs):
        real(self, *args, **kwargs)
        made.append(weakref.ref(self))

    monkeypatch.setattr(scan._Scan, "__init__", recording)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        rows, _queries = scan.scan_checks(engine, compiled, checks, subclasses)
        assert rows  # the seeded violations were found
        assert len(made) == 1
        assert made[0]() is None  # freed by reference counting, no collection has run
        # nor left its plans and roots as cyclic garbage
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = [o for o in gc.garbage if type(o) in (scan._Plan, scan._Root, scan._Scan)]
        assert left == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
