"""The one version number of cptkg: the package metadata (``pyproject.toml`` reads it from here
with ``[tool.setuptools.dynamic]``), ``cptkg.__version__`` and the ontology's
``owl:versionInfo`` (tested against it). Kept free of imports, so anything may import it."""

__version__: str = "0.2.0"
