"""Benchmark: validating one new policy file costs the same on a small or a huge graph.

``python benchmarks/bench_intake.py [--scale 1000] [--runs 5]`` validates one (illustrative) new
policy file in the context of

* the shipped graph, and
* the shipped graph plus synthetic payers, codes and policies (following the data model,
  under ``kg:synthetic/``) until it is ``--scale`` times larger,

and prints the median time of ``--runs`` validations for each and their ratio. Building the
contexts (parsing / synthesising) is timed separately: it is paid once per process, not per
file checked. ``benchmarks/bench.py`` measures the same on Oxigraph, beside the other engines.

``python benchmarks/bench_intake.py --new-data [--rows 100,1000,10000] [--triples 25000]
[--runs 3]`` measures the other axis, the size of the new data: it writes spreadsheets of N
valid policies (rows of tests/data/intake/valid-policies.csv with unique ids) and one
N-Triples file of copies of tests/data/intake/valid-policy.ttl, then times the commands a user
runs, start-up included: ``cptkg import-csv FILE.csv -o OUT.ttl`` per row count and
``cptkg validate NEW.nt`` (default and Oxigraph engine), printing the median of ``--runs`` and
the time per policy, which stays flat when validation is linear in the new data.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS, XSD

import cptkg
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


#: The fixtures the new data is copied from.
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "data" / "intake"


def policy_rows(n: int) -> str:
    """A spreadsheet of ``n`` valid policies: the rows of valid-policies.csv in turn, each
    with its own policy id."""
    lines = (FIXTURES / "valid-policies.csv").read_text(encoding="utf-8").splitlines()
    rows = list(csv.reader(x for x in lines if not x.startswith("#")))
    header, examples = rows[0], rows[1:]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i in range(n):
        row = list(examples[i % len(examples)])
        row[0] = f"{row[0]}-{i}"
        writer.writerow(row)
    return out.getvalue()


def policy_triples(min_triples: int) -> tuple[str, int]:
    """N-Triples of copies of valid-policy.ttl (own IRI and identifier each) until there are
    at least ``min_triples`` triples; returns (text, number of policies)."""
    one = Graph().parse(FIXTURES / "valid-policy.ttl", format="turtle")
    policy = next(iter(one.subjects(RDF.type, CPTKG.PayerPolicy)))
    ident = str(one.value(policy, DCTERMS.identifier))
    g = Graph()
    copies = 0
    while len(g) < min_triples:
        iri = URIRef(f"{policy}-{copies}")
        for _s, p, o in one.triples((policy, None, None)):
            if p == DCTERMS.identifier:
                o = Literal(f"{ident}-{copies}")
            g.add((iri, p, o))
        copies += 1
    return g.serialize(format="nt"), copies


def _cli_time(args: list[str], runs: int) -> tuple[float, list[float], float]:
    """Median wall time of ``python -m cptkg ARGS`` (exit 0 required), start-up included, the
    times of each run and the median CPU time (user + system) of the command, which a busy
    machine inflates less than the wall time."""
    env = dict(os.environ)
    src = str(Path(cptkg.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(x for x in (src, env.get("PYTHONPATH")) if x)
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "cptkg", *args], capture_output=True, env=env, check=False
        )
        times.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"cptkg {' '.join(args)}: exit {proc.returncode}\n{proc.stderr!r}")
    return statistics.median(times), times, statistics.median(cpu)


def new_data(rows: list[int], triples: int, runs: int) -> dict[str, object]:
    """Time import-csv per row count and validate of one N-Triples file (both engines)."""
    figures: dict[str, object] = {
        "runs": runs,
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "import_csv": [],
        "validate_nt": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for n in rows:
            sheet = Path(tmp) / f"policies-{n}.csv"
            sheet.write_text(policy_rows(n), encoding="utf-8")
            med, times, cpu = _cli_time(
                ["import-csv", str(sheet), "-o", str(Path(tmp) / "out.ttl")], runs
            )
            figures["import_csv"].append(  # type: ignore[union-attr]
                {
                    "rows": n,
                    "median_s": round(med, 3),
                    "cpu_s": round(cpu, 3),
                    "per_row_ms": round(med / n * 1000, 3),
                    "times_s": [round(t, 3) for t in times],
                }
            )
        text, copies = policy_triples(triples)
        nt = Path(tmp) / "new-policies.nt"
        nt.write_text(text, encoding="utf-8")
        for engine in ("rdflib", "oxigraph"):
            med, times, cpu = _cli_time(["validate", "--engine", engine, str(nt)], runs)
            figures["validate_nt"].append(  # type: ignore[union-attr]
                {
                    "engine": engine,
                    "triples": len(text.splitlines()),
                    "policies": copies,
                    "bytes": nt.stat().st_size,
                    "median_s": round(med, 3),
                    "cpu_s": round(cpu, 3),
                    "per_policy_ms": round(med / copies * 1000, 3),
                    "times_s": [round(t, 3) for t in times],
                }
            )
    figures["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return figures


def print_new_data(figures: dict[str, object]) -> None:
    """The figures of :func:`new_data` as text."""
    print(
        f"new data of growing size, median of {figures['runs']} runs, start-up included "
        f"(load average {figures['load_before']} before, {figures['load_after']} after):"
    )
    for row in figures["import_csv"]:  # type: ignore[attr-defined]
        print(
            f"  cptkg import-csv {row['rows']:>6,} rows: {row['median_s']:8.2f} s "
            f"({row['per_row_ms']:.2f} ms per row; CPU {row['cpu_s']:.2f} s)"
        )
    for row in figures["validate_nt"]:  # type: ignore[attr-defined]
        print(
            f"  cptkg validate --engine {row['engine']:<8} {row['triples']:,} triples "
            f"({row['policies']} policies, {row['bytes'] / 1e6:.1f} MB): "
            f"{row['median_s']:8.2f} s ({row['per_policy_ms']:.2f} ms per policy; "
            f"CPU {row['cpu_s']:.2f} s)"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures (text, or JSON with --json)."""
    ap = argparse.ArgumentParser(prog="python benchmarks/bench_intake.py", description=__doc__)
    ap.add_argument("--scale", type=int, default=1000, help="size of the big graph / shipped")
    ap.add_argument(
        "--runs",
        type=int,
        default=None,
        help="runs per measurement (median; 5, or 3 with --new-data)",
    )
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument(
        "--new-data",
        action="store_true",
        help="time import-csv and validate on new data of growing size instead",
    )
    ap.add_argument("--rows", default="100,1000,10000", help="spreadsheet sizes (--new-data)")
    ap.add_argument(
        "--triples", type=int, default=25_000, help="size of the N-Triples file (--new-data)"
    )
    args = ap.parse_args(argv)
    if args.new_data:
        rows = [int(x) for x in args.rows.split(",") if x.strip()]
        found = new_data(rows, args.triples, args.runs or 3)
        if args.json:
            print(json.dumps(found, indent=2))
        else:
            print_new_data(found)
        return 0
    args.runs = args.runs or 5

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
