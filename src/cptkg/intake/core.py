"""Validate new data (a new or revised payer policy) *in the context of the graph*.

The new file is not validated alone, and the whole graph is not re-validated either. A small
*validation graph* is built from

* the new data,
* the *context slice* of the graph the new data needs: the ``rdf:type`` of every IRI the new
  data mentions, the full description of the policies it supersedes and of existing resources
  it adds statements to, and the policies that already use one of its ``dcterms:identifier``s,

and pySHACL runs on it with ``focus_nodes`` = the new data's subjects, with the shipped
ontology (class hierarchy and controlled vocabularies) and shapes. The cost therefore depends
on the size of the new data, not on the size of the graph, provided the context store answers
:class:`ContextProvider` look-ups by index (an rdflib Graph does; issue 6 can plug in a
pyoxigraph Store behind the same protocol).

Each problem is reported with the rule broken (the shape), the offending value, where it is
(``file:line`` or ``file row N, column C``) and what to do; problems are grouped by policy.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SH, XSD
from rdflib.term import Node

from cptkg import paths as _paths
from cptkg.errors import InputError
from cptkg.intake.context import ContextProvider, shipped_context
from cptkg.namespaces import CPTKG, KG, bind_prefixes
from cptkg.shacl.report import Finding, ValidationResult, short_name

#: Files larger than this are refused before parsing (``--max-bytes`` raises it).
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: Namespace of the checks intake makes itself (beside the SHACL shapes).
INTAKE = "https://w3id.org/cptkg/intake#"

Triple = tuple[Node, Node, Node]


# ----------------------------------------------------------------------------- reading new data


def check_size(path: Path, max_bytes: int | None) -> None:
    """Refuse ``path`` before parsing when it is larger than ``max_bytes``."""
    if max_bytes is None or max_bytes <= 0:
        return
    try:
        size = path.stat().st_size
    except OSError:
        return  # the parser reports a missing file with its own message
    if size > max_bytes:
        raise InputError(
            f"{_paths.display_path(path)}: file is {size / 2**20:.1f} MiB, larger than the "
            f"{max_bytes / 2**20:.1f} MiB intake limit; refused without parsing",
            hint="a payer policy file is normally a few kB: check that this is the right file, "
            "or raise the limit with --max-bytes BYTES",
        )


@dataclass
class NewData:
    """New data read from files (or built from a spreadsheet), with where each subject is."""

    graph: Graph
    files: list[Path]
    #: subject -> "file:line" (or "file row N") where it is described
    where: dict[Node, str] = field(default_factory=dict)
    #: optional (subject, path) -> "file row N, column C" locator (spreadsheet intake)
    locate: Callable[[Node | None, Node | None], str | None] | None = None

    #: file display name -> its lines (RDF files), to find a property's line
    lines: dict[str, list[str]] = field(default_factory=dict)

    def location(self, subject: Node | None, path: Node | None = None) -> str | None:
        """Where ``subject`` (and, when found, its ``path`` property) is written."""
        if self.locate is not None:
            loc = self.locate(subject, path)
            if loc:
                return loc
        where = self.where.get(subject) if subject is not None else None
        if where and isinstance(path, URIRef) and ":" in where:
            shown, _, line = where.rpartition(":")
            found = self._property_line(shown, int(line) if line.isdigit() else 0, path)
            if found:
                return f"{shown}:{found}"
        return where

    def _property_line(self, shown: str, start: int, path: URIRef) -> int | None:
        lines = self.lines.get(shown)
        if not lines or start < 1:
            return None
        forms = [f"<{path}>"]
        for p, ns in self.graph.namespaces():
            if p and str(path).startswith(str(ns)):
                forms.append(f"{p}:{str(path)[len(str(ns)) :]}")
        pattern = re.compile(
            r"(?:^|[\s;\[\"])(?:" + "|".join(map(re.escape, forms)) + r")(?=[\s\"]|$)"
        )
        for number in range(start, len(lines) + 1):
            text = lines[number - 1]
            if number > start and re.match(r"^\S", text) and not text.startswith("#"):
                break  # the next subject's block
            if pattern.search(text):
                return number
        return None


def read_new(paths: Iterable[Path | str], *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> NewData:
    """Parse new RDF files (.ttl, .nt, .jsonld, .trig, .nq) into one graph.

    Raises InputError / ParseError (exit 2) for a missing, too large, empty or unparsable file.
    """
    from cptkg.load import parse_file

    files = [Path(p) for p in paths]
    if not files:
        raise InputError("no file given", hint="name the new policy file(s) to check")
    g = Graph()
    bind_prefixes(g)
    where: dict[Node, str] = {}
    file_lines: dict[str, list[str]] = {}
    for f in files:
        if f.is_dir():
            raise InputError(f"{f}: is a directory, expected a file of new data")
        if f.exists():
            _paths.rdf_format(f)  # unknown extension -> InputError before reading
        check_size(f, max_bytes)
        with _quiet_rdflib():
            one = parse_file(f)
        shown = _paths.display_path(f)
        if len(one) == 0:
            raise InputError(
                f"{shown}: no triples found (the file is empty or holds only comments/prefixes)",
                hint="write the policy as RDF (see data/policies/*.ttl), or use "
                "cptkg import-csv for a spreadsheet",
            )
        for prefix, ns in one.namespaces():
            if prefix:
                g.bind(prefix, ns, override=False)
        g += one
        lines = _subject_lines(f, one)
        try:
            file_lines[shown] = f.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            pass
        for s in set(one.subjects()):
            if s not in where:
                line = lines.get(s)
                where[s] = f"{shown}:{line}" if line else shown
    return NewData(graph=g, files=files, where=where, lines=file_lines)


@contextlib.contextmanager
def _quiet_rdflib() -> Iterator[None]:
    """rdflib logs a traceback for every ill-typed literal; intake reports them itself."""
    logger = logging.getLogger("rdflib.term")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _subject_lines(path: Path, g: Graph) -> dict[Node, int]:
    """Best effort: the line where each IRI subject is first written as a subject."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    lines = text.splitlines()
    out: dict[Node, int] = {}
    nss = [(p, str(ns)) for p, ns in g.namespaces() if p]
    for s in set(g.subjects()):
        if not isinstance(s, URIRef):
            continue
        forms = [f"<{s}>", f'"{s}"']
        for p, ns in nss:
            if str(s).startswith(ns):
                local = str(s)[len(ns) :]
                forms += [f"{p}:{local}", f'"{p}:{local}"']
        pattern = re.compile(
            r"^\s*(?:\"@id\"\s*:\s*)?(?:" + "|".join(re.escape(x) for x in forms) + r")(?=[\s,;]|$)"
        )
        for number, line in enumerate(lines, start=1):
            if pattern.search(line):
                out[s] = number
                break
    return out


