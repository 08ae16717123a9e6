"""Supporting quotes checked against the source documents they cite.

A claim's ``cptkg:quote`` must occur in the document it is read from: the claim's
``prov:wasDerivedFrom`` is a ``cptkg:SourceDocument``, or a section that is
``dcterms:isPartOf`` one (at any depth). The graph registers each source document by its
``dcterms:identifier`` (its file name), ``dcterms:title`` and ``cptkg:sha256``; the project
cites the documents and does not ship them. The file is looked up by its identifier in each
folder of :data:`SOURCES_ENV` (``os.pathsep``-separated), else in ``<project>/../shared/source``,
and trusted only when its SHA-256 is the registered one.

Comparison (:func:`normalize`): verbatim, except that every run of whitespace (spaces, tabs,
line breaks, as a wrapped line breaks a sentence) counts as one space, in the quote and in the
document, and leading and trailing whitespace of the quote is ignored. Case, punctuation, quote
marks and dashes must match exactly.

When the document is not found, or its digest differs, the quotes citing it are not checked
and a warning says so (never a silent pass).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SH
from rdflib.term import Node

from cptkg import paths as _paths
from cptkg.engines.base import Engine
from cptkg.errors import CptkgError
from cptkg.intake.context import ContextProvider
from cptkg.intake.reading import NewData
from cptkg.intake.report import Problem
from cptkg.namespaces import CPTKG
from cptkg.paths import SOURCES_ENV, source_dirs
from cptkg.shacl.report import Finding, ValidationResult, short_name
from cptkg.textsafe import printable

#: The rule a quote not found in its document breaks.
QUOTE_RULE = "intake:quote-in-source"
QUOTE_RULE_IRI = URIRef("https://w3id.org/cptkg/intake#quote-in-source")
#: Source documents larger than this are not read.
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
#: Quotes are shown cut to this many characters.
SHOWN = 80
#: How many ``dcterms:isPartOf`` steps lead from a section to its document, at most.
MAX_DEPTH = 8


@dataclass(frozen=True)
class Document:
    """A registered source document and where (whether) its file was found."""

    iri: URIRef
    identifier: str
    sha256: str
    text: str | None  #: normalized text, None when not available
    reason: str  #: why it is not available ("" when it is)


@dataclass(frozen=True)
class QuoteProblem:
    """A quote that does not occur in the source document its claim cites."""

    subject: Node
    quote: str
    document: Document

    def message(self, ns: Graph) -> str:
        shown = self.quote if len(self.quote) <= SHOWN else self.quote[: SHOWN - 1] + "…"
        return (
            f'The quote "{printable(shown)}" does not occur in the source document '
            f"{self.document.identifier} ({short_name(self.document.iri, ns)}) that "
            f"{short_name(self.subject, ns)} cites (compared verbatim, whitespace runs as one "
            "space)."
        )


def normalize(text: str) -> str:
    """``text`` with every run of whitespace as one space, without leading/trailing space."""
    return re.sub(r"\s+", " ", text).strip()


def load_document(iri: URIRef, identifier: str, sha256: str) -> Document:
    """The document registered as ``iri``, read from the first folder of :func:`source_dirs`
    holding a file named ``identifier`` whose SHA-256 is ``sha256``."""
    dirs = source_dirs()
    where = os.pathsep.join(_paths.display_path(d) for d in dirs) or "no source folder"
    if not identifier or Path(identifier).name != identifier or identifier.startswith("."):
        return Document(
            iri, identifier, sha256, None, f"its identifier {identifier!r} is no file name"
        )
    for folder in dirs:
        text, reason = _read_verified(folder / identifier, sha256.strip().lower())
        if text is not None or reason:
            return Document(iri, identifier, sha256, text, reason)
    return Document(
        iri,
        identifier,
        sha256,
        None,
        f"{identifier} not found in {where} (set {SOURCES_ENV} to the folder that holds it)",
    )


def _read_verified(path: Path, sha256: str) -> tuple[str | None, str]:
    """(normalized text, "") of ``path`` when its digest is ``sha256``; (None, reason) when the
    file is there but not usable; (None, "") when there is no such file."""
    try:
        if not path.is_file():
            return None, ""
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            return None, f"{_paths.display_path(path)} is larger than {MAX_DOCUMENT_BYTES:,} bytes"
        data = path.read_bytes()
    except OSError as exc:
        return None, f"{_paths.display_path(path)} cannot be read ({exc.strerror or exc})"
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        return None, (
            f"{_paths.display_path(path)} has SHA-256 {digest[:12]}…, not the registered "
            f"{sha256[:12]}… (another version of the document): not trusted"
        )
    return normalize(data.decode("utf-8", errors="replace")), ""


def quoted_claims(
    graph: Graph, subjects: Iterable[Node] | None = None
) -> list[tuple[Node, str, URIRef]]:
    """(claim, quote, source document) for each quote of ``subjects`` (default: every
    subject) whose claim cites a registered source document in ``graph``."""
    out: list[tuple[Node, str, URIRef]] = []
    wanted = None if subjects is None else set(subjects)
    for s, q in graph.subject_objects(CPTKG.quote):
        if wanted is not None and s not in wanted or not isinstance(q, Literal):
            continue
        for src in graph.objects(s, PROV.wasDerivedFrom):
            for doc in _documents_of(graph, src):
                out.append((s, str(q), doc))
    return sorted(set(out), key=lambda t: (str(t[0]), t[1], str(t[2])))


def _documents_of(graph: Graph, node: Node) -> set[URIRef]:
    """The source documents ``node`` is, or is (transitively) part of."""
    found: set[URIRef] = set()
    frontier, seen = [node], set()
    for _ in range(MAX_DEPTH):
        nxt = []
        for n in frontier:
            if n in seen:
                continue
            seen.add(n)
            if isinstance(n, URIRef) and (n, RDF.type, CPTKG.SourceDocument) in graph:
                found.add(n)
            nxt += list(graph.objects(n, DCTERMS.isPartOf))
        frontier = nxt
    return found


def check_quotes(
    graph: Graph, claims: list[tuple[Node, str, URIRef]]
) -> tuple[list[QuoteProblem], list[str]]:
    """The quotes of ``claims`` not in their document, and a warning per document that could
    not be checked (how many quotes were left unchecked, and why)."""
    problems: list[QuoteProblem] = []
    unchecked: dict[URIRef, int] = {}
    docs: dict[URIRef, Document] = {}
    for subject, quote, iri in claims:
        if iri not in docs:
            ident = graph.value(iri, DCTERMS.identifier)
            digest = graph.value(iri, CPTKG.sha256)
            docs[iri] = load_document(iri, str(ident or ""), str(digest or ""))
        doc = docs[iri]
        if doc.text is None:
            unchecked[iri] = unchecked.get(iri, 0) + 1
        elif normalize(quote) not in doc.text:
            problems.append(QuoteProblem(subject, quote, doc))
    warnings = [
        f"{n} quote(s) citing {docs[iri].identifier or iri} were not checked against "
        f"it: {docs[iri].reason}"
        for iri, n in sorted(unchecked.items(), key=lambda kv: str(kv[0]))
    ]
    return problems, warnings


def check_new(new: NewData, ctx: ContextProvider, ns: Graph) -> tuple[list[Problem], list[str]]:
    """Quote problems (violations of :data:`QUOTE_RULE`, at the quote's line or cell) and
    warnings for the new data's quotes, the cited sections and documents read from ``ctx``."""
    if (None, CPTKG.quote, None) not in new.graph:
        return [], []
    graph = Graph()
    graph += new.graph
    frontier = {o for o in new.graph.objects(None, PROV.wasDerivedFrom) if isinstance(o, URIRef)}
    seen: set[URIRef] = set()
    for _ in range(MAX_DEPTH):
        frontier -= seen
        if not frontier:
            break
        seen |= frontier
        for t in ctx.describe(sorted(frontier, key=str)):
            graph.add(t)
        frontier = {o for o in graph.objects(None, DCTERMS.isPartOf) if isinstance(o, URIRef)}
    subjects = {s for s in new.graph.subjects(CPTKG.quote)}
    found, unchecked = check_quotes(graph, quoted_claims(graph, subjects))
    warnings = [f"WARNING: {w}" for w in unchecked]
    policies = set(new.graph.subjects(RDF.type, CPTKG.PayerPolicy))
    problems = [
        Problem(
            severity="Violation",
            rule=QUOTE_RULE,
            message=p.message(ns),
            subject=p.subject,
            policy=p.subject if p.subject in policies else None,
            path="cptkg:quote",
            value=None,
            where=new.location(p.subject, CPTKG.quote),
            hint="copy the sentence exactly as the source document writes it (or cite the "
            "document it comes from)",
        )
        for p in found
    ]
    return problems, warnings


def quote_graph_query() -> str:
    """The CONSTRUCT query of what :func:`check_graph` reads from an engine: quotes, their
    claims' sources, the sections' ``dcterms:isPartOf`` and the registered documents."""
    return (
        "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
        "PREFIX cptkg: <https://w3id.org/cptkg/ontology#>\n"
        "PREFIX prov: <http://www.w3.org/ns/prov#>\n"
        "PREFIX dcterms: <http://purl.org/dc/terms/>\n"
        "CONSTRUCT { ?s ?p ?o } WHERE {\n"
        "  { ?s cptkg:quote ?o . BIND(cptkg:quote AS ?p) }\n"
        "  UNION { ?s cptkg:quote ?q ; prov:wasDerivedFrom ?o . BIND(prov:wasDerivedFrom AS ?p) }\n"
        "  UNION { ?s dcterms:isPartOf ?o . BIND(dcterms:isPartOf AS ?p) }\n"
        "  UNION { ?s a cptkg:SourceDocument ; ?p ?o .\n"
        "          FILTER(?p IN (rdf:type, dcterms:identifier, cptkg:sha256)) }\n"
        "}"
    )


def quote_graph(engine: Engine) -> Graph:
    """What :func:`check_result` needs of the graph ``engine`` holds: the rdflib engine's
    graph itself, what :func:`quote_graph_query` reads of any other engine's."""
    from cptkg.engines import in_memory_graph

    graph = in_memory_graph(engine)
    if graph is not None:
        return graph
    found = engine.query(quote_graph_query())
    if not isinstance(found, Graph):
        raise CptkgError(f"the {engine.name} engine answered a CONSTRUCT without a graph")
    return found


def check_result(result: ValidationResult, graph: Graph) -> tuple[ValidationResult, list[str]]:
    """``result`` with a violation of :data:`QUOTE_RULE` for each quote of ``graph`` (the
    whole graph, or what :func:`quote_graph_query` reads of it) not in its document, and the
    warnings for documents that could not be checked."""
    found, warnings = check_quotes(graph, quoted_claims(graph))
    if not found:
        return result, warnings
    report = Graph()
    for prefix, nsiri in result.report_graph.namespaces():
        report.bind(prefix, nsiri)
    report += result.report_graph
    node = next(report.subjects(RDF.type, SH.ValidationReport), None)
    findings = list(result.results)
    for p in found:
        message = p.message(result.namespaces)
        findings.append(
            Finding(
                focus_node=p.subject,
                path=CPTKG.quote,
                value=Literal(p.quote),
                source_shape=QUOTE_RULE_IRI,
                constraint_component=None,
                severity="Violation",
                message=message,
                path_text="cptkg:quote",
                shape_text=QUOTE_RULE,
                severity_iri=SH.Violation,
            )
        )
        if node is not None:
            r = BNode()
            report.add((node, SH.result, r))
            report.add((node, SH.conforms, Literal(False)))
            for pred, obj in (
                (RDF.type, SH.ValidationResult),
                (SH.focusNode, p.subject),
                (SH.resultPath, CPTKG.quote),
                (SH.value, Literal(p.quote)),
                (SH.sourceShape, QUOTE_RULE_IRI),
                (SH.resultSeverity, SH.Violation),
                (SH.resultMessage, Literal(message)),
            ):
                report.add((r, pred, obj))
    if node is not None:
        report.remove((node, SH.conforms, Literal(True)))
    findings.sort(key=Finding.sort_key)
    return (
        dataclasses.replace(result, conforms=False, results=findings, report_graph=report),
        warnings,
    )
