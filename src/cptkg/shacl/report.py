"""The SHACL validation report shared by both runners (:mod:`cptkg.shacl.pyshacl_runner`,
:mod:`cptkg.shacl.sparql_runner`): findings, conformance, and the report as text, JSON and
W3C Turtle.

Two senses of conformance: :attr:`ValidationResult.conforms` is true when no result has
severity ``sh:Violation`` (``sh:Warning`` and ``sh:Info`` are reported but allowed, so the CLI
exits 0 with warnings only); :attr:`ValidationResult.shacl_conforms` and the Turtle report's
``sh:conforms`` follow SHACL 1.0 section 3.6.1: true only when there is no result at all.
Building every form of the report is linear in the number of results.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from cptkg.namespaces import bind_prefixes
from cptkg.textsafe import printable

#: The report's terms, looked up once (a namespace's attribute look-up is slow).
_TYPE = RDF.type
_RESULT, _CONFORMS = SH.result, SH.conforms
_VALIDATION_RESULT, _FOCUS = SH.ValidationResult, SH.focusNode
_PATH, _VALUE = SH.resultPath, SH.value
_SHAPE, _COMPONENT = SH.sourceShape, SH.sourceConstraintComponent
_SEVERITY, _MESSAGE = SH.resultSeverity, SH.resultMessage

#: Severities in report order (most severe first).
SEVERITIES: tuple[str, ...] = ("Violation", "Warning", "Info")
_SEVERITY_RANK = {name: i for i, name in enumerate(SEVERITIES)}

PATH_OPERATORS: tuple[tuple[URIRef, str], ...] = (
    (SH.inversePath, "^{}"),
    (SH.zeroOrMorePath, "{}*"),
    (SH.oneOrMorePath, "{}+"),
    (SH.zeroOrOnePath, "{}?"),
)
"""SHACL unary path operators and their SPARQL property-path syntax (format with the inner path)."""


@dataclass(frozen=True)
class Finding:
    """One SHACL validation result (one ``sh:ValidationResult``)."""

    focus_node: Node | None
    path: Node | None
    value: Node | None
    source_shape: Node | None
    constraint_component: Node | None
    severity: str  #: "Violation", "Warning", "Info" (or the local name of a custom severity)
    message: str
    #: readable forms, filled by :func:`validate` (paths and blank-node shapes resolved)
    path_text: str = ""
    shape_text: str = ""
    #: the severity as reported (``sh:Violation``...; a custom severity keeps its IRI)
    severity_iri: Node | None = None

    def statement(
        self,
    ) -> tuple[Node | None, Node | None, Node | None, Node | None, Node | None, str, str]:
        """Everything the result states: focus node, path, value, source shape, constraint
        component, severity and message (two validators agree when these are equal)."""
        return (
            self.focus_node,
            self.path,
            self.value,
            self.source_shape,
            self.constraint_component,
            self.severity,
            self.message,
        )

    def sort_key(self, keys: dict[Node, str] | None = None) -> tuple[Any, ...]:
        """Deterministic ordering: focus node, severity, path, component, value, message.
        ``keys``: the terms' sort keys computed so far, when sorting many findings."""

        def key(t: Node | None) -> str:
            if keys is None or t is None:
                return _node_key(t)
            found = keys.get(t)
            if found is None:
                found = keys[t] = _node_key(t)
            return found

        return (
            key(self.focus_node),
            _SEVERITY_RANK.get(self.severity, len(SEVERITIES)),
            self.path_text or key(self.path),
            key(self.constraint_component),
            key(self.value),
            self.message,
            self.shape_text or key(self.source_shape),
        )


class _ReportGraph:
    """The :attr:`ValidationResult.report_graph` field: the graph given, or for a result made
    by :meth:`ValidationResult.with_results`, the graph with the added results, built when
    it is first read (the Turtle report is written without it)."""

    def __get__(self, obj: ValidationResult | None, owner: type | None = None) -> Graph:
        if obj is None:
            raise AttributeError("report_graph")  # a dataclass field without a default
        state = obj.__dict__
        changes: _Changes | None = state.pop("_changes", None)
        if changes is not None:
            state["_report_graph"] = changes.graph()
        return state["_report_graph"]  # type: ignore[no-any-return]

    def __set__(self, obj: ValidationResult, value: Graph) -> None:
        obj.__dict__.pop("_changes", None)
        obj.__dict__["_report_graph"] = value


