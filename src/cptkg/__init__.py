"""cptkg: clinical-coding knowledge graph for CPT 64866 (RDF, SHACL, stored SPARQL).

``__version__`` is the one version number (:mod:`cptkg.version`: ``pyproject.toml`` reads it
from there, and the ontology's ``owl:versionInfo`` is tested against it).

The public API (:class:`KnowledgeGraph` and the typed results and errors, see
:mod:`cptkg.api`) is imported on first use, so ``import cptkg`` stays cheap and the command
line starts fast.
"""

from cptkg.version import __version__

#: The errors that need nothing heavy (rdflib and the rest load with :mod:`cptkg.api`).
_LIGHT_ERRORS = frozenset({"CptkgError", "InputError", "ParseError", "EndpointError"})

__all__ = [
    "__version__",
    "AddError",
    "AddPlan",
    "CptkgError",
    "CsvError",
    "EndpointError",
    "FederationRefused",
    "GraphSettings",
    "InputError",
    "IntakeReport",
    "KnowledgeGraph",
    "ParameterError",
    "ParseError",
    "QueryCatalogError",
    "QueryError",
    "Report",
    "SelectResult",
    "UnknownCodeError",
    "UnknownQueryError",
    "ValidationResult",
]


def __getattr__(name: str) -> object:
    """The public names of :mod:`cptkg.api`, imported when first asked for."""
    if name in _LIGHT_ERRORS:
        from cptkg import errors

        return getattr(errors, name)
    if name in __all__:
        from cptkg import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cptkg' has no attribute {name!r}")
