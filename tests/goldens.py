"""Golden results of the stored queries: an engine-neutral form and its comparison.

A golden file ``tests/expected/<query>.json`` is SPARQL 1.1 Query Results JSON (rows in the
query's ORDER BY order) plus the parameters it was run with. Terms are compared by value:
numbers by numeric value (Oxigraph writes ``1.30`` as ``1.3``), plain literals equal to
``xsd:string`` ones, so the same golden holds for every engine.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from cptkg.engines.base import SelectResult
from cptkg.results import parse_sparql_json, to_sparql_json

EXPECTED = Path(__file__).resolve().parent / "expected"

#: Parameters for queries that have required parameters (and the goldens record them).
GOLDEN_PARAMS: dict[str, dict[str, str]] = {
    "policies-as-of": {"asOf": "2025-06-30"},
    "payer-policy": {"payer": "Aetna"},
    "search-labels": {"text": "spinal accessory"},
}

_NUMERIC = {
    str(XSD[t])
    for t in (
        "integer decimal double float int long short byte nonNegativeInteger positiveInteger "
        "nonPositiveInteger negativeInteger unsignedInt unsignedLong unsignedShort unsignedByte"
    ).split()
}


def golden_path(name: str) -> Path:
    return EXPECTED / f"{name}.json"


def write_golden(name: str, params: dict[str, str], result: SelectResult) -> None:
    data = {"query": name, "params": params, **to_sparql_json(result)}
    golden_path(name).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def read_golden(name: str) -> tuple[dict[str, str], SelectResult]:
    data = json.loads(golden_path(name).read_text("utf-8"))
    return data.get("params", {}), parse_sparql_json(data)


def normal(term) -> tuple:
    """A comparable, engine-neutral form of one term."""
    if term is None:
        return ("unbound",)
    if isinstance(term, URIRef):
        return ("iri", str(term))
    if isinstance(term, BNode):
        return ("bnode",)  # blank node labels are not stable across engines
    assert isinstance(term, Literal)
    dt = str(term.datatype) if term.datatype else None
    if term.language:
        return ("literal", str(term), "@" + term.language.lower())
    if dt in _NUMERIC:
        try:
            return ("number", Decimal(str(term)).normalize())
        except InvalidOperation:
            pass
    if dt in (None, str(XSD.string)):
        return ("literal", str(term))
    return ("literal", str(term), dt)


def normal_result(result: SelectResult) -> tuple[list[str], list[tuple]]:
    return list(result.variables), [tuple(normal(t) for t in row) for row in result.rows]
