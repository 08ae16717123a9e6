"""One ``ext-coverage-information`` extension (FHIR JSON) per payer policy, from what the
graph states about the policy and the SKOS mapping of its answers (:mod:`cptkg.crd.mapping`).

Only what the graph states goes in: ``covered`` / ``pa-needed`` / ``doc-needed`` from the
policy's answers, ``billingCode`` the CPT code, ``reason`` the answer (as a cptkg coding) with
the policy's criteria or documentation text, or the statement that the source is silent;
``coverage-assertion-id`` the policy IRI and version; ``expiry-date`` the policy's end date.
A policy that does not cover the code has no ``pa-needed`` (CRD forbids it, crd-ci-q2).
``date`` is the day the assertion is made (the export's day), ``coverage`` the CRD client's
Coverage, which cptkg does not know (a reference given by the caller, or a display-only one).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cptkg.crd.answers import Code, Policy
from cptkg.crd.mapping import INFO_QUESTION, KEY_QUESTIONS, Answer, crd_value, info_needed
from cptkg.crd.spec import EXTENSION_URL, PARTS

#: A FHIR ``id``: 1 to 64 letters, digits, '-' and '.'.
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")

#: The Coverage reference used when the caller gives none.
UNKNOWN_COVERAGE: dict[str, str] = {
    "display": "the patient's Coverage from the CRD client's request (not known to cptkg)"
}


def stable_id(iri: str) -> str:
    """A FHIR id for ``iri``: its last path or fragment segment when that is a valid id,
    else ``h-`` and the first 16 hex digits of its SHA-256."""
    local = re.split(r"[/#]", iri.rstrip("/#"))[-1]
    if _FHIR_ID.fullmatch(local):
        return local
    return "h-" + hashlib.sha256(iri.encode("utf-8")).hexdigest()[:16]


def assertion_id(policy: Policy) -> str:
    """The coverage-assertion-id of ``policy``: its IRI and version as a FHIR canonical
    reference (``IRI|version``), or the IRI alone when no version is recorded."""
    return f"{policy.iri}|{policy.version}" if policy.version else policy.iri


@dataclass(frozen=True)
class QuestionLabels:
    """The labels of the policy properties, for reason texts (property IRI -> label)."""

    labels: dict[str, str]

    def of(self, prop: str) -> str:
        """The label of ``prop`` (its IRI when it has none)."""
        return self.labels.get(prop, prop)


def _coding(answer: Answer) -> dict[str, str]:
    coding = {"code": answer.notation, "display": answer.label}
    if answer.system:
        coding["system"] = answer.system
    return coding


def _reason(answer: Answer, text: str) -> dict[str, Any]:
    return {"url": "reason", "valueCodeableConcept": {"coding": [_coding(answer)], "text": text}}


def coverage_information(
    policy: Policy,
    code: Code,
    answers: dict[str, Answer],
    questions: QuestionLabels,
    *,
    assertion_date: _dt.date,
    coverage: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The coverage-information extension for ``policy`` (FHIR JSON, parts in the FSH's
    order)."""
    parts: list[dict[str, Any]] = [
        {"url": "coverage", "valueReference": dict(coverage or UNKNOWN_COVERAGE)}
    ]
    reasons: list[dict[str, Any]] = []
    conditional = False
    for prop, part in KEY_QUESTIONS.items():
        if part == "pa-needed" and _has_code(parts, "covered", "not-covered"):
            continue  # crd-ci-q2: no prior-authorization answer for a service not covered
        answer = answers.get(policy.answers.get(str(prop), ""))
        question = questions.of(str(prop))
        value = crd_value(answer, part) if answer is not None else None
        if value is None:
            if part == "covered":  # 1..1: an answer CRD has no code for cannot be covered
                parts.append({"url": part, "valueCode": "indeterminate"})
                reasons.append(_unanswered(policy, question, answer))
            continue
        parts.append({"url": part, "valueCode": value.code})
        assert answer is not None
        if value.not_stated:
            reasons.append(
                _reason(
                    answer,
                    f"{question}: {answer.label}. The policy's source does not say, so no "
                    "determination can be made from it.",
                )
            )
        elif value.code == "conditional":
            conditional = True
            reasons.append(_reason(answer, _conditions(policy, question, answer, part)))
        elif part == "doc-needed" and policy.documentation_text:
            documentation = " ".join(policy.documentation_text)
            reasons.append(_reason(answer, f"{question}: {answer.label}. {documentation}"))
    if conditional:
        needed = {"OTH"}
        site = answers.get(policy.answers.get(str(INFO_QUESTION), ""))
        if site is not None and (site_value := info_needed(site)) is not None:
            needed.add(site_value.code)
            text = f"{questions.of(str(INFO_QUESTION))}: {site.label}"
            if policy.places_of_service:
                text += ": " + "; ".join(policy.places_of_service)
            reasons.append(_reason(site, text + "."))
        parts += [{"url": "info-needed", "valueCode": c} for c in sorted(needed)]
    parts.append(
        {"url": "billingCode", "valueCoding": {"system": code.system, "code": code.notation}}
    )
    parts += reasons
    parts.append({"url": "date", "valueDate": assertion_date.isoformat()})
    parts.append({"url": "coverage-assertion-id", "valueString": assertion_id(policy)})
    if policy.end_date:
        parts.append({"url": "expiry-date", "valueDate": policy.end_date})
    order = {p: i for i, p in enumerate(PARTS)}
    parts.sort(key=lambda p: order[p["url"]])  # stable: reasons keep their question order
    return {"id": stable_id(policy.iri), "url": EXTENSION_URL, "extension": parts}


def _has_code(parts: list[dict[str, Any]], url: str, code: str) -> bool:
    return any(p["url"] == url and p.get("valueCode") == code for p in parts)


def _conditions(policy: Policy, question: str, answer: Answer, part: str) -> str:
    """A conditional answer's reason: the answer and the criteria the policy states."""
    text = f"{question}: {answer.label}."
    if part == "covered" and policy.criteria_text:
        return f"{text} Medical-necessity criteria: " + " ".join(policy.criteria_text)
    if answer.definition:
        return f"{text} {answer.definition}"
    return text


def _unanswered(policy: Policy, question: str, answer: Answer | None) -> dict[str, Any]:
    """The reason for ``covered`` = indeterminate when the policy's coverage answer is
    missing or has no CRD code."""
    if answer is None:
        return {
            "url": "reason",
            "valueCodeableConcept": {
                "text": f"{question}: the graph records no answer for {policy.label}."
            },
        }
    return _reason(answer, f"{question}: {answer.label}. CRD has no code for this answer.")
