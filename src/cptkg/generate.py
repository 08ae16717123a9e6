"""Synthetic policy graphs of the cptkg model, at any size, written as a stream.

The generator writes N-Triples (``.nt``) or Turtle (``.ttl``) line by line and never builds
an rdflib Graph, so 10 million triples need a few megabytes of memory. It is deterministic
for a given ``seed``. Every resource it creates lives under
``https://w3id.org/cptkg/id/synthetic/`` and carries ``cptkg:synthetic true``.

What a generated graph holds (``codes`` = N, ``payers`` = M, ``versions`` = K):

* N synthetic CPT codes and N synthetic ICD-10-CM codes (in the shipped code systems
  ``kg:cs-cpt`` / ``kg:cs-icd10cm``), four synthetic place-of-service codes;
* M payers, each with one policy document;
* N x M x K payer policies: K dated versions of each payer's policy on each code, every
  version superseding the previous one, each answering the five key questions.

A generated graph references the shipped code systems and the ontology's vocabularies, so
it is meant to be loaded (and validated) together with the shipped graph:
``cptkg validate data/ graph.nt``. With ``invalid_rate=0`` that union conforms to the
shipped shapes. With ``invalid_rate=R > 0`` a share R of the policies and of the CPT codes
is broken, one kind of violation per broken resource, the kinds taken in turn so that
every kind appears (see :data:`POLICY_KINDS`, :data:`CODE_KINDS`); a JSON manifest
written beside the graph (``<FILE>.manifest.json``) lists exactly the (focus node, source
shape, path, severity) results each seeded violation must produce.

About 21 triples per policy: ``--codes 100 --payers 100 --versions 5`` gives about 1.05M.
"""

from __future__ import annotations

import datetime as _dt
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cptkg.intake.schema import Schema, policy_schema

CPTKG = "https://w3id.org/cptkg/ontology#"
KG = "https://w3id.org/cptkg/id/"
SYN = KG + "synthetic/"
SHAPE = "https://w3id.org/cptkg/shapes#"
SH = "http://www.w3.org/ns/shacl#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
XSD = "http://www.w3.org/2001/XMLSchema#"

_PREFIXES = {
    "cptkg": CPTKG,
    "syn": SYN,
    "kg": KG,
    "rdfs": RDFS,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
    "xsd": XSD,
}

#: Size presets (codes, payers, versions) for roughly 10k, 100k, 1M and 10M triples.
PRESETS: dict[str, tuple[int, int, int]] = {
    "10k": (10, 10, 5),
    "100k": (50, 20, 5),
    "1m": (100, 100, 5),
    "10m": (500, 200, 5),
}

#: Policy violation kinds: kind -> (source shape local name, path local name or None,
#: severity, constraint component local name).
POLICY_KINDS: dict[str, tuple[str, str | None, str, str]] = {
    "minCount": (
        "PayerPolicyShape-coverage",
        "cptkg:coverage",
        "Violation",
        "MinCountConstraintComponent",
    ),
    "maxCount": (
        "PayerPolicyShape-priorAuthorization",
        "cptkg:priorAuthorization",
        "Violation",
        "MaxCountConstraintComponent",
    ),
    "datatype": (
        "PayerPolicyShape-identifier",
        "dcterms:identifier",
        "Violation",
        "DatatypeConstraintComponent",
    ),
    "class": (
        "PayerPolicyShape-supportingDiagnosis",
        "cptkg:supportingDiagnosis",
        "Violation",
        "ClassConstraintComponent",
    ),
    "in": ("PayerPolicyShape-coverage", "cptkg:coverage", "Violation", "InConstraintComponent"),
    "dateOrder": (
        "PolicyDatesShape-order",
        None,
        "Violation",
        "SPARQLConstraintComponent",
    ),
    "or": ("PolicySiteRestrictionShape", None, "Violation", "OrConstraintComponent"),
    "orCriteria": ("PolicyCriteriaTextShape", None, "Violation", "OrConstraintComponent"),
    "warning": ("PolicyCriteriaConsistencyShape", None, "Warning", "OrConstraintComponent"),
    "minLength": (
        "ClaimShape-quoteType",
        "cptkg:quote",
        "Violation",
        "MinLengthConstraintComponent",
    ),
    "sparqlUnique": ("PolicyIdentifierUniqueShape", None, "Violation", "SPARQLConstraintComponent"),
    "sparqlSupersedes": (
        "PolicySupersedesEarlierShape",
        None,
        "Violation",
        "SPARQLConstraintComponent",
    ),
}