# ----------------------------------------------------------------------------- report


@dataclass
class Problem:
    """One problem in the new data: the rule broken, the value, where, what to do."""

    severity: str
    rule: str  #: shape (or intake check) as prefixed name
    message: str
    subject: Node | None
    policy: Node | None  #: the policy the problem belongs to (None: another resource)
    path: str
    value: str | None
    where: str | None
    hint: str
    finding: Finding | None = None

    def to_dict(self, ns: Graph) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
            "subject": short_name(self.subject, ns) if self.subject is not None else None,
            "policy": short_name(self.policy, ns) if self.policy is not None else None,
            "path": self.path or None,
            "value": self.value,
            "where": self.where,
            "what_to_do": self.hint,
        }


@dataclass
class IntakeReport:
    """Outcome of :func:`validate_new_data`."""

    new: NewData
    validation: ValidationResult
    problems: list[Problem]
    policies: list[URIRef]
    #: policies of the new data already in the graph with the same content (nothing to add)
    unchanged: list[URIRef] = field(default_factory=list)
    context_triples: int = 0

    @property
    def conforms(self) -> bool:
        return not any(p.severity == "Violation" for p in self.problems)

    @property
    def ns(self) -> Graph:
        return self.validation.namespaces

    def counts(self) -> dict[str, int]:
        c = {"Violation": 0, "Warning": 0, "Info": 0}
        for p in self.problems:
            c[p.severity] = c.get(p.severity, 0) + 1
        c["total"] = len(self.problems)
        return c

    def groups(self) -> list[tuple[Node | None, list[Problem]]]:
        """Problems grouped by policy (policies first, in order; other resources last)."""
        order = {p: i for i, p in enumerate(self.policies)}
        groups: dict[Node | None, list[Problem]] = {}
        for p in self.problems:
            groups.setdefault(p.policy, []).append(p)
        return sorted(
            groups.items(), key=lambda kv: (kv[0] is None, order.get(kv[0], 10**6), str(kv[0]))
        )

    def policy_title(self, policy: Node) -> str:
        ident = self.new.graph.value(policy, DCTERMS.identifier)
        where = self.new.location(policy)
        parts = ["Policy"]
        if ident is not None:
            parts.append(f'"{ident}"')
        parts.append(short_name(policy, self.ns))
        if where:
            parts.append(f"({where})")
        return " ".join(parts)

    def to_text(self) -> str:
        c = self.counts()
        status = "conforms" if self.conforms else "does NOT conform"
        files = ", ".join(_paths.display_path(f) for f in self.new.files) or "(new data)"
        lines = [
            f"Validation: {status} ({c['Violation']} violation(s), {c['Warning']} warning(s), "
            f"{c['Info']} info)",
            f"New data: {files}: {len(self.new.graph)} triple(s), {len(self.policies)} "
            f"policy(ies); checked in the context of the graph ({self.context_triples} context "
            "triple(s) used). Only problems in the new data are listed.",
        ]
        for pol in self.unchanged:
            lines.append(
                f"Note: {short_name(pol, self.ns)} is already in the graph with the same content."
            )
        for policy, problems in self.groups():
            lines.append("")
            if policy is None:
                lines.append("Other resources in the new data")
            else:
                lines.append(self.policy_title(policy))
            for p in problems:
                lines.append(f"  [{p.severity}] {p.message}")
                lines.append(f"      rule:  {p.rule}")
                if p.subject is not None and p.subject != policy:
                    lines.append(f"      resource: {short_name(p.subject, self.ns)}")
                if p.path:
                    lines.append(f"      property: {p.path}")
                if p.value is not None:
                    lines.append(f"      value: {p.value}")
                if p.where:
                    lines.append(f"      where: {p.where}")
                lines.append(f"      what to do: {p.hint}")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        base = self.validation.to_dict()
        hints = {id(p.finding): p for p in self.problems if p.finding is not None}
        for r, f in zip(base["results"], self.validation.results, strict=True):
            p = hints.get(id(f))
            if p is not None:
                r["what_to_do"] = p.hint
                r["where"] = p.where
        base["conforms"] = self.conforms
        base["counts"] = self.counts()
        base["mode"] = "in-context"
        base["files"] = [_paths.display_path(f) for f in self.new.files]
        base["problems"] = [p.to_dict(self.ns) for p in self.problems]
        base["policies"] = [
            {
                "policy": short_name(pol, self.ns),
                "problems": [p.to_dict(self.ns) for p in probs],
            }
            for pol, probs in self.groups()
            if pol is not None
        ]
        # intake checks are not SHACL results: list them too
        for p in self.problems:
            if p.finding is None:
                base["results"].append(
                    {
                        "focus_node": p.subject.n3() if p.subject is not None else None,
                        "path": p.path or None,
                        "value": p.value,
                        "source_shape": f"<{INTAKE}{p.rule.split(':', 1)[-1]}>",
                        "constraint_component": None,
                        "severity": p.severity,
                        "message": p.message,
                        "what_to_do": p.hint,
                        "where": p.where,
                    }
                )
        return base

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    def to_turtle(self) -> str:
        return self.validation.to_turtle()

    def render(self, fmt: str) -> str:
        return {"json": self.to_json, "turtle": self.to_turtle}.get(fmt, self.to_text)()


