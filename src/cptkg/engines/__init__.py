"""The engines behind :class:`cptkg.engines.base.Engine`, and :func:`open_graph`, the one place
that picks and opens one.

Every engine binds parameters the same way, with :func:`cptkg.engines.base.inject_values` (a
VALUES block of ``n3()``-serialised terms first in the outermost WHERE group), so a stored
query means the same thing on every engine. The engine modules are imported only when chosen:
pyoxigraph and SPARQLWrapper stay out of a run on the default engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cptkg.engines.settings import GraphSettings

if TYPE_CHECKING:
    from rdflib import Graph

    from cptkg.engines.base import Engine


def in_memory_graph(engine: Engine) -> Graph | None:
    """The rdflib Graph ``engine`` holds, to be read directly rather than through SPARQL
    (the rdflib engine's); None for an engine answering SPARQL only."""
    if engine.name != "rdflib":
        return None
    from cptkg.engines.rdflib_engine import RdflibEngine  # imported with such an engine

    return engine.graph if isinstance(engine, RdflibEngine) else None


def open_graph(settings: GraphSettings | None = None) -> Engine:
    """The engine ``settings`` ask for (default: rdflib over the shipped graph), loaded.

    rdflib and Oxigraph hold ``settings.paths`` (empty: ``data/**/*.ttl``) after the shipped
    ontology (and shapes) when asked, one named graph per source file; queries see their union.
    Oxigraph keeps its store in ``settings.store`` when given (refused when loaded from other
    files, unless ``settings.rebuild_store``). The remote engine reads the
    endpoint's ``settings.graph`` as its default graph.
    """
    settings = settings if settings is not None else GraphSettings()
    paths = list(settings.paths) if settings.paths else None
    if settings.engine == "remote":
        from cptkg.engines.remote import RemoteEngine  # SPARQLWrapper: only for endpoints

        assert settings.endpoint is not None  # GraphSettings checks it
        return RemoteEngine(
            settings.endpoint,
            default_graph=settings.graph,
            timeout=settings.timeout,
            credentials=settings.credentials,
            use_env_credentials=False,
        )
    if settings.engine == "oxigraph":
        from cptkg.engines.oxigraph_engine import OxigraphEngine  # pyoxigraph: only when chosen

        return OxigraphEngine.from_paths(
            paths,
            include_ontology=settings.include_ontology,
            include_shapes=settings.include_shapes,
            store_dir=settings.store,
            progress=settings.progress,
            rebuild=settings.rebuild_store,
        )
    from cptkg.engines.rdflib_engine import RdflibEngine  # rdflib: not for `cptkg --help`

    return RdflibEngine.from_sources(
        paths, include_ontology=settings.include_ontology, include_shapes=settings.include_shapes
    )