@dataclass
class ValidationResult:
    """The outcome of :func:`validate`: conformance, sorted findings and the W3C report."""

    conforms: bool
    results: list[Finding]
    report_graph: Graph = _ReportGraph()  # type: ignore[assignment]
    namespaces: Graph = field(default_factory=lambda: bind_prefixes(Graph()))

    def with_results(
        self, added: list[Finding], *, dropped: list[Finding] | None = None
    ) -> ValidationResult:
        """A copy with the findings ``added`` and without the findings ``dropped``: results
        sorted again, :attr:`conforms` as ever (no violation). In its report graph each
        dropped finding's ``sh:result`` nodes (same focus node, value, path and component)
        are removed, each added finding becomes an ``sh:result`` node of the report, and
        ``sh:conforms`` is true only without any result; that graph is built when
        :attr:`report_graph` is first read, while :meth:`to_turtle` writes the same report
        from the findings directly, in time linear in their number."""
        gone = set(dropped or ())
        findings = [f for f in self.results if f not in gone] + list(added)
        keys: dict[Node, str] = {}
        findings.sort(key=lambda f: f.sort_key(keys))
        base = self.report_graph
        nodes = [r for f in gone for r in _result_nodes(base, f)]
        report = next(base.subjects(RDF.type, SH.ValidationReport), None)
        conforms = not any(f.severity == "Violation" for f in findings)
        copy = ValidationResult(conforms, findings, base, self.namespaces)
        copy.__dict__["_changes"] = _Changes(base, report, nodes, list(added), not findings)
        return copy

    @property
    def shacl_conforms(self) -> bool:
        """Conformance as SHACL defines it (section 3.6.1): no result at all, warnings
        included. :attr:`conforms` (no violation) is what the CLI's exit code follows."""
        return not self.results

    def counts(self) -> dict[str, int]:
        """Number of findings per severity (all of SEVERITIES present, possibly 0) and total."""
        counts = {name: 0 for name in SEVERITIES}
        for f in self.results:
            counts[f.severity] = counts.get(f.severity, 0) + 1
        counts["total"] = len(self.results)
        return counts

    @property
    def violations(self) -> list[Finding]:
        """Findings of severity Violation."""
        return [f for f in self.results if f.severity == "Violation"]

    def by_focus_node(self) -> dict[Node | None, list[Finding]]:
        """Findings grouped by focus node, groups and members in deterministic order."""
        groups: dict[Node | None, list[Finding]] = {}
        for f in self.results:  # already sorted by focus node first
            groups.setdefault(f.focus_node, []).append(f)
        return groups

    def to_turtle(self) -> str:
        """The W3C ``sh:ValidationReport`` graph as deterministic Turtle (blank nodes
        labelled by :func:`stable_bnode_labels`), written by :func:`turtle_text` in one pass
        over the report: time linear in the number of results (up to sorting). Results added
        by :meth:`with_results` are written from their findings, the graph left unbuilt."""
        changes: _Changes | None = self.__dict__.get("_changes")
        if changes is not None:
            prefixes = changes.namespaces()
            index = changes.index(inline=True)
        else:
            prefixes = self.report_graph
            index = _subject_index(prefixes)
        labels = stable_bnode_labels(prefixes, index)
        return turtle_text(prefixes, labels, index)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: terms as N3 strings (full IRIs ``<...>``, literals with datatype
        or language, blank-node values ``_:bN`` numbered in result order); complex paths and
        blank-node shapes as readable text (``ex:p/^ex:q``, ``ex:Shape[ex:p]``); severity
        and message as plain strings.

        ``conforms`` is true when no result is a violation (warnings and infos allowed: the
        CLI exits 0); ``shacl_conforms`` is SHACL's own ``sh:conforms``, true only when there
        is no result at all, as the Turtle report says. ``counts`` counts exactly the
        ``results`` listed (per severity, and ``total``)."""
        bnodes: dict[Node, str] = {}

        n3: dict[Node, str] = {}  # each term formatted once

        def term(t: Node | None) -> str | None:
            if t is None:
                return None
            if isinstance(t, BNode):
                return bnodes.setdefault(t, f"_:b{len(bnodes)}")
            out = n3.get(t)
            if out is None:
                out = n3[t] = t.n3()
            return out

        results = [
            {
                "focus_node": term(f.focus_node),
                "path": term(f.path) if isinstance(f.path, URIRef) else f.path_text or None,
                "value": term(f.value),
                "source_shape": (
                    term(f.source_shape) if isinstance(f.source_shape, URIRef) else f.shape_text
                ),
                "constraint_component": term(f.constraint_component),
                "severity": f.severity,
                "message": f.message,
            }
            for f in self.results
        ]
        return {
            "conforms": self.conforms,
            "shacl_conforms": self.shacl_conforms,
            "counts": self.counts(),
            "results": results,
        }

    def to_json(self) -> str:
        """Stable JSON (sorted keys, results in :meth:`Finding.sort_key` order)."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    def render(self, fmt: str) -> str:
        """The report as ``json``, ``turtle`` or (anything else) text, like
        :meth:`cptkg.intake.IntakeReport.render`."""
        return {"json": self.to_json, "turtle": self.to_turtle}.get(fmt, self.to_text)()

    def to_text(self) -> str:
        """Human-readable report grouped by focus node, prefixed names, one line per finding."""
        c = self.counts()
        status = "conforms" if self.conforms else "does NOT conform"
        lines = [
            f"Validation: {status} ({c['Violation']} violation(s), {c['Warning']} warning(s), "
            f"{c['Info']} info)"
        ]
        names: dict[Node | None, str] = {}  # each term shortened once

        def short(t: Node | None) -> str:
            out = names.get(t)
            if out is None:
                out = names[t] = self._short(t)
            return out

        for focus, findings in self.by_focus_node().items():
            lines.append("")
            lines.append(f"{short(focus)}")
            for f in findings:
                parts = [f"  [{f.severity}] {f.message}"]
                if f.path is not None:
                    parts.append(f"path: {f.path_text or short(f.path)}")
                if f.value is not None:
                    parts.append(f"value: {short(f.value)}")
                parts.append(f"shape: {f.shape_text or short(f.source_shape)}")
                lines.append(" | ".join(parts))
        return printable("\n".join(lines), multiline=True) + "\n"

    def _short(self, t: Node | None) -> str:
        return short_name(t, self.namespaces)


