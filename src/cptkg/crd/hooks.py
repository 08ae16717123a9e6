"""The CDS Hooks response that returns the ServiceRequest as CRD's coverage-information
response type: a system action ``update`` carrying the resource, and one information card per
policy saying what the policy answers and how far the graph's record of it is verified."""

from __future__ import annotations

import datetime as _dt
import uuid
from typing import Any

from cptkg.crd.answers import Code, Payer, Policy
from cptkg.crd.coverage_information import assertion_id, stable_id
from cptkg.crd.invariants import part_values

#: CDS Hooks limits a card's summary to 140 characters.
SUMMARY_LIMIT = 140


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def card(
    payer: Payer, code: Code, policy: Policy, extension: dict[str, Any], as_of: _dt.date
) -> dict[str, Any]:
    """The card for one policy: a summary of its CRD answers and a Markdown detail."""
    covered = part_values(extension, "covered")[0]
    pa = part_values(extension, "pa-needed")
    head = f"{payer.name}, CPT {code.notation}: coverage {covered}"
    if pa:
        head += f", prior auth {pa[0]}"
    summary = _cut(f"{head} ({policy.label})", SUMMARY_LIMIT)
    in_force = (
        f"in force on {as_of.isoformat()} (effective {policy.effective_date})"
        if policy.dated
        else "effective date not stated in source: cannot be placed in time"
    )
    lines = [
        f"**Policy:** {policy.label}",
        f"**Coverage assertion id:** `{assertion_id(policy)}`",
        f"**In force:** {in_force}",
    ]
    if policy.document:
        lines.append(f"**Document:** {policy.document}")
    if policy.evidence:
        lines.append(f"**Evidence:** {policy.evidence}")
    if policy.applicability:
        lines.append(f"**Applies to CPT {code.notation}:** {policy.applicability}")
    if policy.places_of_service:
        lines.append("**Allowed places of service:** " + "; ".join(policy.places_of_service))
    lines += [f"**Note:** {note}" for note in policy.status_note]
    lines += [f"- {reason['text']}" for reason in part_values(extension, "reason")]
    return {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, assertion_id(policy))),
        "summary": summary,
        "indicator": "warning" if covered == "not-covered" else "info",
        "detail": "\n\n".join(lines),
        "source": {"label": "cptkg knowledge graph (payer policies as recorded, with sources)"},
    }


def hooks_response(
    payer: Payer,
    code: Code,
    policies: list[Policy],
    resource: dict[str, Any],
    as_of: _dt.date,
) -> dict[str, Any]:
    """The CDS Hooks response: one card per policy (in the resource's extension order) and
    the system action that updates the order with the coverage information."""
    by_id = {ext["id"]: ext for ext in resource.get("extension", [])}
    cards = [
        card(payer, code, policy, by_id[stable_id(policy.iri)], as_of)
        for policy in sorted(policies, key=lambda p: stable_id(p.iri))
    ]
    return {
        "cards": cards,
        "systemActions": [
            {
                "type": "update",
                "description": f"Coverage information of {len(policies)} {payer.name} "
                f"polic{'y' if len(policies) == 1 else 'ies'} on CPT {code.notation}",
                "resource": resource,
            }
        ],
    }
