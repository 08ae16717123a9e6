"""The graph new data joins, as look-ups (:class:`ContextProvider`): over an rdflib Graph
(:class:`GraphContext`, the shipped graph) or over any engine by SPARQL (:class:`SparqlContext`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Any, Protocol

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS, XSD
from rdflib.term import Identifier, Node

from cptkg.engines.base import Engine, SelectResult
from cptkg.load import graph_source, load_dataset, subject_sources, union_graph
from cptkg.namespaces import CPTKG

Triple = tuple[Node, Node, Node]


class ContextProvider(Protocol):
    """Look-ups intake needs from the graph the new data joins. Each must be an index look-up
    (cost independent of the graph size) except :meth:`instances_of`, used for hints only."""

    def types_of(self, iris: Collection[URIRef]) -> Iterable[tuple[URIRef, URIRef]]:
        """(iri, class) for every ``iri rdf:type class`` in the graph."""
        ...

    def describe(self, iris: Collection[URIRef]) -> Iterable[Triple]:
        """Every triple whose subject is one of ``iris``."""
        ...

    def policies_with_identifier(self, ids: Collection[str]) -> Iterable[tuple[Literal, URIRef]]:
        """(identifier literal, policy IRI) for every cptkg:PayerPolicy with one of ``ids``."""
        ...

    def instances_of(self, cls: URIRef, limit: int = 50) -> list[tuple[URIRef, str | None]]:
        """Up to ``limit`` (IRI, label) pairs of instances of ``cls``, sorted by IRI."""
        ...


class GraphContext:
    """A :class:`ContextProvider` over an rdflib Graph (the union of the shipped graph).

    ``sources`` optionally maps a subject IRI to the file that holds it (for messages).
    """

    def __init__(self, graph: Graph, sources: dict[Node, str] | None = None) -> None:
        self.graph = graph
        self._sources = sources or {}

    def types_of(self, iris: Collection[URIRef]) -> Iterator[tuple[URIRef, URIRef]]:
        for iri in iris:
            for cls in self.graph.objects(iri, RDF.type):
                if isinstance(cls, URIRef):
                    yield iri, cls

    def describe(self, iris: Collection[URIRef]) -> Iterator[Triple]:
        for iri in iris:
            yield from self.graph.triples((iri, None, None))

    def policies_with_identifier(self, ids: Collection[str]) -> Iterator[tuple[Literal, URIRef]]:
        for value in ids:
            for lit in (Literal(value), Literal(value, datatype=XSD.string)):
                for s in self.graph.subjects(DCTERMS.identifier, lit):
                    if isinstance(s, URIRef) and (s, RDF.type, CPTKG.PayerPolicy) in self.graph:
                        yield lit, s

    def policy_versions(self, bases: Collection[str]) -> Iterator[tuple[Literal, URIRef]]:
        """Policies whose identifier is ``base@…`` (scans identifiers: O(#identifiers))."""
        prefixes = tuple(f"{b}@" for b in bases)
        for s, o in self.graph.subject_objects(DCTERMS.identifier):
            if (
                isinstance(o, Literal)
                and str(o).startswith(prefixes)
                and isinstance(s, URIRef)
                and (s, RDF.type, CPTKG.PayerPolicy) in self.graph
            ):
                yield o, s

    def instances_of(self, cls: URIRef, limit: int = 50) -> list[tuple[URIRef, str | None]]:
        found = sorted(
            (s for s in self.graph.subjects(RDF.type, cls) if isinstance(s, URIRef)), key=str
        )[:limit]
        out = []
        for s in found:
            label = self.graph.value(s, RDFS.label) or self.graph.value(s, SKOS.prefLabel)
            out.append((s, str(label) if label is not None else None))
        return out

    def source_of(self, iri: Node) -> str | None:
        """The file (relative to the project) holding ``iri``'s description, if known."""
        return self._sources.get(iri)


def shipped_context() -> GraphContext:
    """The shipped graph (ontology + data/**/*.ttl) as a :class:`GraphContext`."""
    ds = load_dataset(include_ontology=True)
    return GraphContext(union_graph(ds), dict(subject_sources(ds)))


class SparqlContext:
    """A :class:`ContextProvider` over any engine (embedded Oxigraph, a remote endpoint):
    validating one new file against a graph of millions of triples needs only these
    look-ups by VALUES, never a copy of the graph."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _select(self, sparql: str) -> Iterator[tuple[Any, ...]]:
        res = self.engine.query(sparql)
        if not isinstance(res, SelectResult):
            raise TypeError("context look-ups are SELECT queries")
        yield from res.rows

    @staticmethod
    def _values(terms: Iterable[Identifier]) -> str:
        return " ".join(t.n3() for t in terms)

    def types_of(self, iris: Iterable[URIRef]) -> Iterator[tuple[Any, ...]]:
        """(iri, class) for every ``iri rdf:type class`` in the graph."""
        iris = [i for i in iris if isinstance(i, URIRef)]
        if not iris:
            return iter(())
        return self._select(
            f"SELECT ?s ?c WHERE {{ VALUES ?s {{ {self._values(iris)} }} ?s a ?c }}"
        )

    def describe(self, iris: Iterable[URIRef]) -> Iterator[tuple[Any, ...]]:
        """Every triple whose subject is one of ``iris``."""
        iris = [i for i in iris if isinstance(i, URIRef)]
        if not iris:
            return iter(())
        return self._select(
            f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {self._values(iris)} }} ?s ?p ?o }}"
        )

    def policies_with_identifier(self, ids: Iterable[str]) -> Iterator[tuple[Any, ...]]:
        """(identifier literal, policy IRI) for every cptkg:PayerPolicy with one of ``ids``."""
        lits = [Literal(str(i)) for i in ids]
        if not lits:
            return iter(())
        return self._select(
            "SELECT ?id ?p WHERE { VALUES ?id { " + self._values(lits) + " } "
            "?p a <https://w3id.org/cptkg/ontology#PayerPolicy> ; "
            "<http://purl.org/dc/terms/identifier> ?id }"
        )

    def instances_of(self, cls: URIRef, limit: int = 50) -> list[tuple[URIRef, str | None]]:
        """Up to ``limit`` (IRI, label) pairs of instances of ``cls``, sorted by IRI."""
        rows = self._select(
            f"SELECT ?s (SAMPLE(?l) AS ?label) WHERE {{ ?s a {cls.n3()} "
            "OPTIONAL { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } } "
            f"GROUP BY ?s ORDER BY ?s LIMIT {int(limit)}"
        )
        return [(s, str(lab) if lab is not None else None) for s, lab in rows]

    def source_of(self, iri: Node) -> str | None:
        """The file (relative to the project) whose named graph types ``iri``, if any."""
        rows = self._select(
            f"SELECT ?g WHERE {{ GRAPH ?g {{ {iri.n3()} a ?c }} }} ORDER BY ?g LIMIT 1"
        )
        return next((graph_source(str(g)) for (g,) in rows), None)


class CachedInstances:
    """``ctx`` with :meth:`instances_of` asked once per class and limit (the hints of many
    findings about one field list the same known resources); the other look-ups pass through."""

    def __init__(self, ctx: ContextProvider) -> None:
        self.ctx = ctx
        self._instances: dict[tuple[URIRef, int], list[tuple[URIRef, str | None]]] = {}

    def types_of(self, iris: Collection[URIRef]) -> Iterable[tuple[URIRef, URIRef]]:
        return self.ctx.types_of(iris)

    def describe(self, iris: Collection[URIRef]) -> Iterable[Triple]:
        return self.ctx.describe(iris)

    def policies_with_identifier(self, ids: Collection[str]) -> Iterable[tuple[Literal, URIRef]]:
        return self.ctx.policies_with_identifier(ids)

    def instances_of(self, cls: URIRef, limit: int = 50) -> list[tuple[URIRef, str | None]]:
        key = (cls, limit)
        if key not in self._instances:
            self._instances[key] = self.ctx.instances_of(cls, limit)
        return list(self._instances[key])


def context_for(engine: Engine) -> ContextProvider:
    """The context look-ups over ``engine``: index look-ups on its rdflib Graph when it has one,
    else SPARQL look-ups by VALUES."""
    graph = getattr(engine, "graph", None)
    if isinstance(graph, Graph):
        return GraphContext(graph)
    return SparqlContext(engine)
