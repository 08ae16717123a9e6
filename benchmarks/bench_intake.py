"""Benchmark: validating one new policy file costs the same on a small or a huge graph.

``python benchmarks/bench_intake.py [--scale 1000] [--runs 5]`` validates one (illustrative) new
policy file in the context of

* the shipped graph, and
* the shipped graph plus synthetic payers, codes and policies (following the data model,
  under ``kg:synthetic/``) until it is ``--scale`` times larger,

and prints the median time of ``--runs`` validations for each and their ratio. Building the
contexts (parsing / synthesising) is timed separately: it is paid once per process, not per
file checked. ``benchmarks/bench.py`` measures the same on Oxigraph, beside the other engines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS, XSD

from cptkg.intake.context import GraphContext, shipped_context
from cptkg.intake.reading import read_new
from cptkg.intake.validation import validate_new_data
from cptkg.load import load_ontology, load_shapes
from cptkg.namespaces import CPTKG, KG

#: The new policy checked in every run (illustrative data, not a real payer policy).
NEW_POLICY = """\
@prefix cptkg:   <https://w3id.org/cptkg/ontology#> .
@prefix kg:      <https://w3id.org/cptkg/id/> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov:    <http://www.w3.org/ns/prov#> .

kg:policy-bench-cigna-64866 a cptkg:PayerPolicy ;
    rdfs:label "Cigna Health: CPT 64866 (ILLUSTRATIVE benchmark policy)" ;
    dcterms:identifier "bench-cigna-64866" ;
    cptkg:payer kg:payer-cigna ;
    cptkg:appliesToCode kg:cpt-64866, kg:cpt-64868 ;
    cptkg:codeApplicabilityBasis cptkg:applicability-stated-by-code ;
    cptkg:effectiveDate "2025-01-01"^^xsd:date ;
    cptkg:endDate "2025-12-31"^^xsd:date ;
    cptkg:coverage cptkg:coverage-conditional ;
    cptkg:priorAuthorization cptkg:pa-required ;
    cptkg:siteOfServiceRestriction cptkg:site-restricted ;
    cptkg:allowedPlaceOfService kg:pos-21, kg:pos-22 ;
    cptkg:documentationRequired cptkg:doc-clinical ;
    cptkg:medicalNecessityCriteria cptkg:criteria-stated ;
    cptkg:criteriaText "Illustrative criteria."@en ;
    cptkg:supportingDiagnosis kg:icd10cm-G51.0 ;
    cptkg:policyModifier kg:modifier-22 ;
    cptkg:evidenceStatus cptkg:evidence-illustrative ;
    prov:wasDerivedFrom kg:codeset-payer-documents .
