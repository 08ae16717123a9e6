"""rdflib's prepared SPARQL queries (parsed and translated to algebra), kept in memory and on
disk, so a query text is parsed once per rdflib release rather than once per run.

Parsing a query with rdflib's pyparsing grammar and translating it costs tens of milliseconds
(about a third of ``cptkg query NAME`` on the shipped graph); evaluating it on the shipped
graph costs a few. The translation depends only on the text, the base IRI, the namespaces
given to the parser and rdflib itself, which is the key of an entry: the SHA-256 of those, of
rdflib's version and of this module's source (its encoding). A changed text, namespace or
rdflib is another key; the entry of the old one is never read again.

Entries are JSON, never pickle: the algebra (rdflib's ``CompValue`` tree) is written as tagged
lists of RDF terms, paths, containers and the names of rdflib's SPARQL operator functions, and
read back only through a fixed table of those types and functions. An algebra holding anything
else is not kept (the query still runs). One file per text under ``cache_dir()/algebra``, the
:data:`KEEP` most recently written kept.

Parameters are bound as a VALUES block (:func:`cptkg.engines.base.inject_values`); the text
with a placeholder IRI per parameter is prepared (and kept) once, and each run puts its
values in place of the placeholders, so a new parameter value does not parse the query again.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# isort: off
from cptkg import sparql_grammar  # noqa: F401 - first: rdflib's SPARQL grammar built on use

# isort: on
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath
from rdflib.plugins.sparql import operators
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parserutils import CompValue, Expr
from rdflib.plugins.sparql.sparql import Prologue, Query
from rdflib.term import Identifier

from cptkg import diskcache
from cptkg.engines.base import bind_query

#: Entries kept on disk (the most recently written).
KEEP = 1000
#: The namespace of the placeholder IRIs standing for parameter values.
PLACEHOLDER = "urn:cptkg:parameter:"

Namespaces = tuple[tuple[str, str], ...]


class Unencodable(ValueError):
    """The algebra holds a value this module does not write (it is then not kept)."""


@functools.cache
def _module_digest() -> str:
    return diskcache.digest([Path(__file__).read_bytes()])


def query_key(text: str, base: str | None, namespaces: Namespaces) -> str:
    """The key of the prepared ``text`` with ``base`` and ``namespaces`` (prefix, IRI)."""
    import rdflib

    parts = ["algebra", rdflib.__version__, _module_digest(), base or "", text]
    parts += [f"{prefix}\0{iri}" for prefix, iri in namespaces]
    return diskcache.digest(parts)


# ----------------------------------------------------------------------- encoding
def _operator_name(expr: Expr) -> str | None:
    fn = getattr(expr, "_evalfn", None)
    if fn is None:
        return None
    func = getattr(fn, "__func__", None)
    name = getattr(func, "__name__", "")
    if (
        func is None
        or getattr(operators, name, None) is not func
        or func.__module__ != operators.__name__
    ):
        raise Unencodable(f"operator {func!r} of {expr.name}")
    return name


_SKIPPED_ATTRS = {"name", "_evalfn", "ctx"}


def encode(value: Any) -> Any:
    """``value`` (a prepared Query, or any part of its algebra) as JSON data."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, URIRef):
        return ["u", str(value)]
    if isinstance(value, Variable):
        return ["v", str(value)]
    if isinstance(value, BNode):
        return ["b", str(value)]
    if isinstance(value, Literal):
        dt = str(value.datatype) if value.datatype is not None else None
        return ["l", str(value), dt, value.language]
    if isinstance(value, str):
        if type(value) is not str:
            raise Unencodable(type(value).__name__)
        return value
    if value is operators.TrueFilter:
        return ["true-filter"]
    if isinstance(value, CompValue):
        items = [[k, encode(v)] for k, v in dict.items(value)]
        attrs = sorted([k, encode(v)] for k, v in vars(value).items() if k not in _SKIPPED_ATTRS)
        if type(value) is Expr:
            return ["E", value.name, _operator_name(value), items, attrs]
        if type(value) is not CompValue:
            raise Unencodable(type(value).__name__)
        return ["C", value.name, items, attrs]
    if isinstance(value, Query):
        return ["Q", encode(value.prologue), encode(value.algebra)]
    if isinstance(value, Prologue):
        ns = sorted([p, str(u)] for p, u in value.namespace_manager.namespaces())
        return ["P", value.base, ns]
    if isinstance(value, SequencePath | AlternativePath | NegatedPath):
        return [type(value).__name__, [encode(a) for a in value.args]]
    if isinstance(value, InvPath):
        return ["InvPath", encode(value.arg)]
    if isinstance(value, MulPath):
        return ["MulPath", encode(value.path), value.mod]
    if type(value) is list:
        return ["L", [encode(v) for v in value]]
    if type(value) is tuple:
        return ["T", [encode(v) for v in value]]
    if type(value) in (set, frozenset):
        return ["S", sorted((encode(v) for v in value), key=json.dumps)]
    if type(value) is dict:
        return ["D", [[encode(k), encode(v)] for k, v in value.items()]]
    raise Unencodable(type(value).__name__)


