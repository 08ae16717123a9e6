"""Where the graph's files are: the reference graph (ontology, shapes, data, stored queries)
and the active workspace's own data and queries.

The reference root is the active workspace when that is a full project (the checkout or a copy
of it, holding ``ontology/cptkg.ttl``); otherwise the graph shipped inside the installed
package (``cptkg/_graph/``, copied there when the wheel is built); otherwise the source
checkout above this module. The workspace (:mod:`cptkg.workspace`) adds its ``data/**/*.ttl``
and ``queries/*.rq``. Every location is a function, resolved when called, so importing this
module never fails.
"""

from __future__ import annotations

import os
from pathlib import Path

from cptkg.errors import CptkgError, InputError
from cptkg.namespaces import GRAPH_BASE
from cptkg.workspace import INIT_HINT, PROJECT_MARKER, Workspace, find_workspace

#: The file whose presence marks a directory as a reference root.
MARKER = PROJECT_MARKER
#: The installed package's directory.
PACKAGE_DIR = Path(__file__).resolve().parent
#: The reference graph inside an installed package (absent in a source checkout).
PACKAGED_GRAPH = PACKAGE_DIR / "_graph"
#: Named graphs of workspace files are ``GRAPH_BASE + WORKSPACE_GRAPHS + <path in workspace>``.
WORKSPACE_GRAPHS = "workspace/"
#: File extensions read as RDF, with their rdflib parser names.
RDF_FORMATS: dict[str, str] = {
    ".ttl": "turtle",
    ".nt": "nt",
    ".jsonld": "json-ld",
    ".json": "json-ld",
    ".trig": "trig",
    ".nq": "nquads",
}


def workspace() -> Workspace | None:
    """The active workspace (:func:`cptkg.workspace.find_workspace`); CptkgError for one inside
    the installed package, which is never written to."""
    ws = find_workspace()
    if ws is not None and ws.root.is_relative_to(PACKAGE_DIR):
        raise CptkgError(
            f"{ws.root} is inside the installed cptkg package; it cannot be a workspace",
            hint=INIT_HINT,
        )
    return ws


def require_workspace(action: str) -> Workspace:
    """The active workspace; CptkgError saying how to make one when there is none."""
    ws = workspace()
    if ws is None:
        raise CptkgError(
            f"no workspace to {action}: neither --workspace, CPTKG_HOME nor {Path.cwd()} or a "
            "directory above it names one (the installed reference graph is never written to)",
            hint=INIT_HINT,
        )
    return ws


def separate_workspace() -> Workspace | None:
    """The active workspace when it adds to the reference graph (None for none, and for a full
    project, which is the reference graph itself)."""
    ws = workspace()
    return None if ws is None or ws.is_project else ws


def reference_root() -> Path:
    """The directory holding the reference graph (see module docstring), or CptkgError."""
    ws = workspace()
    if ws is not None and ws.is_project:
        return ws.root
    if (PACKAGED_GRAPH / MARKER).is_file():
        return PACKAGED_GRAPH
    for candidate in PACKAGE_DIR.parents:
        if (candidate / MARKER).is_file():
            return candidate
    raise CptkgError(
        f"cannot find the cptkg reference graph (no {MARKER} in {PACKAGED_GRAPH} or above "
        f"{PACKAGE_DIR})",
        hint="reinstall cptkg from its wheel, or set CPTKG_HOME to the project directory",
    )


def project_root() -> Path:
    """The reference root (:func:`reference_root`): where ``ontology/``, ``data/`` and
    ``queries/`` of the reference graph are."""
    return reference_root()


def ontology_file() -> Path:
    """The ontology file ``ontology/cptkg.ttl``."""
    return project_root() / MARKER


def shapes_dir() -> Path:
    """The SHACL shapes directory ``ontology/shapes/``."""
    return project_root() / "ontology" / "shapes"


def data_dir() -> Path:
    """The reference graph's instance data directory ``data/``."""
    return project_root() / "data"


def templates_dir() -> Path:
    """``data/templates/``: templates for new data, never part of the shipped graph."""
    return data_dir() / "templates"


def queries_dir() -> Path:
    """The reference stored queries directory ``queries/``."""
    return project_root() / "queries"


def workspace_queries_dir() -> Path | None:
    """The workspace's own ``queries/`` (None without a separate workspace)."""
    ws = separate_workspace()
    return ws.queries_dir if ws is not None else None


def shapes_files() -> list[Path]:
    """All ``ontology/shapes/*.ttl`` files, sorted."""
    d = shapes_dir()
    return sorted(d.glob("*.ttl")) if d.is_dir() else []


def _ttl_files(d: Path, skip: Path | None = None) -> list[Path]:
    """``d/**/*.ttl``, sorted, without those under ``skip``."""
    if not d.is_dir():
        return []
    return sorted(
        p for p in d.rglob("*.ttl") if p.is_file() and (skip is None or not p.is_relative_to(skip))
    )