# ----------------------------------------------------------------------------- hints

_CODE_KINDS = {
    # property: (class, IRI prefix, notation pattern, what, file to add it to)
    CPTKG.appliesToCode: (
        CPTKG.CPTCode,
        "cpt-",
        r"^[0-9]{4}[0-9A-Z]$",
        "CPT code (five characters: four digits then a digit or capital letter, e.g. 64866)",
        "data/procedure.ttl",
    ),
    CPTKG.supportingDiagnosis: (
        CPTKG.ICD10CMCode,
        "icd10cm-",
        r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$",
        "ICD-10-CM code (a letter, a digit, a digit or letter, then optionally a dot and 1-4 "
        "characters, e.g. G51.0 or S04.51XA)",
        "data/diagnosis-codes.ttl",
    ),
    CPTKG.allowedPlaceOfService: (
        CPTKG.PlaceOfServiceCode,
        "pos-",
        r"^[0-9]{2}$",
        "CMS place-of-service code (two digits, e.g. 21 or 24)",
        "data/places-of-service.ttl",
    ),
    CPTKG.policyModifier: (
        CPTKG.ModifierCode,
        "modifier-",
        r"^[0-9A-Z]{2}$",
        "modifier (two characters, digits or capital letters, e.g. 22 or LT)",
        "data/modifiers.ttl",
    ),
}

