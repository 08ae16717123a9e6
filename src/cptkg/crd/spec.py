"""What HL7 Da Vinci CRD 2.2.1 (STU 2.2, FHIR 4.0.1) defines for ``ext-coverage-information``:
the extension's URL, its parts in the order the FSH declares them, and the codes each coded
part allows (the required value sets of ``CoverageInformationValuesets.fsh``)."""

from __future__ import annotations

#: Canonical URL of the coverage-information extension.
EXTENSION_URL = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"

#: The CRD coverage-information code system.
CODE_SYSTEM = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/coverage-information-codes"

#: The value set reason codings are checked against (invariant crd-ci-q7).
REASON_VALUE_SET = "http://hl7.org/fhir/us/davinci-crd/ValueSet/coverageAssertionReasons"

#: The extension's parts, in the order ``CoverageInformation.fsh`` declares them.
PARTS: tuple[str, ...] = (
    "coverage",
    "covered",
    "pa-needed",
    "doc-needed",
    "doc-purpose",
    "info-needed",
    "billingCode",
    "reason",
    "detail",
    "dependency",
    "questionnaire",
    "date",
    "coverage-assertion-id",
    "satisfied-pa-id",
    "contact",
    "expiry-date",
)

#: Parts that must occur exactly once.
REQUIRED_PARTS: tuple[str, ...] = ("coverage", "covered", "date", "coverage-assertion-id")

#: Parts that may occur at most once.
SINGLE_PARTS: tuple[str, ...] = (*REQUIRED_PARTS, "pa-needed", "satisfied-pa-id", "expiry-date")

#: The codes each coded part allows (required bindings).
VALUE_SETS: dict[str, frozenset[str]] = {
    "covered": frozenset({"not-covered", "covered", "conditional", "indeterminate"}),
    "pa-needed": frozenset(
        {"no-auth", "auth-needed", "satisfied", "performpa", "conditional", "indeterminate"}
    ),
    "doc-needed": frozenset({"clinical", "admin", "patient", "conditional", "indeterminate"}),
    "doc-purpose": frozenset({"withpa", "withclaim", "withorder", "retain-doc", "OTH"}),
    "info-needed": frozenset(
        {"performer", "location", "timeframe", "contract-window", "detail-code", "OTH"}
    ),
}

#: The three key answers (covered, pa-needed, doc-needed).
KEY_PARTS: tuple[str, ...] = ("covered", "pa-needed", "doc-needed")
