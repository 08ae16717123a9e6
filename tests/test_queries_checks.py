"""Each quality check (check-*.rq) finds the defect it is written for, and only that."""

from __future__ import annotations

import pytest
from rdflib import Graph

from cptkg.engines.rdflib_engine import RdflibEngine
from cptkg.query import run_stored

PREFIXES = """
@prefix cptkg: <https://w3id.org/cptkg/ontology#> .
@prefix kg: <https://w3id.org/cptkg/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""

#: check name -> (broken Turtle added to the shipped graph, the node the check must report)
DEFECTS = {
    "check-codes-without-label-or-notation": (
        "kg:cpt-00000 a cptkg:CPTCode ; skos:inScheme kg:cs-cpt ; skos:notation '00000' .",
        "cpt-00000",
    ),
    "check-claims-without-quote": (
        "kg:finding-x a cptkg:ClinicalFinding ; rdfs:label 'x' ; "
        "prov:wasDerivedFrom kg:section-clinical-context .",
        "finding-x",
    ),
    "check-policies-missing-answer": (
        "kg:policy-x a cptkg:PayerPolicy ; cptkg:payer kg:payer-aetna ; "
        "cptkg:appliesToCode kg:cpt-64866 ; cptkg:coverage cptkg:coverage-not-stated .",
        "policy-x",
    ),
    "check-policy-diagnosis-codes": (
        "kg:icd10cm-S04.5 a cptkg:ICD10CMCode ; skos:notation 'S04.5' ; cptkg:billable false ; "
        "prov:wasDerivedFrom kg:codeset-icd10cm-fy2026 . "
        "kg:policy-aetna-cpb-0745 cptkg:supportingDiagnosis kg:icd10cm-S04.5 .",
        "policy-aetna-cpb-0745",
    ),
    "check-dangling-references": (
        "kg:procedure-64866 cptkg:indication kg:indication-typo .",
        "indication-typo",
    ),
    "check-not-stated-with-value": (
        "kg:benchmark-64866-payment cptkg:paymentAmount '1250.00'^^xsd:decimal .",
        "benchmark-64866-payment",
    ),
    "check-policy-dates": (
        "kg:policy-uhc-64866-overview cptkg:effectiveDate '2025-13-01' .",
        "policy-uhc-64866-overview",
    ),
    "check-anatomy-without-uberon": (
        "kg:anatomy-x a cptkg:AnatomicalStructure ; rdfs:label 'x' .",
        "anatomy-x",
    ),
    "check-workflow-order": (
        "kg:step-x a cptkg:WorkflowStep ; rdfs:label 'x' ; cptkg:stepOrder 3 . "
        "kg:procedure-64866 cptkg:workflowStep kg:step-x .",
        "step-x",
    ),
    "check-indications-without-diagnosis-code": (
        "kg:indication-x a cptkg:Indication ; rdfs:label 'x' .",
        "indication-x",
    ),
}


def test_every_check_has_a_defect_fixture():
    from cptkg.catalog import load_catalog

    checks = sorted(n for n in load_catalog() if n.startswith("check-"))
    assert checks, "no quality checks in queries/"
    assert checks == sorted(DEFECTS), "add a defect for each check-*.rq to DEFECTS"


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_check_finds_its_defect(shipped_union, name):
    turtle, node = DEFECTS[name]
    g = Graph()
    g += shipped_union
    g.parse(data=PREFIXES + turtle, format="turtle")
    result = run_stored(RdflibEngine(g), name)
    found = {str(t) for row in result.rows for t in row if t is not None}
    assert any(v.endswith("/" + node) for v in found), f"{name} missed {node}: {found}"