class InlineNode:
    """A blank node that only the report writers see, written inline where it is referenced
    (once): its (predicate, object) pairs, no object a blank node, and the hash of its
    content as :func:`stable_bnode_labels` computes it for a blank node. Results added to a
    report are written so, without making blank nodes and graph triples of them."""

    __slots__ = ("digest", "objects", "predicates")

    def __init__(self, predicates: tuple[Node, ...], objects: list[Node], digest: str) -> None:
        self.predicates = predicates
        self.objects = objects
        self.digest = digest

    @classmethod
    def of(
        cls, predicates: tuple[Node, ...], objects: list[Node], memo: dict[Any, Any]
    ) -> InlineNode | None:
        """The node with these predicates and objects (None: an object is a blank node).
        ``memo`` keeps the N3 forms of the terms met and the line order of each tuple of
        predicates: the content hash is one join and one SHA-1 per node."""
        texts = []
        for o in objects:
            text = memo.get(o)
            if text is None:
                text = memo[o] = o.n3()
            if text.startswith("_:"):
                return None
            texts.append(text)
        layout = memo.get(predicates)
        if layout is None:
            heads = [f"{p.n3()} " for p in predicates]
            # distinct predicates: their N3 forms order the lines (none is a prefix of another)
            order = sorted(range(len(heads)), key=heads.__getitem__)
            layout = memo[predicates] = (heads, order if len(set(heads)) == len(heads) else None)
        heads, order = layout
        if order is not None:
            text = "\n".join([heads[i] + texts[i] for i in order])
        else:
            text = "\n".join(sorted(h + t for h, t in zip(heads, texts, strict=True)))
        return cls(predicates, objects, "_:" + hashlib.sha1(text.encode("utf-8")).hexdigest())


