"""Helpers for the scale tests (generator, Oxigraph engine, compiled SHACL)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from rdflib import BNode, Literal, URIRef


def value_key(t: Any) -> Any:
    """A term's value, so that engines agree although they may write it differently
    ("1.30" vs "1.3", xsd:positiveInteger vs xsd:integer)."""
    if t is None:
        return None
    if isinstance(t, URIRef):
        return ("iri", str(t))
    if isinstance(t, BNode):
        return ("bnode",)
    if isinstance(t, Literal):
        if t.language:
            return ("lang", str(t), t.language.lower())
        v = t.toPython() if not t.ill_typed else str(t)
        if isinstance(v, bool):
            return ("bool", v)
        if isinstance(v, (int, float, Decimal)):
            return ("num", Decimal(str(v)))
        if v is t:  # no Python value: compare lexical form and datatype
            return ("lit", str(t), str(t.datatype or ""))
        return ("val", str(v))
    raise TypeError(t)


def finding_keys(result: Any) -> set[tuple]:
    """(focus node, path, source shape, severity) of every result."""
    return {(f.focus_node, f.path, f.source_shape, f.severity) for f in result.results}


def generate_small(tmp_path: Path, *, rate: float = 0.0, fmt: str = "nt", **sizes: int) -> Any:
    from cptkg.generate import generate

    out = tmp_path / f"synthetic-{rate}.{fmt}"
    kwargs = {"codes": 4, "payers": 4, "versions": 3, **sizes}
    return generate(out, invalid_rate=rate, seed=7, **kwargs)
