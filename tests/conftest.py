"""Shared fixtures: the project root, the shipped graph (loaded once), ``run_cli``, and the
pySHACL runs of the screened validation."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# pytest-xdist workers run with COLUMNS=80, and cptkg fits its tables to $COLUMNS: the tests
# see the tables as piped output does (cells whole) unless a test sets COLUMNS itself
os.environ.pop("COLUMNS", None)


@pytest.fixture
def pyshacl_runs(monkeypatch):
    """The ``focus_nodes`` of every pySHACL run the default engine's screened validation
    (:func:`cptkg.shacl.screened.validate_screened`) makes (None: the whole graph)."""
    from cptkg.shacl import pyshacl_runner, screened

    runs = []

    def spy(data, **kwargs):
        runs.append(kwargs.get("focus_nodes"))
        return pyshacl_runner.validate(data, **kwargs)

    monkeypatch.setattr(screened, "validate", spy)
    return runs


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The project directory (the one holding ontology/cptkg.ttl)."""
    assert (ROOT / "ontology" / "cptkg.ttl").is_file(), "ontology/cptkg.ttl is missing"
    return ROOT


@pytest.fixture(scope="session")
def shipped_dataset(project_root):
    """The shipped graph (ontology + data) as an rdflib Dataset, loaded once per session."""
    from cptkg.load import load_dataset

    ds = load_dataset()
    assert len(ds) > 0, "the shipped graph is empty"
    return ds


@pytest.fixture(scope="session")
def shipped_union(shipped_dataset):
    """All triples of the shipped graph in one plain Graph."""
    from cptkg.load import union_graph

    return union_graph(shipped_dataset)


@pytest.fixture
def run_cli(project_root) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real command line (``python -m cptkg ...``) and return the CompletedProcess.

    Keyword arguments: ``cwd`` (default: project root), ``env`` (extra variables),
    ``text`` (default True; False gives bytes in stdout / stderr).
    """

    def _run(
        *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, text: bool = True
    ) -> subprocess.CompletedProcess:
        full_env = {k: v for k, v in os.environ.items() if k != "CPTKG_HOME"}
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "cptkg", *args],
            cwd=cwd or project_root,
            env=full_env,
            capture_output=True,
            text=text,
            timeout=300,
        )

    return _run


#: A tiny self-contained vocabulary / shapes / data trio for validation tests.
TINY_ONTOLOGY = """
@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:SpecialPolicy rdfs:subClassOf ex:Policy .
"""

TINY_SHAPES = """
@prefix ex: <http://example.org/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:PolicyShape a sh:NodeShape ;
    sh:targetClass ex:Policy ;
    sh:property [
        sh:path ex:effectiveDate ; sh:minCount 1 ; sh:datatype xsd:date ;
        sh:message "A policy needs an effective date (xsd:date)." ] ;
    sh:property [
        sh:path ex:note ; sh:maxCount 1 ; sh:severity sh:Warning ;
        sh:message "At most one note." ] .
"""


@pytest.fixture
def tiny_graphs():
    """(ontology, shapes) Graphs of the tiny vocabulary."""
    from rdflib import Graph

    return (
        Graph().parse(data=TINY_ONTOLOGY, format="turtle"),
        Graph().parse(data=TINY_SHAPES, format="turtle"),
    )


def pytest_addoption(parser):
    """``--update-goldens``: rewrite tests/expected/<query>.json from the current results."""
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="regenerate the stored queries' golden results under tests/expected/",
    )


# SPARQL-server fixtures: oxigraph_binary, oxigraph_server, fresh_server
from server_support import fresh_server, oxigraph_binary, oxigraph_server  # noqa: E402, F401

# Virtuoso as the second SPARQL server: virtuoso_binary, virtuoso_server, own_virtuoso
from virtuoso_support import own_virtuoso, virtuoso_binary, virtuoso_server  # noqa: E402, F401
