"""Spreadsheet intake (``cptkg import-csv``): the template, the illustrative example, and every
bad spreadsheet of issue 4, each with an error naming the row and column; nothing written."""

from __future__ import annotations

import csv

import pytest
from rdflib import Graph

from cptkg.intake.csv_intake import CsvError, column_names, header, import_csv
from cptkg.namespaces import CPTKG
from intake_helpers import INTAKE, ROOT, copy_project, tree_digest
from intake_helpers import run_cptkg as cli

TEMPLATES = ROOT / "data" / "templates"
EXAMPLE = TEMPLATES / "policy-example-illustrative.csv"

#: bad spreadsheet -> fragments of the exit-2 message (row and column)
BAD = {
    "csv-missing-column.csv": [
        "row 2: missing column(s): prior_authorization",
        "header must be exactly: " + header(),
    ],
    "csv-extra-column.csv": ["row 2: unknown column(s): reviewer", "header must be exactly"],
    "csv-bad-date.csv": ["row 3, column effective_date: '2025-13-45' is not a date"],
    "csv-blank-row.csv": ["row 4: blank row"],
    "csv-not-utf8.csv": ["row 3: not UTF-8: byte offset", "CSV UTF-8"],
    "csv-pa-blank.csv": ["row 3, column prior_authorization: blank, but an answer is required"],
}


def test_template_is_the_header_only():
    assert (TEMPLATES / "policy-template.csv").read_text(encoding="utf-8") == header() + "\n"


def test_example_is_clearly_illustrative_and_conforms():
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.startswith("# ILLUSTRATIVE EXAMPLE ONLY")
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    assert len(rows) == 3 and list(rows[0]) == column_names()
    assert all(r["policy_id"].startswith("example-") for r in rows)
    assert all(r["evidence_status"] == "illustrative" for r in rows)
    new, report = import_csv(EXAMPLE)
    assert report.conforms, report.to_text()
    assert len(report.policies) == 3
    g = new.graph
    assert all(
        (p, CPTKG.evidenceStatus, CPTKG["evidence-illustrative"]) in g for p in report.policies
    )


def test_loader_leaves_templates_out_of_the_graph(tmp_path, monkeypatch):
    from rdflib import URIRef

    from cptkg import paths
    from cptkg.load import load_union

    assert not any("templates" in p.parts for p in paths.data_files())
    home = copy_project(tmp_path / "p")
    (home / "data" / "templates" / "stray.ttl").write_text(
        "<https://example.org/s> <https://example.org/p> <https://example.org/o> .\n"
    )
    monkeypatch.setenv("CPTKG_HOME", str(home))
    assert not any("templates" in p.parts for p in paths.data_files())
    g = load_union()
    assert len(g) > 1000
    assert (None, None, URIRef("https://example.org/o")) not in g


def test_answers_accept_short_names_notations_and_labels():
    new, report = import_csv(INTAKE / "valid-policies.csv")
    assert report.conforms
    g = new.graph
    pol = next(p for p in report.policies if "aetna" in str(p))
    assert (pol, CPTKG.priorAuthorization, CPTKG["pa-required"]) in g
    assert (pol, CPTKG.allowedPlaceOfService, None) in g


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_spreadsheet_names_row_and_column_and_writes_nothing(tmp_path, name):
    out = tmp_path / "out.ttl"
    proc = cli("import-csv", str(INTAKE / name), "-o", str(out))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"tests/data/intake/{name}" in proc.stderr
    for fragment in BAD[name]:
        assert fragment in proc.stderr, proc.stderr
    assert not out.exists()


def test_bad_spreadsheet_api_lists_cells():
    with pytest.raises(CsvError) as info:
        import_csv(INTAKE / "csv-bad-date.csv")
    [err] = info.value.errors
    assert (err.row, err.column) == (3, "effective_date")


def test_shacl_problem_is_put_back_on_row_and_column(tmp_path):
    out = tmp_path / "out.ttl"
    proc = cli("import-csv", str(INTAKE / "csv-unknown-cpt.csv"), "-o", str(out))
    assert proc.returncode == 1, proc.stderr
    assert "rule:  shape:PayerPolicyShape-code" in proc.stdout
    assert "where: tests/data/intake/csv-unknown-cpt.csv row 3, column cpt_codes" in proc.stdout
    assert not out.exists()


def test_empty_csv(tmp_path):
    f = tmp_path / "empty.csv"
    f.write_bytes(b"")
    proc = cli("import-csv", str(f))
    assert proc.returncode == 2 and "empty.csv: empty file" in proc.stderr


def test_header_only_csv_has_no_rows():
    proc = cli("import-csv", str(TEMPLATES / "policy-template.csv"))
    assert proc.returncode == 2 and "row 1: no policy rows below the header" in proc.stderr


def test_import_then_add(tmp_path):
    home = copy_project(tmp_path / "p")
    out = tmp_path / "policies.ttl"
    proc = cli("import-csv", str(EXAMPLE), "-o", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(Graph().parse(out)) == 68
    before = tree_digest(ROOT / "data")
    # the example rows are illustrative: refused by default, accepted in this scratch copy
    refused = cli("add", str(out), env={"CPTKG_HOME": str(home)})
    assert refused.returncode == 2 and "marked illustrative" in refused.stderr
    proc = cli("add", str(out), "--allow-illustrative", env={"CPTKG_HOME": str(home)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 policy(ies)" in proc.stdout
    assert cli("validate", env={"CPTKG_HOME": str(home)}).returncode == 0
    assert tree_digest(ROOT / "data") == before
