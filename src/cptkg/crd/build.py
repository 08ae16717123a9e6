"""The FHIR R4 ``ServiceRequest`` for a CPT code carrying one coverage-information extension
per policy, built as FHIR JSON and checked by parsing it with ``fhir.resources`` (its R4B
models: FHIR 4.3, whose ServiceRequest, Extension, Reference, Coding and CodeableConcept are
those of R4 4.0.1, which CRD 2.x is based on) and against the extension's invariants."""

from __future__ import annotations

import json
from typing import Any

from cptkg.crd.answers import Code, Payer
from cptkg.crd.coverage_information import stable_id
from cptkg.crd.invariants import violations

#: The subject reference used when the caller gives none.
UNKNOWN_PATIENT: dict[str, str] = {
    "display": "the patient of the order in the CRD client's request (not known to cptkg)"
}


class InvalidOutput(AssertionError):
    """The export broke FHIR or CRD rules: a bug in cptkg, never a user error."""


def service_request_id(code: Code, payer: Payer) -> str:
    """The ServiceRequest's id: ``cpt-<code>-<payer id>`` (hashed when not a valid FHIR id)."""
    return stable_id(f"urn:cptkg:crd:cpt-{code.notation}-{stable_id(payer.iri)}")


def service_request(
    code: Code,
    payer: Payer,
    extensions: list[dict[str, Any]],
    *,
    patient: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A draft ServiceRequest (intent ``order``) for ``code`` with ``extensions`` sorted by
    id, parsed by fhir.resources; InvalidOutput when it or an extension is not valid."""
    concept: dict[str, Any] = {"coding": [{"system": code.system, "code": code.notation}]}
    if code.label:
        concept["coding"][0]["display"] = code.label
        concept["text"] = code.label
    resource = {
        "resourceType": "ServiceRequest",
        "id": service_request_id(code, payer),
        "status": "draft",
        "intent": "order",
        "code": concept,
        "subject": dict(patient or UNKNOWN_PATIENT),
        "extension": sorted(extensions, key=lambda e: e["id"]),
    }
    for ext in resource["extension"]:
        broken = violations(ext)
        if broken:
            raise InvalidOutput(f"coverage-information {ext['id']} breaks {', '.join(broken)}")
    return parse_service_request(resource)


def parse_service_request(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` parsed by fhir.resources' R4B ServiceRequest and written back as FHIR
    JSON; InvalidOutput when it does not parse."""
    from fhir.resources.R4B.servicerequest import ServiceRequest
    from pydantic import ValidationError

    try:
        model = ServiceRequest.model_validate(resource)
    except ValidationError as exc:
        raise InvalidOutput(f"ServiceRequest does not parse as FHIR R4B: {exc}") from None
    return json.loads(model.model_dump_json(exclude_none=True))