"""

_ANSWERS = {
    CPTKG.coverage: ["coverage-covered", "coverage-not-covered", "coverage-conditional"],
    CPTKG.priorAuthorization: ["pa-required", "pa-not-required", "pa-not-stated"],
    CPTKG.siteOfServiceRestriction: ["site-not-restricted", "site-not-stated"],
    CPTKG.documentationRequired: ["doc-clinical", "doc-admin", "doc-not-stated"],
    CPTKG.medicalNecessityCriteria: ["criteria-none", "criteria-not-stated"],
}


def synthesize(base: Graph, scale: int) -> Graph:
    """``base`` plus synthetic payers, codes, documents and policies: ``scale`` x its size."""
    g = Graph()
    g += base
    target = len(base) * scale
    syn = f"{KG}synthetic/"
    n_payers = max(10, scale)
    n_codes = max(20, 2 * scale)
    true = Literal(True)
    add = g.add
    for i in range(n_payers):
        p = URIRef(f"{syn}payer-{i}")
        add((p, RDF.type, CPTKG.Payer))
        add((p, RDFS.label, Literal(f"Synthetic payer {i}")))
        add((p, CPTKG.payerType, CPTKG["payer-commercial"]))
        add((p, PROV.wasDerivedFrom, KG["codeset-payer-documents"]))
        add((p, CPTKG.synthetic, true))
    for i in range(n_codes):
        c = URIRef(f"{syn}cpt-{i}")
        add((c, RDF.type, CPTKG.CPTCode))
        add((c, SKOS.notation, Literal(f"{90000 + i % 10000:05d}")))
        add((c, SKOS.inScheme, KG["cs-cpt"]))
        add((c, SKOS.prefLabel, Literal(f"Synthetic procedure {i}", lang="en")))
        add((c, CPTKG.synthetic, true))
    i = 0
    while len(g) < target:
        pol = URIRef(f"{syn}policy-{i}")
        add((pol, RDF.type, CPTKG.PayerPolicy))
        add((pol, RDFS.label, Literal(f"Synthetic policy {i}")))
        add((pol, DCTERMS.identifier, Literal(f"synthetic-{i}")))
        add((pol, CPTKG.payer, URIRef(f"{syn}payer-{i % n_payers}")))
        add((pol, CPTKG.appliesToCode, URIRef(f"{syn}cpt-{i % n_codes}")))
        add((pol, CPTKG.appliesToCode, URIRef(f"{syn}cpt-{(i * 7) % n_codes}")))
        add((pol, CPTKG.codeApplicabilityBasis, CPTKG["applicability-stated-by-code"]))
        add((pol, CPTKG.effectiveDate, Literal(f"{2000 + i % 25}-01-01", datatype=XSD.date)))
        add((pol, CPTKG.versionLabel, Literal(f"v{i % 5}")))
        for prop, values in _ANSWERS.items():
            add((pol, prop, CPTKG[values[i % len(values)]]))
        add((pol, CPTKG.evidenceStatus, CPTKG["evidence-illustrative"]))
        add((pol, PROV.wasDerivedFrom, KG["codeset-payer-documents"]))
        add((pol, CPTKG.supportingDiagnosis, KG["icd10cm-G51.0"]))
        add((pol, CPTKG.statusNote, Literal("Synthetic benchmark data.", lang="en")))
        add((pol, CPTKG.synthetic, true))
        if i >= n_payers:
            add((pol, CPTKG.supersedes, URIRef(f"{syn}policy-{i - n_payers}")))
        i += 1
    return g


def _median_time(fn: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures (text, or JSON with --json)."""
    ap = argparse.ArgumentParser(prog="python benchmarks/bench_intake.py", description=__doc__)
    ap.add_argument("--scale", type=int, default=1000, help="size of the big graph / shipped")
    ap.add_argument("--runs", type=int, default=5, help="validations per graph (median)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "new-policy.ttl"
        policy.write_text(NEW_POLICY, encoding="utf-8")

        t0 = time.perf_counter()
        small = shipped_context()
        small_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        big = GraphContext(synthesize(small.graph, args.scale))
        big_build = time.perf_counter() - t0

        shapes, ontology = load_shapes(), load_ontology()

        def check(ctx: GraphContext) -> Callable[[], object]:
            def run() -> object:
                report = validate_new_data(
                    read_new([policy]), ctx, shapes=shapes, ontology=ontology
                )
                assert report.conforms, report.to_text()
                return report

            return run

        check(small)()  # warm-up (rdflib SPARQL parser, pySHACL imports)
        small_med, small_times = _median_time(check(small), args.runs)
        big_med, big_times = _median_time(check(big), args.runs)

    figures = {
        "new_file_triples": len(Graph().parse(data=NEW_POLICY, format="turtle")),
        "shipped_triples": len(small.graph),
        "big_triples": len(big.graph),
        "size_ratio": round(len(big.graph) / len(small.graph), 1),
        "runs": args.runs,
        "shipped_median_s": round(small_med, 4),
        "big_median_s": round(big_med, 4),
        "time_ratio_big_over_shipped": round(big_med / small_med, 2),
        "shipped_times_s": [round(t, 4) for t in small_times],
        "big_times_s": [round(t, 4) for t in big_times],
        "shipped_load_s": round(small_load, 2),
        "big_build_s": round(big_build, 2),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(
            f"validate one new policy file ({figures['new_file_triples']} triples), "
            f"median of {args.runs} runs:\n"
            f"  shipped graph   {figures['shipped_triples']:>10,} triples: "
            f"{small_med * 1000:8.1f} ms\n"
            f"  synthetic graph {figures['big_triples']:>10,} triples "
            f"(x{figures['size_ratio']}): {big_med * 1000:8.1f} ms\n"
            f"  time ratio big / shipped: {figures['time_ratio_big_over_shipped']}\n"
            f"  (one-off context set-up, not per file: shipped load {small_load:.2f} s, "
            f"synthetic build {big_build:.1f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
