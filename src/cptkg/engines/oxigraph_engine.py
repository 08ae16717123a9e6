"""The embedded Oxigraph engine: the :class:`~cptkg.engines.base.Engine` protocol over a
``pyoxigraph.Store``, in memory or on disk (``--store DIR``), for graphs of millions of
triples.

* Loading uses ``Store.bulk_load`` straight from the files (no rdflib parse): one named
  graph per source file with the same IRIs as :mod:`cptkg.load` (:func:`cptkg.paths.graph_iri`);
  TriG / N-Quads files keep their own graphs, their default-graph triples go to the
  file's graph.
* Queries see the union of the named graphs as their default graph
  (``use_default_graph_as_union=True``), like the rdflib engine's merged graph. Oxigraph's
  union is a bag, not a set: a triple stated in two source files would be seen twice
  (the shipped graph has none, and the generator never repeats a shipped triple).
* Parameters are bound with the same :func:`cptkg.engines.base.inject_values` as every other
  engine; results are converted to rdflib terms only for the rows returned (with a small
  per-query cache), so the per-query overhead stays in the tens of microseconds.
* Export uses pyoxigraph's own serializers.
* An on-disk store (``--store DIR``) records, in ``DIR/cptkg-sources.json`` written
  atomically once a load is complete, the cptkg version and each source file's path, graph,
  size, modification and change times and SHA-256. Opened again with the same files it is
  used as it is: no reload, no copy, only the validation or query runs on it. A file whose
  times changed is hashed again and still counts as the same when its content is. A store
  loaded from other files, by another cptkg version, or holding data without a complete
  record is refused (:class:`StoreMismatch`, naming what differs) unless ``rebuild`` is
  asked, which clears and reloads it with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox
from rdflib import Graph
from rdflib.term import Identifier

from cptkg import paths as _paths
from cptkg.engines.base import (
    QueryError,
    QueryOutcome,
    SelectResult,
    bind_query,
)
from cptkg.engines.oxigraph_terms import to_oxigraph as to_oxigraph  # re-exported
from cptkg.engines.oxigraph_terms import to_rdflib
from cptkg.engines.sparql_validation import SparqlOnly
from cptkg.errors import InputError, ParseError
from cptkg.formats import normalize_format
from cptkg.fsutil import atomic_write
from cptkg.load import source_files
from cptkg.namespaces import PREFIXES
from cptkg.progress import Progress
from cptkg.version import __version__

#: The record of what an on-disk store was loaded from, in the store's directory.
SOURCES_FILE = "cptkg-sources.json"
_LOG = logging.getLogger("cptkg.store")

_FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "json-ld": ox.RdfFormat.JSON_LD,
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
}
_QUAD_FORMATS = {"trig", "nquads"}


class _CountingReader:
    """A binary file wrapper reporting bytes read to a progress bar."""

    def __init__(self, raw: IO[bytes], update: Any) -> None:
        self.raw = raw
        self.update = update

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.update(len(data))
        return data

    def readable(self) -> bool:
        return True


class OxigraphEngine(SparqlOnly):
    """SPARQL 1.1 over a ``pyoxigraph.Store`` (in memory, or on disk with ``path``)."""

    name = "oxigraph"

    def __init__(self, store: ox.Store | None = None, *, path: Path | str | None = None) -> None:
        if store is None:
            if path is not None:
                Path(path).mkdir(parents=True, exist_ok=True)
                try:
                    store = ox.Store(str(path))
                except OSError as exc:
                    raise InputError(
                        f"{path}: cannot open the Oxigraph store: {exc}",
                        hint="is another cptkg or oxigraph process using it?",
                    ) from None
            else:
                store = ox.Store()
        self.store = store
        self.path = Path(path) if path is not None else None

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_paths(
        cls,
        paths: Iterable[Path | str] | None = None,
        *,
        include_ontology: bool = True,
        include_shapes: bool = False,
        store_dir: Path | str | None = None,
        progress: bool = True,
        rebuild: bool = False,
    ) -> OxigraphEngine:
        """An engine holding ``paths`` (default: the shipped graph) plus the ontology (and
        shapes) when asked, like :func:`cptkg.load.load_dataset`; ``store_dir``: on disk,
        reused while loaded from the same files (``rebuild``: cleared and reloaded when not)."""
        files = source_files(
            paths, include_ontology=include_ontology, include_shapes=include_shapes
        )
        engine = cls(path=store_dir)
        try:
            engine.load_files(files, progress=progress, rebuild=rebuild)
        except BaseException:
            engine.close()  # a refused store stays usable by the next open in this process
            raise
        return engine

    @classmethod
    def from_triples(
        cls, *graphs: Iterable[tuple[Identifier, Identifier, Identifier]]
    ) -> OxigraphEngine:
        """An in-memory engine holding the triples of ``graphs`` (rdflib Graphs or lists of
        triples) in its default graph, blank nodes keeping their ids; ValueError if Oxigraph
        refuses a term, TypeError for one that is no RDF term."""
        store = ox.Store()
        terms: dict[Identifier, ox.NamedNode | ox.BlankNode | ox.Literal] = {}

        def term(t: Identifier) -> ox.NamedNode | ox.BlankNode | ox.Literal:
            found = terms.get(t)
            if found is None:
                found = terms[t] = to_oxigraph(t)
            return found

        store.extend([ox.Quad(term(s), term(p), term(o)) for g in graphs for s, p, o in g])  # type: ignore[arg-type]
        return cls(store)

    def close(self) -> None:
        """Let go of the store (an on-disk store's lock is released once nothing else holds
        it); the engine cannot be used afterwards."""
        del self.store

    @property
    def _record(self) -> Path | None:
        return self.path / SOURCES_FILE if self.path is not None else None

    def load_files(
        self, files: list[Path], *, progress: bool = True, rebuild: bool = False
    ) -> None:
        """Bulk-load ``files``, one named graph each. An on-disk store already loaded from
        exactly these files is used as it is; one loaded from others is refused with
        :class:`StoreMismatch`, or cleared and reloaded (with a warning) when ``rebuild``."""
        record = self._record
        if record is None:
            self._bulk_load(files, progress)
            return
        recorded = read_sources(record)
        if recorded is None and not len(self.store):
            differences: list[str] = []  # a new, empty store: nothing to lose
        else:
            differences, refreshed = compare_sources(recorded, files)
            if not differences:
                if recorded is not None and refreshed != recorded["files"]:
                    write_sources(record, refreshed)
                return
            if not rebuild:
                raise StoreMismatch(self.path, differences)  # type: ignore[arg-type]
            _LOG.warning(
                "cptkg: warning: %s: rebuilding the store (%s)",
                self.path,
                "; ".join(differences[:3]) + (" …" if len(differences) > 3 else ""),
            )
        record.unlink(missing_ok=True)  # an interrupted load leaves no record behind
        if len(self.store):
            self.store.clear()
        self._bulk_load(files, progress)
        self.store.flush()
        write_sources(record, describe_sources(files))

    def _bulk_load(self, files: list[Path], progress: bool) -> None:
        total = sum(f.stat().st_size for f in files)
        with Progress("load", total=total, unit="bytes") as bar:
            if not progress:
                bar.active = False
            for f in files:
                self.load_file(f, update=bar.update if bar.active else None)

    def load_file(self, path: Path | str, *, update: Any = None) -> None:
        """Load one RDF file into its named graph (quad formats: into their own graphs)."""
        p = Path(path)
        fmt = _paths.rdf_format(p)
        gid = ox.NamedNode(_paths.graph_iri(p))
        base = p.resolve().as_uri()
        try:
            if fmt in _QUAD_FORMATS:
                with p.open("rb") as fh:
                    quads = [
                        q
                        if not isinstance(q.graph_name, ox.DefaultGraph)
                        else ox.Quad(q.subject, q.predicate, q.object, gid)
                        for q in ox.parse(fh, format=_FORMATS[fmt], base_iri=base)
                    ]
                self.store.extend(quads)
                if update:
                    update(p.stat().st_size)
            elif update is not None:
                with p.open("rb") as fh:
                    self.store.bulk_load(
                        _CountingReader(fh, update),
                        format=_FORMATS[fmt],
                        base_iri=base,
                        to_graph=gid,
                    )
            else:
                self.store.bulk_load(path=str(p), format=_FORMATS[fmt], base_iri=base, to_graph=gid)
        except SyntaxError as exc:
            where = _paths.display_path(p)
            line = _syntax_line(exc)
            prefix = f"{where}:{line}" if line else where
            raise ParseError(
                f"{prefix}: syntax error: {' '.join(str(exc.msg or exc).split())}",
                hint=f"fix the syntax in {where}",
                file=p,
                line=line,
            ) from None
        except FileNotFoundError:
            raise InputError(f"{p}: no such file or directory", hint="check the path") from None
        except OSError as exc:
            raise InputError(f"{p}: cannot read or load: {exc}") from None

    def load(self, paths: Iterable[Path | str]) -> None:
        """Add RDF files (or directories), one named graph per source file (an on-disk store
        records them among its sources)."""
        files = source_files(paths, include_ontology=False)
        record = self._record
        recorded = read_sources(record) if record is not None else None
        if record is not None:
            record.unlink(missing_ok=True)
        for f in files:
            self.load_file(f)
        if record is not None and recorded is not None:
            self.store.flush()
            write_sources(record, [*recorded["files"], *describe_sources(files)])

    def parallel_queries(self) -> int:
        """The processors this process may run on: Oxigraph evaluates a query without holding
        Python's global interpreter lock, so queries from several threads run in parallel."""
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not on every platform
            return os.cpu_count() or 1

    # ------------------------------------------------------------------ querying
    def query(self, sparql: str, bindings: dict[str, Identifier] | None = None) -> QueryOutcome:
        """Run ``sparql`` with ``bindings``; SELECT -> SelectResult, ASK -> bool, else Graph."""
        text = bind_query(sparql, bindings)
        try:
            result = self.store.query(text, use_default_graph_as_union=True)
        except SyntaxError as exc:
            msg = " ".join(str(exc).split())
            raise QueryError(
                f"SPARQL syntax error: {msg}", hint="check the SPARQL 1.1 syntax of the query"
            ) from None
        except OSError as exc:
            raise QueryError(f"SPARQL query failed: {exc}") from None
        if isinstance(result, ox.QuerySolutions):
            variables = [v.value for v in result.variables]
            cache: dict[Any, Any] = {}
            rows = []
            try:
                for sol in result:
                    row = []
                    for t in sol:
                        if t is None:
                            row.append(None)
                            continue
                        c = cache.get(t)
                        if c is None:
                            c = cache[t] = to_rdflib(t)
                        row.append(c)
                    rows.append(tuple(row))
            except (OSError, SyntaxError) as exc:
                raise QueryError(f"SPARQL query failed: {exc}") from None
            return SelectResult(variables, rows)
        if isinstance(result, ox.QueryBoolean):
            return bool(result)
        g = Graph()
        for prefix, ns in PREFIXES.items():
            g.bind(prefix, ns)
        for t in result:
            g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))  # type: ignore[arg-type]
        return g

    def __len__(self) -> int:
        return len(self.store)

    def quads(
        self,
        subject: ox.NamedNode | ox.BlankNode | None = None,
        predicate: ox.NamedNode | None = None,
        object: ox.NamedNode | ox.BlankNode | ox.Literal | None = None,  # noqa: A002
    ) -> Iterator[ox.Quad]:
        """The quads matching a pattern (None: any) in every graph, as pyoxigraph terms, read
        from the store's indexes without SPARQL (the scan of :mod:`cptkg.shacl.scan`)."""
        return iter(self.store.quads_for_pattern(subject, predicate, object, None))

    # ------------------------------------------------------------------ export
    def union_triples(self) -> Iterator[ox.Triple]:
        """Every triple of every graph once (a CONSTRUCT over the union default graph)."""
        return iter(
            self.store.query(
                "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", use_default_graph_as_union=True
            )
        )

    def export(self, fmt: str) -> bytes:
        """Serialise with pyoxigraph: Turtle / N-Triples / JSON-LD give the union of the
        graphs, TriG / N-Quads one named graph per source file."""
        data = self.write(fmt, None)
        assert data is not None
        return data

    def write(self, fmt: str, output: str | Path | IO[bytes] | None) -> bytes | None:
        """:meth:`export` streamed to ``output`` (a path or binary file; returns None), for
        graphs too large to hold serialised in memory; None: returns the bytes."""
        ofmt = _FORMATS[normalize_format(fmt)]
        prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
        out = str(output) if isinstance(output, Path) else output
        if ofmt in (ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS):
            return self.store.dump(out, format=ofmt, prefixes=prefixes)
        if ofmt == ox.RdfFormat.N_TRIPLES:
            return ox.serialize(self.union_triples(), out, format=ofmt)
        return ox.serialize(self.union_triples(), out, format=ofmt, prefixes=prefixes)


