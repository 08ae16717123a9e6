"""``cptkg diff``: two policy versions compared field by field, in words an analyst reads."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from cptkg.intake.context import shipped_context
from cptkg.intake.diff import describe_changes
from cptkg.namespaces import CPTKG, KG
from intake_helpers import INTAKE
from intake_helpers import run_cptkg as cli


def test_changes_are_sentences_with_labels():
    ctx = shipped_context()
    pol = URIRef(KG["policy-aetna-cpb-0745"])
    old = Graph()
    for t in ctx.describe([pol]):
        old.add(t)
    old.add((pol, CPTKG.supportingDiagnosis, KG["icd10cm-G51.0"]))  # an illustrative old version
    new = Graph()
    new += old
    new.set((pol, CPTKG.priorAuthorization, CPTKG["pa-required"]))
    new.add((pol, CPTKG.effectiveDate, Literal("2025-01-01", datatype=XSD.date)))
    new.remove((pol, CPTKG.effectiveDateStatus, None))
    new.add((pol, CPTKG.supportingDiagnosis, KG["icd10cm-G51.8"]))
    new.remove((pol, CPTKG.supportingDiagnosis, KG["icd10cm-G51.0"]))
    changes = describe_changes(old, pol, new, pol, ctx.graph)
    assert changes == [
        "effective date: (none) → 2025-01-01",
        "effective date status: not stated in source → (none)",
        "prior authorization: not stated in source → required",
        "supporting diagnoses: + G51.8 (Other disorders of facial nerve), − G51.0 (Bell's palsy)",
    ]
    assert describe_changes(old, pol, old, pol, ctx.graph) == []


def test_diff_two_files():
    proc = cli("diff", str(INTAKE / "valid-policy.ttl"), str(INTAKE / "revised-policy.ttl"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == (
        "example-cigna-64866 (tests/data/intake/valid-policy.ttl) → "
        "example-cigna-64866 (tests/data/intake/revised-policy.ttl)"
    )
    assert "  effective date: 2025-01-01 → 2026-01-01" in lines
    assert "  prior authorization: required → not required" in lines
    assert "  supporting diagnoses: − G51.0 (Bell's palsy)" in lines


def test_diff_two_policies_of_the_graph():
    proc = cli("diff", "aetna-cpb-0366", "kg:policy-aetna-cpb-0745")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("aetna-cpb-0366 (graph) → aetna-cpb-0745 (graph)")
    assert "  policy document: Aetna Clinical Policy Bulletin 0366" in out
    assert (
        "  evidence status: read in a public copy of the payer's document → read in a "
        "third-party copy; not confirmed against the payer's current document"
    ) in out


def test_diff_identical_and_unknown():
    same = cli("diff", str(INTAKE / "valid-policy.ttl"), str(INTAKE / "valid-policy.ttl"))
    assert same.returncode == 0 and "no differences" in same.stdout
    bad = cli("diff", "no-such-policy", "aetna-cpb-0366")
    assert bad.returncode == 2
    assert "no-such-policy: neither a file nor a policy of the graph" in bad.stderr
    assert "aetna-cpb-0366" in bad.stderr  # lists the known identifiers
