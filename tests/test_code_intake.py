"""Code-aware validation wherever codes enter, on the command line: ``cptkg import-csv``,
``cptkg validate NEW.ttl`` (every engine alike) and ``cptkg add`` check each ICD-10-CM and
place-of-service code of new data against its release, and name where it is written.

The new data is built at test time from the ILLUSTRATIVE intake fixtures
(tests/data/intake/valid-policies.csv, valid-policy.ttl), changing only the codes; it is
illustrative data, never written to data/."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from intake_helpers import INTAKE, copy_project, run_cptkg, tree_digest

FY2026 = "ICD-10-CM FY2026 (April 1, 2026 update)"
POS_SET = "CMS Place of Service code set (version 20240502)"

#: case -> (supporting diagnoses, places of service, exit code, fragments of the report)
CASES: dict[str, tuple[list[str], list[str], int, list[str]]] = {
    "real-codes": (["G51.1", "S04.52XS", "H02.233", "G51.31"], ["21", "22"], 0, []),
    "G51.99": (
        ["G51.99"],
        ["21"],
        1,
        [
            f"ICD-10-CM code G51.99 is not in {FY2026}; closest codes: G51.9 (Disorder of "
            "facial nerve, unspecified), G51.8",
        ],
    ),
    "Z99.9": (["Z99.9"], ["21"], 1, [f"ICD-10-CM code Z99.9 is not in {FY2026}; closest codes: "]),
    "S04.5XXA": (
        ["S04.5XXA"],
        ["21"],
        1,
        [f"ICD-10-CM code S04.5XXA is not in {FY2026}; closest codes: "],
    ),
    "S04.5": (
        ["S04.5"],
        ["21"],
        1,
        [
            f"ICD-10-CM code S04.5 (Injury of facial nerve) is a category in {FY2026}, not a "
            "billable code: 9 billable codes lie under it (S04.50XA, S04.50XD, S04.50XS, "
            "S04.51XA, S04.51XD, ...)",
        ],
    ),
    "G51.3": (
        ["G51.3"],
        ["21"],
        1,
        [f"is a category in {FY2026}, not a billable code", "lie under it (G51.31, G51.32"],
    ),
    "POS-98": (
        ["G51.0"],
        ["21", "98"],
        1,
        [f"place-of-service code 98 is not in {POS_SET}; closest codes: 99"],
    ),
}
#: the code each failing case reports, and the column it is in
REPORTED = {
    "G51.99": ("G51.99", "supporting_diagnoses"),
    "Z99.9": ("Z99.9", "supporting_diagnoses"),
    "S04.5XXA": ("S04.5XXA", "supporting_diagnoses"),
    "S04.5": ("S04.5", "supporting_diagnoses"),
    "G51.3": ("G51.3", "supporting_diagnoses"),
    "POS-98": ("98", "allowed_places_of_service"),
}
RULES = {
    "G51.99": "codes:code-not-in-release",
    "Z99.9": "codes:code-not-in-release",
    "S04.5XXA": "codes:code-not-in-release",
    "S04.5": "codes:code-not-billable",
    "G51.3": "codes:code-not-billable",
    "POS-98": "codes:code-not-in-release",
}


def policy_csv(directory: Path, case: str) -> Path:
    """The first illustrative row of valid-policies.csv with the case's codes (row 3)."""
    diagnoses, places, _rc, _fragments = CASES[case]
    lines = (INTAKE / "valid-policies.csv").read_text(encoding="utf-8").splitlines()
    comment, head, row = lines[0], lines[1], lines[2]
    columns = head.split(",")
    cells = next(csv.reader([row]))
    cells[columns.index("supporting_diagnoses")] = " ".join(diagnoses)
    cells[columns.index("allowed_places_of_service")] = " ".join(places)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    path = directory / f"policy-{case}.csv"
    path.write_text(f"{comment}\n{head}\n{out.getvalue()}", encoding="utf-8")
    return path