def _compvalue(
    cls: type[CompValue],
    name: str,
    fn: str | None,
    items: Any,
    attrs: Any,
    sub: Mapping[URIRef, Identifier],
) -> CompValue:
    if cls is Expr:
        evalfn = None
        if fn is not None:
            evalfn = getattr(operators, fn)
            if not callable(evalfn) or getattr(evalfn, "__module__", "") != operators.__name__:
                raise ValueError(f"not an operator: {fn}")
        node: CompValue = Expr(name, evalfn)
    else:
        node = CompValue(name)
    for k, v in items:
        dict.__setitem__(node, str(k), decode(v, sub))
    for k, v in attrs:
        if str(k) in _SKIPPED_ATTRS:
            raise ValueError(f"attribute {k}")
        setattr(node, str(k), decode(v, sub))
    return node


def _prologue(base: str | None, namespaces: Any) -> Prologue:
    prologue = Prologue()
    prologue.base = base
    for prefix, iri in namespaces:
        prologue.bind(str(prefix), URIRef(str(iri)))
    return prologue


_DECODERS: dict[str, Callable[..., Any]] = {
    "v": lambda sub, s: Variable(s),
    "b": lambda sub, s: BNode(s),
    "l": lambda sub, s, dt, lang: Literal(s, datatype=URIRef(dt) if dt else None, lang=lang),
    "true-filter": lambda sub: operators.TrueFilter,
    "E": lambda sub, name, fn, items, attrs: _compvalue(Expr, name, fn, items, attrs, sub),
    "C": lambda sub, name, items, attrs: _compvalue(CompValue, name, None, items, attrs, sub),
    "Q": lambda sub, prologue, algebra: Query(decode(prologue, sub), decode(algebra, sub)),
    "P": lambda sub, base, ns: _prologue(base, ns),
    "SequencePath": lambda sub, parts: SequencePath(*(decode(a, sub) for a in parts)),
    "AlternativePath": lambda sub, parts: AlternativePath(*(decode(a, sub) for a in parts)),
    "NegatedPath": lambda sub, parts: _negated([decode(a, sub) for a in parts]),
    "InvPath": lambda sub, arg: InvPath(decode(arg, sub)),
    "MulPath": lambda sub, path, mod: MulPath(decode(path, sub), str(mod)),  # type: ignore[arg-type]
    "L": lambda sub, items: [decode(v, sub) for v in items],
    "T": lambda sub, items: tuple(decode(v, sub) for v in items),
    "S": lambda sub, items: {decode(v, sub) for v in items},
    "D": lambda sub, items: {decode(k, sub): decode(v, sub) for k, v in items},
}


def _negated(parts: list[Any]) -> NegatedPath:
    path = NegatedPath(parts[0]) if len(parts) == 1 else NegatedPath(AlternativePath(*parts))
    path.args = parts
    return path


