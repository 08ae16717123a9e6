"""rdflib's SPARQL processor with prepared-query reuse, for pySHACL's SHACL-SPARQL constraints.

pySHACL evaluates each ``sh:select`` once per focus node, passing the same query text with
different ``initBindings``; rdflib then parses and translates that text every time (about
15 ms each, most of a shipped-graph validation). :class:`PreparingSPARQLProcessor` translates
each distinct text once and evaluates the prepared query with the bindings, which is rdflib's
documented way to run one query many times (``prepareQuery``); the translation is kept on disk
by :mod:`cptkg.sparql_cache`, so a later validation does not parse the texts again.
:func:`prepared_queries` registers it, through rdflib's plugin registry, only while a
validation runs.

rdflib orders the triple patterns of a basic graph pattern once, by how many of their terms
are unbound when the group starts, keeping the written order among equals. A constraint such as
``$this dcterms:identifier ?v . ?other a cptkg:PayerPolicy ; dcterms:identifier ?v`` then
matches ``?other a cptkg:PayerPolicy`` second, before ``?v`` narrows ``?other`` down: every
policy is scanned once per focus node, quadratic in the number of policies. Within the block,
basic graph patterns are evaluated in the order of :func:`order_patterns` instead, through
rdflib's documented extension point for custom evaluation (``CUSTOM_EVALS``); the solutions
are the same, only the order of the look-ups changes.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from rdflib import RDF, plugin
from rdflib.plugins.sparql import CUSTOM_EVALS
from rdflib.plugins.sparql.evaluate import evalBGP
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.processor import SPARQLProcessor
from rdflib.plugins.sparql.sparql import Query, QueryContext
from rdflib.query import Processor
from rdflib.term import Identifier, Node

from cptkg.sparql_cache import prepare

_ORIGINAL = ("rdflib.plugins.sparql.processor", "SPARQLProcessor")
#: The key of :func:`evaluate_bgp` in rdflib's ``CUSTOM_EVALS``.
_EVAL_KEY = "cptkg-bgp-order"

Pattern = tuple[Node, Node, Node]


def order_patterns(triples: Iterable[Pattern], bound: Callable[[Node], bool]) -> list[Pattern]:
    """``triples`` in the order to match them, ``bound`` telling which terms are already fixed
    (constants, and variables bound before the pattern group runs). Each next pattern is the
    one with the fewest unbound terms, then one whose subject is bound (an index look-up) over
    one found by predicate and object, then not ``rdf:type`` (a class has many members); ties
    keep the written order. A pattern's variables count as bound for the patterns after it."""
    rest = list(triples)
    fixed: set[Node] = set()

    def free(term: Node) -> bool:
        return term not in fixed and not bound(term)

    def cost(t: Pattern) -> tuple[int, bool, bool, bool]:
        s, p, o = t
        return (free(s) + free(p) + free(o), free(s), p == RDF.type, free(o))

    out: list[Pattern] = []
    while rest:
        chosen = rest.pop(min(range(len(rest)), key=lambda i: cost(rest[i])))
        out.append(chosen)
        fixed.update(chosen)
    return out


def evaluate_bgp(ctx: QueryContext, part: CompValue) -> Any:
    """rdflib custom evaluation (``CUSTOM_EVALS``) of a basic graph pattern, its patterns
    ordered by :func:`order_patterns` for the bindings in force; other parts are left to
    rdflib."""
    if part.name != "BGP":
        raise NotImplementedError
    return evalBGP(ctx, order_patterns(part.triples, lambda t: ctx[t] is not None))


_PREFIX_LINE = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<[^<>\s]*>\s*", re.IGNORECASE)


def sorted_prologue(text: str) -> str:
    """``text`` with its leading ``PREFIX p: <iri>`` lines sorted, when no prefix is declared
    twice (the same query: pySHACL writes a shape's ``sh:prefixes`` in an order that changes
    from run to run, and the text is what prepared queries are kept under)."""
    lines = text.split("\n")
    names: list[str] = []
    for line in lines:
        match = _PREFIX_LINE.fullmatch(line)
        if match is None:
            break
        names.append(match.group(1) or "")
    n = len(names)
    if n < 2 or len(set(names)) != n:
        return text
    return "\n".join(sorted(lines[:n]) + lines[n:])


@lru_cache(maxsize=256)
def _prepared(text: str, base: str | None, namespaces: tuple[tuple[str, str], ...]) -> Query:
    return prepare(sorted_prologue(text), base, namespaces)


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
    """Within the block, ``Graph.query`` strings are prepared once per distinct text and basic
    graph patterns are matched in the order of :func:`order_patterns`."""
    plugin.register("sparql", Processor, __name__, PreparingSPARQLProcessor.__name__)
    CUSTOM_EVALS[_EVAL_KEY] = evaluate_bgp
    try:
        yield
    finally:
        CUSTOM_EVALS.pop(_EVAL_KEY, None)
        plugin.register("sparql", Processor, *_ORIGINAL)
