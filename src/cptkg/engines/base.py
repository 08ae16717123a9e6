"""Query engines: one interface over embedded rdflib, embedded Oxigraph and remote SPARQL endpoints.

Every engine answers a SPARQL 1.1 query with rdflib terms, so that results from different
engines can be compared value for value and written in the same formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.term import Identifier

from cptkg.errors import CptkgError

if TYPE_CHECKING:
    from cptkg.intake.context import ContextProvider
    from cptkg.shacl.report import ValidationResult

Term = URIRef | Literal | BNode


class QueryError(CptkgError):
    """A SPARQL query could not be parsed or evaluated (bad syntax, unsupported feature)."""


@dataclass
class SelectResult:
    """The answer to a SELECT query: variable names (without '?') and rows of rdflib terms."""

    variables: list[str]
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)

    def as_dicts(self) -> list[dict[str, Term | None]]:
        """Rows as dictionaries keyed by variable name."""
        return [dict(zip(self.variables, row, strict=True)) for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


QueryOutcome = SelectResult | bool | Graph
"""SELECT gives a SelectResult, ASK a bool, CONSTRUCT/DESCRIBE a Graph."""


#: Receives the notes of a validation (e.g. a shape validated another way), one line each.
NoteSink = Callable[[str], None]


@runtime_checkable
class Engine(Protocol):
    """What every engine offers: load RDF files, run a query with parameters bound as RDF
    terms, export the graph, validate it against SHACL shapes, and serve as the context new
    data is validated in. Open one with :func:`cptkg.engines.open_graph`."""

    name: str

    def query(self, sparql: str, bindings: dict[str, Identifier] | None = None) -> QueryOutcome:
        """Run `sparql` with `bindings` (variable name without '?' -> RDF term)."""
        ...

    def load(self, paths: Iterable[Path | str]) -> None:
        """Add RDF files (or directories of them), one named graph per source file."""
        ...

    def export(self, fmt: str) -> bytes:
        """The graph serialised in `fmt` (see :data:`cptkg.formats.EXPORT_FORMATS`), deterministic
        for the rdflib engine; TriG / N-Quads keep one named graph per source file."""
        ...

    def validate(
        self,
        shapes: Graph | None = None,
        ontology: Graph | None = None,
        *,
        on_note: NoteSink | None = None,
    ) -> ValidationResult:
        """Validate the whole graph against `shapes` (default: the shipped shapes) with
        `ontology` (default: the shipped ontology) as class hierarchy."""
        ...

    def context(self) -> ContextProvider:
        """The graph as the context new data is validated in (:mod:`cptkg.intake.context`)."""
        ...

    def parallel_queries(self) -> int:
        """How many queries the engine usefully evaluates at once, from as many threads (1: one
        at a time, e.g. an engine that evaluates in Python under the interpreter lock)."""
        ...


WHERE_OPEN = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def values_block(bindings: dict[str, Identifier]) -> str:
    """A SPARQL VALUES block binding each variable to one properly serialised RDF term."""
    if not bindings:
        return ""
    names = sorted(bindings)
    for name in names:
        Variable(name)  # rdflib rejects names that are not SPARQL variable names
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"not a SPARQL variable name: {name!r}")
    terms = []
    for name in names:
        term = bindings[name]
        if not isinstance(term, (URIRef, Literal)):
            raise ValueError(f"parameter ?{name} must be bound to an IRI or a literal")
        terms.append(term.n3())
    return "VALUES (" + " ".join("?" + n for n in names) + ") { (" + " ".join(terms) + ") }"


def inject_values(sparql: str, bindings: dict[str, Identifier] | None) -> str:
    """The query with a VALUES block for `bindings` placed first inside its outermost WHERE group.

    Placing the block at the start of the WHERE group (not as a trailing VALUES clause) makes
    the values visible to every FILTER and OPTIONAL in that group, which is what rdflib's
    initBindings gives; the terms are serialised with `n3()`, so a value can never change the
    query's structure.
    """
    if not bindings:
        return sparql
    match = WHERE_OPEN.search(mask_comments_and_strings(sparql))
    if match is None:
        raise ValueError("cannot bind parameters: the query has no WHERE { … } group")
    return sparql[: match.end()] + "\n  " + values_block(bindings) + "\n" + sparql[match.end() :]


def bind_query(sparql: str, bindings: dict[str, Identifier] | None) -> str:
    """:func:`inject_values`, a binding that cannot be made raised as :class:`QueryError`."""
    try:
        return inject_values(sparql, bindings)
    except ValueError as exc:
        raise QueryError(str(exc)) from None


def mask_comments_and_strings(sparql: str) -> str:
    """The query with comments, strings and IRIs blanked out (same length), for safe searching."""
    out = list(sparql)
    i, n = 0, len(sparql)
    while i < n:
        c = sparql[i]
        if c == "#":
            j = sparql.find("\n", i)
            j = n if j == -1 else j
            out[i:j] = " " * (j - i)
            i = j
        elif c in "\"'":
            long = sparql.startswith(c * 3, i)
            delim = c * 3 if long else c
            j = i + len(delim)
            while j < n and not sparql.startswith(delim, j):
                j += 2 if sparql[j] == "\\" else 1
            j = min(n, j + len(delim))
            out[i:j] = " " * (j - i)
            i = j
        elif c == "<" and re.match(r"<[^<>\"{}|^`\\\s]*>", sparql[i:]):
            j = i + re.match(r"<[^<>\"{}|^`\\\s]*>", sparql[i:]).end()  # type: ignore[union-attr]
            out[i:j] = " " * (j - i)
            i = j
        else:
            i += 1
    return "".join(out)
