"""Parsed RDF graphs kept on disk, keyed by the content of the files they were parsed from.

Parsing the shipped Turtle with rdflib and filling its in-memory store costs about as much as
importing rdflib; reading the same store back from a pickle costs a tenth of it. An entry is
the pickled result of one load (a Dataset and its union graph, the shapes, the ontology)
under the SHA-256 of: what was loaded (its kind and options), every file's path, graph IRI
and content digest, the source code of cptkg (the loader, the prefixes bound), rdflib's
version and Python's. A changed byte in any of them is another key, so a stale graph is never
read; a load that wrote anything to stderr (an ill-typed literal, a warning) is not kept, so
a later run repeats it.

Pickle is read back through :class:`GraphUnpickler`, which builds only rdflib's graph,
in-memory store and term classes: an entry naming anything else is refused (and recomputed)
rather than run. One file per key under ``cache_dir()/graphs``, the :data:`KEEP` most
recently written kept; graphs from more than :data:`MAX_SOURCE_BYTES` of files are not kept;
``CPTKG_NO_CACHE=1`` bypasses it.
"""

from __future__ import annotations

import io
import logging
import pickle
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from cptkg import diskcache
from cptkg.paths import graph_iri

T = TypeVar("T")

#: Entries kept on disk (the most recently written).
KEEP = 16
#: Graphs parsed from more bytes than this are not kept (a pickle is several times the size
#: of its Turtle; a large graph is better served by Oxigraph's own store, ``--store``).
MAX_SOURCE_BYTES = 4 * 2**20
#: Format of the entries; bumped when their layout changes.
LAYOUT = "1"

#: The only classes an entry may name: rdflib's graphs, in-memory store and terms.
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("rdflib.graph", "Dataset"),
        ("rdflib.graph", "Graph"),
        ("rdflib.plugins.stores.memory", "Memory"),
        ("rdflib.events", "Dispatcher"),
        ("rdflib.term", "URIRef"),
        ("rdflib.term", "BNode"),
        ("rdflib.term", "Literal"),
    }
)


class GraphUnpickler(pickle.Unpickler):
    """An unpickler that builds only the classes of :data:`ALLOWED`."""

    def find_class(self, module: str, name: str) -> type:
        """The class ``module.name`` when allowed; UnpicklingError otherwise."""
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not an RDF graph class")
        return super().find_class(module, name)  # type: ignore[no-any-return]


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
    records = _WarningRecords()
    root = logging.getLogger()
    root.addHandler(records)
    try:
        with diskcache.StderrWatch() as watch:
            value = build()
    finally:
        root.removeHandler(records)
    if watch.written or records.seen:
        return value
    try:
        unchanged = graph_key(kind, files, options) == key
    except OSError:
        unchanged = False
    if unchanged:  # no file was changed while it was being parsed
        write(key, value)
    return value


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
