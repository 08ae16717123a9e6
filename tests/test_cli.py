"""The real ``cptkg`` command (subprocess): exit codes 0 / 1 / 2, messages, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Breaks shape:ProcedureShape-label (sh:minCount 1 on rdfs:label) in ontology/shapes/.
NONCONFORMING_PROCEDURE = """\
# must break: shape:ProcedureShape-label (a cptkg:Procedure without rdfs:label)
@prefix cptkg: <https://w3id.org/cptkg/ontology#> .
@prefix kg:    <https://w3id.org/cptkg/id/> .
kg:test-procedure-without-label a cptkg:Procedure ;
    cptkg:billingCode kg:cpt-64866 .
"""


def assert_clean_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("cptkg: error:") or "error:" in proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, proc.stderr


# ------------------------------------------------------------------ exit 0


def test_validate_shipped_graph_conforms(run_cli):
    proc = run_cli("validate")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("Validation: conforms")


def test_validate_json_format(run_cli):
    proc = run_cli("validate", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["conforms"] is True


def test_help_lists_commands_and_does_not_import_pyshacl(project_root):
    code = (
        "import sys, contextlib, io\n"
        "from cptkg.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out: rc = main(['--help'])\n"
        "print(rc, 'pyshacl' in sys.modules, 'validate' in out.getvalue())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=project_root
    )
    assert proc.stdout.split() == ["0", "False", "True"], proc.stderr


def test_stats(run_cli):
    proc = run_cli("stats", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    graphs = {g["graph"] for g in doc["graphs"]}
    assert "https://w3id.org/cptkg/graph/ontology/cptkg" in graphs
    assert doc["total_triples"] == sum(g["triples"] for g in doc["graphs"]) > 0
    text = run_cli("stats").stdout
    assert "ontology/cptkg" in text and "cptkg:Procedure" in text


# ------------------------------------------------------------------ exit 1


def test_validate_nonconforming_file_against_shipped_shapes(run_cli, tmp_path):
    f = tmp_path / "bad-procedure.ttl"
    f.write_text(NONCONFORMING_PROCEDURE, encoding="utf-8")
    proc = run_cli("validate", str(f), "--format", "json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    # validated without the shipped data as context, other procedure shapes fire too
    # (e.g. the billing code is not in the file); the label shape must be among them
    fired = {
        (r["focus_node"], r["source_shape"]) for r in doc["results"] if r["severity"] == "Violation"
    }
    assert (
        "<https://w3id.org/cptkg/id/test-procedure-without-label>",
        "<https://w3id.org/cptkg/shapes#ProcedureShape-label>",
    ) in fired
    assert doc["counts"]["Violation"] == len(fired) >= 1


def test_validate_nonconforming_with_own_shapes_text(run_cli, tmp_path, tiny_graphs):
    shapes = tmp_path / "shapes.ttl"
    shapes.write_bytes(tiny_graphs[1].serialize(format="turtle", encoding="utf-8"))
    f = tmp_path / "policy.ttl"
    f.write_text("@prefix ex: <http://example.org/> .\nex:p a ex:Policy .\n", encoding="utf-8")
    proc = run_cli("validate", str(f), "--shapes", str(shapes))
    assert proc.returncode == 1, proc.stderr
    assert "does NOT conform (1 violation(s)" in proc.stdout
    assert "A policy needs an effective date" in proc.stdout


# ------------------------------------------------------------------ exit 2


def test_missing_path(run_cli, tmp_path):
    missing = tmp_path / "no-such-policy.ttl"
    assert_clean_error(
        run_cli("validate", str(missing)), "no-such-policy.ttl", "no such file or directory"
    )


def test_turtle_syntax_error_shows_file_and_line(run_cli, tmp_path):
    f = tmp_path / "broken.ttl"
    f.write_text(
        "@prefix ex: <http://example.org/> .\n\nex:a ex:b ex:c ;\n    ex:d .\n", encoding="utf-8"
    )
    proc = run_cli("validate", str(f), cwd=tmp_path)
    assert_clean_error(proc, "broken.ttl:4: Turtle syntax error", "hint:")


def test_unknown_export_format(run_cli):
    assert_clean_error(
        run_cli("export", "--format", "rdfxml"), "unknown export format", "ttl", "jsonld", "trig"
    )


def test_unknown_validate_format_is_usage_error(run_cli):
    assert_clean_error(run_cli("validate", "--format", "xml"), "invalid choice")


def test_unknown_file_extension(run_cli, tmp_path):
    f = tmp_path / "policy.docx"
    f.write_text("x")
    assert_clean_error(run_cli("validate", str(f)), "unknown RDF file format")


def test_no_command_prints_usage(run_cli):
    proc = run_cli()
    assert proc.returncode == 2
    assert "usage: cptkg" in proc.stderr


def test_outside_project_without_cptkg_home(tmp_path):
    """Run from a copy-less location: the editable install still finds the project."""
    proc = subprocess.run(
        [sys.executable, "-m", "cptkg", "--version"], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0


@pytest.mark.parametrize("command", ["validate", "export", "stats"])
def test_bad_cptkg_home_is_clean_error(run_cli, tmp_path, command):
    proc = run_cli(command, env={"CPTKG_HOME": str(tmp_path)})
    assert_clean_error(proc, "CPTKG_HOME")


# ------------------------------------------------------------------ in process


def test_main_runs_the_command_with_fewer_collections_and_restores_them(monkeypatch):
    import gc

    import cptkg.commands.queries as queries_command
    from cptkg.cli import main
    from cptkg.gc_tuning import BULK_THRESHOLD

    seen: list[tuple[int, ...]] = []

    def run(args: object) -> int:
        seen.append(gc.get_threshold())
        raise RuntimeError("inside the command")

    monkeypatch.setattr(queries_command, "run", run)
    monkeypatch.setenv("CPTKG_DEBUG", "1")
    before = gc.get_threshold()
    with pytest.raises(RuntimeError, match="inside the command"):
        main(["queries"])
    assert seen == [(max(BULK_THRESHOLD, before[0]), *before[1:])]
    assert gc.get_threshold() == before
    # what the command left alive went to the oldest generation: no young pass is due
    assert gc.get_count()[0] < before[0]
