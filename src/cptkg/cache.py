"""The user cache directory, and a cache of command results keyed by everything they depend on.

A result (a stored query's rows, a validation report) is kept under a *request* (the command,
its options, the working directory) together with the SHA-256 of its *inputs*: the content of
every source file read (ontology, shapes, data, the query file), the source code of cptkg
itself, the versions of the libraries that compute it and of Python. A cached result is used
only when every input is byte for byte the same; otherwise it is recomputed and replaces the
entry, so a stale result cannot be served and the cache holds one entry per request.

Entries are JSON (never pickle), written atomically in ``cache_dir()/results``. Set
``CPTKG_NO_CACHE=1`` to bypass the cache; deleting the directory is always safe. The lower
caches a miss still profits from (translated queries, parsed files) are
:mod:`cptkg.sparql_cache` and :mod:`cptkg.graph_cache`; all share :mod:`cptkg.diskcache`.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from cptkg.diskcache import (
    StderrWatch,
    cache_dir,
    code_digest,
    distribution_versions,
    enabled,
    file_digest,
    json_object,
    read_entry,
    write_entry,
)
from cptkg.engines.settings import GraphSettings
from cptkg.version import __version__

if TYPE_CHECKING:
    from cptkg.engines.base import SelectResult

T = TypeVar("T")

#: Format of the entries; bumped when their layout changes.
_LAYOUT = "1"


@dataclass(frozen=True)
class CacheKey:
    """Where an entry lives (``request``) and what it must have been computed from
    (``inputs``), both SHA-256 hex digests."""

    kind: str
    request: str
    inputs: str
    #: the same key worked out again from the inputs as they are now (None: not re-checkable)
    remake: Callable[[], CacheKey] | None = field(default=None, compare=False, repr=False)

    def still_current(self) -> bool:
        """True unless an input changed since this key was made (a result computed meanwhile
        may have read either version, so it must not be kept under this key)."""
        return self.remake is None or self.remake().inputs == self.inputs

    @property
    def path(self) -> Path:
        """The entry's file."""
        return cache_dir() / "results" / f"{self.kind}-{self.request[:32]}.json"


def result_key(
    kind: str,
    request: Sequence[str],
    files: Iterable[Path],
    distributions: Iterable[str] = ("rdflib",),
) -> CacheKey:
    """The key of the result of ``kind`` for ``request`` (the options that select it; the
    working directory is added), computed from ``files`` by cptkg with ``distributions``."""
    req = hashlib.sha256()
    for part in (_LAYOUT, kind, os.getcwd(), *request):
        req.update(part.encode("utf-8", "surrogateescape") + b"\0")
    inputs = hashlib.sha256()
    versions_of = tuple(distributions)
    versions = distribution_versions(versions_of)
    parts = [
        req.hexdigest(),
        __version__,
        code_digest(),
        sys.version,
        json.dumps(versions, sort_keys=True),
    ]
    file_list = list(files)
    for f in file_list:
        parts += [str(f.resolve()), file_digest(f)]
    for part in parts:
        inputs.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return CacheKey(
        kind,
        req.hexdigest(),
        inputs.hexdigest(),
        remake=lambda: result_key(kind, request, file_list, versions_of),
    )


def read(key: CacheKey) -> object | None:
    """The cached value for ``key``, or None (none, computed from other inputs, unreadable,
    or the cache bypassed)."""
    entry = json_object(read_entry(key.path))
    if entry is None or entry.get("inputs") != key.inputs:
        return None
    return entry.get("value")


def write(key: CacheKey, value: object) -> None:
    """Keep ``value`` (JSON data) for ``key``, replacing the request's previous entry; a cache
    that cannot be written is skipped silently (it only costs recomputing)."""
    if not enabled():
        return
    data = json.dumps({"inputs": key.inputs, "value": value}, ensure_ascii=False)
    write_entry(key.path, data.encode("utf-8"))


def encode_select(result: SelectResult) -> dict[str, object]:
    """A SELECT result as JSON data that :func:`decode_select` turns back into equal terms."""
    from rdflib import BNode, Literal, URIRef

    def term(t: object) -> list[str | None] | None:
        if t is None:
            return None
        if isinstance(t, URIRef):
            return ["u", str(t)]
        if isinstance(t, BNode):
            return ["b", str(t)]
        if isinstance(t, Literal):
            dt = str(t.datatype) if t.datatype is not None else None
            return ["l", str(t), dt, t.language]
        raise TypeError(f"not an RDF term: {t!r}")

    return {
        "variables": list(result.variables),
        "rows": [[term(t) for t in row] for row in result.rows],
    }


def decode_select(data: object) -> SelectResult:
    """The SelectResult :func:`encode_select` wrote."""
    from rdflib import BNode, Literal, URIRef

    from cptkg.engines.base import SelectResult

    def term(t: list[str | None] | None) -> URIRef | Literal | BNode | None:
        if t is None:
            return None
        if t[0] == "u":
            return URIRef(str(t[1]))
        if t[0] == "b":
            return BNode(str(t[1]))
        return Literal(str(t[1]), datatype=URIRef(t[2]) if t[2] else None, lang=t[3])

    assert isinstance(data, dict)
    rows = [tuple(term(t) for t in row) for row in data["rows"]]
    return SelectResult(list(data["variables"]), rows)


def graph_key(
    kind: str,
    settings: GraphSettings,
    request: Sequence[str],
    files: Iterable[Path] = (),
    distributions: Iterable[str] = ("rdflib",),
) -> CacheKey | None:
    """The key of a result computed on the graph ``settings`` open, from its source files plus
    ``files``; None when that graph is not made of files alone (Oxigraph, whose store may be
    changed by other programs, and remote endpoints: their results are never cached)."""
    if settings.engine != "rdflib":
        return None
    from cptkg.load import source_files

    sources = source_files(
        list(settings.paths) or None,
        include_ontology=settings.include_ontology,
        include_shapes=settings.include_shapes,
    )
    described = [
        settings.engine,
        f"ontology={settings.include_ontology}",
        f"shapes={settings.include_shapes}",
        *(f"path={p}" for p in settings.paths),
        *request,
    ]
    return result_key(kind, described, [*sources, *files], distributions)


def cached(
    key: CacheKey | None,
    compute: Callable[[], T],
    encode: Callable[[T], object | None],
    decode: Callable[[object], T],
) -> T:
    """The value for ``key`` from the cache, else ``compute()`` kept under ``key`` (JSON data
    from ``encode``; None: not kept) unless the computation wrote to stderr or an input
    changed while it ran."""
    if key is None:
        return compute()
    hit = read(key)
    if hit is not None:
        try:
            return decode(hit)
        except (KeyError, IndexError, TypeError, ValueError, AssertionError):
            pass  # an entry of another layout: recompute and replace it
    with StderrWatch() as watch:
        value = compute()
    if not watch.written and key.still_current():
        data = encode(value)
        if data is not None:
            write(key, data)
    return value
