"""The Da Vinci CRD export (``cptkg crd``): FHIR JSON that fhir.resources (R4B models) parses,
one coverage-information per policy in force, the documented mapping of the graph's answers
(including "not stated in source"), each invariant of the extension, deterministic output, and
exit 2 with a hint for an unknown payer or code."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from functools import cache
from pathlib import Path

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from rdflib import Literal
from rdflib.namespace import XSD

from cptkg.crd import invariants
from cptkg.crd.answers import NoPolicy, UnknownCode, UnknownPayer, find_code, find_payer
from cptkg.crd.build import InvalidOutput, service_request
from cptkg.crd.coverage_information import assertion_id, stable_id
from cptkg.crd.export import crd_export, to_json
from cptkg.crd.mapping import answers, mapping_table
from cptkg.crd.spec import CODE_SYSTEM, EXTENSION_URL, PARTS, VALUE_SETS
from cptkg.engines import open_graph
from cptkg.engines.settings import GraphSettings
from cptkg.query import run_stored

ROOT = Path(__file__).resolve().parent.parent
CRD_REFERENCE = ROOT.parent / "shared" / "reference" / "davinci-crd"
REVISED = ROOT / "tests" / "data" / "valid" / "payer-policy-revised-version.ttl"
DOCS = ROOT / "docs" / "crd.md"
DAY = dt.date(2026, 1, 15)
PAYERS = ("Aetna", "Blue Cross Blue Shield", "Cigna Health", "UnitedHealthcare", "Medicare")


@cache
def shipped():
    return open_graph()


@cache
def with_revised():
    """The shipped data plus an illustrative Aetna policy in two dated versions."""
    return open_graph(GraphSettings(paths=(ROOT / "data", REVISED)))


def export(payer: str = "Aetna", *, engine=None, as_of: dt.date = DAY, **kw):
    return crd_export(engine or shipped(), "64866", payer, as_of=as_of, assertion_date=DAY, **kw)


def extensions(result) -> list[dict]:
    return result.service_request["extension"]


def parts(ext: dict, url: str) -> list:
    return invariants.part_values(ext, url)


def by_id(result, ident: str) -> dict:
    return next(e for e in extensions(result) if e["id"] == ident)


@cache
def all_exports():
    """Exports of every shipped payer and of both dated versions of the illustrative policy."""
    out = [export(p) for p in PAYERS]
    out += [export("Aetna", engine=with_revised(), as_of=dt.date(y, 6, 1)) for y in (2024, 2025)]
    return out


# --------------------------------------------------------------------------- must show


def test_aetna_one_coverage_information_per_policy_in_force():
    result = export("Aetna")
    in_force = run_stored(
        shipped(), "policies-as-of", {"asOf": Literal(DAY.isoformat(), datatype=XSD.date)}
    )
    aetna = sorted(str(r["policy"]) for r in in_force.as_dicts() if str(r["payerName"]) == "Aetna")
    assert len(aetna) == 3
    assert [e["id"] for e in extensions(result)] == sorted(stable_id(p) for p in aetna)
    assert all(e["url"] == EXTENSION_URL for e in extensions(result))
    assert sorted(p.iri for p in result.policies) == aetna


def test_output_parses_with_fhir_resources_r4b():
    for result in all_exports():
        model = ServiceRequest.model_validate(result.service_request)
        assert json.loads(model.model_dump_json(exclude_none=True)) == result.service_request
        action = result.response["systemActions"][0]
        assert action["type"] == "update"
        assert ServiceRequest.model_validate(action["resource"]).id == model.id


def test_silent_source_gives_the_not_stated_mapping():
    result = export("Cigna")
    (ext,) = extensions(result)
    assert parts(ext, "covered") == ["indeterminate"]
    assert parts(ext, "pa-needed") == ["indeterminate"]
    assert parts(ext, "doc-needed") == ["indeterminate"]
    assert parts(ext, "info-needed") == []
    reasons = parts(ext, "reason")
    assert [r["coding"][0]["code"] for r in reasons] == [
        "coverage-not-stated",
        "pa-not-stated",
        "doc-not-stated",
    ]
    for reason in reasons:
        assert reason["coding"][0]["system"] == "https://w3id.org/cptkg/ontology#policy-answers"
        assert "not stated in source" in reason["text"]


def test_conditional_coverage_carries_the_policy_criteria():
    ext = by_id(export("Aetna"), "policy-aetna-cpb-0366")
    assert parts(ext, "covered") == ["conditional"]
    assert parts(ext, "info-needed") == ["OTH"]
    (criteria,) = [r for r in parts(ext, "reason") if r["coding"][0]["code"] == "conditional"]
    assert "EMG/ENoG shows no reasonable likelihood of spontaneous recovery" in criteria["text"]


def test_billing_code_date_and_assertion_id():
    result = export("Aetna")
    for policy in result.policies:
        ext = by_id(result, stable_id(policy.iri))
        assert parts(ext, "billingCode") == [
            {"system": "http://www.ama-assn.org/go/cpt", "code": "64866"}
        ]
        assert parts(ext, "date") == [DAY.isoformat()]
        assert parts(ext, "coverage-assertion-id") == [f"{policy.iri}|{policy.version}"]
    assert assertion_id(result.policies[0]).startswith("https://w3id.org/cptkg/id/policy-aetna")


def test_dated_versions_follow_the_date():
    v2024 = export("Aetna", engine=with_revised(), as_of=dt.date(2024, 6, 1))
    v2025 = export("Aetna", engine=with_revised(), as_of=dt.date(2025, 6, 1))
    ids_2024 = {e["id"] for e in extensions(v2024)}
    ids_2025 = {e["id"] for e in extensions(v2025)}
    assert "policy-val-aetna-64866-2024" in ids_2024 - ids_2025
    assert "policy-val-aetna-64866-2025" in ids_2025 - ids_2024
    old = by_id(v2024, "policy-val-aetna-64866-2024")
    assert parts(old, "pa-needed") == ["auth-needed"]
    assert parts(old, "doc-needed") == ["clinical"]
    assert parts(old, "expiry-date") == ["2024-12-31"]
    assert parts(old, "coverage-assertion-id") == [
        "https://w3id.org/cptkg/id/policy-val-aetna-64866-2024|2024.1"
    ]
    new = by_id(v2025, "policy-val-aetna-64866-2025")
    assert parts(new, "info-needed") == ["OTH", "location"]
    (site,) = [r for r in parts(new, "reason") if r["coding"][0]["code"] == "site-restricted"]
    assert "Inpatient Hospital" in site["text"]


def test_not_covered_leaves_out_pa_needed(tmp_path):
    text = REVISED.read_text("utf-8").replace(
        "cptkg:coverage cptkg:coverage-conditional", "cptkg:coverage cptkg:coverage-not-covered"
    )
    fixture = tmp_path / "not-covered.ttl"
    fixture.write_text(text, "utf-8")
    engine = open_graph(GraphSettings(paths=(ROOT / "data", fixture)))
    result = export("Aetna", engine=engine, as_of=dt.date(2024, 6, 1))
    ext = by_id(result, "policy-val-aetna-64866-2024")
    assert parts(ext, "covered") == ["not-covered"]
    assert parts(ext, "pa-needed") == []
    card = next(c for c in result.response["cards"] if "2024 version" in c["summary"])
    assert card["indicator"] == "warning"


def test_missing_coverage_answer_and_documentation_text(tmp_path):
    text = REVISED.read_text("utf-8").replace("cptkg:coverage cptkg:coverage-conditional ;", "")
    text = text.replace(
        "cptkg:documentationRequired cptkg:doc-clinical ;",
        "cptkg:documentationRequired cptkg:doc-clinical ; "
        'cptkg:documentationText "EMG report."@en ;',
    )
    fixture = tmp_path / "no-coverage-answer.ttl"
    fixture.write_text(text, "utf-8")
    engine = open_graph(GraphSettings(paths=(ROOT / "data", fixture)))
    ext = by_id(
        export("Aetna", engine=engine, as_of=dt.date(2024, 6, 1)), "policy-val-aetna-64866-2024"
    )
    assert parts(ext, "covered") == ["indeterminate"]
    assert parts(ext, "info-needed") == []
    texts = [r["text"] for r in parts(ext, "reason")]
    assert texts[0] == (
        "coverage: the graph records no answer for Illustrative Aetna policy on CPT 64866, "
        "2024 version."
    )
    assert "documentation required: clinical documentation. EMG report." in texts


def test_cards_one_per_policy_within_limits():
    result = export("Aetna")
    cards = result.response["cards"]
    assert len(cards) == len(result.policies) == 3
    for card in cards:
        assert len(card["summary"]) <= 140
        assert card["indicator"] in ("info", "warning", "critical")
        assert card["source"]["label"]
        assert re.fullmatch(r"[0-9a-f-]{36}", card["uuid"])
    assert len({c["uuid"] for c in cards}) == 3
    assert "effective date not stated in source" in cards[0]["detail"]


def test_deterministic_output():
    first, second = export("Aetna"), export("Aetna")
    assert to_json(first.response) == to_json(second.response)
    text = to_json(first.response)
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    ids = [e["id"] for e in extensions(first)]
    assert ids == sorted(ids)
    order = {p: i for i, p in enumerate(PARTS)}
    for ext in extensions(first):
        urls = [order[p["url"]] for p in ext["extension"]]
        assert urls == sorted(urls)


def test_same_output_on_oxigraph():
    oxigraph = open_graph(GraphSettings(engine="oxigraph", progress=False))
    for payer in ("Aetna", "Cigna"):
        assert to_json(export(payer, engine=oxigraph).response) == to_json(export(payer).response)


def test_coverage_and_patient_references():
    result = export(
        "Aetna", coverage={"reference": "Coverage/9"}, patient={"reference": "Patient/7"}
    )
    assert result.service_request["subject"] == {"reference": "Patient/7"}
    assert all(parts(e, "coverage") == [{"reference": "Coverage/9"}] for e in extensions(result))


# --------------------------------------------------------------------------- errors


def test_unknown_payer_lists_the_payers():
    with pytest.raises(UnknownPayer) as err:
        find_payer(shipped(), "Acme Health")
    assert "Aetna" in (err.value.hint or "")


def test_payer_by_iri_and_any_case():
    assert find_payer(shipped(), "kg:payer-aetna").name == "Aetna"
    assert find_payer(shipped(), "UNITEDHEALTHCARE").iri.endswith("payer-uhc")


def test_unknown_code_lists_the_codes():
    with pytest.raises(UnknownCode) as err:
        find_code(shipped(), "99999")
    assert "64866" in (err.value.hint or "")


def test_code_without_policy_is_an_error():
    with pytest.raises(NoPolicy):
        crd_export(shipped(), "64868", "Aetna", as_of=DAY, assertion_date=DAY)


def test_invalid_extension_is_refused_before_output():
    ext = copy.deepcopy(extensions(export("Cigna"))[0])
    ext["extension"] = [p for p in ext["extension"] if p["url"] != "reason"]
    code = find_code(shipped(), "64866")
    payer = find_payer(shipped(), "Cigna")
    with pytest.raises(InvalidOutput, match="crd-ci-q9"):
        service_request(code, payer, [ext])


# --------------------------------------------------------------------------- invariants
# Each invariant: it holds on every exported extension, and a violating extension is caught.


def ci(*items: tuple[str, object]) -> dict:
    """A coverage-information extension with the required parts plus ``items``."""
    base = [
        ("coverage", {"display": "c"}),
        ("date", "2026-01-15"),
        ("coverage-assertion-id", "x"),
    ]
    keys = {
        "coverage": "valueReference",
        "reason": "valueCodeableConcept",
        "billingCode": "valueCoding",
        "date": "valueDate",
        "expiry-date": "valueDate",
        "coverage-assertion-id": "valueString",
        "satisfied-pa-id": "valueString",
        "questionnaire": "valueCanonical",
    }
    return {
        "url": EXTENSION_URL,
        "extension": [{"url": u, keys.get(u, "valueCode"): v} for u, v in [*base, *items]],
    }


REASON = ("reason", {"text": "why"})


def holds_on_exports(name: str) -> None:
    check = invariants.INVARIANTS[name]
    for result in all_exports():
        for ext in extensions(result):
            assert check(ext), (name, ext["id"])


def test_crd_ci_q1_questionnaire_only_with_doc_needed():
    holds_on_exports("crd-ci-q1")
    assert not invariants.q1(ci(("covered", "covered"), ("questionnaire", "http://q")))
    assert invariants.q1(
        ci(("covered", "covered"), ("doc-needed", "clinical"), ("questionnaire", "http://q"))
    )


def test_crd_ci_q2_not_covered_has_no_pa_needed():
    holds_on_exports("crd-ci-q2")
    assert not invariants.q2(ci(("covered", "not-covered"), ("pa-needed", "auth-needed")))
    assert invariants.q2(ci(("covered", "covered"), ("pa-needed", "auth-needed")))


def test_crd_ci_q3_info_needed_iff_conditional():
    holds_on_exports("crd-ci-q3")
    assert not invariants.q3(ci(("covered", "conditional"), REASON))
    assert not invariants.q3(ci(("covered", "covered"), ("info-needed", "location")))
    assert invariants.q3(
        ci(("covered", "covered"), ("pa-needed", "conditional"), ("info-needed", "OTH"), REASON)
    )


def test_crd_ci_q4_no_withpa_when_pa_not_needed():
    holds_on_exports("crd-ci-q4")
    for pa in ("satisfied", "no-auth", "noauth"):
        assert not invariants.q4(
            ci(("covered", "covered"), ("pa-needed", pa), ("doc-purpose", "withpa"), REASON)
        )
    assert invariants.q4(
        ci(("covered", "covered"), ("pa-needed", "auth-needed"), ("doc-purpose", "withpa"), REASON)
    )


def test_crd_ci_q5_satisfied_pa_id_iff_satisfied():
    holds_on_exports("crd-ci-q5")
    assert not invariants.q5(ci(("covered", "covered"), ("pa-needed", "satisfied")))
    assert not invariants.q5(ci(("covered", "covered"), ("satisfied-pa-id", "PA1")))
    assert invariants.q5(
        ci(("covered", "covered"), ("pa-needed", "satisfied"), ("satisfied-pa-id", "PA1"))
    )


def test_crd_ci_q6_info_needed_oth_has_reason():
    holds_on_exports("crd-ci-q6")
    assert not invariants.q6(ci(("covered", "conditional"), ("info-needed", "OTH")))
    assert invariants.q6(ci(("covered", "conditional"), ("info-needed", "OTH"), REASON))


def test_crd_ci_q7_reason_outside_value_set_has_text():
    holds_on_exports("crd-ci-q7")
    own = {"coding": [{"system": "https://w3id.org/cptkg/ontology#policy-answers", "code": "x"}]}
    assert not invariants.q7(ci(("covered", "covered"), ("reason", own)))
    assert invariants.q7(ci(("covered", "covered"), ("reason", {**own, "text": "why"})))
    gold_card = {"coding": [{"code": "gold-card"}]}
    assert invariants.q7(ci(("covered", "covered"), ("reason", gold_card)))


def test_crd_ci_q8_doc_purpose_has_reason():
    holds_on_exports("crd-ci-q8")
    assert not invariants.q8(
        ci(("covered", "covered"), ("doc-needed", "clinical"), ("doc-purpose", "withclaim"))
    )
    assert invariants.q8(
        ci(("covered", "covered"), ("doc-needed", "clinical"), ("doc-purpose", "withclaim"), REASON)
    )


def test_crd_ci_q9_indeterminate_has_reason():
    holds_on_exports("crd-ci-q9")
    for part in ("covered", "pa-needed", "doc-needed"):
        items = [("covered", "covered"), (part, "indeterminate")]
        if part == "covered":
            items = [("covered", "indeterminate")]
        assert not invariants.q9(ci(*items))
        assert invariants.q9(ci(*items, REASON))


def test_structure_cardinalities_and_bindings():
    for result in all_exports():
        for ext in extensions(result):
            assert invariants.structure_errors(ext) == [], ext["id"]
    broken = ci(("covered", "maybe"), ("covered", "covered"), ("colour", "red"))
    broken["extension"] = [p for p in broken["extension"] if p["url"] != "date"]
    errors = invariants.structure_errors(broken)
    assert "unknown part 'colour'" in errors
    assert "missing part 'date'" in errors
    assert "part 'covered' more than once" in errors
    assert "covered 'maybe' not in its value set" in errors


# --------------------------------------------------------------------------- mapping


def documented_mapping() -> list[tuple[str, str, str, str]]:
    """The mapping table of docs/crd.md: (part, cptkg answer, CRD code, relation) rows."""
    rows = []
    for line in DOCS.read_text("utf-8").splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] in ("covered", "pa-needed", "doc-needed", "info-needed"):
            rows.append((cells[0], cells[1], cells[3], cells[4]))
    return rows


def test_mapping_table_is_documented():
    table = [
        (r.part, r.answer, r.code or "(left out)", r.relation or "-")
        for r in mapping_table(answers(shipped()))
    ]
    assert table and table == documented_mapping()


def test_every_not_stated_answer_maps_to_indeterminate_with_reason():
    rows = [r for r in mapping_table(answers(shipped())) if r.part != "info-needed"]
    not_stated = [r for r in rows if r.answer.endswith("not-stated")]
    assert len(not_stated) == 3
    assert all(r.code == "indeterminate" and r.not_stated for r in not_stated)
    assert not any(r.not_stated for r in rows if r not in not_stated)


def test_ontology_notes_say_how_special_answers_are_exported():
    from rdflib import SKOS

    onto = open_graph(GraphSettings(paths=(ROOT / "ontology" / "cptkg.ttl",)))
    found = answers(onto)
    for row in mapping_table(found):
        if row.code in ("indeterminate", "conditional", "location", None):
            iri = next(a.iri for a in found.values() if a.notation == row.answer)
            result = onto.query(f"SELECT ?n WHERE {{ <{iri}> <{SKOS.editorialNote}> ?n }}")
            notes = [str(n) for (n,) in result.rows if str(n).startswith("CRD export:")]
            assert len(notes) == 1, (row.answer, notes)
            assert row.code is None or row.code in notes[0], (row.answer, notes[0])


# --------------------------------------------------------------------------- reference


def _reference(name: str) -> str:
    path = CRD_REFERENCE / name
    if not path.is_file():
        pytest.skip(f"{path} not found: the shared reference folder is expected beside the repo")
    return path.read_text("utf-8")


def test_spec_matches_the_reference_fsh():
    fsh = _reference("CoverageInformation.fsh")
    assert "Id: ext-coverage-information" in fsh
    assert EXTENSION_URL.endswith("/StructureDefinition/ext-coverage-information")
    block = fsh.split("* extension contains", 1)[1].split("* extension[coverage]", 1)[0]
    assert tuple(re.findall(r"([\w-]+) \d\.\.[\d*]", block)) == PARTS
    assert sorted(re.findall(r"^Invariant: (crd-ci-q\d)", fsh, re.M)) == sorted(
        invariants.INVARIANTS
    )
    valuesets = _reference("CoverageInformationValuesets.fsh")
    ids = {
        "covered": "coverageInfo",
        "pa-needed": "coveragePaDetail",
        "doc-needed": "AdditionalDocumentation",
        "doc-purpose": "DocReason",
        "info-needed": "informationNeeded",
    }
    for part, vs_id in ids.items():
        body = valuesets.split(f"Id: {vs_id}\n", 1)[1].split("\nValueSet:", 1)[0]
        assert set(re.findall(r"^\* \S+#([\w-]+)", body, re.M)) == VALUE_SETS[part], part


def test_ontology_crd_concepts_are_codes_of_the_reference_code_system():
    codes_fsh = _reference("CoverageInformationCodes.fsh")
    assert "Id: coverage-information-codes" in codes_fsh
    assert CODE_SYSTEM.endswith("/CodeSystem/coverage-information-codes")
    defined = set(re.findall(r"^\s*\* #([\w-]+)", codes_fsh, re.M))
    used = {c for a in answers(shipped()).values() for _r, c in a.matches}
    assert used and used <= defined


# --------------------------------------------------------------------------- command line


def hooks_from(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_cli_crd_aetna(run_cli):
    data = hooks_from(run_cli("crd", "--code", "64866", "--payer", "Aetna", "--date", "2026-01-15"))
    resource = data["systemActions"][0]["resource"]
    model = ServiceRequest.model_validate(resource)
    assert model.code.coding[0].code == "64866"
    assert len(resource["extension"]) == len(data["cards"]) == 3


def test_cli_crd_silent_payer_service_request(run_cli):
    proc = run_cli("crd", "--payer", "cigna", "--format", "service-request")
    resource = hooks_from(proc)
    ServiceRequest.model_validate(resource)
    (ext,) = resource["extension"]
    assert parts(ext, "covered") == ["indeterminate"]


def test_cli_crd_reproducible_with_source_date_epoch(run_cli, tmp_path):
    env = {"SOURCE_DATE_EPOCH": "1768435200"}  # 2026-01-15T00:00:00Z
    first = run_cli("crd", "--payer", "Aetna", env=env)
    out = tmp_path / "crd.json"
    second = run_cli("crd", "--payer", "Aetna", "-o", str(out), env=env)
    assert second.returncode == 0 and second.stdout == ""
    assert first.stdout == out.read_text("utf-8")
    ext = hooks_from(first)["systemActions"][0]["resource"]["extension"][0]
    assert parts(ext, "date") == ["2026-01-15"]


def test_cli_crd_with_data(run_cli):
    proc = run_cli(
        "crd", "--payer", "Aetna", "--date", "2025-06-01", "--data", "data", "--data", str(REVISED)
    )
    ids = [e["id"] for e in hooks_from(proc)["systemActions"][0]["resource"]["extension"]]
    assert "policy-val-aetna-64866-2025" in ids


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--payer", "Acme"), ("no payer 'Acme'", "hint: payers: Aetna")),
        (("--payer", "Aetna", "--code", "99999"), ("no CPT code '99999'", "hint:", "64866")),
        (("--payer", "Aetna", "--code", "64868"), ("no policy of Aetna", "hint:")),
        (("--payer", "Aetna", "--date", "2026-02-30"), ("is not a date", "hint:")),
        (("--payer", "Aetna", "--coverage", "123"), ("not a FHIR reference", "hint:")),
    ],
)
def test_cli_crd_errors_exit_2_with_hint(run_cli, args, fragments):
    proc = run_cli("crd", *args)
    assert proc.returncode == 2, proc.stdout
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr
