"""Every engine means the same thing: ``cptkg validate`` gives identical findings with the
default engine and with ``--engine oxigraph``, in context for new data (every intake fixture
and every valid fixture) and for the shipped graph."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from cptkg.cli import main

DATA = Path(__file__).resolve().parent / "data"
FIXTURES = sorted((DATA / "intake").glob("*.ttl")) + sorted((DATA / "valid").glob("*.ttl"))


def _validate(tmp_path: Path, engine: str, *paths: str) -> tuple[int, object]:
    out = tmp_path / f"{engine}.json"
    code = main(["validate", *paths, "--engine", engine, "-f", "json", "-o", str(out)])
    return code, json.loads(out.read_text(encoding="utf-8")) if out.exists() else None


def _assert_same(tmp_path: Path, *paths: str) -> tuple[int, object]:
    default = _validate(tmp_path, "rdflib", *paths)
    oxigraph = _validate(tmp_path, "oxigraph", *paths)
    assert oxigraph == default
    return default


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_validate_new_data_in_context_is_the_same_on_every_engine(tmp_path, fixture):
    code, report = _assert_same(tmp_path, str(fixture))
    if code != 2:  # unreadable fixtures (syntax error, empty, not RDF) are errors on both
        assert isinstance(report, dict)
        assert "context" in json.dumps(report)  # validated in the graph's context, not alone


def test_a_changed_existing_policy_is_reported_alike_with_its_source_file(tmp_path, project_root):
    text = (project_root / "data" / "policies" / "aetna.ttl").read_text(encoding="utf-8")
    changed = tmp_path / "aetna-changed.ttl"
    changed.write_text(
        text.replace('cptkg:versionLabel "overview document"', 'cptkg:versionLabel "v2"', 1),
        encoding="utf-8",
    )
    code, report = _assert_same(tmp_path, str(changed))
    assert code == 1
    assert "already in the graph (data/policies/aetna.ttl)" in json.dumps(report)


def test_validate_the_shipped_graph_is_the_same_on_every_engine(tmp_path):
    code, report = _assert_same(tmp_path)
    assert code == 0
    assert isinstance(report, dict) and report["conforms"] is True


def test_validate_new_data_in_context_on_an_on_disk_store(tmp_path):
    """The same command with ``--store DIR``: the store is built from the shipped graph on the
    first run, used as it is on the second, and both list the default engine's findings."""
    fixture = DATA / "intake" / "valid-policy.ttl"
    broken = tmp_path / "broken.ttl"
    broken.write_text(
        fixture.read_text(encoding="utf-8").replace(
            "cptkg:coverage cptkg:coverage-", "cptkg:coverage cptkg:nocoverage-", 1
        ),
        encoding="utf-8",
    )
    store = tmp_path / "store"
    for path in (fixture, broken):
        default = _validate(tmp_path, "rdflib", str(path))
        for run in ("first", "again"):
            out = tmp_path / f"store-{run}.json"
            gc.collect()  # the previous run's engine lets go of the store's lock
            code = main(
                ["validate", str(path), "--engine", "oxigraph", "--store", str(store)]
                + ["-f", "json", "-o", str(out)]
            )
            assert (code, json.loads(out.read_text(encoding="utf-8"))) == default, run
    assert (store / "cptkg-sources.json").is_file()
    assert default[0] == 1  # the broken copy does not conform, on every engine
