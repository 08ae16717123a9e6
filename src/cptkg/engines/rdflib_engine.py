"""The embedded engine: SPARQL 1.1 over an in-memory rdflib Graph, pySHACL for validation
(screened by the compiled shapes: :mod:`cptkg.shacl.screened`)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import Dataset, Graph
from rdflib.term import Identifier

from cptkg import graph_cache
from cptkg.engines.base import NoteSink, QueryError, QueryOutcome, SelectResult
from cptkg.graph_cache import ParsedFile
from cptkg.load import (
    fill_dataset,
    kept_source,
    load_dataset,
    namespace_dataset,
    parsed_source,
    source_files,
    subject_sources,
    union_graph,
    union_of,
)
from cptkg.namespaces import bind_prefixes
from cptkg.paths import rdf_format

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

    def __init__(
        self,
        graph: Graph,
        dataset: Dataset | None = None,
        *,
        build_dataset: Callable[[], Dataset] | None = None,
    ) -> None:
        """``graph``: what queries see; ``dataset``: the same triples, one named graph per
        source file (kept for TriG / N-Quads export and for naming a subject's source file),
        or ``build_dataset`` making it when first asked for (queries do not need it)."""
        self.graph = graph
        self._dataset = dataset
        self._build_dataset = build_dataset

    @property
    def dataset(self) -> Dataset | None:
        """The graph's triples, one named graph per source file (None: not known)."""
        if self._dataset is None and self._build_dataset is not None:
            self._dataset = self._build_dataset()
            self._build_dataset = None
        return self._dataset

    @dataset.setter
    def dataset(self, dataset: Dataset | None) -> None:
        self._dataset = dataset
        self._build_dataset = None

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
        """An engine over what :func:`cptkg.load.load_dataset` loads with these arguments; each
        file parsed before is read from :mod:`cptkg.graph_cache` (a changed file is parsed
        again alone), and the Dataset is made only when something asks for it."""
        files = source_files(
            paths, include_ontology=include_ontology, include_shapes=include_shapes
        )
        if any(rdf_format(f) == "json-ld" for f in files):
            # rdflib's JSON-LD parser binds prefixes a parsed file cannot repeat
            return cls.from_dataset(load_dataset(files, include_ontology=False))
        keys = graph_cache.file_keys(files)
        kept = graph_cache.read_union(graph_cache.union_key(keys)) if keys else None
        if kept is not None:
            graph, kept_keys = kept
            return cls(graph, build_dataset=lambda: _kept_dataset(files, kept_keys))
        parsed: list[ParsedFile] = []
        parsed_keys: list[str] = []
        for f, known in zip(files, keys or [None] * len(files), strict=True):
            source, key = parsed_source(f, known)
            parsed.append(source)
            if key is not None:
                parsed_keys.append(key)
        if not all(p.replayable for p in parsed):  # bindings a parsed file cannot repeat
            return cls.from_dataset(load_dataset(files, include_ontology=False))
        namespaces = namespace_dataset(parsed)
        graph = union_of(parsed, namespaces)
        if keys is not None and len(parsed_keys) == len(files):
            graph_cache.write_union(graph, parsed_keys)  # each key names the content parsed
        return cls(graph, build_dataset=lambda: fill_dataset(namespaces, parsed))

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
        """Validate the whole graph: pySHACL's findings, pySHACL running only on the focus
        nodes the compiled shapes flag on an Oxigraph copy of the graph
        (:func:`cptkg.shacl.screened.validate_screened`)."""
        from cptkg.shacl.screened import validate_screened  # not for queries (start-up time)

        return validate_screened(self.graph, shapes, ontology)

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
        from cptkg.sparql_cache import prepare_bound  # rdflib's SPARQL: not for validation

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


def _kept_dataset(files: list[Path], file_keys: tuple[str, ...]) -> Dataset:
    """The Dataset of ``files`` as parsed when kept under ``file_keys``."""
    if len(files) != len(file_keys):
        raise AssertionError("a kept graph names other files")
    parsed = [kept_source(f, k) for f, k in zip(files, file_keys, strict=True)]
    return fill_dataset(namespace_dataset(parsed), parsed)


def _describe(exc: Exception) -> str:
    """A one-line description of an rdflib parse or evaluation error."""
    text = re.sub(r"\s+", " ", str(exc)).strip()
    if type(exc).__name__ == "ParseException":
        return f"SPARQL syntax error: {text}"
    return f"SPARQL query failed: {type(exc).__name__}: {text}" if text else type(exc).__name__
