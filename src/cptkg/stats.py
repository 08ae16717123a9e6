"""Statistics of the graph: triples per named graph (source file), instances per class."""

from __future__ import annotations

import json
from dataclasses import dataclass

from rdflib import RDF, Dataset, Graph, URIRef

from cptkg.namespaces import GRAPH_BASE, bind_prefixes
from cptkg.tables import text_table


@dataclass
class Stats:
    """Counts of one dataset: ``graphs`` (graph IRI, triples) sorted by IRI, ``classes``
    (class IRI, distinct instances) sorted by count descending then IRI, and totals."""

    graphs: list[tuple[str, int]]
    classes: list[tuple[str, int]]
    total_triples: int
    distinct_triples: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "graphs": [{"graph": g, "triples": n} for g, n in self.graphs],
            "classes": [{"class": c, "instances": n} for c, n in self.classes],
            "total_triples": self.total_triples,
            "distinct_triples": self.distinct_triples,
        }

    def to_json(self) -> str:
        """Stable JSON."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=2) + "\n"

    def to_text(self) -> str:
        """Two aligned text tables (graphs, classes) with prefixed class names."""
        ns = bind_prefixes(Graph())
        graph_rows = [
            (g[len(GRAPH_BASE) :] if g.startswith(GRAPH_BASE) else g, n) for g, n in self.graphs
        ]
        class_rows = [(URIRef(c).n3(ns.namespace_manager), n) for c, n in self.classes]
        out = _table("graph (source file)", "triples", graph_rows)
        out.append(
            f"total: {self.total_triples} triples in {len(self.graphs)} graphs "
            f"({self.distinct_triples} distinct)"
        )
        out.append("")
        out += _table("class", "instances", class_rows)
        return "\n".join(out) + "\n"


def _table(left: str, right: str, rows: list[tuple[str, int]]) -> list[str]:
    return text_table([(name, str(n)) for name, n in rows], (left, right), right=(1,))


def triples_per_graph(ds: Dataset) -> list[tuple[str, int]]:
    """(graph IRI, triple count) for every non-empty graph of ``ds``, sorted by IRI."""
    counts: dict[str, int] = {}
    for _s, _p, _o, c in ds.quads((None, None, None, None)):
        cid = c.identifier if isinstance(c, Graph) else c
        counts[str(cid)] = counts.get(str(cid), 0) + 1
    return sorted(counts.items())


def instances_per_class(graph: Graph) -> list[tuple[str, int]]:
    """(class IRI, number of distinct rdf:type subjects), count descending then IRI."""
    members: dict[str, set[object]] = {}
    for s, o in graph.subject_objects(RDF.type):
        members.setdefault(str(o), set()).add(s)
    return sorted(((c, len(m)) for c, m in members.items()), key=lambda kv: (-kv[1], kv[0]))


def compute_stats(ds: Dataset) -> Stats:
    """Statistics of ``ds`` (classes counted over the union of its graphs)."""
    graphs = triples_per_graph(ds)
    union = Graph()
    for s, p, o, _c in ds.quads((None, None, None, None)):
        union.add((s, p, o))
    return Stats(
        graphs=graphs,
        classes=instances_per_class(union),
        total_triples=sum(n for _g, n in graphs),
        distinct_triples=len(union),
    )
