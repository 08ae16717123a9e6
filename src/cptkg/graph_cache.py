"""Parsed RDF graphs kept on disk, keyed by the content of the files they were parsed from.

Parsing the shipped Turtle with rdflib and filling its in-memory store costs about as much as
importing rdflib; reading the same store back costs a twentieth of it. Two kinds of entries:

* **parsed files** (:func:`cached_file`): one source file's triples, per named graph, and the
  prefix bindings its parse made, as JSON (never pickle) under the SHA-256 of the file's path,
  graph IRI and content, cptkg's source and rdflib's and Python's versions. A changed file is
  parsed again alone; every other file of the graph is read back. The JSON holds RDF terms
  only; they are rebuilt without rdflib's checks of what the parse already checked, and a file
  whose literals would not come back equal to the parsed ones (value, datatype, language,
  well-formedness) is not kept. Each entry starts with the SHA-256 of its body: a torn or
  altered entry is a miss. Under ``cache_dir()/parsed``, the :data:`FILES_KEPT` most recent.
* **pickled graphs** (:func:`cached`, :func:`read_union`): the union graph of the rdflib engine
  (with the keys of the parsed files it was made of, from which its Dataset is made when
  asked for), the shapes, the ontology, under the SHA-256 of what was loaded (its kind), every
  file's path, graph IRI and content digest, cptkg's source, rdflib's and Python's versions.
  Pickle is read back through :class:`GraphUnpickler`, which builds only rdflib's graph,
  in-memory store and term classes: an entry naming anything else is refused (and
  recomputed) rather than run. Under ``cache_dir()/graphs``, the :data:`KEEP` most recent.

A changed byte in any input is another key, so a stale graph is never read; a parse or load
that wrote anything to stderr or logged a warning (an ill-typed literal) is not kept, so a
later run repeats it, nor one whose files changed while they were read. Graphs from more than
:data:`MAX_SOURCE_BYTES` of files are not kept; ``CPTKG_NO_CACHE=1`` bypasses every entry.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import pickle
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from cptkg import diskcache
from cptkg.paths import graph_iri
from cptkg.trusted_terms import iri, text_literal

T = TypeVar("T")

#: Entries kept on disk (the most recently written).
KEEP = 16
#: Graphs parsed from more bytes than this are not kept (a pickle is several times the size
#: of its Turtle; a large graph is better served by Oxigraph's own store, ``--store``).
MAX_SOURCE_BYTES = 4 * 2**20
#: Format of the entries; bumped when their layout changes.
LAYOUT = "1"

#: The only classes an entry may name: rdflib's graphs, in-memory store and terms.
ALLOWED: frozenset[tuple[str, str]] = diskcache.RDFLIB_TERMS | {
    ("rdflib.graph", "Graph"),
    ("rdflib.plugins.stores.memory", "Memory"),
    ("rdflib.events", "Dispatcher"),
}


class GraphUnpickler(diskcache.RestrictedUnpickler):
    """An unpickler that builds only the classes of :data:`ALLOWED`."""

    allowed = ALLOWED


def graph_key(kind: str, files: Iterable[Path], options: Sequence[str] = ()) -> str:
    """The key of the graphs of ``kind`` loaded with ``options`` from ``files``."""
    import rdflib

    parts = ["graphs", LAYOUT, kind, *options, rdflib.__version__, sys.version]
    parts.append(diskcache.code_digest())
    for f in files:
        parts += [str(f.resolve()), graph_iri(f), diskcache.file_digest(f)]
    return diskcache.digest(parts)


def read(key: str) -> object | None:
    """The graphs kept under ``key``, or None (none kept, unreadable, or bypassed)."""
    data = diskcache.read_entry(diskcache.entry_path("graphs", key, ".pickle"))
    if data is None:
        return None
    try:
        return GraphUnpickler(io.BytesIO(data)).load()
    except Exception:  # noqa: BLE001 - truncated, foreign or refused: a miss
        return None


def write(key: str, value: object) -> None:
    """Keep ``value`` (rdflib graphs) under ``key``."""
    if not diskcache.enabled():
        return
    path = diskcache.entry_path("graphs", key, ".pickle")
    if diskcache.write_entry(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)):
        diskcache.prune(path.parent, KEEP)


def cached(
    kind: str,
    files: Sequence[Path],
    build: Callable[[], T],
    check: Callable[[object], bool],
    options: Sequence[str] = (),
) -> T:
    """The graphs ``build()`` makes from ``files``, read from the cache when kept there
    (``check`` tells whether a kept value has the expected shape), else built and kept unless
    building wrote to stderr or logged a warning (a kept graph would not repeat it) or a file
    changed while it was read (the graph might not be the one of the key)."""
    if not diskcache.enabled():
        return build()
    try:
        if sum(f.stat().st_size for f in files) > MAX_SOURCE_BYTES:
            return build()
        key = graph_key(kind, files, options)
    except OSError:
        return build()  # a file that cannot be read: the loader says so
    hit = read(key)
    if hit is not None and check(hit):
        return hit  # type: ignore[return-value]
    value, quiet = built_quietly(build)
    if not quiet:
        return value
    try:
        unchanged = graph_key(kind, files, options) == key
    except OSError:
        unchanged = False
    if unchanged:  # no file was changed while it was being parsed
        write(key, value)
    return value


# ---------------------------------------------------------------- parsed source files
#: Format of the parsed-file entries; bumped when their layout changes.
FILE_LAYOUT = "1"
#: Parsed-file entries kept on disk (the most recently written).
FILES_KEPT = 256

Triple = tuple[Node, Node, Node]
#: A prefix binding a parse made: prefix, namespace, override, replace (the arguments of
#: rdflib's ``NamespaceManager.bind``).
Bind = tuple[str | None, str, bool, bool]


@dataclass(frozen=True)
class ParsedFile:
    """One source file parsed: its named graphs (IRI and triples, in the order the parse made
    them) and the prefix bindings the parse made, in order."""

    graphs: tuple[tuple[URIRef, tuple[Triple, ...]], ...]
    binds: tuple[Bind, ...]
    #: False when the parse bound a prefix in a way :attr:`binds` cannot repeat (a parser
    #: binding through a namespace manager of its own, as rdflib's JSON-LD parser does)
    replayable: bool = True

    def triples(self) -> Iterable[Triple]:
        """Every triple of every graph of the file."""
        for _iri, triples in self.graphs:
            yield from triples


class Unencodable(ValueError):
    """A parsed file holds what an entry cannot give back equal (it is then not kept)."""


def file_key(path: Path) -> str:
    """The key of ``path`` parsed into its graph(s)."""
    import rdflib

    parts = ["file", FILE_LAYOUT, rdflib.__version__, sys.version, diskcache.code_digest()]
    parts += [str(path.resolve()), graph_iri(path), diskcache.file_digest(path)]
    return diskcache.digest(parts)


def _decode_term(data: Any) -> Node:
    if type(data) is str:
        return iri(data)
    tag = data[0]
    if tag == "l" and len(data) == 2 and type(data[1]) is str:
        return text_literal(data[1], None)
    if tag == "g" and len(data) == 3 and type(data[1]) is str and type(data[2]) is str:
        return text_literal(data[1], data[2])
    if tag == "t" and len(data) == 3 and type(data[1]) is str and type(data[2]) is str:
        return Literal(data[1], datatype=URIRef(data[2]))
    if tag == "b" and len(data) == 2 and type(data[1]) is str:
        return BNode(data[1])
    raise ValueError(f"not a term: {data!r}")


def _encode_term(term: Node) -> Any:
    kind = type(term)
    if kind is URIRef:
        return str(term)
    if kind is BNode:
        return ["b", str(term)]
    if kind is not Literal:
        raise Unencodable(kind.__name__)
    assert isinstance(term, Literal)
    lexical = str(term)
    if term.datatype is not None:
        data: list[str] = ["t", lexical, str(term.datatype)]
    elif term.language is not None:
        data = ["g", lexical, term.language]
    else:
        data = ["l", lexical]
    again = _decode_term(data)
    assert isinstance(again, Literal)
    for slot in ("_language", "_datatype", "_value", "_ill_typed"):
        mine, theirs = getattr(again, slot), getattr(term, slot)
        same = mine is theirs or (mine == theirs and repr(mine) == repr(theirs))
        if type(mine) is not type(theirs) or not same:
            raise Unencodable(f"{term.n3()} does not come back equal")
    return data


def encode_file(parsed: ParsedFile) -> bytes:
    """``parsed`` as an entry: the SHA-256 of the body, a newline, the body (JSON: a table of
    the terms, each graph's triples as indexes into it, the bindings)."""
    if not parsed.replayable:
        raise Unencodable("prefix bindings that cannot be repeated")
    index: dict[tuple[type, str, str | None, str | None], int] = {}
    terms: list[Any] = []

    def number(term: Node) -> int:
        lang = term.language if isinstance(term, Literal) else None
        dt = str(term.datatype) if isinstance(term, Literal) and term.datatype else None
        key = (type(term), str(term), lang, dt)
        found = index.get(key)
        if found is None:
            found = index[key] = len(terms)
            terms.append(_encode_term(term))
        return found

    graphs = [
        [str(iri), [number(t) for triple in triples for t in triple]]
        for iri, triples in parsed.graphs
    ]
    body = json.dumps(
        {"terms": terms, "graphs": graphs, "binds": [list(b) for b in parsed.binds]},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    return hashlib.sha256(body).hexdigest().encode("ascii") + b"\n" + body


def decode_file(data: bytes) -> ParsedFile | None:
    """What :func:`encode_file` wrote; None for anything else (torn, altered, foreign)."""
    check, _, body = data.partition(b"\n")
    if check != hashlib.sha256(body).hexdigest().encode("ascii"):
        return None
    try:
        entry = json.loads(body)
        terms = [_decode_term(t) for t in entry["terms"]]
        graphs = []
        for name, numbers in entry["graphs"]:
            if type(name) is not str or len(numbers) % 3:
                return None
            row = [terms[n] for n in numbers]
            triples = tuple(zip(row[0::3], row[1::3], row[2::3], strict=True))
            if not all(isinstance(s, URIRef | BNode) and type(p) is URIRef for s, p, _o in triples):
                return None
            graphs.append((iri(name), triples))
        binds = []
        for prefix, namespace, override, replace in entry["binds"]:
            if not (
                (prefix is None or type(prefix) is str)
                and type(namespace) is str
                and type(override) is bool
                and type(replace) is bool
            ):
                return None
            binds.append((prefix, namespace, override, replace))
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    return ParsedFile(tuple(graphs), tuple(binds))


def kept_file(key: str) -> ParsedFile | None:
    """The parsed file kept under ``key`` (see :func:`file_key`), or None."""
    data = diskcache.read_entry(diskcache.entry_path("parsed", key, ".json"))
    return decode_file(data) if data is not None else None


def cached_file(
    path: Path, parse: Callable[[], ParsedFile], key: str | None = None
) -> tuple[ParsedFile, str | None]:
    """``parse()`` of ``path``, read back when kept, and the key it is kept under (None: not
    kept); ``key``: its :func:`file_key` when known. A parse is kept unless the caches are
    bypassed, the file is larger than :data:`MAX_SOURCE_BYTES`, the parse wrote to stderr or
    logged a warning, the file changed while it was parsed, or a term would not come back
    equal."""
    if not diskcache.enabled():
        return parse(), None
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return parse(), None
        if key is None:
            key = file_key(path)
    except OSError:
        return parse(), None  # a file that cannot be read: the loader says so
    hit = kept_file(key)
    if hit is not None:
        return hit, key
    parsed, quiet = built_quietly(parse)
    if not quiet:
        return parsed, None
    try:
        if file_key(path) != key:
            return parsed, None
        encoded = encode_file(parsed)
    except (OSError, Unencodable):
        return parsed, None
    entry = diskcache.entry_path("parsed", key, ".json")
    if not diskcache.write_entry(entry, encoded):
        return parsed, None
    diskcache.prune(entry.parent, FILES_KEPT)
    return parsed, key


# ---------------------------------------------------------------- the union graph of a load
def file_keys(files: Sequence[Path]) -> list[str] | None:
    """The :func:`file_key` of each of ``files``; None when their union graph is not kept
    (caches bypassed, more than :data:`MAX_SOURCE_BYTES` of files, a file that cannot be
    read)."""
    if not diskcache.enabled():
        return None
    try:
        if sum(f.stat().st_size for f in files) > MAX_SOURCE_BYTES:
            return None
        return [file_key(f) for f in files]
    except OSError:
        return None


def union_key(keys: Sequence[str]) -> str:
    """The key of the union graph of the parsed files kept under ``keys`` (in load order)."""
    return diskcache.digest(["union", LAYOUT, *keys])


def read_union(key: str) -> tuple[Graph, tuple[str, ...]] | None:
    """The union graph kept under ``key`` and the keys of the parsed files it was made of."""
    kept = read(key)
    if (
        isinstance(kept, tuple)
        and len(kept) == 2
        and type(kept[0]) is Graph
        and isinstance(kept[1], tuple)
        and all(type(k) is str for k in kept[1])
        and union_key(kept[1]) == key  # the files it names are the ones it is kept for
    ):
        return kept[0], kept[1]
    return None


def write_union(graph: Graph, keys: Sequence[str]) -> None:
    """Keep ``graph``, the union of the parsed files kept under ``keys``, under
    :func:`union_key` of them."""
    write(union_key(keys), (graph, tuple(keys)))


def built_quietly(build: Callable[[], T]) -> tuple[T, bool]:
    """``build()``, and whether it ran quietly: wrote nothing to stderr and logged no warning
    (a kept result would not repeat what it said)."""
    records = _WarningRecords()
    root = logging.getLogger()
    root.addHandler(records)
    try:
        with diskcache.StderrWatch() as watch:
            value = build()
    finally:
        root.removeHandler(records)
    return value, not (watch.written or records.seen)


class _WarningRecords(logging.Handler):
    """Notes whether a warning was logged, wherever it goes; the record is still shown as it
    would have been without this handler (by logging's last resort when no other handler
    takes it)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = False

    def emit(self, record: logging.LogRecord) -> None:
        self.seen = True
        logger: logging.Logger | None = logging.getLogger(record.name)
        while logger is not None:
            if any(h is not self for h in logger.handlers):
                return  # another handler shows it
            if not logger.propagate:
                break
            logger = logger.parent
        last = logging.lastResort
        if last is not None and record.levelno >= last.level:
            last.handle(record)
