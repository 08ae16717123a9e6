"""The embedded engine: SPARQL 1.1 over an in-memory rdflib Graph, pySHACL for validation."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import Dataset, Graph
from rdflib.term import Identifier

from cptkg import graph_cache
from cptkg.engines.base import NoteSink, QueryError, QueryOutcome, SelectResult
from cptkg.load import load_dataset, source_files, subject_sources, union_graph
from cptkg.namespaces import bind_prefixes
from cptkg.sparql_cache import prepare_bound

if TYPE_CHECKING:
    from cptkg.intake.context import ContextProvider
    from cptkg.shacl.report import ValidationResult


class RdflibEngine:
    """Run queries with rdflib's SPARQL engine over one Graph (its default graph).

    Parameters are bound with :func:`cptkg.engines.base.inject_values`, exactly as the other
    engines do, rather than with rdflib's ``initBindings``: the same query text then runs
    everywhere, and a VALUES block is visible to every FILTER of the group it opens. Query texts
    are prepared through :mod:`cptkg.sparql_cache` (parsed once, not once per run).
    """

    name = "rdflib"

    def __init__(self, graph: Graph, dataset: Dataset | None = None) -> None:
        """``graph``: what queries see; ``dataset``: the same triples, one named graph per
        source file (kept for TriG / N-Quads export and for naming a subject's source file)."""
        self.graph = graph
        self.dataset = dataset

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> RdflibEngine:
        """An engine over ``dataset``, its named graphs merged into one default graph."""
        return cls(union_graph(dataset), dataset)

    @classmethod
    def from_sources(
        cls,
        paths: list[Path] | None = None,
        *,
        include_ontology: bool = True,
        include_shapes: bool = False,
    ) -> RdflibEngine:
        """An engine over what :func:`cptkg.load.load_dataset` loads with these arguments; the
        parsed graphs are read from :mod:`cptkg.graph_cache` when the same files were loaded
        before."""
        flags = {"include_ontology": include_ontology, "include_shapes": include_shapes}
        files = source_files(paths, **flags)

        def build() -> tuple[Dataset, Graph]:
            ds = load_dataset(paths, **flags)
            return ds, union_graph(ds)

        dataset, graph = graph_cache.cached(
            "dataset",
            files,
            build,
            lambda kept: (
                isinstance(kept, tuple)
                and len(kept) == 2
                and type(kept[0]) is Dataset
                and type(kept[1]) is Graph
            ),
            [f"ontology={include_ontology}", f"shapes={include_shapes}"],
        )
        return cls(graph, dataset)

    def load(self, paths: Iterable[Path | str]) -> None:
        """Add RDF files (or directories), one named graph per source file."""
        added = load_dataset(list(paths), include_ontology=False)
        if self.dataset is None:  # the triples given at construction: the default graph
            self.dataset = Dataset(default_union=True)
            bind_prefixes(self.dataset)
            for triple in self.graph:
                self.dataset.default_graph.add(triple)
        for s, p, o, c in added.quads((None, None, None, None)):
            self.dataset.graph(c.identifier if isinstance(c, Graph) else c).add((s, p, o))
            self.graph.add((s, p, o))

    def export(self, fmt: str) -> bytes:
        """The graph in ``fmt``, deterministic (see :func:`cptkg.export.export`)."""
        from cptkg.export import export  # not for queries (start-up time)

        return export(self.dataset if self.dataset is not None else self.graph, fmt)

    def validate(
        self,
        shapes: Graph | None = None,
        ontology: Graph | None = None,
        *,
        on_note: NoteSink | None = None,
    ) -> ValidationResult:
        """Validate the whole graph with pySHACL."""
        from cptkg.shacl.pyshacl_runner import validate  # the report model: not for queries

        return validate(self.graph, shapes=shapes, ontology=ontology)

    def parallel_queries(self) -> int:
        """One: rdflib evaluates SPARQL in Python, holding the interpreter lock."""
        return 1

    def context(self) -> ContextProvider:
        """Index look-ups on the graph, naming the source file of each typed subject."""
        from cptkg.intake.context import GraphContext  # not for queries (start-up time)

        sources = subject_sources(self.dataset) if self.dataset is not None else None
        return GraphContext(self.graph, sources)

    def query(self, sparql: str, bindings: dict[str, Identifier] | None = None) -> QueryOutcome:
        """Run ``sparql`` with ``bindings``; SELECT -> SelectResult, ASK -> bool, else Graph."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                namespaces = tuple(sorted((p, str(ns)) for p, ns in self.graph.namespaces()))
                prepared = prepare_bound(sparql, bindings, namespaces)
                result = self.graph.query(prepared)
                kind = result.type
                if kind == "SELECT":
                    variables = [str(v) for v in (result.vars or [])]
                    rows = [tuple(row) for row in result]  # type: ignore[arg-type]
                    return SelectResult(variables, rows)  # type: ignore[arg-type]
                if kind == "ASK":
                    return bool(result.askAnswer)
                g = Graph()
                for prefix, ns in self.graph.namespaces():
                    g.bind(prefix, ns)
                for triple in result:  # type: ignore[union-attr]
                    g.add(triple)  # type: ignore[arg-type]
                return g
        except QueryError:
            raise
        except Exception as exc:  # noqa: BLE001 - rdflib raises many types for bad queries
            raise QueryError(
                _describe(exc), hint="check the SPARQL 1.1 syntax of the query"
            ) from None


def _describe(exc: Exception) -> str:
    """A one-line description of an rdflib parse or evaluation error."""
    text = re.sub(r"\s+", " ", str(exc)).strip()
    if type(exc).__name__ == "ParseException":
        return f"SPARQL syntax error: {text}"
    return f"SPARQL query failed: {type(exc).__name__}: {text}" if text else type(exc).__name__
