"""The embedded engine: SPARQL 1.1 over an in-memory rdflib Graph."""

from __future__ import annotations

import re
import warnings

from rdflib import Graph
from rdflib.term import Identifier

from cptkg.engines.base import QueryError, QueryOutcome, SelectResult, inject_values


class RdflibEngine:
    """Run queries with rdflib's SPARQL engine over one Graph (its default graph).

    Parameters are bound with :func:`cptkg.engines.base.inject_values`, exactly as the other
    engines do, rather than with rdflib's ``initBindings``: the same query text then runs
    everywhere, and a VALUES block is visible to every FILTER of the group it opens.
    """

    name = "rdflib"

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def query(self, sparql: str, bindings: dict[str, Identifier] | None = None) -> QueryOutcome:
        """Run ``sparql`` with ``bindings``; SELECT -> SelectResult, ASK -> bool, else Graph."""
        try:
            text = inject_values(sparql, bindings)
        except ValueError as exc:
            raise QueryError(str(exc)) from None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = self.graph.query(text)
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
