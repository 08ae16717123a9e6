"""cptkg's payer-policy answers mapped to CRD coverage-information codes, read from the
ontology's SKOS mappings (``skos:exactMatch`` / ``closeMatch`` / ``broadMatch`` /
``relatedMatch`` from a cptkg answer concept to a concept of the CRD code system).

The rules (docs/crd.md, "Mapping"):

* an answer that is an exact, close or broad match of a CRD code the part allows is given as
  that code (a narrow match would claim more than the answer says and is not used);
* an answer marked ``cptkg:NotStatedInSource`` whose related match is a code the part allows
  (``indeterminate``) is given as that code, with a ``reason`` saying the source is silent;
* any other answer is left out of the part (e.g. "no documentation beyond the claim" is the
  absence of ``doc-needed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rdflib import URIRef

from cptkg.crd.spec import CODE_SYSTEM, VALUE_SETS
from cptkg.engines.base import Engine, SelectResult
from cptkg.namespaces import CPTKG, SKOS

#: Relations whose CRD code may stand for the answer, strongest first.
SUBSTITUTING_RELATIONS: tuple[str, ...] = ("exactMatch", "closeMatch", "broadMatch")

#: The relation a "not stated in source" answer has to CRD ``indeterminate``.
NOT_STATED_RELATION = "relatedMatch"

#: The policy properties answered in the extension's key parts: property -> part.
KEY_QUESTIONS: dict[URIRef, str] = {
    CPTKG.coverage: "covered",
    CPTKG.priorAuthorization: "pa-needed",
    CPTKG.documentationRequired: "doc-needed",
}

#: The policy property whose answer can name what CRD ``info-needed`` asks for.
INFO_QUESTION: URIRef = CPTKG.siteOfServiceRestriction

#: Answer vocabulary (class local name) -> the extension part its answers go to.
CLASS_PARTS: dict[str, str] = {
    "CoverageStatus": "covered",
    "PriorAuthorizationStatus": "pa-needed",
    "DocumentationStatus": "doc-needed",
    "SiteOfServiceRestrictionStatus": "info-needed",
}

_ANSWERS = f"""PREFIX cptkg: <{CPTKG}>
PREFIX skos: <{SKOS}>
SELECT ?concept ?class ?notation ?label ?definition ?system ?notStated ?relation ?crdCode WHERE {{
  VALUES ?class {{ cptkg:CoverageStatus cptkg:PriorAuthorizationStatus
                  cptkg:SiteOfServiceRestrictionStatus cptkg:DocumentationStatus
                  cptkg:CriteriaStatus }}
  ?concept a ?class ; skos:notation ?notation ; skos:prefLabel ?label .
  OPTIONAL {{ ?concept skos:inScheme/cptkg:fhirSystem ?system }}
  OPTIONAL {{ ?concept skos:definition ?definition }}
  BIND(EXISTS {{ ?concept a cptkg:NotStatedInSource }} AS ?notStated)
  OPTIONAL {{
    VALUES ?relation {{ skos:exactMatch skos:closeMatch skos:broadMatch skos:narrowMatch
                       skos:relatedMatch }}
    ?concept ?relation ?crd .
    ?crd skos:notation ?crdCode ; skos:inScheme/cptkg:fhirSystem ?crdSystem .
    FILTER(STR(?crdSystem) = "{CODE_SYSTEM}")
  }}
}}"""


@dataclass(frozen=True)
class Answer:
    """One answer concept of cptkg's policy vocabularies and its SKOS mappings to CRD codes."""

    iri: str
    #: The answer's vocabulary: the local name of its class (e.g. CoverageStatus).
    vocabulary: str
    notation: str
    label: str
    definition: str | None
    #: The FHIR system of the answer's own code system (for a reason's coding).
    system: str | None
    not_stated: bool
    #: (relation local name, CRD code), sorted.
    matches: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CrdValue:
    """The CRD code a part takes for an answer, and the SKOS relation it comes from."""

    code: str
    relation: str
    #: Whether the code stands for "not stated in source" (and so needs a reason).
    not_stated: bool


def answers(engine: Engine) -> dict[str, Answer]:
    """Every answer concept of the graph's policy vocabularies, by IRI."""
    result = engine.query(_ANSWERS)
    assert isinstance(result, SelectResult)
    found: dict[str, dict[str, Any]] = {}
    for row in result.as_dicts():
        iri = str(row["concept"])
        entry = found.setdefault(
            iri,
            {
                "vocabulary": str(row["class"]).removeprefix(str(CPTKG)),
                "notation": str(row["notation"]),
                "label": str(row["label"]),
                "definition": str(row["definition"]) if row["definition"] is not None else None,
                "system": str(row["system"]) if row["system"] is not None else None,
                "not_stated": str(row["notStated"]).lower() in ("true", "1"),
                "matches": set(),
            },
        )
        if row["relation"] is not None and row["crdCode"] is not None:
            relation = str(row["relation"]).removeprefix(str(SKOS))
            entry["matches"].add((relation, str(row["crdCode"])))
    return {
        iri: Answer(
            iri=iri,
            vocabulary=e["vocabulary"],
            notation=e["notation"],
            label=e["label"],
            definition=e["definition"],
            system=e["system"],
            not_stated=e["not_stated"],
            matches=tuple(sorted(e["matches"])),
        )
        for iri, e in sorted(found.items())
    }


def crd_value(answer: Answer, part: str) -> CrdValue | None:
    """The code ``part`` (covered, pa-needed, doc-needed) takes for ``answer``, or None when
    the answer has no CRD counterpart in that part."""
    allowed = VALUE_SETS[part]
    for relation in SUBSTITUTING_RELATIONS:
        codes = sorted(c for r, c in answer.matches if r == relation and c in allowed)
        if codes:
            return CrdValue(codes[0], relation, not_stated=False)
    if answer.not_stated:
        codes = sorted(c for r, c in answer.matches if r == NOT_STATED_RELATION and c in allowed)
        if codes:
            return CrdValue(codes[0], NOT_STATED_RELATION, not_stated=True)
    return None


def info_needed(answer: Answer) -> CrdValue | None:
    """The ``info-needed`` code an answer names (a SKOS match of any kind to an
    ``info-needed`` code, e.g. a site-of-service restriction related to ``location``), or
    None."""
    found = sorted((c, r) for r, c in answer.matches if c in VALUE_SETS["info-needed"])
    return CrdValue(found[0][0], found[0][1], not_stated=False) if found else None


@dataclass(frozen=True)
class MappingRow:
    """One line of the mapping table: an answer concept and what the CRD export makes of it."""

    vocabulary: str
    answer: str
    label: str
    part: str
    code: str | None
    relation: str | None
    #: Whether the code stands for "not stated in source" (and a reason says so).
    not_stated: bool


def mapping_table(found: dict[str, Answer]) -> list[MappingRow]:
    """How each answer of the coverage, prior-authorization, documentation and site-of-service
    vocabularies is exported (code None: the part is left out), sorted by part and answer."""
    rows: list[MappingRow] = []
    for answer in found.values():
        part = CLASS_PARTS.get(answer.vocabulary)
        if part is None:
            continue
        value = info_needed(answer) if part == "info-needed" else crd_value(answer, part)
        rows.append(
            MappingRow(
                answer.vocabulary,
                answer.notation,
                answer.label,
                part,
                value.code if value else None,
                value.relation if value else None,
                value.not_stated if value else False,
            )
        )
    order = {part: i for i, part in enumerate(CLASS_PARTS.values())}
    return sorted(rows, key=lambda r: (order[r.part], r.answer))