class StoreMismatch(InputError):
    """An on-disk store was loaded from other files (or by another cptkg version) than asked."""

    def __init__(self, path: Path, differences: list[str]) -> None:
        shown = differences[:5] + ([f"and {len(differences) - 5} more"] if differences[5:] else [])
        super().__init__(
            f"{path}: the store was not loaded from these files: " + "; ".join(shown),
            hint="add --rebuild-store to clear it and load these files, or give another "
            "--store directory",
        )
        self.differences = differences


def describe_sources(files: list[Path]) -> list[dict[str, Any]]:
    """What :data:`SOURCES_FILE` records of each file: resolved path, graph IRI, size,
    modification and change times (ns), inode and SHA-256."""
    out = []
    for f in files:
        out.append({**_stat(f), "graph": _paths.graph_iri(f), "sha256": _sha256(f)})
    return out


def _stat(f: Path) -> dict[str, Any]:
    st = f.stat()
    return {
        "path": str(f.resolve()),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
        "inode": st.st_ino,
    }


def _sha256(f: Path) -> str:
    with f.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def read_sources(record: Path) -> dict[str, Any] | None:
    """The record of a complete load, ``{"cptkg": version, "files": [...]}`` (None: none)."""
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        return None
    return data


def write_sources(record: Path, sources: list[dict[str, Any]]) -> None:
    """Write the record of a complete load atomically."""
    atomic_write(record, json.dumps({"cptkg": __version__, "files": sources}).encode("utf-8"))