#: subject -> its (predicate, object) pairs: one pass over a graph, read by the report writers
#: (an object may be an :class:`InlineNode`)
SubjectIndex = dict[Node, list[tuple[Node, Node | InlineNode]]]


def _subject_index(g: Graph) -> SubjectIndex:
    props: SubjectIndex = {}
    for s, p, o in g:
        props.setdefault(s, []).append((p, o))
    return props


def _result_nodes(report: Graph, f: Finding) -> list[Node]:
    """The ``sh:result`` nodes of ``report`` that state finding ``f`` (same focus node,
    value, path and constraint component)."""
    found = []
    for r in report.subjects(SH.focusNode, f.focus_node):
        if (
            report.value(r, SH.value) == f.value
            and report.value(r, SH.resultPath) == f.path
            and report.value(r, SH.sourceConstraintComponent) == f.constraint_component
        ):
            found.append(r)
    return found


def _result_layout(f: Finding, message: Literal) -> tuple[tuple[Node, ...], list[Node]]:
    """The predicates and objects of the ``sh:result`` node stating finding ``f`` (its
    message as the literal ``message``): type, focus node, path, value, source shape and
    constraint component when known, severity, message."""
    predicates: tuple[Node, ...] = (_TYPE,)
    objects: list[Node] = [_VALIDATION_RESULT]
    for predicate, term in (
        (_FOCUS, f.focus_node),
        (_PATH, f.path),
        (_VALUE, f.value),
        (_SHAPE, f.source_shape),
        (_COMPONENT, f.constraint_component),
    ):
        if term is not None:
            predicates += (predicate,)
            objects.append(term)
    objects += (f.severity_iri or SH[f.severity], message)
    return (*predicates, _SEVERITY, _MESSAGE), objects


@dataclass(frozen=True)
class _Changes:
    """Results added to and removed from a report graph (:meth:`ValidationResult.with_results`),
    applied to a copy of the graph or to its subject index."""

    base: Graph
    #: the ``sh:ValidationReport`` node (None: the results are not written into the graph)
    report: Node | None
    dropped: list[Node]
    added: list[Finding]
    shacl_conforms: bool

    def namespaces(self) -> Graph:
        """An empty graph with the prefixes of the changed graph."""
        g = Graph()
        for prefix, ns in self.base.namespaces():
            g.bind(prefix, ns)
        return g

    def index(self, *, inline: bool = False) -> SubjectIndex:
        """The subject index of the changed graph (:func:`_subject_index`), built from the
        base graph's and the added findings: one pass over each. With ``inline``, an added
        result none of whose terms is a blank node is an :class:`InlineNode`."""
        props = _subject_index(self.base)
        gone = set(self.dropped)
        for node in gone:
            props.pop(node, None)
        if gone:
            for s, pairs in props.items():
                props[s] = [(p, o) for p, o in pairs if o not in gone]
        props = {s: pairs for s, pairs in props.items() if pairs}
        if self.report is None:
            return props
        report = props.setdefault(self.report, [])
        report[:] = [(p, o) for p, o in report if p != _CONFORMS]
        report.append((_CONFORMS, Literal(self.shacl_conforms)))
        fresh = str(BNode())  # new blank nodes, numbered after one fresh label
        memo: dict[Any, Any] = {}
        messages: dict[str, Literal] = {}
        for i, f in enumerate(self.added):
            message = messages.get(f.message)
            if message is None:
                message = messages[f.message] = Literal(f.message)
            predicates, objects = _result_layout(f, message)
            node = InlineNode.of(predicates, objects, memo) if inline else None
            if node is not None:
                report.append((_RESULT, node))
            else:
                blank = BNode(f"{fresh}r{i}")
                report.append((_RESULT, blank))
                props[blank] = list(zip(predicates, objects, strict=True))
        return props

    def graph(self) -> Graph:
        """The changed graph."""
        g = self.namespaces()
        g.addN((s, p, o, g) for s, pairs in self.index().items() for p, o in pairs)
        return g


