"""Where the project's files are: the project root and its ontology, shapes, data, queries.

The root is ``$CPTKG_HOME`` if set; otherwise the first directory above this module that
contains ``ontology/cptkg.ttl`` (a source checkout / editable install); otherwise the
current directory or one of its parents if it contains ``ontology/cptkg.ttl``. Every location
is a function, resolved when called, so importing this module never fails.
"""

from __future__ import annotations

import os
from pathlib import Path

from cptkg.errors import CptkgError, InputError
from cptkg.namespaces import GRAPH_BASE

#: The file whose presence marks a directory as the project root.
MARKER = Path("ontology") / "cptkg.ttl"
#: File extensions read as RDF, with their rdflib parser names.
RDF_FORMATS: dict[str, str] = {
    ".ttl": "turtle",
    ".nt": "nt",
    ".jsonld": "json-ld",
    ".json": "json-ld",
    ".trig": "trig",
    ".nq": "nquads",
}


def project_root() -> Path:
    """Return the project root directory (see module docstring), or raise CptkgError."""
    env = os.environ.get("CPTKG_HOME")
    if env:
        root = Path(env).expanduser().resolve()
        if not (root / MARKER).is_file():
            raise CptkgError(
                f"CPTKG_HOME={env} does not contain {MARKER}",
                hint="point CPTKG_HOME at the cptkg project directory (the one with ontology/)",
            )
        return root
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for candidate in (start, *start.parents):
            if (candidate / MARKER).is_file():
                return candidate
    raise CptkgError(
        f"cannot find the cptkg project (no {MARKER} above {Path(__file__).parent} "
        f"or {Path.cwd()})",
        hint="set CPTKG_HOME to the project directory, or run cptkg from inside it",
    )


def ontology_file() -> Path:
    """The ontology file ``ontology/cptkg.ttl``."""
    return project_root() / MARKER


def shapes_dir() -> Path:
    """The SHACL shapes directory ``ontology/shapes/``."""
    return project_root() / "ontology" / "shapes"


def data_dir() -> Path:
    """The instance data directory ``data/``."""
    return project_root() / "data"


def templates_dir() -> Path:
    """``data/templates/``: templates for new data, never part of the shipped graph."""
    return data_dir() / "templates"


def queries_dir() -> Path:
    """The stored queries directory ``queries/``."""
    return project_root() / "queries"


def shapes_files() -> list[Path]:
    """All ``ontology/shapes/*.ttl`` files, sorted."""
    d = shapes_dir()
    return sorted(d.glob("*.ttl")) if d.is_dir() else []


def data_files() -> list[Path]:
    """All ``data/**/*.ttl`` files, recursively, sorted, excluding ``data/templates/``."""
    d = data_dir()
    if not d.is_dir():
        return []
    templates = templates_dir()
    return sorted(p for p in d.rglob("*.ttl") if p.is_file() and not p.is_relative_to(templates))


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
    """``path`` relative to the project root (or the cwd) when possible, for messages."""
    p = Path(path)
    try:
        resolved = p.resolve()
    except OSError:
        return str(p)
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

    ``GRAPH_BASE`` + the path relative to the project root without extension
    (``.../graph/data/policies/aetna``); files outside the project get
    ``GRAPH_BASE + "external/" + stem``.
    """
    resolved = Path(path).resolve()
    try:
        root = project_root()
    except CptkgError:
        root = None
    if root is not None and resolved.is_relative_to(root):
        rel = resolved.relative_to(root).with_suffix("")
        return GRAPH_BASE + rel.as_posix()
    return GRAPH_BASE + "external/" + resolved.stem
