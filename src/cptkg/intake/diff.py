"""Compare two payer-policy versions field by field, in words an analyst reads.

``prior authorization: not stated in source → required``,
``effective date: (none) → 2025-01-01``, ``supporting diagnoses: + G51.0 (Bell's palsy)``.

The sides are files (one or more policies each, paired by identifier) or policies of the
graph named by IRI, prefixed name (``kg:policy-aetna-cpb-0366``) or ``dcterms:identifier``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS
from rdflib.term import Node

from cptkg import paths as _paths
from cptkg.errors import InputError
from cptkg.intake.reading import DEFAULT_MAX_BYTES, policies, read_new
from cptkg.intake.schema import CODE_KINDS, Schema, policy_schema
from cptkg.namespaces import CPTKG, PREFIXES, parse_iri

_NONE = "(none)"


def _label(term: Node, graphs: list[Graph]) -> str:
    """How an analyst reads ``term``: a code as 'G51.0 (Bell's palsy)', an answer by its label."""
    if isinstance(term, Literal):
        text = " ".join(str(term).split())
        return text if len(text) <= 90 else text[:87] + "…"
    if not isinstance(term, URIRef):
        return "[blank node]"
    notation = label = ident = None
    for g in graphs:
        notation = notation or g.value(term, SKOS.notation)
        label = label or g.value(term, SKOS.prefLabel) or g.value(term, RDFS.label)
        ident = ident or g.value(term, DCTERMS.identifier)
    is_code = any((term, RDF.type, c) in g for g in graphs for c in _CODE_CLASSES)
    if is_code and notation is not None:
        return f"{notation} ({label})" if label is not None else str(notation)
    if ident is not None and any((term, RDF.type, CPTKG.PayerPolicy) in g for g in graphs):
        return str(ident)
    if label is not None:
        return str(label)
    return _curie(term)


_CODE_CLASSES = tuple(CODE_KINDS)


def _curie(term: URIRef) -> str:
    s = str(term)
    best = ""
    for prefix, ns in PREFIXES.items():
        if s.startswith(str(ns)) and len(str(ns)) > len(best):
            best, name = str(ns), prefix
    return f"{name}:{s[len(best) :]}" if best else f"<{s}>"


def describe_changes(
    old: Graph,
    old_iri: Node,
    new: Graph,
    new_iri: Node,
    labels: Graph | None = None,
    *,
    schema: Schema | None = None,
) -> list[str]:
    """The differences between policy ``old_iri`` in ``old`` and ``new_iri`` in ``new``, one
    sentence per field of the policy schema (default: the shipped one), then per other
    property (empty list: same content)."""
    schema = schema if schema is not None else policy_schema()
    graphs = [new, old] + ([labels] if labels is not None else [])
    # (property, label, multi-valued?, a schema field?): a field whose values are all text
    # reads as "before → after" whatever its cardinality
    preds = [(f.path, f.label, f.multi, True) for f in schema.fields]
    known = {f.path for f in schema.fields} | {RDF.type}
    others = sorted(
        {p for p in set(old.predicates(old_iri)) | set(new.predicates(new_iri)) if p not in known},
        key=str,
    )
    for p in others:
        lab = None
        for g in graphs:
            lab = lab or g.value(p, RDFS.label)
        preds.append((p, str(lab) if lab else _curie(p), True, False))  # type: ignore[arg-type]
    out: list[str] = []
    for p, lab, multi, is_field in preds:
        a = set(old.objects(old_iri, p))
        b = set(new.objects(new_iri, p))
        if a == b:
            continue
        text = is_field and all(isinstance(t, Literal) for t in a | b)
        if multi and not text:
            parts = [
                f"+ {_label(t, graphs)}" for t in sorted(b - a, key=lambda t: _label(t, graphs))
            ]
            parts += [
                f"− {_label(t, graphs)}" for t in sorted(a - b, key=lambda t: _label(t, graphs))
            ]
            out.append(f"{lab}: " + ", ".join(parts))
        else:
            before = ", ".join(sorted(_label(t, graphs) for t in a)) or _NONE
            after = ", ".join(sorted(_label(t, graphs) for t in b)) or _NONE
            out.append(f"{lab}: {before} → {after}")
    return out


@dataclass
class Side:
    """One side of a comparison: a graph holding the policies and where they come from."""

    graph: Graph
    policies: list[URIRef]
    origin: str


def resolve_side(arg: str, graph: Graph | None, *, max_bytes: int | None = None) -> Side:
    """``arg`` as a file of policies, or as a policy of ``graph`` (IRI, kg:name or identifier)."""
    p = Path(arg)
    if p.exists() or p.suffix.lower() in _paths.RDF_FORMATS:
        new = read_new([p], max_bytes=max_bytes if max_bytes is not None else DEFAULT_MAX_BYTES)
        pols = policies(new.graph)
        if not pols:
            raise InputError(f"{_paths.display_path(p)}: no cptkg:PayerPolicy in the file")
        return Side(new.graph, pols, _paths.display_path(p))
    if graph is None:
        raise InputError(f"{arg}: no such file", hint="name a file or a policy of the graph")
    iri = parse_iri(arg)  # an IRI of any scheme: an identifier is tried next anyway
    if iri is not None and (iri, RDF.type, CPTKG.PayerPolicy) in graph:
        return Side(graph, [iri], "graph")
    for s in graph.subjects(DCTERMS.identifier, Literal(arg)):
        if (s, RDF.type, CPTKG.PayerPolicy) in graph and isinstance(s, URIRef):
            return Side(graph, [s], "graph")
    known = ", ".join(str(graph.value(s, DCTERMS.identifier)) for s in policies(graph)[:20])
    raise InputError(
        f"{arg}: neither a file nor a policy of the graph (by IRI, kg:name or identifier)",
        hint=f"policy identifiers in the graph: {known}",
    )


def _base_id(g: Graph, pol: URIRef) -> str:
    ident = g.value(pol, DCTERMS.identifier)
    return str(ident).split("@", 1)[0] if ident is not None else str(pol)


def diff_sides(old: Side, new: Side, labels: Graph | None = None) -> str:
    """Readable comparison of the policies of two sides (paired by identifier)."""
    pairs: list[tuple[URIRef | None, URIRef | None]] = []
    if len(old.policies) == 1 and len(new.policies) == 1:
        pairs.append((old.policies[0], new.policies[0]))
    else:
        olds = {_base_id(old.graph, p): p for p in old.policies}
        news = {_base_id(new.graph, p): p for p in new.policies}
        for key in sorted(set(olds) | set(news)):
            pairs.append((olds.get(key), news.get(key)))
    lines: list[str] = []
    for a, b in pairs:
        if lines:
            lines.append("")
        if a is None:
            lines.append(f"only in {new.origin}: {_label(b, [new.graph])}")  # type: ignore[arg-type]
            continue
        if b is None:
            lines.append(f"only in {old.origin}: {_label(a, [old.graph])}")
            continue
        lines.append(
            f"{_label(a, [old.graph])} ({old.origin}) → {_label(b, [new.graph])} ({new.origin})"
        )
        changes = describe_changes(old.graph, a, new.graph, b, labels)
        lines.extend(f"  {c}" for c in changes) if changes else lines.append("  no differences")
    return "\n".join(lines) + "\n"