def stable_bnode_labels(
    g: Graph, index: SubjectIndex | None = None
) -> dict[Node | InlineNode, BNode]:
    """Blank node -> a label that depends only on the graph's content, not on the labels the
    parser or validator chose: blank nodes are visited depth first from the ones nothing
    points to, each node's children in order of (predicate, hash of the child's content).
    Linear in the size of ``g`` (up to sorting), unlike a full canonicalisation; blank nodes
    with identical content may swap labels, which leaves the serialisation unchanged.
    ``index`` is ``g``'s subject index when the caller has it already."""
    props = index if index is not None else _subject_index(g)
    blank = (BNode, InlineNode)
    pointed = {o for pairs in props.values() for _p, o in pairs if isinstance(o, blank)}
    #: blank node -> the hash of its content; any other term -> its N3 form
    digests: dict[Node | InlineNode, str] = {
        o: o.digest for o in pointed if isinstance(o, InlineNode)
    }

    def digest(node: Node | InlineNode) -> str:
        found = digests.get(node)
        if found is not None:
            return found
        if not isinstance(node, BNode):
            found = digests[node] = node.n3()
            return found
        digests[node] = ""  # a cycle contributes nothing
        parts = sorted(f"{digest(p)} {digest(o)}" for p, o in props.get(node, ()))
        found = digests[node] = "_:" + hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()
        return found

    bnodes = {s for s in props if isinstance(s, BNode)} | pointed
    labels: dict[Node | InlineNode, BNode] = {}
    for start in sorted(bnodes - pointed, key=digest) + sorted(bnodes, key=digest):
        stack = [start]
        while stack:
            node = stack.pop()
            if node in labels:
                continue
            labels[node] = BNode(f"b{len(labels)}")
            children = [(p, o) for p, o in props.get(node, ()) if o in bnodes]
            children.sort(key=lambda po: (str(po[0]), digest(po[1])), reverse=True)
            stack.extend(o for _p, o in children)
    return labels


