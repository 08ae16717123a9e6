"""Load RDF files into an rdflib Dataset: one named graph per source file.

Graph IRIs follow :func:`cptkg._paths.graph_iri`. TriG and N-Quads files keep their own
named graphs (their default-graph triples go into the file's graph). Every problem with
the input becomes an :class:`~cptkg.errors.InputError` or :class:`~cptkg.errors.ParseError`.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

from rdflib import RDF, Dataset, Graph, URIRef
from rdflib.exceptions import ParserError as RdflibParserError
from rdflib.plugins.parsers.notation3 import BadSyntax

from cptkg import paths as _paths
from cptkg.errors import InputError, ParseError
from cptkg.namespaces import GRAPH_BASE, bind_prefixes

_FORMAT_NAMES = {
    "turtle": "Turtle",
    "nt": "N-Triples",
    "json-ld": "JSON-LD",
    "trig": "TriG",
    "nquads": "N-Quads",
}
_QUAD_FORMATS = {"trig", "nquads"}


def shipped_files(*, include_ontology: bool = True, include_shapes: bool = False) -> list[Path]:
    """The files making up the shipped graph: ontology (optional), shapes (optional), data."""
    return source_files(None, include_ontology=include_ontology, include_shapes=include_shapes)


def source_files(
    paths: Iterable[Path | str] | None,
    *,
    include_ontology: bool = True,
    include_shapes: bool = False,
) -> list[Path]:
    """The files to load: ``paths`` (files or directories; None: ``data/**/*.ttl``) after the
    shipped ontology and shapes when asked (each file once)."""
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


def _read_text(path: Path) -> str:
    """Read a file as UTF-8, turning OS and decoding errors into InputError/ParseError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file or directory", hint="check the path") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read file: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(
            f"{_paths.display_path(path)}:{line}: not valid UTF-8 ({exc.reason})",
            hint="save the file as UTF-8",
            file=path,
            line=line,
        ) from None


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


def _parse_error(path: Path, fmt: str, text: str, exc: Exception) -> ParseError:
    """Build a ParseError with ``file:line`` from whatever rdflib / json raised."""
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


def _parse_into(ds: Dataset, path: Path, graph_id: str | None = None) -> None:
    """Parse one file into ``ds`` (its own named graph, or its graphs for TriG/N-Quads)."""
    fmt = _paths.rdf_format(path)
    text = _read_text(path)
    gid = URIRef(graph_id or _paths.graph_iri(path))
    try:
        with warnings.catch_warnings():
            # rdflib's own TriG / N-Quads parsers use its deprecated ConjunctiveGraph API
            warnings.simplefilter("ignore", DeprecationWarning)
            _parse_text(ds, text, fmt, gid, path.resolve().as_uri())
    except Exception as exc:  # any parser failure is bad input, not a bug of ours
        raise _parse_error(path, fmt, text, exc) from None
    ds.graph(gid)  # an empty file still appears as an (empty) graph


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

    ``paths=None`` loads the shipped graph: the ontology (if ``include_ontology``), the
    shapes (if ``include_shapes``) and ``data/**/*.ttl``. Given paths (files or directories)
    are loaded as they are, plus the shipped ontology / shapes when those flags are set.
    """
    files = source_files(paths, include_ontology=include_ontology, include_shapes=include_shapes)
    ds = Dataset(default_union=True)
    bind_prefixes(ds)
    for f in files:
        _parse_into(ds, f)
    return ds


def parse_file(path: Path | str) -> Graph:
    """Parse one RDF file into a plain Graph (all its triples, whatever their graph)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file or directory", hint="check the path")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, expected a file")
    ds = Dataset(default_union=True)
    _parse_into(ds, p)
    return union_graph(ds)


def union_graph(ds: Dataset) -> Graph:
    """All triples of all graphs of ``ds`` in one plain Graph, with the project's prefixes.

    A plain Graph is what validation and SPARQL UPDATE need (rdflib 7.6.0's
    ``Dataset.update`` is broken, see the engines notes).
    """
    g = Graph()
    bind_prefixes(g)
    _copy_prefixes(ds, g)
    for s, p, o, _c in ds.quads((None, None, None, None)):
        g.add((s, p, o))
    return g


def _copy_prefixes(src: Graph, dst: Graph) -> None:
    """Bind on ``dst`` the prefixes of ``src`` whose name and namespace are both still free."""
    used_ns = {str(ns) for _p, ns in dst.namespaces()}
    used_prefixes = {p for p, _ns in dst.namespaces()}
    for prefix, ns in src.namespaces():
        if prefix and prefix not in used_prefixes and str(ns) not in used_ns:
            dst.bind(prefix, ns, override=False)
            used_ns.add(str(ns))
            used_prefixes.add(prefix)


def graph_source(graph_iri: str) -> str:
    """The source file (relative to the project) a named graph was loaded from, as shown in
    messages: ``data/policies/aetna.ttl`` for ``<…/graph/data/policies/aetna>``."""
    rel = graph_iri.removeprefix(GRAPH_BASE)
    return rel + ".ttl" if (_paths.project_root() / (rel + ".ttl")).is_file() else rel


def subject_sources(ds: Dataset) -> dict[URIRef, str]:
    """Typed subject -> the source file (:func:`graph_source`) of the first graph typing it."""
    sources: dict[URIRef, str] = {}
    for ctx in ds.graphs():
        shown = graph_source(str(ctx.identifier))
        for s in ctx.subjects(RDF.type, None):
            sources.setdefault(s, shown)  # type: ignore[arg-type]
    return sources


def load_ontology() -> Graph:
    """The shipped ontology ``ontology/cptkg.ttl`` as a Graph."""
    return parse_file(_paths.ontology_file())


def load_shapes() -> Graph:
    """All shipped shapes ``ontology/shapes/*.ttl`` merged into one Graph."""
    g = Graph()
    bind_prefixes(g)
    for f in _paths.shapes_files():
        shapes = parse_file(f)
        _copy_prefixes(shapes, g)
        g += shapes
    return g


def load_union(paths: list[Path] | None = None, **kwargs: bool) -> Graph:
    """Shortcut: :func:`union_graph` of :func:`load_dataset`."""
    return union_graph(load_dataset(paths, **kwargs))
