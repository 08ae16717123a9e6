"""Workspaces: ``cptkg init``, how the workspace is found, the graph = reference + workspace,
``add`` writing only into the workspace (absolute paths), workspace stored queries, and the
reference graph found inside an installed package."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from cptkg import paths
from cptkg.errors import CptkgError, InputError
from cptkg.load import graph_source, load_dataset
from cptkg.namespaces import GRAPH_BASE
from cptkg.workspace import WORKSPACE_FILE, init_workspace, using_workspace
from intake_helpers import INTAKE, ROOT, tree_digest

VALID = INTAKE / "valid-policy.ttl"
ADDED = "cigna-example-cigna-64866-2025-01-01.ttl"
OWN_QUERY = """\
#+ summary: Policies added in this workspace
#+ tags:
#+   - payer
PREFIX cptkg: <https://w3id.org/cptkg/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?id WHERE {
  ?p a cptkg:PayerPolicy ; dcterms:identifier ?id . FILTER(STRSTARTS(?id, "example-"))
}
"""


@pytest.fixture(scope="module", autouse=True)
def checkout_untouched():
    before = tree_digest(ROOT / "data"), tree_digest(ROOT / "queries")
    yield
    assert (tree_digest(ROOT / "data"), tree_digest(ROOT / "queries")) == before


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m cptkg ARGS`` in ``cwd``, without the caller's CPTKG_* settings."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("CPTKG_")}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cptkg", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def outside(tmp_path) -> Path:
    """A directory that is in no workspace."""
    d = tmp_path / "elsewhere"
    d.mkdir()
    return d


@pytest.fixture
def ws(tmp_path) -> Path:
    return init_workspace(tmp_path / "ws")[0].root


# --------------------------------------------------------------------------- init


def test_init_makes_the_layout_and_refuses_a_second_time(outside, tmp_path):
    proc = cli("init", str(tmp_path / "new" / "ws"), cwd=outside)
    assert proc.returncode == 0, proc.stderr
    root = (tmp_path / "new" / "ws").resolve()
    assert f"Workspace {root}" in proc.stdout
    assert (root / "data" / "policies").is_dir() and (root / "queries").is_dir()
    config = tomllib.loads((root / WORKSPACE_FILE).read_text(encoding="utf-8"))
    assert config == {"workspace": {"format": 1}}
    again = cli("init", str(root), cwd=outside)
    assert again.returncode == 2 and "already a workspace" in again.stderr
    assert not again.stdout


def test_init_refuses_a_file_and_the_installed_package(outside, tmp_path):
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    proc = cli("init", str(f), cwd=outside)
    assert proc.returncode == 2 and "not a directory" in proc.stderr
    inside = paths.PACKAGE_DIR / "ws-test"
    proc = cli("init", str(inside), cwd=outside)
    assert proc.returncode == 2 and "inside the installed cptkg package" in proc.stderr
    assert not inside.exists()


def test_a_bad_workspace_file_is_a_clean_error(ws, outside):
    (ws / WORKSPACE_FILE).write_text("[workspace\n", encoding="utf-8")
    proc = cli("validate", "--workspace", str(ws), cwd=outside)
    assert proc.returncode == 2
    assert f"{ws / WORKSPACE_FILE}: not a valid workspace file" in proc.stderr
    (ws / WORKSPACE_FILE).write_text("[workspace]\nformat = 7\n", encoding="utf-8")
    proc = cli("validate", cwd=ws)
    assert proc.returncode == 2 and "format = 1" in proc.stderr


def test_workspace_option_names_a_directory_that_is_not_one(outside):
    proc = cli("validate", "--workspace", str(outside), cwd=outside)
    assert proc.returncode == 2
    assert "is not a cptkg workspace" in proc.stderr and "cptkg init DIR" in proc.stderr


# --------------------------------------------------------------------------- add


def test_add_without_a_workspace_exits_2_with_how_to_make_one(outside):
    before = tree_digest(outside)
    proc = cli("add", str(VALID), "--allow-illustrative", cwd=outside)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "no workspace to add policies to" in proc.stderr
    assert "hint: make one with `cptkg init DIR`" in proc.stderr
    assert tree_digest(outside) == before


@pytest.mark.parametrize("how", ["cwd", "subdirectory", "option", "CPTKG_HOME"])
def test_add_writes_into_the_workspace_and_prints_the_absolute_path(ws, outside, how):
    cwd, env, extra = outside, {}, []
    if how == "cwd":
        cwd = ws
    elif how == "subdirectory":
        cwd = ws / "data"
    elif how == "option":
        extra = ["--workspace", str(ws)]
    else:
        env = {"CPTKG_HOME": str(ws)}
    proc = cli("add", *extra, str(VALID), "--allow-illustrative", cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    written = ws / "data" / "policies" / ADDED
    assert written.is_file()
    assert f"Wrote {written}: 27 triple(s)" in proc.stdout
    assert sorted(p.name for p in (ws / "data" / "policies").iterdir()) == [ADDED]


def test_workspace_option_wins_over_cptkg_home(ws, tmp_path, outside):
    other = init_workspace(tmp_path / "other")[0].root
    proc = cli(
        "--workspace",
        str(ws),
        "add",
        str(VALID),
        "--allow-illustrative",
        cwd=outside,
        env={"CPTKG_HOME": str(other)},
    )
    assert proc.returncode == 0, proc.stderr
    assert (ws / "data" / "policies" / ADDED).is_file()
    assert list((other / "data" / "policies").iterdir()) == []


def test_the_graph_is_the_reference_plus_the_workspace(ws, outside):
    added = cli("add", str(VALID), "--allow-illustrative", cwd=ws)
    assert added.returncode == 0, added.stderr
    assert cli("validate", cwd=ws).returncode == 0
    # the workspace's policy is in the graph there, in its own named graph ...
    trig = cli("export", "-f", "trig", cwd=ws)
    assert trig.returncode == 0, trig.stderr
    own = f"<{GRAPH_BASE}workspace/data/policies/{ADDED[:-4]}>"
    assert own in trig.stdout and f"<{GRAPH_BASE}data/policies/aetna>" in trig.stdout
    # ... and not outside the workspace
    plain = cli("export", "-f", "trig", cwd=outside)
    assert own not in plain.stdout and f"<{GRAPH_BASE}data/policies/aetna>" in plain.stdout
    # adding the same policy again is "already in the graph", as in the checkout
    again = cli("add", str(VALID), "--allow-illustrative", cwd=ws)
    assert again.returncode == 0 and "Nothing to add" in again.stdout


def test_graph_sources_name_reference_and_workspace_files(ws, monkeypatch):
    policy = ws / "data" / "policies" / "mine.ttl"
    policy.write_bytes(VALID.read_bytes())
    monkeypatch.delenv("CPTKG_HOME", raising=False)
    with using_workspace(ws):
        iri = paths.graph_iri(policy)
        assert iri == f"{GRAPH_BASE}workspace/data/policies/mine"
        assert graph_source(iri) == str(policy)
        assert graph_source(f"{GRAPH_BASE}data/policies/aetna") == "data/policies/aetna.ttl"
        ids = {str(g.identifier) for g in load_dataset().graphs()}
        assert iri in ids and f"{GRAPH_BASE}data/policies/aetna" in ids
        assert paths.data_files()[-1] == policy


# --------------------------------------------------------------------------- queries


def test_workspace_queries_are_listed_and_run(ws, outside):
    (ws / "queries" / "my-policies.rq").write_text(OWN_QUERY, encoding="utf-8")
    listed = cli("queries", "--format", "json", cwd=ws)
    assert listed.returncode == 0, listed.stderr
    assert "my-policies" in listed.stdout and "payer-matrix" in listed.stdout
    assert "my-policies" not in cli("queries", "--format", "json", cwd=outside).stdout
    assert cli("add", str(VALID), "--allow-illustrative", cwd=ws).returncode == 0
    ran = cli("query", "my-policies", "--format", "csv", cwd=ws)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == ["id", "example-cigna-64866"]


def test_a_workspace_query_may_not_take_a_shipped_name(ws):
    (ws / "queries" / "payer-matrix.rq").write_text(OWN_QUERY, encoding="utf-8")
    proc = cli("queries", cwd=ws)
    assert proc.returncode == 2
    assert "may not have the name of a shipped query (payer-matrix)" in proc.stderr


# --------------------------------------------------------------------------- writing


def test_output_inside_the_package_is_refused(outside):
    target = paths.PACKAGE_DIR / "exported.ttl"
    proc = cli("export", "-o", str(target), cwd=outside)
    assert proc.returncode == 2 and "inside the installed cptkg package" in proc.stderr
    assert not target.exists()


def test_import_csv_prints_the_absolute_output_path(ws):
    proc = cli("import-csv", str(INTAKE / "valid-policies.csv"), "-o", "out.ttl", cwd=ws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Wrote {ws / 'out.ttl'}: " in proc.stdout


# --------------------------------------------------------------------------- reference root


def test_the_packaged_graph_is_the_reference_outside_a_project(tmp_path, monkeypatch):
    packaged = tmp_path / "site" / "cptkg" / "_graph"
    (packaged / "ontology").mkdir(parents=True)
    (packaged / "ontology" / "cptkg.ttl").write_text("", encoding="utf-8")
    monkeypatch.setattr(paths, "PACKAGED_GRAPH", packaged)
    monkeypatch.delenv("CPTKG_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert paths.reference_root() == packaged
    assert paths.queries_dir() == packaged / "queries"
    # a full project given as the workspace is its own reference graph
    with using_workspace(ROOT):
        assert paths.reference_root() == ROOT


def test_the_checkout_is_found_above_the_sources_without_a_workspace(tmp_path, monkeypatch):
    monkeypatch.delenv("CPTKG_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert paths.workspace() is None
    assert paths.reference_root() == ROOT
    with pytest.raises(CptkgError, match="no workspace to add policies to") as exc:
        paths.require_workspace("add policies to")
    assert "cptkg init DIR" in (exc.value.hint or "")


def test_check_outside_package():
    with pytest.raises(InputError, match="inside the installed cptkg package"):
        paths.check_outside_package(paths.PACKAGE_DIR / "x.ttl")
    assert paths.check_outside_package("relative.ttl") == Path.cwd().resolve() / "relative.ttl"