_DATE_HINT = (
    'write a real calendar date as "YYYY-MM-DD"^^xsd:date, e.g. "2025-01-01"^^xsd:date '
    "(a year, a month 01-12 and a day that exists in that month)"
)

_STATIC_HINTS: dict[str, str] = {
    "PayerPolicyShape-label": 'add rdfs:label "Payer: policy title" to the policy',
    "PayerPolicyShape-identifier": "give the policy exactly one dcterms:identifier, e.g. "
    '"aetna-cpb-0366"; a revised version gets its own, e.g. "aetna-cpb-0366@2025-01-01"',
    "PayerPolicyShape-coverage": "state coverage with one of cptkg:coverage-covered, "
    "cptkg:coverage-not-covered, cptkg:coverage-conditional; use cptkg:coverage-not-stated "
    "when the source is silent",
    "PayerPolicyShape-priorAuthorization": "state prior authorization with one of "
    "cptkg:pa-required, cptkg:pa-not-required, cptkg:pa-conditional; use cptkg:pa-not-stated "
    "when the source is silent",
    "PayerPolicyShape-siteOfService": "state the site-of-service restriction with one of "
    "cptkg:site-restricted, cptkg:site-not-restricted; use cptkg:site-not-stated when the "
    "source is silent",
    "PayerPolicyShape-documentation": "state the documentation required with "
    "cptkg:doc-clinical, cptkg:doc-admin, cptkg:doc-patient or cptkg:doc-none; use "
    "cptkg:doc-not-stated when the source is silent",
    "PayerPolicyShape-criteria": "state medical-necessity criteria with "
    "cptkg:criteria-stated (and cptkg:criteriaText) or cptkg:criteria-none; use "
    "cptkg:criteria-not-stated when the source is silent",
    "PayerPolicyShape-effectiveDate": _DATE_HINT,
    "PayerPolicyShape-endDate": _DATE_HINT,
    "PayerPolicyShape-reviewDates": _DATE_HINT,
    "PayerPolicyShape-retrieved": _DATE_HINT,
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


def _shape_local(shape: Node | None) -> str:
    s = str(shape or "")
    return s.rsplit("#", 1)[-1] if "#" in s else s.rsplit("/", 1)[-1]


def _known(ctx: ContextProvider, cls: URIRef, ns: Graph, limit: int = 12) -> str:
    found = ctx.instances_of(cls, limit + 1)
    items = [
        f"{short_name(iri, ns)} ({label})" if label else short_name(iri, ns)
        for iri, label in found[:limit]
    ]
    more = ", …" if len(found) > limit else ""
    return ", ".join(items) + more if items else "(none)"


def hint_for(f: Finding, ctx: ContextProvider, ns: Graph) -> str:
    """What to do about one SHACL finding."""
    name = _shape_local(f.source_shape)
    value = f.value
    if name == "PayerPolicyShape-payer":
        return "add the payer to data/payers.ttl first, or fix the IRI; known payers: " + _known(
            ctx, CPTKG.Payer, ns
        )
    if isinstance(f.path, URIRef) and f.path in _CODE_KINDS and isinstance(value, URIRef):
        cls, prefix, pattern, what, where = _CODE_KINDS[f.path]
        local = str(value).removeprefix(str(KG))
        if local.startswith(prefix):
            notation = local[len(prefix) :]
            if not re.match(pattern, notation):
                return f"{notation!r} is not a well-formed {what}: fix the code"
            return (
                f"{notation} is not in the graph: fix the code, or add it to {where} first "
                f"(as {short_name(value, ns)} a {short_name(cls, ns)} with skos:notation, "
                "skos:inScheme, skos:prefLabel and prov:wasDerivedFrom)"
            )
        known = _known(ctx, cls, ns, 8)
        return f"use the IRI of a {what} in the graph (kg:{prefix}<code>), e.g. {known}"
    if name == "PayerPolicyShape-allowedPlaceOfService":
        return "use a place-of-service code in the graph: " + _known(
            ctx, CPTKG.PlaceOfServiceCode, ns
        )
    hint = _STATIC_HINTS.get(name)
    if hint:
        return hint
    if name.startswith(("CPTCodeShape", "ICD10CMCodeShape", "PlaceOfServiceCodeShape")):
        return "fix the code's skos:notation (see the rule) or its skos:inScheme"
    return "change the data so that the rule holds: " + f.message


# ----------------------------------------------------------------------------- validation


def _policies(g: Graph) -> list[URIRef]:
    return sorted(
        (s for s in g.subjects(RDF.type, CPTKG.PayerPolicy) if isinstance(s, URIRef)), key=str
    )


def _iris(g: Graph) -> set[URIRef]:
    out: set[URIRef] = set()
    for s, _p, o in g:
        for t in (s, o):
            if isinstance(t, URIRef):
                out.add(t)
    return out


def _po(g: Graph, s: Node) -> set[tuple[Node, Node]]:
    return {(p, o) for p, o in g.predicate_objects(s) if not isinstance(o, BNode)}


def build_validation_graph(
    new: Graph, ctx: ContextProvider
) -> tuple[Graph, list[tuple[URIRef, Graph]], list[URIRef]]:
    """New data + the context slice. Returns (graph, changed existing policies as
    (iri, old description), unchanged existing policies)."""
    vg = Graph()
    for t in new:
        vg.add(t)
    new_subjects = {s for s in new.subjects() if isinstance(s, URIRef)}
    mentioned = _iris(new)
    for iri, cls in ctx.types_of(mentioned):
        vg.add((iri, RDF.type, cls))
    new_policies = set(_policies(new))
    # existing resources the new data describes again
    existing = {s for s in new_subjects if any(True for _ in ctx.types_of([s]))}
    changed: list[tuple[URIRef, Graph]] = []
    unchanged: list[URIRef] = []
    merge: set[URIRef] = set()
    for s in sorted(existing, key=str):
        old = Graph()
        for t in ctx.describe([s]):
            old.add(t)
        is_policy = (s, RDF.type, CPTKG.PayerPolicy) in old
        if is_policy and s in new_policies:
            if _po(old, s) == _po(new, s):
                unchanged.append(s)
            else:
                changed.append((s, old))
                continue  # validate the new description on its own; reported separately
        merge.add(s)
    # what supersedes needs: the earlier version's payer and dates
    superseded = {o for o in new.objects(None, CPTKG.supersedes) if isinstance(o, URIRef)}
    merge |= superseded - new_subjects
    for t in ctx.describe(sorted(merge, key=str)):
        vg.add(t)
    # existing policies with one of the new identifiers
    ids = {str(o) for o in new.objects(None, DCTERMS.identifier) if isinstance(o, Literal)}
    for lit, iri in ctx.policies_with_identifier(sorted(ids)):
        if iri in new_policies:
            continue
        vg.add((iri, RDF.type, CPTKG.PayerPolicy))
        vg.add((iri, DCTERMS.identifier, lit))
    return vg, changed, unchanged


def validate_new_data(
    new: NewData,
    context: ContextProvider | None = None,
    *,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
) -> IntakeReport:
    """Validate ``new`` in the context of the graph (default: the shipped graph)."""
    from cptkg.intake.diff import describe_changes
    from cptkg.load import load_ontology, load_shapes
    from cptkg.shacl.pyshacl_runner import validate

    ctx = context if context is not None else shipped_context()
    shapes = shapes if shapes is not None else load_shapes()
    ontology = ontology if ontology is not None else load_ontology()
    ill_typed = _ill_typed(new.graph)
    vg, changed, unchanged = build_validation_graph(new.graph, ctx)
    for s, p, o, _shape in ill_typed:
        vg.remove((s, p, o))  # pySHACL cannot compare ill-typed literals (sh:lessThanOrEquals)
    for prefix, nsiri in new.graph.namespaces():
        vg.bind(prefix, nsiri, override=False)
    bind_prefixes(vg)
    focus = sorted((s for s in set(new.graph.subjects()) if isinstance(s, URIRef)), key=str)
    if not focus:
        raise InputError(
            f"{', '.join(_paths.display_path(f) for f in new.files) or 'new data'}: "
            "no resource with an IRI found (only blank nodes)",
            hint="give the policy an IRI, e.g. kg:policy-<payer>-<identifier>",
        )
    result = validate(vg, shapes=shapes, ontology=ontology, focus_nodes=focus)
    ns = result.namespaces
    policies = _policies(new.graph)
    pset = set(policies)

    problems: list[Problem] = []
    dropped = {(s, p) for s, p, _o, _sh in ill_typed}
    for s, p, o, _sh in ill_typed:
        problems.append(_ill_typed_problem(s, p, o, shapes, ns, new, set(policies)))
    for f in result.results:
        subject = f.focus_node
        if _shape_local(f.source_shape) in _DATE_PRESENCE_SHAPES and any(
            (subject, p) in dropped for p in (CPTKG.effectiveDate, CPTKG.endDate)
        ):
            continue  # the date is there but ill-typed: already reported
        policy = subject if subject in pset else None
        path = f.path if isinstance(f.path, URIRef) else None
        value = short_name(f.value, ns) if f.value is not None else None
        problems.append(
            Problem(
                severity=f.severity,
                rule=f.shape_text or short_name(f.source_shape, ns),
                message=f.message,
                subject=subject,
                policy=policy,
                path=f.path_text,
                value=value,
                where=new.location(subject, path),
                hint=hint_for(f, ctx, ns),
                finding=f,
            )
        )
    for iri, old in changed:
        source_of = getattr(ctx, "source_of", None)
        src = source_of(iri) if callable(source_of) else None
        old_full = Graph()
        old_full += old
        changes = describe_changes(
            old_full, iri, new.graph, iri, getattr(ctx, "graph", None) or ontology
        )
        summary = "; ".join(changes[:6]) + ("; …" if len(changes) > 6 else "")
        problems.append(
            Problem(
                severity="Violation",
                rule="intake:ExistingPolicyChanged",
                message=f"Policy {short_name(iri, ns)} is already in the graph"
                + (f" ({src})" if src else "")
                + f" with different content: {summary}",
                subject=iri,
                policy=iri,
                path="",
                value=short_name(iri, ns),
                where=new.location(iri),
                hint="existing versions are never overwritten: give the revised version its own "
                'IRI and identifier (e.g. "<identifier>@<effective date>") with cptkg:supersedes '
                f"{short_name(iri, ns)}, or run `cptkg add --new-version FILE` to do that",
            )
        )
    for s in focus:
        if (s, RDF.type, None) not in vg:
            problems.append(
                Problem(
                    severity="Warning",
                    rule="intake:UntypedResource",
                    message=f"{short_name(s, ns)} has no rdf:type here or in the graph, so no "
                    "rule checks it",
                    subject=s,
                    policy=None,
                    path="rdf:type",
                    value=None,
                    where=new.location(s),
                    hint="add `a cptkg:PayerPolicy` (or the right class), or fix the IRI if it "
                    "should name an existing resource",
                )
            )
    sev = {"Violation": 0, "Warning": 1, "Info": 2}
    problems.sort(key=lambda p: (str(p.policy or "~"), sev.get(p.severity, 3), p.path, p.rule))
    return IntakeReport(
        new=new,
        validation=result,
        problems=problems,
        policies=policies,
        unchanged=unchanged,
        context_triples=len(vg) - len(new.graph),
    )


def _ill_typed_problem(
    s: Node, p: Node, o: Literal, shapes: Graph, ns: Graph, new: NewData, policies: set[Node]
) -> Problem:
    """A Problem for an ill-typed literal, named after the shape requiring its datatype."""
    shape = _datatype_shape(shapes, p, o.datatype)
    msg = shapes.value(shape, SH.message) if shape is not None else None
    shown = short_name(o, ns)
    dt = short_name(o.datatype, ns)
    text = str(msg).replace("{$value}", shown) if msg is not None else f"Invalid {dt} literal."
    return Problem(
        severity="Violation",
        rule=short_name(shape, ns) if shape is not None else "intake:IllTypedLiteral",
        message=f"{text} {str(o)!r} is not a valid {dt}.",
        subject=s,
        policy=s if s in policies else None,
        path=short_name(p, ns),
        value=shown,
        where=new.location(s, p),
        hint=_DATE_HINT if o.datatype == XSD.date else f"write a valid {dt} literal",
    )


_DATE_PRESENCE_SHAPES = {"PolicyEffectiveDateStatedShape", "PolicyEndWithoutStartShape"}


def _ill_typed(g: Graph) -> list[tuple[Node, Node, Literal, None]]:
    """Triples whose object is an ill-typed literal ("2025-13-45"^^xsd:date, "next year"^^…)."""
    out = []
    for s, p, o in g:
        if isinstance(o, Literal) and getattr(o, "ill_typed", False):
            out.append((s, p, o, None))
    return sorted(out, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))


def _datatype_shape(shapes: Graph, path: Node, datatype: Node | None) -> Node | None:
    """The property shape that requires ``datatype`` on ``path`` (for the rule's name)."""
    for shape in sorted(shapes.subjects(SH.path, path), key=str):
        if datatype is not None and (shape, SH.datatype, datatype) in shapes:
            return shape
    return None


def validate_files(
    paths: Iterable[Path | str],
    context: ContextProvider | None = None,
    *,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> IntakeReport:
    """Read new RDF files and validate them in the context of the graph."""
    new = read_new(paths, max_bytes=max_bytes)
    return validate_new_data(new, context, shapes=shapes, ontology=ontology)


def is_shipped(path: Path | str) -> bool:
    """True if ``path`` is one of the files of the shipped graph (or a directory of them)."""
    from cptkg.load import shipped_files

    try:
        p = Path(path).resolve()
        shipped = {f.resolve() for f in shipped_files(include_ontology=True, include_shapes=True)}
        root = _paths.project_root().resolve()
    except Exception:  # noqa: BLE001 - no project: nothing is shipped
        return False
    if p.is_dir():
        return p == root or p.is_relative_to(root / "data") or p.is_relative_to(root / "ontology")
    return p in shipped
