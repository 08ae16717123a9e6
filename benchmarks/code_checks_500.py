"""Validation time of a policy listing 500 ICD-10-CM diagnosis codes (plus 4 places of service).

    PYTHONPATH=src python benchmarks/code_checks_500.py [--bad 25] [--out policy-500.ttl]

The policy lists 500 distinct codes: billable codes of the FY2026 release picked with a fixed
seed, of which ``--bad`` are replaced by codes that are not in the release (a real code with
"9" appended) and by categories; one place of service (98) is not in the CMS set. Times
:func:`cptkg.codes.checks.check_graph` on the policy (median of 5, index already built) and,
with ``--out``, writes the policy as Turtle so the whole path can be timed too.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from rdflib import Graph, Literal
from rdflib.namespace import RDF, RDFS, SKOS, XSD

from cptkg.codes.checks import check_graph
from cptkg.codes.index import open_index
from cptkg.codes.releases import ICD10CM_FY2026
from cptkg.namespaces import CPTKG, KG, bind_prefixes


def build_policy(bad: int) -> Graph:
    """A policy graph listing 500 diagnosis codes, ``bad`` of them wrong."""
    index = open_index(ICD10CM_FY2026)
    codes = [e for e in index.entries() if not e.is_group]
    billable = [e.notation for e in codes if e.billable]
    categories = [e.notation for e in codes if not e.billable]
    rng = random.Random(64866)
    chosen = rng.sample(billable, 500 - bad)
    chosen += [n + "9" for n in rng.sample(billable, bad - bad // 2)]
    chosen += rng.sample(categories, bad // 2)
    g = bind_prefixes(Graph())
    policy = KG["policy-benchmark-500"]
    g.add((policy, RDF.type, CPTKG.PayerPolicy))
    g.add((policy, RDFS.label, Literal("Benchmark policy listing 500 diagnosis codes")))
    g.add((policy, CPTKG.effectiveDate, Literal("2026-05-01", datatype=XSD.date)))
    for n in chosen:
        code = KG[f"icd10cm-{n}"]
        g.add((policy, CPTKG.supportingDiagnosis, code))
        g.add((code, RDF.type, CPTKG.ICD10CMCode))
        g.add((code, SKOS.notation, Literal(n)))
        g.add((code, SKOS.inScheme, KG["cs-icd10cm"]))
    for pos in ("19", "21", "22", "98"):
        g.add((policy, CPTKG.allowedPlaceOfService, KG[f"pos-{pos}"]))
    return g


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--bad", type=int, default=25)
    parser.add_argument("--out")
    args = parser.parse_args()
    g = build_policy(args.bad)
    if args.out:
        g.serialize(args.out, format="turtle")
    times = []
    problems = []
    for _ in range(5):
        start = time.perf_counter()
        problems = check_graph(g)
        times.append(time.perf_counter() - start)
    by_rule: dict[str, int] = {}
    for p in problems:
        by_rule[p.rule] = by_rule.get(p.rule, 0) + 1
    print(f"500 diagnosis codes: check_graph median {statistics.median(times) * 1000:.1f} ms")
    print(f"problems by rule: {dict(sorted(by_rule.items()))}")


if __name__ == "__main__":
    main()
