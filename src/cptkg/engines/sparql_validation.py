"""Validation for engines that answer SPARQL only (embedded Oxigraph, a remote endpoint): the
shapes compiled to SPARQL and run through the engine's ``query``."""

from __future__ import annotations

from rdflib import Graph

from cptkg.engines.base import Engine, NoteSink
from cptkg.shacl.report import ValidationResult
from cptkg.shacl.sparql_runner import validate_engine


def validate_with_sparql(
    engine: Engine,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
    *,
    on_note: NoteSink | None = None,
) -> ValidationResult:
    """:meth:`Engine.validate` for engines validated through their ``query`` alone: the
    shapes compiled to SPARQL (:func:`cptkg.shacl.sparql_runner.validate_engine`)."""
    compiled = validate_engine(engine, shapes, ontology)
    for note in compiled.notes if on_note is not None else ():
        on_note(note)
    return compiled.result
