"""Validation and intake context for engines that answer SPARQL only (embedded Oxigraph, a remote
endpoint): the shapes compiled to SPARQL and look-ups by VALUES, both run through the engine's
``query``."""

from __future__ import annotations

from rdflib import Graph

from cptkg.engines.base import Engine, NoteSink
from cptkg.intake.context import ContextProvider, context_for
from cptkg.shacl.compiler import DIALECT_LATERAL
from cptkg.shacl.report import ValidationResult
from cptkg.shacl.sparql_runner import validate_engine


class SparqlOnly:
    """:meth:`Engine.validate` and :meth:`Engine.context` of an engine reached through its
    ``query`` alone (mixed into :class:`~cptkg.engines.oxigraph_engine.OxigraphEngine` and
    :class:`~cptkg.engines.remote.RemoteEngine`)."""

    def sparql_dialect(self) -> str:
        """The SPARQL the compiled shapes are written in for this engine
        (:data:`cptkg.shacl.compiler.DIALECTS`): Oxigraph's, with ``LATERAL``, for the embedded
        store; a remote engine answers for its server."""
        return DIALECT_LATERAL

    def parallel_queries(self) -> int:
        """How many queries the compiled validation runs at once: one, unless the engine says
        it evaluates several in parallel (the embedded Oxigraph store does)."""
        return 1

    def validate(
        self: Engine,
        shapes: Graph | None = None,
        ontology: Graph | None = None,
        *,
        on_note: NoteSink | None = None,
    ) -> ValidationResult:
        """Validate with the shapes compiled to SPARQL
        (:func:`cptkg.shacl.sparql_runner.validate_engine`); the ontology must be in the queried
        graph (:func:`cptkg.engines.open_graph` loads it into Oxigraph, ``cptkg push`` puts it
        on an endpoint)."""
        dialect = self.sparql_dialect()  # type: ignore[attr-defined]
        workers = self.parallel_queries()  # type: ignore[attr-defined]
        compiled = validate_engine(self, shapes, ontology, dialect=dialect, workers=workers)
        for note in compiled.notes if on_note is not None else ():
            on_note(note)
        return compiled.result

    def context(self: Engine) -> ContextProvider:
        """SPARQL look-ups by VALUES (:class:`cptkg.intake.context.SparqlContext`)."""
        return context_for(self)
