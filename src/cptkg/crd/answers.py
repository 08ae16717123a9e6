"""The graph's answers for one CPT code and one payer: the payer and code looked up (an
unknown one is an error listing the known ones), and the payer's policies on the code in force
on a date, with every answer the policy records."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from cptkg.engines.base import Engine, SelectResult
from cptkg.errors import InputError
from cptkg.namespaces import CPTKG, RDFS, SKOS, parse_iri
from cptkg.query import cpt_codes, payer_names, run_stored, shown

#: The stored query that decides which policies are in force on a date.
IN_FORCE_QUERY = "policies-as-of"


class UnknownPayer(InputError):
    """The payer is not in the graph."""


class UnknownCode(InputError):
    """The CPT code is not in the graph."""


class NoPolicy(InputError):
    """The graph records no policy of the payer on the code in force on the date."""


@dataclass(frozen=True)
class Payer:
    """A payer of the graph: its IRI and the name it is shown by (its label)."""

    iri: str
    name: str


@dataclass(frozen=True)
class Code:
    """A CPT code of the graph: notation, label and the FHIR system of its code system."""

    notation: str
    label: str | None
    system: str


@dataclass(frozen=True)
class Policy:
    """One payer policy on the code with what the graph states about it (values are
    strings; answers are the IRIs of answer concepts, keyed by the policy property)."""

    iri: str
    label: str
    version: str | None
    #: True when the policy has a stated effective date, False when it cannot be placed in time.
    dated: bool
    effective_date: str | None
    end_date: str | None
    answers: dict[str, str] = field(default_factory=dict)
    criteria_text: tuple[str, ...] = ()
    documentation_text: tuple[str, ...] = ()
    status_note: tuple[str, ...] = ()
    evidence: str | None = None
    applicability: str | None = None
    document: str | None = None
    #: Labels of the places of service the policy allows (when it restricts the site).
    places_of_service: tuple[str, ...] = ()


def find_payer(engine: Engine, payer: str) -> Payer:
    """The payer named ``payer`` (a name, any case, or an IRI / prefixed name); UnknownPayer
    listing the graph's payers otherwise."""
    known = payer_names(engine)
    wanted = payer.strip()
    iri = parse_iri(wanted) if ":" in wanted else None
    for candidate, names in sorted(known.items()):
        if (iri is not None and str(iri) == candidate) or any(
            wanted.casefold() == n.casefold() for n in names
        ):
            return Payer(candidate, _label(engine, candidate))
    choices = sorted({min(names) if names else iri for iri, names in known.items()})
    raise UnknownPayer(
        f"no payer {shown(payer)} in the graph",
        hint="payers: " + ", ".join(choices) + " (a name, any case, or the payer's IRI)",
    )


_CODE = f"""PREFIX cptkg: <{CPTKG}>
PREFIX skos: <{SKOS}>
SELECT ?label ?system WHERE {{
  ?code a cptkg:CPTCode ; skos:notation ?_code .
  OPTIONAL {{ ?code skos:prefLabel ?label }}
  OPTIONAL {{ ?code skos:inScheme/cptkg:fhirSystem ?system }}
}} ORDER BY ?label ?system"""


def find_code(engine: Engine, code: str) -> Code:
    """The CPT code with notation ``code``; UnknownCode listing the graph's CPT codes
    otherwise, or when its code system has no FHIR system URI."""
    notation = code.strip()
    known = cpt_codes(engine)
    if notation not in known:
        raise UnknownCode(
            f"no CPT code {shown(code)} in the graph",
            hint="CPT codes in the graph: " + ", ".join(sorted(known)),
        )
    result = engine.query(_CODE, {"_code": Literal(notation)})
    assert isinstance(result, SelectResult)
    rows = [r for r in result.as_dicts() if r["system"] is not None]
    if not rows:
        raise UnknownCode(
            f"CPT code {notation}: its code system has no cptkg:fhirSystem",
            hint="a billingCode Coding needs the code system's FHIR URI",
        )
    label = rows[0]["label"]
    return Code(notation, str(label) if label is not None else None, str(rows[0]["system"]))