#: A local name written as ``prefix:local`` in Turtle (a safe subset of PN_LOCAL).
_SAFE_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def turtle_text(
    g: Graph, labels: dict[Node | InlineNode, BNode], index: SubjectIndex | None = None
) -> str:
    """``g`` as Turtle with the given blank-node labels: the graph's prefixes, subjects in
    order (IRIs, then blank nodes nothing points to, then any other blank node), a blank node
    that is the object of exactly one triple written inline as ``[ … ]`` under it (an
    :class:`InlineNode` always). One pass over the triples plus sorting; every term
    formatted once."""
    prefixes = {str(iri): prefix for prefix, iri in g.namespaces()}
    names: dict[Node | InlineNode, str] = {}

    def name(t: Node | InlineNode) -> str:
        out = names.get(t)
        if out is None:
            if isinstance(t, URIRef):
                iri = str(t)
                cut = max(iri.rfind("#"), iri.rfind("/")) + 1
                prefix = prefixes.get(iri[:cut])
                local = iri[cut:]
                if prefix is not None and _SAFE_LOCAL.match(local) and not local.endswith("-"):
                    out = f"{prefix}:{local}"
                else:
                    out = t.n3()
            elif isinstance(t, BNode):
                out = f"_:{labels.get(t, t)}"
            elif isinstance(t, InlineNode):
                out = f"_:{labels[t]}"
            else:
                out = t.n3()
            names[t] = out
        return out

    props = index if index is not None else _subject_index(g)
    refs: dict[Node, int] = {}
    for pairs in props.values():
        for _p, o in pairs:
            if isinstance(o, BNode):
                refs[o] = refs.get(o, 0) + 1
    written: set[Node] = set()
    lines: list[str] = []

    keys: dict[Node, tuple[int, str]] = {}

    def key(t: Node) -> tuple[int, str]:
        found = keys.get(t)
        if found is None:
            found = keys[t] = (0 if t == _TYPE else 1, name(t))
        return found

    def body(s: Node, indent: str) -> str:
        written.add(s)
        by_pred: dict[Node, list[Node | InlineNode]] = {}
        for p, o in props.get(s, []):
            by_pred.setdefault(p, []).append(o)
        parts = []
        for p in sorted(by_pred, key=key):
            objects = [obj(o, indent + "    ") for o in sorted(by_pred[p], key=name)]
            verb = "a" if key(p)[0] == 0 else name(p)
            parts.append(f"{verb} " + ", ".join(objects))
        return f" ;\n{indent}".join(parts)

    def obj(o: Node | InlineNode, indent: str) -> str:
        if isinstance(o, InlineNode):
            return "[\n" + indent + "    " + inline(o, indent + "    ") + "\n" + indent + "]"
        if isinstance(o, BNode) and refs.get(o) == 1 and o not in written and o in props:
            return "[\n" + indent + "    " + body(o, indent + "    ") + "\n" + indent + "]"
        return name(o)

    #: the predicates of inline nodes -> (verb, positions of its objects), in body's order
    layouts: dict[tuple[Node, ...], list[tuple[str, list[int]]]] = {}

    def inline(o: InlineNode, indent: str) -> str:
        """:func:`body` of an inline node (its objects are no blank nodes)."""
        layout = layouts.get(o.predicates)
        if layout is None:
            at: dict[Node, list[int]] = {}
            for i, p in enumerate(o.predicates):
                at.setdefault(p, []).append(i)
            layout = layouts[o.predicates] = [
                ("a" if key(p)[0] == 0 else name(p), at[p]) for p in sorted(at, key=key)
            ]
        objects = [name(x) for x in o.objects]
        parts = [
            f"{verb} {objects[where[0]]}"
            if len(where) == 1
            else f"{verb} " + ", ".join(sorted(objects[i] for i in where))
            for verb, where in layout
        ]
        return f" ;\n{indent}".join(parts)

    bnodes = sorted((s for s in props if isinstance(s, BNode)), key=name)
    order = sorted((s for s in props if not isinstance(s, BNode)), key=name)
    order += [s for s in bnodes if s not in refs] + bnodes
    for s in order:
        if s not in written:
            lines.append(f"{name(s)} {body(s, '    ')} .\n")
    head = [f"@prefix {prefix}: <{iri}> ." for prefix, iri in sorted(g.namespaces())]
    return "\n".join(head) + "\n\n" + "\n".join(lines)


def short_name(t: Node | None, ns_graph: Graph) -> str:
    """``prefix:local`` for IRIs with a bound prefix, Turtle-like forms otherwise."""
    if t is None:
        return "-"
    if isinstance(t, BNode):
        return "[]"
    if isinstance(t, Literal):
        text = str(t)
        shown = json.dumps(text if len(text) <= 80 else text[:77] + "...", ensure_ascii=False)
        if t.language:
            return f"{shown}@{t.language}"
        if t.datatype is not None:
            return f"{shown}^^{short_name(t.datatype, ns_graph)}"
        return shown
    return t.n3(ns_graph.namespace_manager)


def _node_key(t: Node | None) -> str:
    if t is None:
        return ""
    if isinstance(t, BNode):
        return "~"  # blank nodes sort after IRIs and literals, labels are not stable
    return t.n3()


