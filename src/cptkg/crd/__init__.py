"""HL7 Da Vinci CRD export: the graph's payer-policy answers for a code as FHIR R4
``ext-coverage-information`` extensions on a ``ServiceRequest``, returned in a CDS Hooks
response (see docs/crd.md).

Modules: :mod:`~cptkg.crd.spec` (what CRD defines), :mod:`~cptkg.crd.mapping` (cptkg answers
to CRD codes, read from the ontology's SKOS mappings), :mod:`~cptkg.crd.answers` (the policies
in force for a code and payer), :mod:`~cptkg.crd.coverage_information` (one extension per
policy), :mod:`~cptkg.crd.invariants` (the extension's invariants crd-ci-q1..q9),
:mod:`~cptkg.crd.build` (the ServiceRequest), :mod:`~cptkg.crd.hooks` (the CDS Hooks
response) and :mod:`~cptkg.crd.export` (all of it for a code, a payer and a date).
"""