#: CPT code violation kinds, same layout as :data:`POLICY_KINDS`.
CODE_KINDS: dict[str, tuple[str, str | None, str, str]] = {
    "pattern": ("CPTCodeShape-format", "skos:notation", "Violation", "PatternConstraintComponent"),
    "hasValue": (
        "CPTCodeShape-scheme",
        "skos:inScheme",
        "Violation",
        "HasValueConstraintComponent",
    ),
}

_POS = ("90", "91", "92", "93")
_BASE_DATE = _dt.date(2015, 1, 1)


@dataclass
class GenerateResult:
    """What :func:`generate` wrote."""

    path: Path
    triples: int
    policies: int
    expected: list[dict[str, Any]] = field(default_factory=list)
    manifest_path: Path | None = None


def manifest_path_for(path: Path | str) -> Path:
    """The manifest sidecar of a generated file: ``<FILE>.manifest.json``."""
    p = Path(path)
    return p.with_name(p.name + ".manifest.json")


def _expand(curie: str | None) -> str | None:
    if curie is None:
        return None
    prefix, local = curie.split(":", 1)
    return _PREFIXES[prefix] + local


class _Writer:
    """Writes subjects with their predicate-object lists as N-Triples or Turtle."""

    _LOCAL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")

    def __init__(self, out: IO[str], turtle: bool) -> None:
        self.out = out
        self.turtle = turtle
        self.triples = 0
        self._buf: list[str] = []
        if turtle:
            for p, ns in _PREFIXES.items():
                self._buf.append(f"@prefix {p}: <{ns}> .\n")
            self._buf.append("\n")

    def iri(self, iri: str) -> str:
        if self.turtle:
            for p, ns in _PREFIXES.items():
                if iri.startswith(ns) and self._LOCAL.match(iri, len(ns)):
                    return f"{p}:{iri[len(ns) :]}"
        return f"<{iri}>"

    def lit(self, text: str, datatype: str | None = None, lang: str | None = None) -> str:
        esc = (
            text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        )
        if lang:
            return f'"{esc}"@{lang}'
        if datatype and datatype != XSD + "string":
            return f'"{esc}"^^{self.iri(datatype)}'
        return f'"{esc}"'

    def subject(self, s: str, pos: list[tuple[str, str]]) -> None:
        self.triples += len(pos)
        if self.turtle:
            subj = self.iri(s)
            body = " ;\n    ".join(f"{'a' if p == RDF_TYPE else self.iri(p)} {o}" for p, o in pos)
            self._buf.append(f"{subj} {body} .\n")
        else:
            subj = f"<{s}>"
            self._buf.extend(f"{subj} <{p}> {o} .\n" for p, o in pos)
        if len(self._buf) > 4096:
            self.flush()

    def flush(self) -> None:
        self.out.write("".join(self._buf))
        self._buf.clear()


def key_answers(schema: Schema) -> dict[str, tuple[str, ...]]:
    """The key questions every policy answers (required fields with controlled answers), by
    property local name, with their answers' local names in the shapes' ``sh:in`` order."""
    return {
        str(f.path).removeprefix(CPTKG): tuple(str(a).removeprefix(CPTKG) for a in f.answers)
        for f in schema.fields
        if f.required and len(f.answers) > 1
    }


def _cpt_notation(i: int) -> str:
    return f"{i % 10000:04d}{'TUVWXYZABCDEFGHIJKLMNOPQRS'[(i // 10000) % 26]}"


def _icd_notation(i: int) -> str:
    return f"Q{(i // 10000) % 10}{(i // 1000) % 10}.{i % 1000:03d}"


def _pick(rng: random.Random, n: int, k: int) -> list[int]:
    k = max(0, min(n, k))
    return sorted(rng.sample(range(n), k)) if k else []


def _assign(indices: list[int], kinds: list[str]) -> dict[int, str]:
    return {idx: kinds[n % len(kinds)] for n, idx in enumerate(indices)}


