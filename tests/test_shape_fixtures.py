"""Every SHACL shape has a valid and an invalid example, and every example is its own test.

Fixtures live in ``tests/data/valid/*.ttl`` and ``tests/data/invalid/*.ttl`` (Brick-style: a
new file becomes a test automatically). Each is validated *together with the shipped graph*
(ontology + data/), so it can refer to ``kg:payer-aetna``, ``kg:cpt-64866`` and so on.

Header contract (first line of the file, machine-readable):

* invalid: ``# breaks: shape:<Name> — what is wrong``. The validation results whose focus
  node is defined in the fixture (a subject of one of its triples) must come from exactly
  that one shape (set of ``sh:sourceShape`` == {shape}). A ``sh:Warning`` shape's fixture
  must yield warnings only, and the data still conforms (validate.py: conformance means no
  ``sh:Violation``).
* valid: ``# exercises: shape:<A>, shape:<B>, …`` (continued on following lines that start
  with ``#`` and three or more spaces). The fixture must give zero results, warnings
  included; and each shape it claims to exercise must really apply to one of its nodes
  (the node is targeted and, for a property shape, has a value on the path).

Only the fixture's own nodes are validated (``focus_nodes``); a separate test merges all
valid fixtures with the shipped graph and validates everything, so a valid fixture cannot
silently break shipped data (a duplicate identifier, say) or another fixture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from cptkg.load import load_union, parse_file
from cptkg.shacl.pyshacl_runner import validate
from cptkg.shacl.report import ValidationResult
from shape_helpers import named_shapes, ontology_graph, own_constraints, shapes_graph

HERE = Path(__file__).resolve().parent
VALID_DIR = HERE / "data" / "valid"
INVALID_DIR = HERE / "data" / "invalid"
SHAPE_NS = "https://w3id.org/cptkg/shapes#"

_SHAPE_TOKEN = re.compile(r"shape:([A-Za-z][A-Za-z0-9_-]*)")
_BREAKS = re.compile(r"^#\s*breaks:\s*shape:([A-Za-z][A-Za-z0-9_-]*)\s+—\s+\S")
_EXERCISES = re.compile(r"^#\s*exercises:\s*(.*)$")
_CONTINUATION = re.compile(r"^#\s{3,}(shape:.*)$")


# --------------------------------------------------------------------------- loading


@cache
def shipped_graph() -> Graph:
    """Ontology + data/, parsed once; tests copy it before adding a fixture."""
    return load_union(include_ontology=True)


def constrained_shapes(shapes: Graph) -> set[URIRef]:
    """Named node and property shapes that carry at least one constraint of their own."""
    return {s for s in named_shapes(shapes) if own_constraints(shapes, s)}


def shape_iri(name: str) -> URIRef:
    return URIRef(SHAPE_NS + name)


def short(shape: Node | None) -> str:
    text = str(shape)
    return "shape:" + text[len(SHAPE_NS) :] if text.startswith(SHAPE_NS) else text


@dataclass(frozen=True)
class Fixture:
    path: Path
    kind: str  # "valid" | "invalid"
    shapes: tuple[str, ...]  # shape local names: broken (one) or exercised (several)

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.path.name}"


def read_header(path: Path, kind: str) -> Fixture:
    lines = path.read_text(encoding="utf-8").splitlines()
    first = lines[0] if lines else ""
    if kind == "invalid":
        m = _BREAKS.match(first)
        assert m, (
            f"{path.name}: first line must be '# breaks: shape:<Name> — what is wrong', "
            f"got {first!r}"
        )
        return Fixture(path, kind, (m.group(1),))
    m = _EXERCISES.match(first)
    assert m, f"{path.name}: first line must be '# exercises: shape:…, shape:…', got {first!r}"
    text = m.group(1)
    for line in lines[1:]:
        c = _CONTINUATION.match(line)
        if not c:
            break
        text += " " + c.group(1)
    names = tuple(_SHAPE_TOKEN.findall(text))
    assert names, f"{path.name}: '# exercises:' names no shape"
    return Fixture(path, kind, names)


def fixture_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.ttl")) if directory.is_dir() else []


def _collect(kind: str, directory: Path) -> list[Fixture]:
    return [read_header(p, kind) for p in fixture_files(directory)]


def _params(directory: Path, kind: str) -> list:
    files = fixture_files(directory)
    # an empty folder gives one explicit failing case instead of a silently empty param list
    if not files:
        return [pytest.param(None, id=f"{kind}/EMPTY")]
    return [pytest.param(p, id=f"{kind}/{p.name}") for p in files]


def fixture_nodes(fixture: Graph) -> set[Node]:
    """The nodes a fixture defines: every subject of its triples."""
    return set(fixture.subjects())


def validate_fixture(path: Path) -> tuple[ValidationResult, Graph, Graph]:
    """Validate the fixture's nodes in the context of the shipped graph.

    Returns (result, fixture graph, merged data graph)."""
    fixture = parse_file(path)
    assert len(fixture) > 0, f"{path.name} has no triples"
    data = Graph()
    data += shipped_graph()
    data += fixture
    nodes = sorted(fixture_nodes(fixture), key=str)
    result = validate(data, shapes_graph(), ontology_graph(), focus_nodes=nodes)
    return result, fixture, data


def describe(result: ValidationResult) -> str:
    return result.to_text()


# --------------------------------------------------------------------------- folder checks


@pytest.mark.parametrize("directory", [VALID_DIR, INVALID_DIR], ids=["valid", "invalid"])
def test_fixture_folder_is_not_empty(directory):
    files = fixture_files(directory)
    assert files, f"{directory} has no *.ttl fixtures: the fixture tests would pass vacuously"


def test_fixture_file_names_are_kebab_case():
    bad = [
        p.name
        for d in (VALID_DIR, INVALID_DIR)
        for p in d.iterdir()
        if p.is_file() and not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*\.ttl", p.name)
    ]
    assert not bad, f"fixture names must be kebab-case .ttl: {bad}"


def test_every_shape_has_a_valid_and_an_invalid_fixture():
    shapes = constrained_shapes(shapes_graph())
    assert len(shapes) > 20, "suspiciously few constrained shapes found"
    known = {short(s) for s in shapes}
    valid = _collect("valid", VALID_DIR)
    invalid = _collect("invalid", INVALID_DIR)
    named_valid = {f"shape:{n}" for f in valid for n in f.shapes}
    named_invalid = {f"shape:{n}" for f in invalid for n in f.shapes}
    unknown = sorted((named_valid | named_invalid) - known)
    assert not unknown, (
        f"fixture headers name shapes that do not exist (or have no constraint): {unknown}"
    )
    no_valid = sorted(known - named_valid)
    no_invalid = sorted(known - named_invalid)
    assert not no_valid, f"shapes with no valid fixture ('# exercises:'): {no_valid}"
    assert not no_invalid, f"shapes with no invalid fixture ('# breaks:'): {no_invalid}"


# --------------------------------------------------------------------------- per fixture


@pytest.mark.parametrize("path", _params(INVALID_DIR, "invalid"))
def test_invalid_fixture_breaks_exactly_its_shape(path):
    assert path is not None, f"{INVALID_DIR} is empty"
    fx = read_header(path, "invalid")
    expected = shape_iri(fx.shapes[0])
    shapes = shapes_graph()
    assert expected in constrained_shapes(shapes), f"{short(expected)} is not a constrained shape"
    result, fixture, _data = validate_fixture(path)
    own = fixture_nodes(fixture)
    findings = [f for f in result.results if f.focus_node in own]
    assert findings, f"{path.name} should break {short(expected)} but validates cleanly"
    fired = {f.source_shape for f in findings}
    assert fired == {expected}, (
        f"{path.name} should break only {short(expected)}, but results came from "
        f"{sorted(short(s) for s in fired)}:\n{describe(result)}"
    )
    for f in findings:
        assert f.message and f.message != "(no message)", f"{short(expected)} result has no message"
    if shapes.value(expected, SH.severity) == SH.Warning:
        assert {f.severity for f in findings} == {"Warning"}, describe(result)
        assert result.conforms is True, "warnings alone must not break conformance"
    else:
        assert {f.severity for f in findings} == {"Violation"}, describe(result)
        assert result.conforms is False


def _superclasses_closure(graph: Graph, cls: Node) -> set[Node]:
    return set(graph.transitive_objects(cls, RDFS.subClassOf))


def _targeted_nodes(node_shape: Node, shapes: Graph, data: Graph, nodes: set[Node]) -> set[Node]:
    targets = set(shapes.objects(node_shape, SH.targetClass))
    hit = set()
    for n in nodes:
        for cls in data.objects(n, RDF.type):
            if _superclasses_closure(data, cls) & targets:
                hit.add(n)
    return hit


@pytest.mark.parametrize("path", _params(VALID_DIR, "valid"))
def test_valid_fixture_conforms_without_any_result(path):
    assert path is not None, f"{VALID_DIR} is empty"
    fx = read_header(path, "valid")
    result, fixture, data = validate_fixture(path)
    assert result.conforms is True, describe(result)
    assert result.results == [], f"{path.name} must give no results at all:\n{describe(result)}"
    shapes = shapes_graph()
    own = fixture_nodes(fixture)
    for name in fx.shapes:
        s = shape_iri(name)
        assert s in constrained_shapes(shapes), f"{path.name}: unknown shape shape:{name}"
        if (s, RDF.type, SH.PropertyShape) in shapes:
            parents = set(shapes.subjects(SH.property, s))
            targeted = set().union(*(_targeted_nodes(p, shapes, data, own) for p in parents))
            path_iri = shapes.value(s, SH.path)
            with_value = {n for n in targeted if (n, path_iri, None) in data}
            assert with_value, (
                f"{path.name} claims to exercise shape:{name} but none of its nodes is targeted "
                f"by it with a value for {path_iri}"
            )
        else:
            assert _targeted_nodes(s, shapes, data, own), (
                f"{path.name} claims to exercise shape:{name} but none of its nodes is targeted"
            )


def test_all_valid_fixtures_together_with_the_shipped_graph_conform():
    """Merged, the valid fixtures break neither the shipped data nor each other."""
    files = fixture_files(VALID_DIR)
    assert files
    data = Graph()
    data += shipped_graph()
    for p in files:
        data += parse_file(p)
    result = validate(data, shapes_graph(), ontology_graph())
    assert result.results == [], describe(result)
