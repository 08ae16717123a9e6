"""The public Python API: ``from cptkg import KnowledgeGraph`` and the typed errors, each
method giving what the command line gives, on every engine; ``import cptkg`` stays cheap."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

import cptkg
from cptkg import (
    AddPlan,
    CptkgError,
    FederationRefused,
    InputError,
    IntakeReport,
    KnowledgeGraph,
    ParameterError,
    Report,
    SelectResult,
    UnknownQueryError,
    ValidationResult,
)
from intake_helpers import INTAKE, ROOT, copy_project, tree_digest


@pytest.fixture(scope="module")
def kg() -> KnowledgeGraph:
    return KnowledgeGraph()


def test_import_cptkg_loads_nothing_heavy():
    code = (
        "import sys, cptkg; heavy = [m for m in ('rdflib', 'pyshacl', 'pyoxigraph', 'cptkg.api') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves():
    for name in cptkg.__all__:
        assert getattr(cptkg, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = cptkg.nothing  # type: ignore[attr-defined]
    assert issubclass(ParameterError, InputError) and issubclass(InputError, CptkgError)
    assert issubclass(UnknownQueryError, InputError)


def test_validate_is_what_the_command_line_reports(kg, run_cli):
    result = kg.validate()
    assert isinstance(result, ValidationResult)
    cli = run_cli("validate")
    assert cli.returncode == (0 if result.conforms else 1)
    assert result.to_text() == cli.stdout


def test_validate_new_checks_files_in_the_context_of_the_graph(kg):
    bad = kg.validate_new([INTAKE / "unknown-payer.ttl"])
    assert isinstance(bad, IntakeReport) and not bad.conforms
    assert any("payer" in p.message for p in bad.problems)
    good = kg.validate_new([str(INTAKE / "valid-policy.ttl")])
    assert good.conforms and len(good.policies) == 1


def test_query_binds_keyword_parameters(kg):
    rows = kg.query("payer-policy", payer="Aetna")
    assert isinstance(rows, SelectResult)
    assert {str(r["payerName"]) for r in rows.as_dicts()} == {"Aetna"}
    assert len(kg.query("payers")) == 5


def test_query_errors_are_typed(kg):
    with pytest.raises(UnknownQueryError) as exc:
        kg.query("payer-matrx")
    assert "payer-matrix" in (exc.value.hint or "")
    with pytest.raises(ParameterError, match="not a date"):
        kg.query("policies-as-of", asOf="2025-13-01")
    with pytest.raises(ParameterError, match="no parameter"):
        kg.query("payers", colour="red")


def test_sparql_runs_ad_hoc_queries_and_refuses_service(kg):
    ask = kg.sparql("ASK { ?s ?p ?o }")
    assert ask is True
    result = kg.sparql(
        "SELECT ?name WHERE { ?p <http://www.w3.org/2000/01/rdf-schema#label> ?name }",
        {"p": "<https://w3id.org/cptkg/id/payer-aetna>"},
    )
    assert [str(r[0]) for r in result.rows] == ["Aetna"]
    with pytest.raises(FederationRefused):
        kg.sparql("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")


def test_export_gives_the_command_line_bytes(kg, run_cli):
    cli = run_cli("export", "-f", "nt", text=False)
    assert cli.returncode == 0
    assert kg.export("nt") == cli.stdout
    assert kg.export("TTL").startswith(b"@prefix")


def test_report(kg, run_cli):
    report = kg.report("64866")
    assert isinstance(report, Report) and report.title.startswith("CPT 64866")
    assert kg.report_text("64866") == run_cli("report", "64866").stdout
    assert kg.report_text(fmt="html").startswith("<!DOCTYPE html>")
    with pytest.raises(InputError, match="report format"):
        kg.report_text(fmt="pdf")
    with pytest.raises(ParameterError):
        kg.report("99999")


def test_oxigraph_gives_the_same_answers(kg, tmp_path):
    ox = KnowledgeGraph.oxigraph(tmp_path / "store")
    assert ox.engine.name == "oxigraph"
    assert ox.query("payer-matrix").rows == kg.query("payer-matrix").rows
    assert ox.validate().conforms == kg.validate().conforms
    assert (tmp_path / "store").is_dir()


def test_from_files_opens_own_data():
    kg = KnowledgeGraph.from_files([ROOT / "data" / "payers.ttl"])
    assert len(kg.query("payers")) == 5
    with pytest.raises(InputError, match="no files"):
        KnowledgeGraph.from_files([])
    with pytest.raises(InputError, match="not an embedded engine"):
        KnowledgeGraph.from_files([ROOT / "data"], engine="remote")


def test_add_writes_only_conforming_policies(tmp_path, monkeypatch):
    home = copy_project(tmp_path / "project")
    shutil.copytree(ROOT / "queries", home / "queries")
    monkeypatch.setenv("CPTKG_HOME", str(home))
    kg = KnowledgeGraph()
    before = tree_digest(home / "data")

    bad = kg.add([INTAKE / "unknown-payer.ttl"], allow_illustrative=True)
    assert isinstance(bad, AddPlan) and not bad.conforms
    dry = kg.add([INTAKE / "valid-policy.ttl"], allow_illustrative=True, dry_run=True)
    assert dry.conforms and not dry.target.exists()
    assert tree_digest(home / "data") == before

    with pytest.raises(InputError, match="illustrative"):
        kg.add([INTAKE / "valid-policy.ttl"])
    done = kg.add([INTAKE / "valid-policy.ttl"], allow_illustrative=True)
    assert done.target.is_file() and done.target.parent == home / "data" / "policies"
    assert set(tree_digest(home / "data")) - set(before) == {
        done.target.relative_to(home / "data").as_posix()
    }
    # the new policy is in the graph at once, and adding it again adds nothing
    assert set(done.policies) <= {r["policy"] for r in kg.query("payer-matrix").as_dicts()}
    assert kg.add([INTAKE / "valid-policy.ttl"], allow_illustrative=True).nothing_to_add


def test_workspace_adds_its_policies_and_is_where_add_writes(tmp_path, monkeypatch):
    from cptkg.workspace import init_workspace

    monkeypatch.delenv("CPTKG_HOME", raising=False)
    monkeypatch.chdir(tmp_path)  # no workspace here or above
    with pytest.raises(CptkgError, match="no workspace"):
        KnowledgeGraph().add([INTAKE / "valid-policy.ttl"], allow_illustrative=True)

    ws, _ = init_workspace(tmp_path / "ws")
    kg = KnowledgeGraph(workspace=ws.root)
    done = kg.add([INTAKE / "valid-policy.ttl"], allow_illustrative=True)
    assert done.target.parent == ws.root / "data" / "policies"
    # a new KnowledgeGraph on the same workspace reads the policy from the workspace; one
    # without it does not
    ids = {r["policy"] for r in KnowledgeGraph(workspace=ws.root).query("payer-matrix").as_dicts()}
    assert set(done.policies) <= ids
    ids = {r["policy"] for r in KnowledgeGraph().query("payer-matrix").as_dicts()}
    assert not set(done.policies) & ids


def test_add_is_refused_on_an_endpoint():
    remote = KnowledgeGraph.endpoint("http://127.0.0.1:9/sparql")
    with pytest.raises(InputError, match="endpoint"):
        remote.add([INTAKE / "valid-policy.ttl"])


@pytest.mark.server
def test_endpoint_gives_the_same_answers(kg, fresh_server, shipped_union):
    from cptkg.engines.remote import derive_layout
    from cptkg.engines.settings import DEFAULT_GRAPH_IRI
    from cptkg.push import push_graph

    push_graph(
        shipped_union,
        derive_layout(fresh_server.query_url),
        DEFAULT_GRAPH_IRI,
        method="gsp",
        use_env_credentials=False,
    )
    remote = KnowledgeGraph.endpoint(fresh_server.query_url)
    assert remote.engine.name != "rdflib"
    assert sorted(remote.query("payers").rows) == sorted(kg.query("payers").rows)
    assert remote.validate().conforms == kg.validate().conforms


def test_readme_documents_every_public_error():
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("## Python API") : readme.index("## Exit codes")]
    errors = [n for n in cptkg.__all__ if n.endswith("Error") or n == "FederationRefused"]
    assert len(errors) >= 10
    missing = [n for n in errors if f"`{n}`" not in section and f"`cptkg.{n}`" not in section]
    assert not missing, f"README's Python API section does not name {missing}"