def path_text(path: Node | None, g: Graph, ns: Graph, depth: int = 0) -> str:
    """SPARQL-like property path text for a SHACL path node (sequence, ^, |, *, +, ?)."""
    if path is None:
        return ""
    if isinstance(path, URIRef):
        return short_name(path, ns)
    if depth > 20:
        return "..."
    if g.value(path, RDF.first) is not None:
        items = [path_text(p, g, ns, depth + 1) for p in g.items(path)]
        return "/".join(items)
    for pred, fmt in PATH_OPERATORS:
        inner = g.value(path, pred)
        if inner is not None:
            return fmt.format(_wrap(path_text(inner, g, ns, depth + 1)))
    alt = g.value(path, SH.alternativePath)
    if alt is not None:
        return "(" + "|".join(path_text(p, g, ns, depth + 1) for p in g.items(alt)) + ")"
    return "[]"


def _wrap(text: str) -> str:
    return f"({text})" if "/" in text or "|" in text else text


def shape_text(shape: Node | None, report: Graph, shapes: Graph, ns: Graph) -> str:
    """A named shape as ``prefix:Name``; a blank property shape as ``Parent[path]``."""
    if shape is None:
        return "-"
    if not isinstance(shape, BNode):
        return short_name(shape, ns)
    parents = sorted(
        (p for p in shapes.subjects(SH.property, shape) if not isinstance(p, BNode)), key=str
    )
    parent = short_name(parents[0], ns) if parents else "[]"
    path = shapes.value(shape, SH.path) or report.value(shape, SH.path)
    src = shapes if shapes.value(shape, SH.path) is not None else report
    return f"{parent}[{path_text(path, src, ns)}]" if path is not None else parent


def _message(report: Graph, result: Node) -> str:
    msgs = list(report.objects(result, SH.resultMessage))
    if not msgs:
        return "(no message)"

    def pref(m: Node) -> tuple[int, str]:
        lang = getattr(m, "language", None)
        return (0 if lang in (None, "en") or str(lang).startswith("en-") else 1, str(m))

    return str(sorted(msgs, key=pref)[0])


_PLACEHOLDER = re.compile(r"\{[$?](value|this|focusNode|path)\}")


def _fill_placeholders(message: str, values: dict[str, str]) -> str:
    """Replace ``{$value}`` / ``{?value}`` (and this, focusNode, path) in a message template.

    SHACL substitutes these only for SHACL-SPARQL constraints; shapes authors also write them
    in core constraints' ``sh:message``, where pySHACL leaves them as they are. Placeholders
    without a value (e.g. ``{$value}`` for a missing property) are left untouched.
    """

    def sub(m: re.Match[str]) -> str:
        return values.get(m.group(1), m.group(0))

    return _PLACEHOLDER.sub(sub, message)


def severity_name(node: Node | None) -> str:
    if node is None:
        return "Violation"
    s = str(node)
    return s.rsplit("#", 1)[-1] if "#" in s else s.rsplit("/", 1)[-1]


def findings_from_report(report: Graph, shapes: Graph, ns: Graph | None = None) -> list[Finding]:
    """Read the ``sh:ValidationResult``s of a report graph into sorted Findings."""
    ns = ns if ns is not None else bind_prefixes(Graph())
    out = []
    for r in report.subjects(RDF.type, SH.ValidationResult):
        path = report.value(r, SH.resultPath)
        shape = report.value(r, SH.sourceShape)
        focus = report.value(r, SH.focusNode)
        value = report.value(r, SH.value)
        severity = report.value(r, SH.resultSeverity)
        shown_path = path_text(path, report, ns) if path is not None else ""
        fills = {"path": shown_path} if shown_path else {}
        if focus is not None:
            fills["this"] = fills["focusNode"] = short_name(focus, ns)
        if value is not None:
            fills["value"] = short_name(value, ns)
        out.append(
            Finding(
                focus_node=focus,
                path=path,
                value=value,
                source_shape=shape,
                constraint_component=report.value(r, SH.sourceConstraintComponent),
                severity=severity_name(severity),
                severity_iri=severity,
                message=_fill_placeholders(_message(report, r), fills),
                path_text=shown_path,
                shape_text=shape_text(shape, report, shapes, ns),
            )
        )
    return sorted(out, key=Finding.sort_key)
