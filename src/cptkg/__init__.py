"""cptkg: clinical-coding knowledge graph for CPT 64866 (RDF, SHACL, stored SPARQL).

The package version comes from the installed distribution metadata, so ``pyproject.toml``
is the single source of truth (the ontology's ``owl:versionInfo`` is tested against it).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__: str = version("cptkg")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]
