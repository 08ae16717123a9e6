"""Load RDF files into an rdflib Dataset: one named graph per source file.

Graph IRIs follow :func:`cptkg.paths.graph_iri`. The graph is the reference graph plus the
active workspace's data (:mod:`cptkg.workspace`). TriG and N-Quads files keep their own
named graphs (their default-graph triples go into the file's graph). Every problem with
the input becomes an :class:`~cptkg.errors.InputError` or :class:`~cptkg.errors.ParseError`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import stat
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rdflib import RDF, Dataset, Graph, Literal, URIRef
from rdflib.exceptions import ParserError as RdflibParserError
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import NamespaceManager
from rdflib.plugins.stores.memory import Memory

from cptkg import graph_cache
from cptkg import paths as _paths
from cptkg.errors import InputError, ParseError
from cptkg.graph_cache import Bind, ParsedFile
from cptkg.namespaces import GRAPH_BASE, bind_prefixes
from cptkg.textsafe import printable

_FORMAT_NAMES = {
    "turtle": "Turtle",
    "nt": "N-Triples",
    "json-ld": "JSON-LD",
    "trig": "TriG",
    "nquads": "N-Quads",
}
_QUAD_FORMATS = {"trig", "nquads"}
#: Files larger than this are never read whole (a guard against endless streams).
READ_LIMIT = 256 * 1024 * 1024
_LOG = logging.getLogger("cptkg.load")


class _NoConversionTraceback(logging.Filter):
    """Drops rdflib's "Failed to convert Literal lexical form" records (with their traceback):
    an ill-typed literal is reported by cptkg itself, with its file and line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Failed to convert Literal lexical form")


logging.getLogger("rdflib.term").addFilter(_NoConversionTraceback())


@contextlib.contextmanager
def quiet_rdflib() -> Iterator[None]:
    """rdflib logs a traceback for every ill-typed literal; cptkg reports them itself."""
    logger = logging.getLogger("rdflib.term")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def shipped_files(*, include_ontology: bool = True, include_shapes: bool = False) -> list[Path]:
    """The files making up the graph: ontology (optional), shapes (optional), the reference
    data, then the workspace's data."""
    return source_files(None, include_ontology=include_ontology, include_shapes=include_shapes)


def source_files(
    paths: Iterable[Path | str] | None,
    *,
    include_ontology: bool = True,
    include_shapes: bool = False,
) -> list[Path]:
    """The files to load: ``paths`` (files or directories; None: the reference ``data/**/*.ttl``
    and the workspace's ``data/**/*.ttl``) after the shipped ontology and shapes when asked
    (each file once)."""
    context: list[Path] = []
    if include_ontology:
        context.append(_paths.ontology_file())
    if include_shapes:
        context.extend(_paths.shapes_files())
    if paths is None:
        return context + _paths.data_files()
    given = expand_paths(paths)
    resolved = {f.resolve() for f in given}
    return [f for f in context if f.resolve() not in resolved] + given


def expand_paths(inputs: Iterable[Path | str]) -> list[Path]:
    """Turn files and directories into a list of RDF files (directories walked recursively).

    Raises InputError for a path that does not exist, an explicitly named file with an
    unknown extension, or a directory holding no RDF file.
    """
    result: list[Path] = []
    seen: set[Path] = set()
    for raw in inputs:
        p = Path(raw)
        if p.is_dir():
            found = _walk(p)
            if not found:
                raise InputError(
                    f"{p}: directory contains no RDF file",
                    hint="extensions read: " + ", ".join(sorted(_paths.RDF_FORMATS)),
                )
        elif p.is_file():
            _paths.rdf_format(p)  # unknown extension -> InputError
            found = [p]
        elif p.exists():
            raise InputError(f"{p}: not a regular file or directory")
        else:
            raise InputError(f"{p}: no such file or directory", hint="check the path")
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                result.append(f)
    return result


def _walk(directory: Path) -> list[Path]:
    """RDF files under ``directory``, sorted; the project's data/templates/ is skipped."""
    try:
        templates: Path | None = _paths.templates_dir().resolve()
    except Exception:  # noqa: BLE001 - no project root: nothing to skip
        templates = None
    files = []
    for f in sorted(directory.rglob("*")):
        if not f.is_file() or f.suffix.lower() not in _paths.RDF_FORMATS:
            continue
        if templates is not None and f.resolve().is_relative_to(templates):
            continue
        files.append(f)
    return files