def reference_data_files() -> list[Path]:
    """The reference graph's ``data/**/*.ttl``, sorted, excluding ``data/templates/``."""
    return _ttl_files(data_dir(), templates_dir())


def workspace_data_files() -> list[Path]:
    """The separate workspace's ``data/**/*.ttl``, sorted (none without one)."""
    ws = separate_workspace()
    return _ttl_files(ws.data_dir, ws.data_dir / "templates") if ws is not None else []


def data_files() -> list[Path]:
    """The graph's instance data: :func:`reference_data_files`, then
    :func:`workspace_data_files`."""
    return reference_data_files() + workspace_data_files()


def check_outside_package(path: Path | str, what: str = "write") -> Path:
    """``path`` made absolute; InputError when it lies inside the installed package (the
    reference graph is never written to)."""
    resolved = Path(path).expanduser().resolve()
    if resolved.is_relative_to(PACKAGE_DIR):
        raise InputError(
            f"{resolved}: inside the installed cptkg package; refusing to {what} there",
            hint="write into your workspace or another directory (" + INIT_HINT + ")",
        )
    return resolved


def rdf_format(path: Path) -> str:
    """The rdflib parser name for ``path`` from its extension, or raise InputError."""
    fmt = RDF_FORMATS.get(path.suffix.lower())
    if fmt is None:
        valid = ", ".join(sorted(RDF_FORMATS))
        raise InputError(
            f"{path}: unknown RDF file format {path.suffix or '(no extension)'!r}",
            hint=f"use one of the extensions {valid}",
        )
    return fmt


def display_path(path: Path) -> str:
    """``path`` for messages: absolute for a file of the workspace's ``data/``, else relative
    to the reference root (or the cwd) when possible."""
    p = Path(path)
    try:
        resolved = p.resolve()
    except OSError:
        return str(p)
    try:
        ws = separate_workspace()
    except CptkgError:
        ws = None
    if ws is not None and resolved.is_relative_to(ws.data_dir):
        return str(resolved)
    bases: list[Path] = []
    try:
        bases.append(project_root())
    except CptkgError:
        pass
    bases.append(Path.cwd().resolve())
    for base in bases:
        if resolved.is_relative_to(base):
            return resolved.relative_to(base).as_posix()
    return str(p)


def graph_iri(path: Path) -> str:
    """The named-graph IRI of a source file.

    ``GRAPH_BASE`` + the path relative to the reference root without extension
    (``.../graph/data/policies/aetna``); a file of the separate workspace gets
    ``GRAPH_BASE + "workspace/" +`` its path in the workspace
    (``.../graph/workspace/data/policies/mine``); other files get
    ``GRAPH_BASE + "external/" + stem``.
    """
    resolved = Path(path).resolve()
    try:
        ws = separate_workspace()
        root: Path | None = project_root()
    except CptkgError:
        ws, root = None, None
    if ws is not None and resolved.is_relative_to(ws.root):
        rel = resolved.relative_to(ws.root).with_suffix("")
        return GRAPH_BASE + WORKSPACE_GRAPHS + rel.as_posix()
    if root is not None and resolved.is_relative_to(root):
        rel = resolved.relative_to(root).with_suffix("")
        return GRAPH_BASE + rel.as_posix()
    return GRAPH_BASE + "external/" + resolved.stem


def graph_file(graph_iri: str) -> Path | None:
    """The source file a named graph of :func:`graph_iri` was read from, if it exists."""
    rel = graph_iri.removeprefix(GRAPH_BASE)
    if rel == graph_iri or rel.startswith("external/"):
        return None
    if rel.startswith(WORKSPACE_GRAPHS):
        ws = separate_workspace()
        if ws is None:
            return None
        base, rel = ws.root, rel.removeprefix(WORKSPACE_GRAPHS)
    else:
        base = project_root()
    f = base / (rel + ".ttl")
    return f if f.is_file() else None


#: Environment variable: folders holding the source documents, by file name.
SOURCES_ENV = "CPTKG_SOURCES"


def source_dirs() -> list[Path]:
    """The folders searched for the source documents the quotes are checked against:
    ``$CPTKG_SOURCES`` (``os.pathsep``-separated), else ``<project>/../shared/source``."""
    configured = os.environ.get(SOURCES_ENV, "")
    if configured.strip():
        return [Path(p).expanduser() for p in configured.split(os.pathsep) if p.strip()]
    try:
        return [project_root().parent / "shared" / "source"]
    except CptkgError:  # no project folder: only CPTKG_SOURCES could say where
        return []


def source_documents() -> list[Path]:
    """The regular files in :func:`source_dirs`, sorted (what a quote check may read)."""
    found: list[Path] = []
    for folder in source_dirs():
        if folder.is_dir():
            found += sorted(f for f in folder.iterdir() if f.is_file())
    return found