def decode(data: Any, sub: Mapping[URIRef, Identifier] | None = None) -> Any:
    """What :func:`encode` wrote, with each IRI of ``sub`` replaced by its value; ValueError
    (or KeyError, TypeError) for data it did not write."""
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if not isinstance(data, list) or not data or not isinstance(data[0], str):
        raise ValueError("not an encoded value")
    tag = data[0]
    if tag == "u":
        iri = URIRef(data[1])
        return sub.get(iri, iri) if sub else iri
    return _DECODERS[tag](sub or {}, *data[1:])


# ----------------------------------------------------------------------- the store
#: Prepared queries this process keeps in memory (the most recently stored).
MEMORY_KEPT = 256
_MEMORY: dict[str, Any] = {}


def forget() -> None:
    """Empty this process's memory of prepared queries (the disk entries stay)."""
    _MEMORY.clear()


def _load(key: str) -> Any | None:
    """The encoded prepared query of ``key``: from this process, else from disk."""
    hit = _MEMORY.get(key)
    if hit is not None:
        return hit
    raw = diskcache.read_entry(diskcache.entry_path("algebra", key, ".json"))
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    _remember(key, data)
    return data


def _remember(key: str, data: Any) -> None:
    _MEMORY[key] = data
    while len(_MEMORY) > MEMORY_KEPT:
        del _MEMORY[next(iter(_MEMORY))]


def _store(key: str, data: Any) -> None:
    _remember(key, data)
    path = diskcache.entry_path("algebra", key, ".json")
    if diskcache.write_entry(path, json.dumps(data, ensure_ascii=False).encode("utf-8")):
        diskcache.prune(path.parent, KEEP)


def _decoded(data: Any, values: Mapping[URIRef, Identifier] | None) -> Query | None:
    try:
        query = decode(data, values)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None  # an entry this code did not write
    return query if isinstance(query, Query) else None


def _prepared(
    text: str, base: str | None, namespaces: Namespaces, values: Mapping[URIRef, Identifier]
) -> Query | None:
    """``text`` prepared, from the cache when it holds it (an unreadable entry is prepared
    again and replaced), with ``values`` in place of their placeholders; None when the
    algebra cannot be kept and ``values`` are given (the placeholders cannot be replaced)."""
    key = query_key(text, base, namespaces)
    data = _load(key)
    if data is not None:
        query = _decoded(data, values)
        if query is not None:
            return query
        _MEMORY.pop(key, None)
    from rdflib.plugins.sparql.parser import parseQuery  # the grammar: only on a miss

    query = translateQuery(parseQuery(text), base, dict(namespaces))
    try:
        data = encode(query)
    except Unencodable:
        return None if values else query
    _store(key, data)
    return _decoded(data, values) if values else query


def prepare(text: str, base: str | None = None, namespaces: Namespaces = ()) -> Query:
    """``text`` parsed and translated as rdflib's ``prepareQuery`` does (``namespaces``:
    (prefix, IRI) known without a PREFIX line), from the cache when it holds it. A syntax error
    is raised as rdflib raises it."""
    query = _prepared(text, base, namespaces, {})
    assert query is not None
    return query


def placeholders(names: list[str]) -> dict[str, URIRef]:
    """One placeholder IRI per parameter name."""
    return {name: URIRef(PLACEHOLDER + name) for name in names}


def prepare_bound(
    sparql: str,
    bindings: Mapping[str, Identifier] | None,
    namespaces: Namespaces = (),
) -> Query:
    """``sparql`` with ``bindings`` in a VALUES block (as :func:`bind_query` writes it),
    prepared once for any values: the text with a placeholder per parameter is the key."""
    text = bind_query(sparql, dict(bindings) if bindings else None)  # checks the values
    if not bindings:
        return prepare(text, None, namespaces)
    marks = placeholders(sorted(bindings))
    if any(str(iri) in sparql for iri in marks.values()):
        return prepare(text, None, namespaces)  # the query names a placeholder itself
    values = {marks[k]: v for k, v in bindings.items()}
    query = _prepared(bind_query(sparql, dict(marks)), None, namespaces, values)
    return query if query is not None else prepare(text, None, namespaces)