def _read_text(path: Path, max_bytes: int | None = None) -> str:
    """Read a regular file as UTF-8 (a leading byte-order mark is dropped), at most
    ``max_bytes`` (default :data:`READ_LIMIT`) bytes, turning OS and decoding errors into
    InputError/ParseError."""
    shown = _paths.display_path(path)
    limit = max_bytes if max_bytes is not None and max_bytes > 0 else READ_LIMIT
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file or directory", hint="check the path") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read file: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(
                f"{shown}: not a regular file (a device, pipe or socket); refused without reading",
                hint="name a file of RDF data",
            )
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InputError(f"{path}: cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise InputError(
            f"{shown}: larger than the {limit / 2**20:.1f} MiB limit; refused (reading stopped "
            "at the limit)",
            hint="check that this is the right file, or raise the limit with --max-bytes BYTES",
        )
    data = b"".join(chunks)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(
            f"{shown}:{line}: not valid UTF-8 ({exc.reason})",
            hint="save the file as UTF-8",
            file=path,
            line=line,
        ) from None
    return text.removeprefix("\ufeff")


def _check_jsonld_contexts(path: Path, text: str) -> None:
    """Refuse a JSON-LD document whose ``@context`` (or ``@import``) names a remote or local
    document: the parser would fetch it."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return  # the parser reports the syntax error with its line
    ref = _context_reference(doc)
    if ref is None:
        return
    at = text.find(json.dumps(ref))
    line = text[:at].count("\n") + 1 if at >= 0 else None
    where = _paths.display_path(path) + (f":{line}" if line else "")
    raise ParseError(
        f"{where}: JSON-LD @context refers to the external document {ref!r}; external "
        "contexts are never fetched (refused)",
        hint="write the context inline (an object of prefix definitions) in the file",
        file=path,
        line=line,
    )


def _context_reference(node: Any) -> str | None:
    """The first string naming an external context in ``node``'s ``@context``/``@import``."""
    if isinstance(node, list):
        for item in node:
            found = _context_reference(item)
            if found is not None:
                return found
        return None
    if not isinstance(node, dict):
        return None
    for key, value in node.items():
        if key in ("@context", "@import"):
            for entry in value if isinstance(value, list) else [value]:
                if isinstance(entry, str):
                    return entry
                found = _context_reference(entry)
                if found is not None:
                    return found
        else:
            found = _context_reference(value)
            if found is not None:
                return found
    return None


def _first_bad_line(text: str, fmt: str) -> int | None:
    """For line-based formats (N-Triples / N-Quads), the 1-based number of the first bad line."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                (Graph() if fmt == "nt" else Dataset()).parse(data=line + "\n", format=fmt)
        except Exception:  # noqa: BLE001 - any failure marks the line
            return number
    return None


#: rdflib's message for a language tag it cannot read (``"x"@123``).
_BAD_TAG = re.compile(r"'(?P<tag>[^']*)' is not a valid language tag")
#: The rule named when a language tag is malformed.
LANGUAGE_TAG_RULE = "intake:language-tag"


def language_tag_error(path: Path, text: str, message: str) -> ParseError | None:
    """The ParseError, with file and line, for a parser ``message`` about a malformed language
    tag (``"x"@123``) in ``text`` read from ``path``; None when ``message`` is about something
    else."""
    m = _BAD_TAG.search(message)
    if m is None:
        return None
    tag = m.group("tag")
    shown = _paths.display_path(path)
    written = re.compile(r"[\"']@" + re.escape(tag) + r"(?![A-Za-z0-9-])")
    json_tag = re.compile(r'"@language"\s*:\s*"' + re.escape(tag) + '"')
    line = next(
        (
            number
            for number, row in enumerate(text.splitlines(), start=1)
            if written.search(row) or json_tag.search(row)
        ),
        None,
    )
    where = f"{shown}:{line}" if line else shown
    return ParseError(
        f"{where}: malformed language tag {printable(repr(tag))} (rule "
        f"{LANGUAGE_TAG_RULE}); a tag is letters, then '-' and letters or digits (en, en-US)",
        hint="write the tag as BCP 47 (e.g. @en), or drop it for a plain text",
        file=path,
        line=line,
    )


def _parse_error(path: Path, fmt: str, text: str, exc: Exception) -> ParseError:
    """Build a ParseError with ``file:line`` from whatever rdflib / json raised."""
    from rdflib.plugins.parsers.notation3 import BadSyntax  # only on an error (start-up time)

    tag_error = language_tag_error(path, text, str(exc))
    if tag_error is not None:
        return tag_error
    name = _FORMAT_NAMES.get(fmt, fmt)
    where = _paths.display_path(path)
    line: int | None = None
    if isinstance(exc, BadSyntax):
        line = int(getattr(exc, "lines", 0)) + 1
        detail = str(getattr(exc, "_why", "")) or "bad syntax"
        excerpt = _line_excerpt(text, line)
        if excerpt:
            detail += f" near: {excerpt}"
    elif isinstance(exc, json.JSONDecodeError):
        line = exc.lineno
        detail = exc.msg
    elif isinstance(exc, RdflibParserError):
        line = _first_bad_line(text, fmt) if fmt in ("nt", "nquads") else None
        detail = re.sub(r"\s+", " ", str(exc)).strip()
    else:
        detail = re.sub(r"\s+", " ", str(exc)).strip() or type(exc).__name__
    prefix = f"{where}:{line}" if line else where
    return ParseError(
        f"{prefix}: {name} syntax error: {detail}",
        hint=f"fix the {name} syntax in {where}" + (f" at line {line}" if line else ""),
        file=path,
        line=line,
    )


def _line_excerpt(text: str, line: int, width: int = 60) -> str:
    """The stripped text of ``line`` (1-based), shortened to ``width`` characters."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    s = lines[line - 1].strip()
    return s if len(s) <= width else s[: width - 3] + "..."