def compare_sources(
    recorded: dict[str, Any] | None, files: list[Path]
) -> tuple[list[str], list[dict[str, Any]]]:
    """What differs between the recorded sources and ``files`` (empty: the same), and the
    record with the times of files whose content is unchanged brought up to date. A file
    with the same path, size, times and inode is taken as unchanged; otherwise its SHA-256
    decides."""
    if recorded is None:
        return ["it holds data but no record of a complete load by cptkg"], []
    if recorded.get("cptkg") != __version__:
        return [f"it was loaded by cptkg {recorded.get('cptkg')}, this is cptkg {__version__}"], []
    by_path = {str(r.get("path")): r for r in recorded["files"]}
    differences: list[str] = []
    refreshed: list[dict[str, Any]] = []
    given = set()
    for f in files:
        now = _stat(f)
        given.add(now["path"])
        old = by_path.get(now["path"])
        if old is None:
            differences.append(f"{_paths.display_path(f)} is not in the store")
            continue
        if old.get("graph") != _paths.graph_iri(f):
            differences.append(f"{_paths.display_path(f)} was loaded as graph <{old.get('graph')}>")
            continue
        if all(old.get(k) == v for k, v in now.items()):
            refreshed.append(old)
            continue
        digest = _sha256(f)
        if digest != old.get("sha256"):
            differences.append(f"{_paths.display_path(f)} changed since the store was loaded")
            continue
        refreshed.append({**old, **now, "sha256": digest})
    for path in by_path:
        if path not in given:
            differences.append(f"{path} is in the store but was not given")
    return differences, refreshed


def _syntax_line(exc: SyntaxError) -> int | None:
    if getattr(exc, "lineno", None):
        return int(exc.lineno)  # type: ignore[arg-type]
    m = re.search(r"line (\d+)", str(exc))
    return int(m.group(1)) if m else None