def generate(
    output: Path | str,
    *,
    codes: int = 10,
    payers: int = 10,
    versions: int = 5,
    seed: int = 0,
    invalid_rate: float = 0.0,
    fmt: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> GenerateResult:
    """Write a synthetic graph to ``output`` (format from ``fmt`` or the extension: ``nt``
    or ``ttl``), plus ``<output>.manifest.json``; return counts and the expected results."""
    if codes < 1 or payers < 1 or versions < 1:
        raise ValueError("codes, payers and versions must be at least 1")
    if not 0.0 <= invalid_rate <= 1.0:
        raise ValueError("invalid_rate must be between 0 and 1")
    path = Path(output)
    fmt = fmt or ("ttl" if path.suffix.lower() == ".ttl" else "nt")
    if fmt not in ("nt", "ttl"):
        raise ValueError(f"unsupported format {fmt!r}: use nt or ttl")
    rng = random.Random(seed)
    answers = key_answers(policy_schema())
    n_policies = codes * payers * versions

    # Which resources get which violation, chosen up front (deterministic).
    policy_kinds = list(POLICY_KINDS)
    if payers < 2:
        policy_kinds.remove("sparqlSupersedes")
    if versions < 2:
        policy_kinds.remove("sparqlUnique")
    bad_policies: dict[int, str] = {}
    bad_codes: dict[int, str] = {}
    if invalid_rate > 0:
        n_bad = max(len(policy_kinds), round(invalid_rate * n_policies))
        bad_policies = _assign(_pick(rng, n_policies, n_bad), policy_kinds)
        bad_codes = _assign(
            _pick(rng, codes, max(len(CODE_KINDS), round(invalid_rate * codes))), list(CODE_KINDS)
        )
        _fix_conflicts(bad_policies, versions)

    expected: list[dict[str, Any]] = []

    def expect(
        kind: str, focus: str, table: dict[str, tuple[str, str | None, str, str]], **extra: Any
    ) -> None:
        shape, path_, severity, comp = table[kind]
        expected.append(
            {
                "kind": kind,
                "focus_node": focus,
                "source_shape": SHAPE + shape,
                "path": _expand(path_),
                "severity": severity,
                "constraint_component": SH + comp,
                **extra,
            }
        )

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="\n") as out:
        w = _Writer(out, fmt == "ttl")
        C = CPTKG.__add__  # noqa: N806 - short constructor for vocabulary IRIs
        true = w.lit("true", XSD + "boolean")
        a = RDF_TYPE
        generator = SYN + "generator"
        w.subject(
            generator,
            [
                (a, w.iri(C("CodeSet"))),
                (
                    RDFS + "label",
                    w.lit(f"cptkg synthetic graph generator (seed {seed}): illustrative, not real"),
                ),
                (C("synthetic"), true),
            ],
        )
        for k, notation in enumerate(_POS):
            w.subject(
                SYN + f"pos-{k}",
                [
                    (a, w.iri(C("PlaceOfServiceCode"))),
                    (SKOS + "notation", w.lit(notation)),
                    (
                        SKOS + "prefLabel",
                        w.lit(f"Synthetic place of service {notation}", lang="en"),
                    ),
                    (SKOS + "inScheme", w.iri(KG + "cs-pos")),
                    (C("synthetic"), true),
                ],
            )
        for i in range(codes):
            cpt = SYN + f"cpt-{i}"
            kind = bad_codes.get(i)
            notation = "BAD-" + str(i) if kind == "pattern" else _cpt_notation(i)
            scheme = KG + ("cs-hcpcs" if kind == "hasValue" else "cs-cpt")
            if kind:
                expect(kind, cpt, CODE_KINDS, value=notation if kind == "pattern" else None)
            w.subject(
                cpt,
                [
                    (a, w.iri(C("CPTCode"))),
                    (SKOS + "notation", w.lit(notation)),
                    (SKOS + "prefLabel", w.lit(f"Synthetic procedure code {i}", lang="en")),
                    (SKOS + "inScheme", w.iri(scheme)),
                    (C("synthetic"), true),
                ],
            )
            w.subject(
                SYN + f"icd-{i}",
                [
                    (a, w.iri(C("ICD10CMCode"))),
                    (SKOS + "notation", w.lit(_icd_notation(i))),
                    (SKOS + "prefLabel", w.lit(f"Synthetic diagnosis {i}", lang="en")),
                    (SKOS + "inScheme", w.iri(KG + "cs-icd10cm")),
                    (C("synthetic"), true),
                ],
            )
        for j in range(payers):
            payer = SYN + f"payer-{j}"
            w.subject(
                payer,
                [
                    (a, w.iri(C("Payer"))),
                    (RDFS + "label", w.lit(f"Synthetic Payer {j}")),
                    (
                        C("payerType"),
                        w.iri(C("payer-public" if j % 7 == 0 else "payer-commercial")),
                    ),
                    (PROV + "wasDerivedFrom", w.iri(generator)),
                    (C("synthetic"), true),
                ],
            )
            w.subject(
                SYN + f"document-{j}",
                [
                    (a, w.iri(C("PolicyDocument"))),
                    (RDFS + "label", w.lit(f"Synthetic Payer {j} medical policy manual")),
                    (C("payer"), w.iri(payer)),
                    (C("evidenceStatus"), w.iri(C("evidence-illustrative"))),
                    (PROV + "wasDerivedFrom", w.iri(generator)),
                    (C("synthetic"), true),
                ],
            )
        idx = 0
        report_every = max(1, n_policies // 200)
        for j in range(payers):
            payer = SYN + f"payer-{j}"
            for i in range(codes):
                for k in range(versions):
                    kind = bad_policies.get(idx)
                    _policy(w, rng, j, i, k, versions, payers, kind, expect, answers)
                    idx += 1
                    if progress is not None and idx % report_every == 0:
                        progress(report_every)
        w.flush()
    tmp.replace(path)
    manifest = manifest_path_for(path)
    doc = {
        "generator": "cptkg.generate",
        "seed": seed,
        "codes": codes,
        "payers": payers,
        "versions": versions,
        "invalid_rate": invalid_rate,
        "triples": w.triples,
        "policies": n_policies,
        "format": fmt,
        "expected": sorted(
            expected, key=lambda e: (e["focus_node"], e["source_shape"], e["path"] or "")
        ),
    }
    manifest.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return GenerateResult(path, w.triples, n_policies, doc["expected"], manifest)


def _fix_conflicts(bad: dict[int, str], versions: int) -> None:
    """Keep seeded violations independent: a duplicated identifier copies the previous
    version's normal identifier, so that version must exist and keep its own identifier."""
    for idx in sorted(bad):
        kind = bad[idx]
        if kind == "sparqlUnique":
            prev = bad.get(idx - 1)
            if idx % versions == 0 or prev in ("datatype", "sparqlUnique"):
                bad[idx] = "minCount"


def _policy(
    w: _Writer,
    rng: random.Random,
    j: int,
    i: int,
    k: int,
    versions: int,
    payers: int,
    kind: str | None,
    expect: Callable[..., None],
    answers: dict[str, tuple[str, ...]],
) -> None:
    C = CPTKG.__add__  # noqa: N806
    pol = SYN + f"policy-{j}-{i}-v{k}"
    payer = SYN + f"payer-{j}"
    eff = _BASE_DATE.replace(year=_BASE_DATE.year + 2 * k) + _dt.timedelta(days=(i + j) % 300)
    nxt = _BASE_DATE.replace(year=_BASE_DATE.year + 2 * (k + 1)) + _dt.timedelta(days=(i + j) % 300)
    picked = {q: options[rng.randrange(len(options))] for q, options in answers.items()}
    coverage = picked.pop("coverage")
    pa = picked.pop("priorAuthorization")
    site = picked.pop("siteOfServiceRestriction")
    doc = picked.pop("documentationRequired")
    criteria = picked.pop("medicalNecessityCriteria")
    basis = picked.pop("codeApplicabilityBasis")
    identifier = w.lit(f"syn-{j}-{i}-v{k}")
    date = XSD + "date"
    po: list[tuple[str, str]] = [
        (RDF_TYPE, w.iri(C("PayerPolicy"))),
        (RDFS + "label", w.lit(f"Synthetic Payer {j}: synthetic code {i}, version {k + 1}")),
    ]
    if kind == "datatype":
        identifier = w.lit(f"syn-{j}-{i}-v{k}", lang="en")
        expect(kind, pol, POLICY_KINDS, value=f"syn-{j}-{i}-v{k}")
    elif kind == "sparqlUnique":
        identifier = w.lit(f"syn-{j}-{i}-v{k - 1}")
        other = SYN + f"policy-{j}-{i}-v{k - 1}"
        expect(kind, pol, POLICY_KINDS, value=f"syn-{j}-{i}-v{k - 1}")
        expect(kind, other, POLICY_KINDS, value=f"syn-{j}-{i}-v{k - 1}")
    po.append((DCTERMS + "identifier", identifier))
    po.append((C("payer"), w.iri(payer)))
    po.append((C("appliesToCode"), w.iri(SYN + f"cpt-{i}")))
    po.append((C("codeApplicabilityBasis"), w.iri(C(basis))))
    po.append((C("policyDocument"), w.iri(SYN + f"document-{j}")))
    po.append((C("versionLabel"), w.lit(f"v{k + 1}")))
    po.append((C("effectiveDate"), w.lit(eff.isoformat(), date)))
    if kind == "dateOrder":
        po.append((C("endDate"), w.lit((eff - _dt.timedelta(days=30)).isoformat(), date)))
        expect(kind, pol, POLICY_KINDS, value=eff.isoformat())
    elif k + 1 < versions:
        po.append((C("endDate"), w.lit((nxt - _dt.timedelta(days=1)).isoformat(), date)))
    po.append((C("lastReviewed"), w.lit(eff.isoformat(), date)))
    if kind == "minCount":
        expect(kind, pol, POLICY_KINDS)
    elif kind == "in":
        po.append((C("coverage"), w.iri(C("pa-required"))))
        expect(kind, pol, POLICY_KINDS, value=C("pa-required"))
    else:
        po.append((C("coverage"), w.iri(C(coverage))))
    if kind == "maxCount":
        po.append((C("priorAuthorization"), w.iri(C("pa-required"))))
        po.append((C("priorAuthorization"), w.iri(C("pa-not-required"))))
        expect(kind, pol, POLICY_KINDS)
    else:
        po.append((C("priorAuthorization"), w.iri(C(pa))))
    if kind == "or":
        site = "site-restricted"
        expect(kind, pol, POLICY_KINDS, value=pol)
    po.append((C("siteOfServiceRestriction"), w.iri(C(site))))
    if site == "site-restricted" and kind != "or":
        po.append((C("allowedPlaceOfService"), w.iri(SYN + f"pos-{(i + k) % len(_POS)}")))
    po.append((C("documentationRequired"), w.iri(C(doc))))
    if kind == "orCriteria":
        criteria = "criteria-stated"
        expect(kind, pol, POLICY_KINDS, value=pol)
    elif kind == "warning":
        criteria = "criteria-not-stated"
        expect(kind, pol, POLICY_KINDS, value=pol)
    po.append((C("medicalNecessityCriteria"), w.iri(C(criteria))))
    for question, answer in picked.items():  # key questions the shapes add later
        po.append((C(question), w.iri(C(answer))))
    if (criteria == "criteria-stated" and kind != "orCriteria") or kind == "warning":
        po.append(
            (
                C("criteriaText"),
                w.lit(f"Synthetic criteria {j}-{i}-{k}: illustrative only.", lang="en"),
            )
        )
    if kind == "class":
        po.append((C("supportingDiagnosis"), w.iri(SYN + f"cpt-{i}")))
        expect(kind, pol, POLICY_KINDS, value=SYN + f"cpt-{i}")
    else:
        po.append((C("supportingDiagnosis"), w.iri(SYN + f"icd-{i}")))
    if kind == "sparqlSupersedes":
        other = SYN + f"policy-{(j + 1) % payers}-{i}-v0"
        po.append((C("supersedes"), w.iri(other)))
        expect(kind, pol, POLICY_KINDS, value=other)
    elif k > 0:
        po.append((C("supersedes"), w.iri(SYN + f"policy-{j}-{i}-v{k - 1}")))
    po.append((C("evidenceStatus"), w.iri(C("evidence-illustrative"))))
    po.append((PROV + "wasDerivedFrom", w.iri(SYN + f"document-{j}")))
    if kind == "minLength":
        po.append((C("quote"), w.lit("ab")))
        expect(kind, pol, POLICY_KINDS, value="ab")
    po.append((C("synthetic"), w.lit("true", XSD + "boolean")))
    w.subject(pol, po)


def parse_size(text: str) -> tuple[int, int, int]:
    """A preset name (10k, 100k, 1m, 10m) as (codes, payers, versions)."""
    key = text.strip().lower()
    if key not in PRESETS:
        raise ValueError(f"unknown size {text!r}: use one of {', '.join(PRESETS)}")
    return PRESETS[key]