def _parse_into(
    ds: Dataset, path: Path, graph_id: str | None = None, max_bytes: int | None = None
) -> str:
    """Parse one file into ``ds`` (its own named graph, or its graphs for TriG/N-Quads);
    return its text."""
    fmt = _paths.rdf_format(path)
    text = _read_text(path, max_bytes)
    if fmt == "json-ld":
        _check_jsonld_contexts(path, text)
    gid = URIRef(graph_id or _paths.graph_iri(path))
    try:
        with warnings.catch_warnings(), quiet_rdflib():
            # rdflib's own TriG / N-Quads parsers use its deprecated ConjunctiveGraph API
            warnings.simplefilter("ignore", DeprecationWarning)
            _parse_text(ds, text, fmt, gid, path.resolve().as_uri())
    except Exception as exc:  # any parser failure is bad input, not a bug of ours
        raise _parse_error(path, fmt, text, exc) from None
    ds.graph(gid)  # an empty file still appears as an (empty) graph
    return text


def ill_typed_literals(g: Graph) -> list[Literal]:
    """The literals of ``g`` whose lexical form is not valid for their datatype, sorted."""
    return sorted({o for o in g.objects() if isinstance(o, Literal) and o.ill_typed}, key=str)


def _warn_ill_typed(ds: Dataset, path: Path, text: str) -> None:
    """One line per ill-typed literal of ``path``'s graph: file, line, value, datatype."""
    bad = ill_typed_literals(ds.graph(URIRef(_paths.graph_iri(path))))
    if not bad:
        return
    lines = text.splitlines()
    for lit in bad:
        written = f'"{lit}"'
        line = next((n for n, t in enumerate(lines, start=1) if written in t), None)
        where = _paths.display_path(path) + (f":{line}" if line else "")
        _LOG.warning(
            "cptkg: warning: %s: %s is not a valid %s (ill-typed literal)",
            where,
            written,
            "xsd:" + str(lit.datatype).rsplit("#", 1)[-1] if lit.datatype else "literal",
        )


def _parse_text(ds: Dataset, text: str, fmt: str, gid: URIRef, base: str) -> None:
    """Parse ``text`` into graph ``gid`` of ``ds``; quad formats keep their named graphs."""
    if fmt not in _QUAD_FORMATS:
        ds.graph(gid).parse(data=text, format=fmt, publicID=base)
        return
    tmp = Dataset()
    tmp.parse(data=text, format=fmt, publicID=base)
    default_id = tmp.default_graph.identifier
    for s, p, o, c in tmp.quads((None, None, None, None)):
        cid = c.identifier if isinstance(c, Graph) else c
        ds.graph(gid if cid is None or cid == default_id else cid).add((s, p, o))
    for prefix, ns in tmp.namespaces():
        ds.bind(prefix, ns, override=False)


