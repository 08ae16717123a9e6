"""``crd_export``: the graph's answers for a CPT code and a payer on a date as a CRD
ServiceRequest and the CDS Hooks response returning it, with deterministic JSON."""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from typing import Any

from rdflib import URIRef

from cptkg.crd.answers import Code, Payer, Policy, find_code, find_payer, policies_in_force
from cptkg.crd.build import service_request
from cptkg.crd.coverage_information import QuestionLabels, coverage_information
from cptkg.crd.hooks import hooks_response
from cptkg.crd.mapping import INFO_QUESTION, KEY_QUESTIONS, answers
from cptkg.engines.base import Engine, SelectResult
from cptkg.namespaces import RDFS

_PROPERTY_LABELS = f"""PREFIX rdfs: <{RDFS}>
SELECT ?p ?label WHERE {{ ?p rdfs:label ?label . FILTER(?p IN (?_a, ?_b, ?_c, ?_d)) }}
ORDER BY ?p ?label"""


@dataclass(frozen=True)
class CrdExport:
    """What ``cptkg crd`` produces: the ServiceRequest and the CDS Hooks response (FHIR
    JSON as dicts), with the payer, code, date and policies they were built from."""

    payer: Payer
    code: Code
    as_of: _dt.date
    policies: tuple[Policy, ...]
    service_request: dict[str, Any]
    response: dict[str, Any]


def to_json(data: dict[str, Any]) -> str:
    """``data`` as deterministic JSON: keys sorted, two-space indent, UTF-8 text, a final
    newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _question_labels(engine: Engine) -> QuestionLabels:
    props = [*KEY_QUESTIONS, INFO_QUESTION]
    result = engine.query(
        _PROPERTY_LABELS, {f"_{k}": URIRef(p) for k, p in zip("abcd", props, strict=True)}
    )
    assert isinstance(result, SelectResult)
    labels: dict[str, str] = {}
    for p, label in result.rows:
        labels.setdefault(str(p), str(label))
    return QuestionLabels(labels)


def crd_export(
    engine: Engine,
    code: str,
    payer: str,
    *,
    as_of: _dt.date,
    assertion_date: _dt.date,
    coverage: dict[str, str] | None = None,
    patient: dict[str, str] | None = None,
) -> CrdExport:
    """The CRD export of ``payer``'s policies on CPT ``code`` in force on ``as_of``, asserted
    on ``assertion_date``. ``coverage`` / ``patient`` are FHIR References to the CRD client's
    Coverage and Patient (default: display-only references saying cptkg does not know them).
    UnknownPayer / UnknownCode / NoPolicy (exit 2 on the command line) when there is nothing
    to export."""
    found_payer = find_payer(engine, payer)
    found_code = find_code(engine, code)
    policies = policies_in_force(engine, found_payer, found_code, as_of)
    vocabulary = answers(engine)
    questions = _question_labels(engine)
    extensions = [
        coverage_information(
            policy,
            found_code,
            vocabulary,
            questions,
            assertion_date=assertion_date,
            coverage=coverage,
        )
        for policy in policies
    ]
    resource = service_request(found_code, found_payer, extensions, patient=patient)
    response = hooks_response(found_payer, found_code, policies, resource, as_of)
    return CrdExport(found_payer, found_code, as_of, tuple(policies), resource, response)
