"""In-context validation of new data (cptkg.intake.validation, ``cptkg validate NEW``): each bad
input of issue 4 gives exactly the expected rule, names the file and line, and says what to do."""

from __future__ import annotations

import json
import time

import pytest
from rdflib import Graph

from cptkg.errors import InputError, ParseError
from cptkg.intake.context import GraphContext, shipped_context
from cptkg.intake.reading import read_new
from cptkg.intake.validation import build_validation_graph, validate_files
from intake_helpers import INTAKE, ROOT, tree_digest

#: invalid fixture -> (the one rule that must fire, a fragment of the value, a hint fragment)
SHACL_CASES = {
    "date-not-a-date.ttl": ("shape:PayerPolicyShape-effectiveDate", "2025-13-45", "YYYY-MM-DD"),
    "date-in-words.ttl": ("shape:PayerPolicyShape-endDate", "next year", "YYYY-MM-DD"),
    "end-before-effective.ttl": ("shape:PolicyDatesShape-order", "2025-01-01", "end date"),
    "unknown-payer.ttl": (
        "shape:PayerPolicyShape-payer",
        "kg:payer-acme",
        "known payers: kg:payer-aetna (Aetna)",
    ),
    "cpt-not-five-characters.ttl": (
        "shape:PayerPolicyShape-code",
        "kg:cpt-6486",
        "not a well-formed CPT code",
    ),
    "cpt-not-in-graph.ttl": (
        "shape:PayerPolicyShape-code",
        "kg:cpt-64999",
        "add it to data/procedure.ttl",
    ),
    "icd10cm-malformed.ttl": (
        "codes:code-not-in-release",
        "kg:icd10cm-G5.10",
        "closest codes: G50.0, G50.1",
    ),
    "unknown-place-of-service.ttl": (
        "codes:code-not-in-release",
        "kg:pos-98",
        "closest codes: 99",
    ),
    "unknown-modifier.ttl": (
        "shape:PayerPolicyShape-modifier",
        "kg:modifier-ZZ",
        "data/modifiers.ttl",
    ),
    "prior-authorization-unanswered.ttl": (
        "shape:PayerPolicyShape-priorAuthorization",
        None,
        "cptkg:pa-not-stated",
    ),
    "duplicate-identifier.ttl": (
        "shape:PolicyIdentifierUniqueShape",
        "aetna-cpb-0366",
        "own identifier",
    ),
}
#: invalid fixture -> fragments of the exit-2 error
ERROR_CASES = {
    "syntax-error.ttl": ["syntax-error.ttl:18: Turtle syntax error"],
    "not-rdf.ttl": ["not-rdf.ttl:2: Turtle syntax error"],
    "empty.ttl": ["empty.ttl: no triples found"],
}


@pytest.fixture(scope="module")
def ctx():
    return shipped_context()


def test_fixture_folder_is_complete_and_documented():
    files = sorted(INTAKE.glob("*.ttl"))
    assert len(files) >= len(SHACL_CASES) + len(ERROR_CASES) + 1
    for f in files:
        first = f.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(("# invalid:", "# valid")), f
    for name in [*SHACL_CASES, *ERROR_CASES]:
        assert (INTAKE / name).is_file(), name
        assert (INTAKE / name).read_text().startswith("# invalid:")
    for name, (rule, _v, _h) in SHACL_CASES.items():  # the comment names the rule
        assert rule in (INTAKE / name).read_text().splitlines()[0], name


def test_valid_policy_conforms_in_context(ctx):
    report = validate_files([INTAKE / "valid-policy.ttl"], ctx)
    assert report.conforms, report.to_text()
    assert report.problems == []
    assert [str(p) for p in report.policies] == [
        "https://w3id.org/cptkg/id/policy-example-cigna-64866"
    ]
    # the context slice is small: types of what the file mentions, not the whole graph
    assert 0 < report.context_triples < 50


def test_valid_policy_alone_would_not_conform():
    """Without the graph as context, the payer and codes are unknown: context matters."""
    empty = GraphContext(Graph())
    report = validate_files([INTAKE / "valid-policy.ttl"], empty)
    rules = {p.rule for p in report.problems}
    assert "shape:PayerPolicyShape-payer" in rules and "shape:PayerPolicyShape-code" in rules


