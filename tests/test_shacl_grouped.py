"""The compiled checks run grouped by focus set: few queries for the shipped shapes, and every
result (focus node, path, value, source shape, constraint component, severity, message) the
same as when each constraint runs as a query of its own (tests/test_shacl_compile.py compares
the grouped results with pySHACL's on every fixture and on generated graphs)."""

from __future__ import annotations

import os

import pytest
from rdflib.namespace import SH

from cptkg.engines.base import QueryError
from cptkg.engines.oxigraph_engine import OxigraphEngine
from cptkg.load import load_ontology, load_shapes, shipped_files
from cptkg.shacl import sparql_runner
from cptkg.shacl.compiler import (
    DIALECT_LATERAL,
    DIALECT_STANDARD,
    compile_shapes,
    roots_of,
    violation_query,
)
from cptkg.shacl.sparql_runner import subclass_closure, validate_engine
from scale_helpers import generate_small


def _full(result) -> list[tuple]:
    """Everything a result says, in report order."""
    return [f.statement() for f in result.results]


@pytest.fixture(scope="module")
def shapes():
    return load_shapes()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A small generated graph with seeded violations of every kind, on Oxigraph."""
    res = generate_small(tmp_path_factory.mktemp("grouped"), rate=0.5, payers=8)
    files = shipped_files() + [res.path]
    engine = OxigraphEngine.from_paths(files, include_ontology=False, progress=False)
    return res.path, engine


def test_shipped_shapes_compile_into_one_query_per_focus_set(shapes):
    engine = OxigraphEngine.from_paths(progress=False)
    compiled = compile_shapes(shapes, subclass_closure(engine))
    sparql_constraints = len(list(shapes.objects(None, SH.sparql)))
    assert len(compiled.checks) > 150
    # every check but the SHACL-SPARQL constraints is in a group, one group per target
    assert len(compiled.single) == sparql_constraints
    assert len({g.target for g in compiled.groups}) == len(compiled.groups)
    assert sum(len(g.checks) for g in compiled.groups) + len(compiled.single) == len(
        compiled.checks
    )
    assert compiled.queries == len(compiled.groups) + sparql_constraints
    assert compiled.queries <= len(roots_of(shapes))


@pytest.mark.parametrize("dialect", [DIALECT_LATERAL, DIALECT_STANDARD])
def test_grouped_results_equal_one_query_per_constraint(generated, shapes, dialect, monkeypatch):
    """Violating focus nodes in several VIOLATION_CHUNK-sized pieces: the same results, value
    and message included, as the per-constraint queries."""
    _path, engine = generated
    monkeypatch.setattr(sparql_runner, "VIOLATION_CHUNK", 7)
    ontology = load_ontology()
    # without the scan, which takes most constraints out of the queries
    grouped = validate_engine(engine, shapes, ontology, progress=False, dialect=dialect, scan=False)
    single = validate_engine(
        engine, shapes, ontology, progress=False, dialect=dialect, grouped=False, scan=False
    )
    assert len(grouped.result.results) > 40
    assert _full(grouped.result) == _full(single.result)
    assert grouped.queries < single.queries


def test_violation_query_names_each_check_by_its_index(shapes):
    engine = OxigraphEngine.from_paths(progress=False)
    compiled = compile_shapes(shapes, subclass_closure(engine), DIALECT_STANDARD)
    group = max(compiled.groups, key=lambda g: len(g.checks))
    focus = [next(iter(engine.query(f"SELECT ?this WHERE {{ {group.target} }}").rows))[0]]
    lateral = violation_query(group, focus, DIALECT_LATERAL)
    standard = violation_query(group, focus, DIALECT_STANDARD)
    assert "LATERAL" in lateral and "LATERAL" not in standard
    assert f"BIND ({len(group.checks) - 1} AS ?_k)" in standard
    assert standard.count("VALUES ?this") == len(group.checks)
    for text in (lateral, standard):
        assert engine.query(text).variables == ["_k", "this", "value"]


@pytest.mark.parametrize("scan", [True, False])
def test_queries_in_parallel_give_the_same_results_as_in_one_thread(generated, shapes, scan):
    """With several workers the queries run in threads (while the store is scanned): the same
    results, in the same order, and the same number of queries."""
    _path, engine = generated
    ontology = load_ontology()
    one = validate_engine(engine, shapes, ontology, progress=False, scan=scan, workers=1)
    many = validate_engine(engine, shapes, ontology, progress=False, scan=scan, workers=4)
    assert len(one.result.results) > 40
    assert _full(many.result) == _full(one.result)
    assert many.queries == one.queries


def test_a_failing_query_in_a_worker_is_raised_and_the_others_are_not_started(
    generated, shapes, monkeypatch
):
    """A query that fails in a worker thread fails the validation with its own error; the
    queries still queued are cancelled (the pool is shut down before the error propagates)."""
    _path, engine = generated
    started: list[str] = []
    real_query = engine.query

    def failing(sparql, bindings=None):
        started.append(sparql)
        if len(started) == 2:
            raise QueryError("SPARQL query failed: injected")
        return real_query(sparql, bindings)

    monkeypatch.setattr(engine, "query", failing)
    with pytest.raises(QueryError, match="injected"):
        validate_engine(engine, shapes, load_ontology(), progress=False, scan=False, workers=2)
    compiled = compile_shapes(shapes, subclass_closure(engine))
    assert len(started) < compiled.queries  # not every query ran after the failure


def test_oxigraph_runs_as_many_queries_at_once_as_it_has_processors():
    engine = OxigraphEngine.from_paths(progress=False)
    assert engine.parallel_queries() >= 1
    assert engine.parallel_queries() <= (os.cpu_count() or 1)
