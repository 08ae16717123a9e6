"""New-data validation that grows linearly with the new data: the compiled shapes pick the focus
nodes pySHACL validates, and the findings are exactly pySHACL's on every focus node (a
200-row spreadsheet with seeded violations, every intake and invalid fixture); the context
look-ups are batched, so a SPARQL store answers the same number of queries for 10 or 100
new policies."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, URIRef

from cptkg.engines.oxigraph_engine import OxigraphEngine
from cptkg.errors import CptkgError
from cptkg.intake.context import GraphContext, SparqlContext, shipped_context
from cptkg.intake.csv_intake import csv_to_new_data
from cptkg.intake.reading import NewData, read_new
from cptkg.intake.validation import (
    build_validation_graph,
    context_slice,
    shacl_results,
    validate_new_data,
)
from cptkg.load import load_ontology, load_shapes
from cptkg.namespaces import bind_prefixes
from cptkg.shacl.pyshacl_runner import validate
from intake_helpers import INTAKE, ROOT

VALID_CSV = INTAKE / "valid-policies.csv"


def _validated(path: Path) -> bool:
    """Whether ``path`` reaches validation: readable RDF with an IRI subject (the others are
    refused before validation, by the reading checks their own tests cover)."""
    try:
        new = read_new([path])
    except CptkgError:
        return False
    return any(isinstance(s, URIRef) for s in new.graph.subjects())


ALL_FIXTURES = sorted(INTAKE.glob("*.ttl")) + sorted(
    (ROOT / "tests" / "data" / "invalid").glob("*.ttl")
)
FIXTURES = [p for p in ALL_FIXTURES if _validated(p)]

OLD_AETNA = "kg:policy-aetna-cpb-0366"
#: row -> {column: value} making the row break one rule (even rows are Aetna's, odd Medicare's)
SEEDED = {
    8: {"end_date": "2024-06-30"},  # an Aetna row: end before its effective date 2025-01-01
    30: {"allowed_places_of_service": ""},  # restricted site, no place listed
    60: {"criteria_text": ""},  # criteria stated, no text
    90: {"modifiers": "99"},  # a modifier the graph does not hold
    121: {"supersedes": OLD_AETNA},  # a Medicare row: another payer's policy
}


@pytest.fixture(scope="module")
def ctx() -> GraphContext:
    return shipped_context()


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_ontology()


def write_policies(path: Path, n: int, seeded: dict[int, dict[str, str]] | None = None) -> Path:
    """``n`` policy rows copied from the valid spreadsheet (ids made unique), with the cells
    of ``seeded`` replaced."""
    lines = [x for x in VALID_CSV.read_text(encoding="utf-8").splitlines() if x[:1] != "#"]
    rows = list(csv.reader(lines))
    header, examples = rows[0], rows[1:]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i in range(n):
        row = list(examples[i % len(examples)])
        row[0] = f"{row[0]}-{i}"
        for column, value in (seeded or {}).get(i, {}).items():
            row[header.index(column)] = value
        writer.writerow(row)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def full(result: Any) -> list[tuple[Any, ...]]:
    """Everything a finding says, in report order."""
    return [(*f.statement(), f.path_text, f.shape_text) for f in result.results]


def _both(new: NewData, ctx: GraphContext, shapes: Graph, ontology: Graph) -> tuple[Any, Any]:
    """(fast path, pySHACL on every focus node of the whole validation graph)."""
    focus = sorted((s for s in set(new.graph.subjects()) if isinstance(s, URIRef)), key=str)
    prefixes = Graph()
    for prefix, iri in new.graph.namespaces():
        prefixes.bind(prefix, iri, override=False)
    bind_prefixes(prefixes)
    context, _changed, _unchanged = context_slice(new.graph, ctx)
    fast = shacl_results([new.graph, context], focus, shapes, ontology, prefixes)
    vg, _changed, _unchanged = build_validation_graph(new.graph, ctx)
    for prefix, iri in prefixes.namespaces():
        vg.bind(prefix, iri, override=True, replace=True)
    return fast, validate(vg, shapes=shapes, ontology=ontology, focus_nodes=focus)


def test_seeded_spreadsheet_findings_are_pyshacls(tmp_path, ctx, shapes, ontology):
    path = write_policies(tmp_path / "policies.csv", 200, SEEDED)
    new = csv_to_new_data(path, ctx, ontology=ontology)
    fast, reference = _both(new, ctx, shapes, ontology)
    assert full(fast) == full(reference)
    assert fast.conforms == reference.conforms is False
    assert fast.report_graph.isomorphic(reference.report_graph)
    flagged = {str(f.focus_node).rsplit("-", 1)[-1] for f in fast.results}
    assert flagged == {str(i) for i in SEEDED}
    shapes_hit = {str(f.source_shape).rsplit("#", 1)[-1] for f in fast.results}
    assert {
        "PolicyDatesShape-order",
        "PolicySiteRestrictionShape",
        "PolicyCriteriaTextShape",
        "PolicySupersedesEarlierShape",
    } <= shapes_hit


def test_valid_spreadsheet_conforms_without_running_pyshacl(
    tmp_path, ctx, shapes, ontology, monkeypatch
):
    from cptkg.shacl import pyshacl_runner

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("pySHACL ran although no focus node has a result")

    new = csv_to_new_data(write_policies(tmp_path / "ok.csv", 40), ctx, ontology=ontology)
    fast, reference = _both(new, ctx, shapes, ontology)
    assert full(fast) == full(reference) == []
    assert fast.report_graph.isomorphic(reference.report_graph)
    monkeypatch.setattr(pyshacl_runner, "validate", refuse)  # every pySHACL run goes through it
    report = validate_new_data(new, ctx, shapes=shapes, ontology=ontology)
    assert report.conforms and report.problems == []


def test_almost_every_fixture_reaches_validation():
    assert len(FIXTURES) >= len(ALL_FIXTURES) - 8 and len(FIXTURES) > 30


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_findings_are_pyshacls(fixture, ctx, shapes, ontology):
    new = read_new([fixture])
    fast, reference = _both(new, ctx, shapes, ontology)
    assert full(fast) == full(reference)


class CountingEngine:
    """An engine that counts the queries it answers."""

    def __init__(self, engine: OxigraphEngine) -> None:
        self.engine = engine
        self.queries = 0

    def query(self, sparql: str, bindings: Any = None) -> Any:
        self.queries += 1
        return self.engine.query(sparql, bindings)


def test_context_look_ups_are_batched(tmp_path, ctx, shapes, ontology):
    """Also with findings: every fifth policy names a payer the graph does not hold, and each
    finding's hint lists the known payers."""
    store = OxigraphEngine.from_paths(progress=False)
    counted = {}
    for n in (10, 100):
        seeded = {i: {"payer": "kg:payer-acme"} for i in range(0, n, 5)}
        seeded[3] = SEEDED[121]
        path = write_policies(tmp_path / f"p{n}.csv", n, seeded)
        new = csv_to_new_data(path, ctx, ontology=ontology)
        engine = CountingEngine(store)
        report = validate_new_data(new, SparqlContext(engine), shapes=shapes, ontology=ontology)
        assert len(report.policies) == n
        unknown = [p for p in report.problems if p.rule == "shape:PayerPolicyShape-payer"]
        assert len(unknown) == n // 5
        assert all("known payers: kg:payer-aetna (Aetna)" in p.hint for p in unknown)
        counted[n] = engine.queries
    assert counted[10] == counted[100] <= 12
