"""What to do about a problem in new data: one hint per SHACL finding.

Hints are derived from the policy schema (:mod:`cptkg.intake.schema`) where the schema says
enough: a code field (is the code well formed, which file holds such codes), a field with
controlled answers (``sh:in``: which answer to give when the source is silent), a date field.
The advice the shapes cannot say is written by hand in :data:`ADVICE`, keyed by the shape.
"""

from __future__ import annotations

import re

from rdflib import Graph, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from cptkg.codes.checks import (
    BILLABLE_FLAG_DIFFERS,
    DESCRIPTOR_DIFFERS,
    NOT_BILLABLE,
    NOT_IN_RELEASE,
    CodeProblem,
)
from cptkg.intake.context import ContextProvider
from cptkg.intake.schema import CodeKind, Field, Schema
from cptkg.namespaces import KG
from cptkg.shacl.report import Finding, short_name

DATE_HINT = (
    'write a real calendar date as "YYYY-MM-DD"^^xsd:date, e.g. "2025-01-01"^^xsd:date '
    "(a year, a month 01-12 and a day that exists in that month)"
)

#: Hand-written advice, keyed by the shape's local name. ``{known}`` is replaced by the
#: resources of the field's ``sh:class`` found in the graph.
ADVICE: dict[str, str] = {
    "PayerPolicyShape-label": 'add rdfs:label "Payer: policy title" to the policy',
    "PayerPolicyShape-identifier": "give the policy exactly one dcterms:identifier, e.g. "
    '"aetna-cpb-0366"; a revised version gets its own, e.g. "aetna-cpb-0366@2025-01-01"',
    "PayerPolicyShape-payer": "add the payer to data/payers.ttl first, or fix the IRI; "
    "known payers: {known}",
    "PayerPolicyShape-criteria": "state medical-necessity criteria with "
    "cptkg:criteria-stated (and cptkg:criteriaText) or cptkg:criteria-none; use "
    "cptkg:criteria-not-stated when the source is silent",
    "PolicyDatesShape-order": "check both dates: the end date must be on or after the effective "
    "date (swap them if they were entered the wrong way round)",
    "PolicyEffectiveDateStatedShape": 'add cptkg:effectiveDate "YYYY-MM-DD"^^xsd:date, or '
    "cptkg:effectiveDateStatus cptkg:value-not-stated when the source gives no date",
    "PolicySiteRestrictionShape": "list the allowed places of service (cptkg:allowedPlaceOfService "
    "kg:pos-NN), or answer cptkg:site-not-restricted / cptkg:site-not-stated",
    "PolicyCriteriaTextShape": "summarise the criteria in cptkg:criteriaText, or answer "
    "cptkg:criteria-not-stated",
    "PolicyCriteriaConsistencyShape": "answer cptkg:criteria-stated if the policy states criteria, "
    "or remove cptkg:criteriaText",
    "PolicyEndWithoutStartShape": 'add cptkg:effectiveDate "YYYY-MM-DD"^^xsd:date',
    "PolicyIdentifierUniqueShape": "if this is a revised version, give it its own identifier "
    '(convention: "<identifier>@<effective date>", e.g. "aetna-cpb-0366@2025-01-01") and '
    "cptkg:supersedes the old policy, or let `cptkg add --new-version FILE` do it; if it is the "
    "same policy, it is already in the graph: do not add it again",
    "PolicySupersedesEarlierShape": "cptkg:supersedes must name an earlier version of the same "
    "payer's policy: check the IRI and the two effective dates",
    "PayerPolicyShape-supersedes": "point cptkg:supersedes at the IRI of the existing version "
    "(e.g. kg:policy-aetna-cpb-0366), or remove it for a new policy",
    "PayerPolicyShape-document": "point cptkg:policyDocument at a cptkg:PolicyDocument in "
    "data/payers.ttl (or describe the document in the same file)",
    "PayerPolicyShape-evidence": "use one of cptkg:evidence-source-document, -public-copy, "
    "-third-party-copy, -code-not-confirmed, -none-found, -illustrative",
    "PolicyDocumentShape-payer": "add the payer to data/payers.ttl first, or fix the IRI",
    "ClaimShape-source": "add prov:wasDerivedFrom pointing to the policy document it was read from "
    "(e.g. kg:document-aetna-cpb-0366) or another source in the graph",
    "ClaimQuoteRequiredShape": "add cptkg:quote with the exact supporting sentence of the source",
}

#: Shapes of the code classes themselves (a code's notation or scheme is wrong).
CODE_SHAPE_PREFIXES = ("CPTCodeShape", "ICD10CMCodeShape", "PlaceOfServiceCodeShape")


