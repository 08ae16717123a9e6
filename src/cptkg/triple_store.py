"""An in-memory rdflib store for one plain graph, filled in bulk from a list of triples.

rdflib's default store keeps, for every triple, the named graphs it is in and sends an event
per triple added; for new data of 10^5 triples built in one go (a spreadsheet of 10,000
policies) that bookkeeping costs more than everything else done with the graph. A
:class:`TripleStore` holds one graph without named graphs and without events: a subject index
filled as the triples come, and the predicate and object indexes built on the first look-up
that needs them. A :class:`~rdflib.Graph` over it (:func:`bulk_graph`) answers every look-up
and SPARQL query as over the default store; namespace bindings follow the default store's
rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from rdflib import Graph, URIRef
from rdflib.store import Store
from rdflib.term import Node

Triple = tuple[Node, Node, Node]
Pattern = tuple[Node | None, Node | None, Node | None]
#: first key -> second key -> third keys (a dict used as an ordered set)
Index = dict[Node, dict[Node, dict[Node, None]]]

_NO_CONTEXTS: tuple[Graph, ...] = ()


def _put(index: Index, a: Node, b: Node, c: Node) -> bool:
    """Add ``a b c`` to ``index``; False when it was there already."""
    inner = index.get(a)
    if inner is None:
        index[a] = {b: {c: None}}
        return True
    leaf = inner.get(b)
    if leaf is None:
        inner[b] = {c: None}
        return True
    if c in leaf:
        return False
    leaf[c] = None
    return True


def _drop(index: Index, a: Node, b: Node, c: Node) -> None:
    """Remove ``a b c`` from ``index`` (present), with the keys it leaves empty."""
    inner = index[a]
    leaf = inner[b]
    del leaf[c]
    if not leaf:
        del inner[b]
        if not inner:
            del index[a]


class TripleStore(Store):
    """The triples of one graph, indexed by subject (and, once asked, by predicate and by
    object); no named graphs, no formulas, no transactions, no events."""

    context_aware = False
    formula_aware = False
    transaction_aware = False
    graph_aware = False

    def __init__(self, triples: Iterable[Triple] = ()) -> None:
        super().__init__()
        self._spo: Index = {}
        self._pos: Index | None = None
        self._osp: Index | None = None
        self._count = 0
        self._namespace: dict[str, URIRef] = {}
        self._prefix: dict[URIRef, str] = {}
        self.extend(triples)

    def extend(self, triples: Iterable[Triple]) -> None:
        """Add ``triples`` (terms are not checked: use :meth:`rdflib.Graph.add` for that)."""
        spo = self._spo
        added = 0
        for s, p, o in triples:
            inner = spo.get(s)
            if inner is None:
                spo[s] = {p: {o: None}}
            else:
                leaf = inner.get(p)
                if leaf is None:
                    inner[p] = {o: None}
                elif o in leaf:
                    continue
                else:
                    leaf[o] = None
            added += 1
            if self._pos is not None:
                _put(self._pos, p, o, s)
            if self._osp is not None:
                _put(self._osp, o, s, p)
        self._count += added

    # ------------------------------------------------------------------ the rdflib Store API

    def add(self, triple: Triple, context: Any = None, quoted: bool = False) -> None:
        """Add one triple (the context is the graph itself: there are no named graphs)."""
        s, p, o = triple
        if _put(self._spo, s, p, o):
            self._count += 1
            if self._pos is not None:
                _put(self._pos, p, o, s)
            if self._osp is not None:
                _put(self._osp, o, s, p)

    def remove(self, triple: Pattern, context: Any = None) -> None:
        """Remove every triple matching the pattern."""
        for (s, p, o), _c in list(self.triples(triple)):
            _drop(self._spo, s, p, o)
            self._count -= 1
            if self._pos is not None:
                _drop(self._pos, p, o, s)
            if self._osp is not None:
                _drop(self._osp, o, s, p)

    def _by_predicate(self) -> Index:
        if self._pos is None:
            pos: Index = {}
            for s, by_p in self._spo.items():
                for p, objects in by_p.items():
                    for o in objects:
                        _put(pos, p, o, s)
            self._pos = pos
        return self._pos

    def _by_object(self) -> Index:
        if self._osp is None:
            osp: Index = {}
            for s, by_p in self._spo.items():
                for p, objects in by_p.items():
                    for o in objects:
                        _put(osp, o, s, p)
            self._osp = osp
        return self._osp

    def triples(
        self, triple_pattern: Pattern, context: Any = None
    ) -> Iterator[tuple[Triple, Iterator[Graph]]]:
        """The triples matching the pattern (None matches anything), each with no contexts."""
        s, p, o = triple_pattern
        none = _NO_CONTEXTS
        if s is not None:
            by_p = self._spo.get(s)
            if by_p is None:
                return
            predicates = (p,) if p is not None else tuple(by_p)
            for pred in predicates:
                objects = by_p.get(pred)
                if objects is None:
                    continue
                if o is not None:
                    if o in objects:
                        yield (s, pred, o), iter(none)
                    continue
                for obj in tuple(objects):
                    yield (s, pred, obj), iter(none)
        elif p is not None:
            by_o = self._by_predicate().get(p)
            if by_o is None:
                return
            objects = (o,) if o is not None else tuple(by_o)
            for obj in objects:
                subjects = by_o.get(obj)
                if subjects is not None:
                    for subj in tuple(subjects):
                        yield (subj, p, obj), iter(none)
        elif o is not None:
            by_s = self._by_object().get(o)
            if by_s is None:
                return
            for subj, predicates in tuple(by_s.items()):
                for pred in tuple(predicates):
                    yield (subj, pred, o), iter(none)
        else:
            for subj, by_p in tuple(self._spo.items()):
                for pred, objects in tuple(by_p.items()):
                    for obj in tuple(objects):
                        yield (subj, pred, obj), iter(none)

    def __len__(self, context: Any = None) -> int:
        return self._count

    def contexts(self, triple: Triple | None = None) -> Iterator[Graph]:
        """No named graphs."""
        return iter(_NO_CONTEXTS)

    def bind(self, prefix: str, namespace: URIRef, override: bool = True) -> None:
        """Bind ``prefix`` to ``namespace`` as rdflib's default store does: with ``override``
        the new binding replaces the prefix's and the namespace's old ones, else an existing
        binding of either is kept."""
        bound_namespace = self._namespace.get(prefix)
        bound_prefix = self._prefix.get(namespace)
        if bound_prefix is None and bound_namespace is not None:
            bound_prefix = self._prefix.get(bound_namespace)
        if override:
            if bound_prefix is not None:
                del self._namespace[bound_prefix]
            if bound_namespace is not None:
                del self._prefix[bound_namespace]
            self._prefix[namespace] = prefix
            self._namespace[prefix] = namespace
        else:
            ns = bound_namespace if bound_namespace is not None else namespace
            pfx = bound_prefix if bound_prefix is not None else prefix
            self._prefix[ns] = pfx
            self._namespace[pfx] = ns

    def namespace(self, prefix: str) -> URIRef | None:
        return self._namespace.get(prefix)

    def prefix(self, namespace: URIRef) -> str | None:
        return self._prefix.get(namespace)

    def namespaces(self) -> Iterator[tuple[str, URIRef]]:
        yield from list(self._namespace.items())


def bulk_graph(triples: Iterable[Triple]) -> Graph:
    """A Graph over a :class:`TripleStore` holding ``triples`` (rdflib's default prefixes)."""
    return Graph(store=TripleStore(triples))
