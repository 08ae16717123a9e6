"""cptkg: clinical-coding knowledge graph for CPT 64866 (RDF, SHACL, stored SPARQL).

``__version__`` is the one version number: ``pyproject.toml`` reads it from here
(``[tool.setuptools.dynamic]``) and the ontology's ``owl:versionInfo`` is tested against it.
Kept free of imports, so the command line starts fast.
"""

__version__: str = "0.2.0"

__all__ = ["__version__"]