def shape_local(shape: Node | None) -> str:
    """The local name of a shape IRI (``PayerPolicyShape-code``)."""
    s = str(shape or "")
    return s.rsplit("#", 1)[-1] if "#" in s else s.rsplit("/", 1)[-1]


def known(ctx: ContextProvider, cls: URIRef, ns: Graph, limit: int = 12) -> str:
    """Up to ``limit`` resources of class ``cls`` in the graph, with their labels."""
    found = ctx.instances_of(cls, limit + 1)
    items = [
        f"{short_name(iri, ns)} ({label})" if label else short_name(iri, ns)
        for iri, label in found[:limit]
    ]
    more = ", …" if len(found) > limit else ""
    return ", ".join(items) + more if items else "(none)"


def datatype_hint(datatype: Node | None, ns: Graph) -> str:
    """How to write a literal of ``datatype``."""
    if datatype == XSD.date:
        return DATE_HINT
    return f"write a valid {short_name(datatype, ns)} literal"


def code_hint(kind: CodeKind, value: Node | None, ctx: ContextProvider, ns: Graph) -> str:
    """What to do about a code value that is malformed, missing or not a code IRI."""
    local = str(value).removeprefix(str(KG)) if isinstance(value, URIRef) else ""
    if local.startswith(kind.prefix):
        notation = local[len(kind.prefix) :]
        if not re.match(kind.pattern, notation):
            return f"{notation!r} is not a well-formed {kind.what}: fix the code"
        return (
            f"{notation} is not in the graph: fix the code, or add it to {kind.home} first "
            f"(as {short_name(value, ns)} a {short_name(kind.cls, ns)} with skos:notation, "
            "skos:inScheme, skos:prefLabel and prov:wasDerivedFrom)"
        )
    examples = known(ctx, kind.cls, ns, 8)
    article = "an" if kind.what[:1] in "AEIOU" else "a"
    return (
        f"use the IRI of {article} {kind.what} in the graph (kg:{kind.prefix}<code>), "
        f"e.g. {examples}"
    )


def answers_hint(field: Field, ns: Graph) -> str:
    """Which controlled answer to give, and which one when the source is silent."""
    silent = [a for a in field.answers if str(a).endswith("-not-stated")]
    stated = [short_name(a, ns) for a in field.answers if a not in silent]
    several = "one or more of" if field.multi else "one of"
    hint = f"state {field.label} with {several} {', '.join(stated)}"
    if silent:
        hint += f"; use {short_name(silent[0], ns)} when the source is silent"
    return hint


def hint_for(f: Finding, ctx: ContextProvider, ns: Graph, schema: Schema) -> str:
    """What to do about one SHACL finding."""
    name = shape_local(f.source_shape)
    field = schema.by_shape(f.source_shape) or schema.by_path(f.path)
    if field is not None and field.code is not None and f.value is not None:
        return code_hint(field.code, f.value, ctx, ns)
    advice = ADVICE.get(name)
    if advice:
        if "{known}" in advice and field is not None and field.cls is not None:
            return advice.format(known=known(ctx, field.cls, ns))
        return advice
    if field is not None and field.shape == f.source_shape:
        if field.answers and len(field.answers) > 1:
            return answers_hint(field, ns)
        if field.datatype == XSD.date:
            return DATE_HINT
    if name.startswith(CODE_SHAPE_PREFIXES):
        return "fix the code's skos:notation (see the rule) or its skos:inScheme"
    return "change the data so that the rule holds: " + f.message


def code_problem_hint(p: CodeProblem) -> str:
    """What to do about a code that its release does not hold, or holds otherwise."""
    if p.rule == NOT_IN_RELEASE:
        closest = ", ".join(p.suggestions)
        return (
            f"check {p.notation} against {p.release} and write the code meant"
            + (f" (closest codes: {closest})" if closest else "")
            + "; a code is never added to the graph unless its release holds it"
        )
    if p.rule == NOT_BILLABLE:
        return (
            f"list the billable codes meant (e.g. {', '.join(p.suggestions)}), or the whole "
            f"category on purpose: {p.notation}- in a spreadsheet cell, "
            f"cptkg:supportingDiagnosisCategory in RDF"
        )
    if p.rule == DESCRIPTOR_DIFFERS:
        return f"write the descriptor of {p.release} verbatim: {p.suggestions[0]!r}"
    if p.rule == BILLABLE_FLAG_DIFFERS:
        return f"set cptkg:billable as {p.release} has it"
    return "nothing to change; load the release in force on the policy's date to check against it"
