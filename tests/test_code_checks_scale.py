"""The code checks at scale: each distinct code looked up once per release in batches, the
closest codes of an unknown code found once per distinct code and for the first
:data:`~cptkg.codes.checks.SUGGESTED_CODES` only, and the messages of small graphs unchanged."""

from __future__ import annotations

import pytest
from rdflib import Graph
from rdflib.namespace import RDF

from cptkg.codes import checks
from cptkg.codes.index import CodeIndex, open_index
from cptkg.codes.releases import ICD10CM_FY2026
from cptkg.namespaces import CPTKG, KG

FY2026 = "ICD-10-CM FY2026 (April 1, 2026 update)"
POS_SET = "CMS Place of Service code set (version 20240502)"


def _policies(count: int, diagnoses: list[str], pos: tuple[str, ...] = ()) -> Graph:
    g = Graph()
    for i in range(count):
        policy = KG[f"policy-scale-{i}"]
        g.add((policy, RDF.type, CPTKG.PayerPolicy))
        for code in diagnoses:
            g.add((policy, CPTKG.supportingDiagnosis, KG[f"icd10cm-{code}"]))
        for code in pos:
            g.add((policy, CPTKG.allowedPlaceOfService, KG[f"pos-{code}"]))
    return g


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Calls of the index's suggest, get and get_many during the test."""
    calls = {"suggest": 0, "get": 0, "get_many": 0}
    for name in calls:
        original = getattr(CodeIndex, name)

        def counting(self, *args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(CodeIndex, name, counting)
    return calls


def test_suggestions_once_per_distinct_code_and_bounded(counted: dict[str, int]) -> None:
    unknown = [f"Q00.{i:03d}" for i in range(50)]
    problems = checks.check_graph(_policies(3, unknown))
    assert len(problems) == 150
    assert {p.rule for p in problems} == {checks.NOT_IN_RELEASE}
    assert counted["suggest"] == checks.SUGGESTED_CODES == 20
    assert counted["get_many"] == 1  # one release, one batch
    # the descriptors of the closest codes: at most five per suggested code
    assert counted["get"] <= 5 * checks.SUGGESTED_CODES
    suggested = sorted(unknown)[: checks.SUGGESTED_CODES]
    for p in problems:
        if p.notation in suggested:
            assert p.suggestions and f"{p.notation} is not in {FY2026}; closest codes: " in (
                p.message
            )
        else:
            assert p.suggestions == ()
            assert p.message == (
                f"ICD-10-CM code {p.notation} is not in {FY2026}; closest codes are listed "
                "for the first 20 codes not in their release only"
            )
    # every use of one code says the same
    by_code: dict[str, set[str]] = {}
    for p in problems:
        by_code.setdefault(p.notation, set()).add(p.message)
    assert all(len(messages) == 1 for messages in by_code.values())


def test_known_codes_looked_up_in_one_batch(counted: dict[str, int]) -> None:
    codes = ["G51.1", "S04.52XS", "H02.233", "G51.31"]
    assert checks.check_graph(_policies(40, codes, ("21", "24"))) == []
    assert counted["get_many"] == 2  # one per release: ICD-10-CM and place of service
    assert counted["get"] == counted["suggest"] == 0


def test_get_many_is_get_of_each() -> None:
    index = open_index(ICD10CM_FY2026)
    wanted = ["G51.1", "S04.5", "G50-G59", "Q00.000", "C07", "G51.99"]
    found = index.get_many(wanted)
    assert found == {n: e for n in wanted if (e := index.get(n)) is not None}
    assert set(found) == {"G51.1", "S04.5", "G50-G59", "C07"}


def test_small_graph_messages_unchanged() -> None:
    """The messages as they were before the checks were batched, verbatim."""
    g = _policies(1, ["G51.99", "Z99.9", "S04.5XXA", "S04.5", "G51.1"], ("98", "21"))
    messages = sorted(p.message for p in checks.check_graph(g))
    assert messages == [
        f"ICD-10-CM code G51.99 is not in {FY2026}; closest codes: G51.9 (Disorder of facial "
        "nerve, unspecified), G51.8 (Other disorders of facial nerve), G51.4 (Facial myokymia), "
        "G51.39 (Clonic hemifacial spasm, unspecified), G51.31 (Clonic hemifacial spasm, right)",
        f"ICD-10-CM code S04.5 (Injury of facial nerve) is a category in {FY2026}, not a "
        "billable code: 9 billable codes lie under it (S04.50XA, S04.50XD, S04.50XS, "
        "S04.51XA, S04.51XD, ...); list the billable codes, or the whole category with "
        "cptkg:supportingDiagnosisCategory",
        f"ICD-10-CM code S04.5XXA is not in {FY2026}; closest codes: S04.52XA (Injury of "
        "facial nerve, left side, initial encounter), S04.52XD (Injury of facial nerve, left "
        "side, subsequent encounter), S04.52XS (Injury of facial nerve, left side, sequela), "
        "S04.51XA (Injury of facial nerve, right side, initial encounter), S04.51XD (Injury of "
        "facial nerve, right side, subsequent encounter)",
        f"ICD-10-CM code Z99.9 is not in {FY2026}; closest codes: Z99.89 (Dependence on other "
        "enabling machines and devices), Z99.81 (Dependence on supplemental oxygen), Z99.3 "
        "(Dependence on wheelchair), Z99.2 (Dependence on renal dialysis), Z99.11 (Dependence "
        "on respirator [ventilator] status)",
        f"place-of-service code 98 is not in {POS_SET}; closest codes: 99 (Other Place of Service)",
    ]