@pytest.mark.parametrize("name", sorted(SHACL_CASES))
def test_each_bad_input_fires_exactly_its_rule(ctx, name):
    rule, value, hint = SHACL_CASES[name]
    report = validate_files([INTAKE / name], ctx)
    assert not report.conforms
    violations = [p for p in report.problems if p.severity == "Violation"]
    assert {p.rule for p in violations} == {rule}, report.to_text()
    p = violations[0]
    if value is not None:
        assert value in (p.value or "") or value in p.message
    assert hint in p.hint, p.hint
    # file and line of the policy (or the offending property)
    assert p.where and p.where.startswith(f"tests/data/intake/{name}:"), p.where
    line = int(p.where.rsplit(":", 1)[1])
    assert 9 <= line <= 30
    # grouped under the policy
    assert p.policy is not None
    text = report.to_text()
    assert 'Policy "' in text and "what to do:" in text and rule in text


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_unreadable_input_is_an_error_naming_file_and_line(ctx, name):
    with pytest.raises((InputError, ParseError)) as info:
        validate_files([INTAKE / name], ctx)
    for fragment in ERROR_CASES[name]:
        assert fragment in info.value.message


def test_existing_policy_with_changed_content_is_a_conflict(ctx, tmp_path):
    f = tmp_path / "changed.ttl"
    text = (ROOT / "data" / "policies" / "aetna.ttl").read_text(encoding="utf-8")
    f.write_text(text.replace("cptkg:pa-not-stated", "cptkg:pa-required", 1), encoding="utf-8")
    report = validate_files([f], ctx)
    rules = {p.rule for p in report.problems}
    assert rules == {"intake:ExistingPolicyChanged"}
    p = report.problems[0]
    assert "prior authorization: not stated in source → required" in p.message
    assert "data/policies/aetna.ttl" in p.message
    assert "--new-version" in p.hint


def test_unchanged_existing_policies_are_noted_not_errors(ctx):
    report = validate_files([ROOT / "data" / "policies" / "aetna.ttl"], ctx)
    assert report.conforms and len(report.unchanged) == 3


def test_context_slice_holds_only_what_the_new_data_needs(ctx):
    new = read_new([INTAKE / "valid-policy.ttl"])
    vg, changed, unchanged = build_validation_graph(new.graph, ctx)
    extra = vg - new.graph
    subjects = {str(s).rsplit("/", 1)[-1] for s in extra.subjects()}
    assert "payer-cigna" in subjects and "cpt-64866" in subjects
    assert "payer-aetna" not in subjects and "procedure-64866" not in subjects
    assert not changed and not unchanged


def test_context_provider_seam_accepts_any_store(ctx):
    """A minimal provider (here backed by the shipped graph) is all intake needs."""

    class Minimal:
        def __init__(self, g):
            self.g = g
            self.calls = 0

        def types_of(self, iris):
            self.calls += 1
            return ctx.types_of(iris)

        def describe(self, iris):
            return ctx.describe(iris)

        def policies_with_identifier(self, ids):
            return ctx.policies_with_identifier(ids)

        def instances_of(self, cls, limit=50):
            return ctx.instances_of(cls, limit)

    m = Minimal(ctx.graph)
    assert validate_files([INTAKE / "valid-policy.ttl"], m).conforms
    assert validate_files([INTAKE / "unknown-payer.ttl"], m).conforms is False
    assert m.calls >= 2


@pytest.mark.parametrize("fmt,ext", [("json-ld", ".jsonld"), ("nt", ".nt"), ("trig", ".trig")])
def test_other_rdf_formats(run_cli, tmp_path, fmt, ext):
    g = Graph().parse(INTAKE / "valid-policy.ttl")
    f = tmp_path / f"policy{ext}"
    f.write_text(g.serialize(format=fmt), encoding="utf-8")
    proc = run_cli("validate", str(f))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("Validation: conforms")
    bad = tmp_path / f"bad{ext}"
    g2 = Graph().parse(INTAKE / "unknown-payer.ttl")
    bad.write_text(g2.serialize(format=fmt), encoding="utf-8")
    proc = run_cli("validate", str(bad))
    assert proc.returncode == 1 and "shape:PayerPolicyShape-payer" in proc.stdout


# ------------------------------------------------------------------ the real command


def test_cli_validate_new_file_reports_only_new_problems(run_cli):
    proc = run_cli("validate", str(INTAKE / "unknown-payer.ttl"))
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    assert 'Policy "example-cigna-64866" kg:policy-example-cigna-64866' in out
    assert "rule:  shape:PayerPolicyShape-payer" in out and "value: kg:payer-acme" in out
    assert "where: tests/data/intake/unknown-payer.ttl:12" in out
    assert "add the payer to data/payers.ttl first, or fix the IRI; known payers:" in out
    assert "(1 violation(s)" in out  # nothing from the rest of the graph


def test_cli_validate_json_has_hints_and_groups(run_cli):
    proc = run_cli("validate", str(INTAKE / "unknown-modifier.ttl"), "--format", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["mode"] == "in-context" and doc["conforms"] is False
    [group] = doc["policies"]
    assert group["policy"] == "kg:policy-example-cigna-64866"
    [prob] = group["problems"]
    assert prob["rule"] == "shape:PayerPolicyShape-modifier" and prob["value"] == "kg:modifier-ZZ"
    assert "data/modifiers.ttl" in prob["what_to_do"]


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_cli_unreadable_input_exits_2(run_cli, name):
    proc = run_cli("validate", str(INTAKE / name))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in ERROR_CASES[name]:
        assert fragment in proc.stderr


def test_cli_zero_byte_file(run_cli, tmp_path):
    f = tmp_path / "zero.ttl"
    f.write_bytes(b"")
    proc = run_cli("validate", str(f))
    assert proc.returncode == 2 and "zero.ttl: no triples found" in proc.stderr


def test_cli_binary_file_is_not_rdf(run_cli, tmp_path):
    f = tmp_path / "scan.ttl"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    proc = run_cli("validate", str(f))
    assert proc.returncode == 2 and "scan.ttl:" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_very_large_file_is_refused_promptly(run_cli, tmp_path):
    f = tmp_path / "huge.ttl"
    line = b'<https://example.org/s> <https://example.org/p> "' + b"x" * 200 + b'" .\n'
    with f.open("wb") as fh:
        for _ in range(30 * 1024 * 1024 // len(line) + 1):
            fh.write(line)
    assert f.stat().st_size > 30 * 1024 * 1024
    start = time.monotonic()
    proc = run_cli("validate", str(f))
    assert time.monotonic() - start < 30
    assert proc.returncode == 2
    assert "huge.ttl: file is 30.0 MiB, larger than the 20.0 MiB intake limit" in proc.stderr
    assert "--max-bytes" in proc.stderr


def test_cli_no_context_keeps_standalone_behaviour(run_cli):
    proc = run_cli("validate", "--no-context", str(INTAKE / "valid-policy.ttl"))
    assert proc.returncode == 1  # payer and codes are not in the file itself


def test_shipped_files_still_validate_as_before(run_cli):
    proc = run_cli("validate", "data/policies/aetna.ttl", "--format", "json")
    assert "mode" not in json.loads(proc.stdout)


def test_real_data_dir_untouched():
    """Intake tests never write to the project's data/ (digest before/after the module)."""
    assert not (ROOT / "data" / "policies" / "cigna-example-cigna-64866-2025-01-01.ttl").exists()
    assert not any(p.name.startswith(".") for p in (ROOT / "data").rglob("*") if p.is_file())
    assert tree_digest(ROOT / "data")  # readable


def test_mixing_shipped_and_new_paths_keeps_merged_validation(run_cli):
    proc = run_cli("validate", "data/", str(INTAKE / "valid-policy.ttl"), "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr  # the merged mode's own verdict
    assert "mode" not in json.loads(proc.stdout)