def load_dataset(
    paths: list[Path] | None = None,
    *,
    include_ontology: bool = True,
    include_shapes: bool = False,
) -> Dataset:
    """Load RDF files into a Dataset (``default_union=True``), one named graph per file.

    ``paths=None`` loads the graph: the ontology (if ``include_ontology``), the shapes (if
    ``include_shapes``), the reference ``data/**/*.ttl`` and the workspace's data. Given
    paths (files or directories) are loaded as they are, plus the shipped ontology / shapes
    when those flags are set.
    """
    files = source_files(paths, include_ontology=include_ontology, include_shapes=include_shapes)
    ds = Dataset(default_union=True)
    bind_prefixes(ds)
    for f in files:
        _warn_ill_typed(ds, f, _parse_into(ds, f))
    return ds


def parse_file(path: Path | str, *, max_bytes: int | None = None) -> Graph:
    """Parse one RDF file into a plain Graph (all its triples, whatever their graph); a file
    longer than ``max_bytes`` (default :data:`READ_LIMIT`) is refused."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file or directory", hint="check the path")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, expected a file")
    ds = Dataset(default_union=True)
    _parse_into(ds, p, max_bytes=max_bytes)
    return union_graph(ds)


def union_graph(ds: Dataset) -> Graph:
    """All triples of all graphs of ``ds`` in one plain Graph, with the project's prefixes.

    A plain Graph is what validation and SPARQL UPDATE need (rdflib 7.6.0's
    ``Dataset.update`` is broken, see the engines notes).
    """
    g = Graph()
    bind_prefixes(g)
    copy_prefixes(ds, g)
    for s, p, o, _c in ds.quads((None, None, None, None)):
        g.add((s, p, o))
    return g


def copy_prefixes(src: Graph, dst: Graph) -> None:
    """Bind on ``dst`` the prefixes of ``src`` whose name and namespace are both still free."""
    used_ns = {str(ns) for _p, ns in dst.namespaces()}
    used_prefixes = {p for p, _ns in dst.namespaces()}
    for prefix, ns in src.namespaces():
        if prefix and prefix not in used_prefixes and str(ns) not in used_ns:
            dst.bind(prefix, ns, override=False)
            used_ns.add(str(ns))
            used_prefixes.add(prefix)


def graph_source(graph_iri: str) -> str:
    """The source file a named graph was loaded from, as shown in messages: relative for the
    reference graph (``data/policies/aetna.ttl`` for ``<…/graph/data/policies/aetna>``),
    absolute for a workspace file (``<…/graph/workspace/data/policies/mine>``)."""
    found = _paths.graph_file(graph_iri)
    return _paths.display_path(found) if found is not None else graph_iri.removeprefix(GRAPH_BASE)


def subject_sources(ds: Dataset) -> dict[URIRef, str]:
    """Typed subject -> the source file (:func:`graph_source`) of the first graph typing it."""
    sources: dict[URIRef, str] = {}
    for ctx in ds.graphs():
        shown = graph_source(str(ctx.identifier))
        for s in ctx.subjects(RDF.type, None):
            sources.setdefault(s, shown)  # type: ignore[arg-type]
    return sources


def load_ontology() -> Graph:
    """The shipped ontology ``ontology/cptkg.ttl`` as a Graph (a new one each call; the
    parsed graph is kept by :mod:`cptkg.graph_cache`)."""
    path = _paths.ontology_file()
    return graph_cache.cached("ontology", [path], lambda: parse_file(path), _is_graph)


def load_shapes() -> Graph:
    """All shipped shapes ``ontology/shapes/*.ttl`` merged into one Graph (a new one each
    call; the parsed graph is kept by :mod:`cptkg.graph_cache`)."""
    files = _paths.shapes_files()

    def build() -> Graph:
        g = Graph()
        bind_prefixes(g)
        for f in files:
            shapes = parse_file(f)
            copy_prefixes(shapes, g)
            g += shapes
        return g

    return graph_cache.cached("shapes", files, build, _is_graph)


def _is_graph(kept: object) -> bool:
    return type(kept) is Graph


class _BindWatch(Memory):
    """rdflib's in-memory store, noting a prefix bound other than through a
    :class:`_RecordedBinds` (a parser's own namespace manager)."""

    def __init__(self) -> None:
        super().__init__()
        self.watching = False
        self.recorded = False
        self.foreign = False

    def bind(self, prefix: str, namespace: URIRef, override: bool = True) -> None:
        if self.watching and not self.recorded:
            self.foreign = True
        super().bind(prefix, namespace, override=override)


class _RecordedBinds(NamespaceManager):
    """A namespace manager for a Dataset over a :class:`_BindWatch`, binding no prefix of its
    own and noting every binding asked of it."""

    def __init__(self, graph: Graph, store: _BindWatch) -> None:
        self.calls: list[Bind] = []
        self._watch = store
        super().__init__(graph, bind_namespaces="none")
        store.watching = True

    def bind(
        self, prefix: str | None, namespace: Any, override: bool = True, replace: bool = False
    ) -> None:
        self.calls.append((prefix, str(namespace), override, replace))
        self._watch.recorded = True
        try:
            super().bind(prefix, namespace, override=override, replace=replace)
        finally:
            self._watch.recorded = False


def parse_source(path: Path) -> ParsedFile:
    """``path`` parsed as :func:`load_dataset` parses it (its named graph, or its graphs for
    TriG / N-Quads, ill-typed literals warned about), with the prefix bindings the parse asked
    for, so that :func:`namespace_dataset` can repeat them in a load of many files."""
    store = _BindWatch()
    ds = Dataset(store=store, default_union=True)
    recorder = _RecordedBinds(ds, store)
    ds.namespace_manager = recorder
    _warn_ill_typed(ds, path, _parse_into(ds, path))
    graphs = []
    for ctx in ds.graphs():
        if ctx.identifier == DATASET_DEFAULT_GRAPH_ID:
            if len(ctx):
                raise AssertionError("a parse put triples in the default graph")
            continue
        graphs.append((URIRef(ctx.identifier), tuple(ctx)))  # type: ignore[arg-type]
    return ParsedFile(tuple(graphs), tuple(recorder.calls), replayable=not store.foreign)


def parsed_source(path: Path, key: str | None = None) -> tuple[ParsedFile, str | None]:
    """:func:`parse_source` of ``path``, read from :mod:`cptkg.graph_cache` when the same file
    was parsed before, and the key it is kept under there (None: not kept); ``key``: its
    :func:`cptkg.graph_cache.file_key` when known."""
    return graph_cache.cached_file(path, lambda: parse_source(path), key)


def kept_source(path: Path, key: str) -> ParsedFile:
    """``path`` as it was parsed when kept under ``key``: read back, else parsed again;
    InputError when the file no longer has that content."""
    kept = graph_cache.kept_file(key)
    if kept is not None:
        return kept
    changed = InputError(
        f"{_paths.display_path(path)}: changed while cptkg was using the graph",
        hint="run the command again",
    )
    if graph_cache.file_key(path) != key:
        raise changed
    parsed, now = parsed_source(path)
    if now is not None and now != key:
        raise changed
    return parsed


def namespace_dataset(parsed: Iterable[ParsedFile]) -> Dataset:
    """An empty Dataset with the prefixes :func:`load_dataset` binds when it loads the files
    ``parsed`` came from, in that order."""
    ds = Dataset(default_union=True)
    bind_prefixes(ds)
    manager = ds.namespace_manager
    for source in parsed:
        for prefix, namespace, override, replace in source.binds:
            manager.bind(prefix, namespace, override=override, replace=replace)
    return ds


def fill_dataset(ds: Dataset, parsed: Iterable[ParsedFile]) -> Dataset:
    """``ds`` with the graphs of ``parsed`` added, one named graph each (as
    :func:`load_dataset` makes them)."""
    for source in parsed:
        for iri, triples in source.graphs:
            graph = ds.graph(iri)
            for triple in triples:
                graph.add(triple)
    return ds


def union_of(parsed: Iterable[ParsedFile], namespaces: Dataset) -> Graph:
    """The triples of ``parsed`` in one Graph with the prefixes :func:`union_graph` binds for a
    Dataset with the prefixes of ``namespaces``: the graph :func:`union_graph` makes of the
    loaded Dataset, each term held once (the same IRI in two files is one object)."""
    g = Graph()
    bind_prefixes(g)
    copy_prefixes(namespaces, g)
    store = g.store
    terms: dict[object, Any] = {}
    for source in parsed:
        for s, p, o in source.triples():
            key = (type(o), o, o.language, o.datatype) if isinstance(o, Literal) else o
            store.add((terms.setdefault(s, s), terms.setdefault(p, p), terms.setdefault(key, o)), g)
    return g


def load_union(paths: list[Path] | None = None, **kwargs: bool) -> Graph:
    """Shortcut: :func:`union_graph` of :func:`load_dataset`."""
    return union_graph(load_dataset(paths, **kwargs))