def policy_ttl(directory: Path, case: str) -> Path:
    """valid-policy.ttl with the case's codes, one diagnosis per line."""
    diagnoses, places, _rc, _fragments = CASES[case]
    text = (INTAKE / "valid-policy.ttl").read_text(encoding="utf-8")
    listed = ",\n        ".join(f"kg:icd10cm-{c}" for c in diagnoses)
    text = text.replace(
        "cptkg:supportingDiagnosis kg:icd10cm-G51.0, kg:icd10cm-S04.51XS ;",
        f"cptkg:supportingDiagnosis {listed} ;",
    )
    text = text.replace(
        "cptkg:allowedPlaceOfService kg:pos-21, kg:pos-22 ;",
        "cptkg:allowedPlaceOfService " + ", ".join(f"kg:pos-{p}" for p in places) + " ;",
    )
    assert f"kg:icd10cm-{diagnoses[0]}" in text and f"kg:pos-{places[-1]}" in text
    path = directory / f"policy-{case}.ttl"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, code: str) -> int:
    """The line of ``path`` that writes the IRI of ``code``."""
    prefix = "pos-" if code.isdigit() else "icd10cm-"
    pattern = re.compile(rf"kg:{re.escape(prefix + code)}(?=[\s,;.]*$|[\s,;])")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if pattern.search(line):
            return number
    raise AssertionError(f"{code} not written in {path}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_import_csv_checks_each_code_against_its_release(tmp_path, case):
    _dx, _pos, rc, fragments = CASES[case]
    path = policy_csv(tmp_path, case)
    out = tmp_path / "out.ttl"
    proc = run_cptkg("import-csv", str(path), "-o", str(out))
    assert proc.returncode == rc, proc.stdout + proc.stderr
    if rc == 0:
        assert "Validation: conforms (0 violation(s)" in proc.stdout
        written = out.read_text(encoding="utf-8")
        assert "kg:icd10cm-G51.1" in written and "kg:icd10cm-G51.31" in written
        return
    assert not out.exists()
    assert "nothing written" in proc.stderr
    for fragment in fragments:
        assert fragment in proc.stdout, proc.stdout
    code, column = REPORTED[case]
    assert f"rule:  {RULES[case]}" in proc.stdout
    assert f"where: {path} row 3, column {column}" in proc.stdout or (
        f"where: {path.name} row 3, column {column}" in proc.stdout
    ), proc.stdout
    assert "Validation: does NOT conform (1 violation(s)" in proc.stdout, proc.stdout


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_new_ttl_finds_the_same_on_every_engine(tmp_path, case):
    _dx, _pos, rc, fragments = CASES[case]
    path = policy_ttl(tmp_path, case)
    docs = []
    for engine in ("rdflib", "oxigraph"):
        proc = run_cptkg("validate", str(path), "--engine", engine, "--format", "json")
        assert proc.returncode == rc, proc.stdout + proc.stderr
        docs.append(json.loads(proc.stdout))
    assert docs[0] == docs[1]
    [doc] = docs[:1]
    violations = [p for p in doc["problems"] if p["severity"] == "Violation"]
    if rc == 0:
        assert doc["conforms"] is True and violations == []
        return
    [problem] = violations
    for fragment in fragments:
        assert fragment in problem["message"], problem["message"]
    code, _column = REPORTED[case]
    assert problem["rule"] == RULES[case]
    assert problem["where"].endswith(f"{path.name}:{line_of(path, code)}"), problem["where"]
    assert problem["what_to_do"]
    # the text report says the same
    text = run_cptkg("validate", str(path))
    assert text.returncode == rc and fragments[0] in text.stdout


@pytest.mark.parametrize("case", sorted(CASES))
def test_add_refuses_codes_its_release_does_not_hold(tmp_path, case):
    _dx, _pos, rc, fragments = CASES[case]
    home = copy_project(tmp_path / "project")
    before = tree_digest(home / "data")
    path = policy_ttl(tmp_path, case)
    args = ["add", str(path), "--allow-illustrative"] + (["--dry-run"] if rc == 0 else [])
    proc = run_cptkg(*args, env={"CPTKG_HOME": str(home)})
    assert proc.returncode == rc, proc.stdout + proc.stderr
    assert tree_digest(home / "data") == before
    if rc == 0:
        assert f"Would write {home.resolve() / 'data' / 'policies'}/" in proc.stdout, proc.stdout
        return
    assert "nothing written: the new data does not conform" in proc.stderr
    for fragment in fragments:
        assert fragment in proc.stdout, proc.stdout


def test_a_whole_category_listed_on_purpose_conforms(tmp_path):
    """``G51.3-`` in the diagnoses column: the category as a whole, not a billable code."""
    path = policy_csv(tmp_path, "real-codes")
    text = path.read_text(encoding="utf-8").replace("G51.31", "G51.3-")
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out.ttl"
    proc = run_cptkg("import-csv", str(path), "-o", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    written = out.read_text(encoding="utf-8")
    assert "cptkg:supportingDiagnosisCategory kg:icd10cm-G51.3" in written
    # an invented category is not in the release
    path.write_text(text.replace("G51.3-", "G51.7-"), encoding="utf-8")
    proc = run_cptkg("import-csv", str(path))
    assert proc.returncode == 1
    assert f"ICD-10-CM code G51.7 is not in {FY2026}" in proc.stdout
    assert "property: cptkg:supportingDiagnosisCategory" in proc.stdout
    assert "row 3, column supporting_diagnoses" in proc.stdout


def test_codes_split_at_unquoted_commas_name_row_and_column(tmp_path):
    path = policy_csv(tmp_path, "real-codes")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("G51.1 S04.52XS H02.233 G51.31", "G51.1,G51.8")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run_cptkg("import-csv", str(path))
    assert proc.returncode == 2
    assert "row 3, column supporting_diagnoses: 26 cells, but the header has 25 columns" in (
        proc.stderr
    )
    assert "separate the codes by spaces (G51.1 G51.8)" in proc.stderr
    # quoted, the commas separate codes within the cell
    lines[2] = lines[2].replace("G51.1,G51.8", '"G51.1,G51.8"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run_cptkg("import-csv", str(path)).returncode == 0