_POLICIES = f"""PREFIX cptkg: <{CPTKG}>
PREFIX skos: <{SKOS}>
SELECT ?policy ?p ?o WHERE {{
  ?code a cptkg:CPTCode ; skos:notation ?_code .
  ?policy a cptkg:PayerPolicy ; cptkg:appliesToCode ?code ; cptkg:payer ?_payer ; ?p ?o .
}}"""

_LABEL = f"""PREFIX rdfs: <{RDFS}>
PREFIX skos: <{SKOS}>
SELECT ?label WHERE {{ ?_s rdfs:label|skos:prefLabel ?label }} ORDER BY ?label"""


def _label(engine: Engine, iri: str) -> str:
    result = engine.query(_LABEL, {"_s": URIRef(iri)})
    assert isinstance(result, SelectResult)
    return str(result.rows[0][0]) if result.rows else iri


def policies_in_force(engine: Engine, payer: Payer, code: Code, as_of: _dt.date) -> list[Policy]:
    """The payer's policies on the code in force on ``as_of`` by the rule of the stored query
    ``policies-as-of`` (undated policies included, ``dated`` False), sorted by IRI; NoPolicy
    when there is none."""
    in_force = run_stored(
        engine,
        IN_FORCE_QUERY,
        {"asOf": Literal(as_of.isoformat(), datatype=XSD.date), "code": Literal(code.notation)},
        check_values=False,
    )
    assert isinstance(in_force, SelectResult)
    wanted = {str(row["policy"]) for row in in_force.as_dicts()}
    result = engine.query(_POLICIES, {"_code": Literal(code.notation), "_payer": URIRef(payer.iri)})
    assert isinstance(result, SelectResult)
    triples: dict[str, list[tuple[str, object]]] = {}
    for policy, p, o in result.rows:
        if str(policy) in wanted:
            triples.setdefault(str(policy), []).append((str(p), o))
    if not triples:
        raise NoPolicy(
            f"the graph records no policy of {payer.name} on CPT {code.notation} in force on "
            f"{as_of.isoformat()}",
            hint=f"see 'cptkg query {IN_FORCE_QUERY} --param asOf=YYYY-MM-DD' for the policies "
            "in force on a date",
        )
    return [_policy(engine, iri, values) for iri, values in sorted(triples.items())]


def _policy(engine: Engine, iri: str, values: list[tuple[str, object]]) -> Policy:
    def all_of(prop: URIRef) -> tuple[str, ...]:
        return tuple(sorted(str(o) for p, o in values if p == str(prop)))

    def one(prop: URIRef) -> str | None:
        found = all_of(prop)
        return found[0] if found else None

    dates = [
        o
        for p, o in values
        if p == str(CPTKG.effectiveDate) and isinstance(o, Literal) and o.datatype == XSD.date
    ]
    answer_props = (
        CPTKG.coverage,
        CPTKG.priorAuthorization,
        CPTKG.documentationRequired,
        CPTKG.siteOfServiceRestriction,
        CPTKG.medicalNecessityCriteria,
    )
    evidence = one(CPTKG.evidenceStatus)
    applicability = one(CPTKG.codeApplicabilityBasis)
    document = one(CPTKG.policyDocument)
    return Policy(
        iri=iri,
        label=one(RDFS.label) or iri,
        version=one(CPTKG.versionLabel),
        dated=bool(dates),
        effective_date=str(min(dates)) if dates else None,
        end_date=one(CPTKG.endDate),
        answers={str(p): a for p in answer_props if (a := one(p)) is not None},
        criteria_text=all_of(CPTKG.criteriaText),
        documentation_text=all_of(CPTKG.documentationText),
        status_note=all_of(CPTKG.statusNote),
        evidence=_label(engine, evidence) if evidence else None,
        applicability=_label(engine, applicability) if applicability else None,
        document=_label(engine, document) if document else None,
        places_of_service=tuple(
            sorted(_label(engine, pos) for pos in all_of(CPTKG.allowedPlaceOfService))
        ),
    )
