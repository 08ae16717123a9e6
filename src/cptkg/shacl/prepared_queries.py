"""rdflib's SPARQL processor with prepared-query reuse, for pySHACL's SHACL-SPARQL constraints.

pySHACL evaluates each ``sh:select`` once per focus node, passing the same query text with
different ``initBindings``; rdflib then parses and translates that text every time (about
15 ms each, most of a shipped-graph validation). :class:`PreparingSPARQLProcessor` translates
each distinct text once and evaluates the prepared query with the bindings, which is rdflib's
documented way to run one query many times (``prepareQuery``). :func:`prepared_queries`
registers it, through rdflib's plugin registry, only while a validation runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from rdflib import plugin
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.processor import SPARQLProcessor
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import Processor
from rdflib.term import Identifier

_ORIGINAL = ("rdflib.plugins.sparql.processor", "SPARQLProcessor")


@lru_cache(maxsize=256)
def _prepared(text: str, base: str | None, namespaces: tuple[tuple[str, str], ...]) -> Query:
    return translateQuery(parseQuery(text), base, dict(namespaces))


class PreparingSPARQLProcessor(SPARQLProcessor):
    """:class:`SPARQLProcessor` that prepares each distinct query text once."""

    def query(  # type: ignore[override]
        self,
        strOrQuery: str | Query,  # noqa: N803 - rdflib's parameter names
        initBindings: Mapping[str, Identifier] | None = None,  # noqa: N803
        initNs: Mapping[str, Any] | None = None,  # noqa: N803
        base: str | None = None,
        DEBUG: bool = False,  # noqa: N803
    ) -> Mapping[str, Any]:
        """Evaluate ``strOrQuery`` (prepared once per text, base and namespaces)."""
        if isinstance(strOrQuery, str):
            namespaces = tuple(sorted((str(k), str(v)) for k, v in (initNs or {}).items()))
            strOrQuery = _prepared(strOrQuery, base, namespaces)
        return super().query(strOrQuery, initBindings, None, base, DEBUG)


@contextlib.contextmanager
def prepared_queries() -> Iterator[None]:
    """Within the block, ``Graph.query`` strings are prepared once per distinct text."""
    plugin.register("sparql", Processor, __name__, PreparingSPARQLProcessor.__name__)
    try:
        yield
    finally:
        plugin.register("sparql", Processor, *_ORIGINAL)
