"""Write query results: an aligned table for people, the W3C formats for machines.

- ``table``: aligned columns, IRIs as prefixed names, literals as their text; given a
  ``max_width``, long cells wrap within their column (see :mod:`cptkg.tables`).
- ``csv``: SPARQL 1.1 Query Results CSV (header of variable names; IRIs and literals as
  their plain text; blank nodes ``_:b``; unbound empty; CRLF line ends, RFC 4180 quoting; a
  text starting like a spreadsheet formula gets a leading ``'``, :func:`cptkg.formats.csv_cell`).
- ``tsv``: SPARQL 1.1 Query Results TSV (header ``?var``; terms in SPARQL/Turtle syntax).
- ``json``: a JSON list of objects, one per row, with plain values (strings, numbers,
  booleans; null for unbound).
- ``sparql-json``: SPARQL 1.1 Query Results JSON (``application/sparql-results+json``).

ASK results are ``true`` / ``false`` (table, csv, tsv, json) or ``{"head": {}, "boolean": …}``.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

from cptkg.engines.base import QueryOutcome, SelectResult, Term
from cptkg.formats import GRAPH_RESULT_FORMATS, RESULT_FORMATS, csv_cell
from cptkg.namespaces import PREFIXES
from cptkg.tables import text_table

_INTEGER_TYPES = {
    XSD.integer,
    XSD.int,
    XSD.long,
    XSD.short,
    XSD.byte,
    XSD.nonNegativeInteger,
    XSD.positiveInteger,
    XSD.nonPositiveInteger,
    XSD.negativeInteger,
    XSD.unsignedInt,
    XSD.unsignedLong,
    XSD.unsignedShort,
    XSD.unsignedByte,
}
_FLOAT_TYPES = {XSD.double, XSD.float}


def _prefixes() -> list[tuple[str, str]]:
    extra = {
        "uberon": "http://purl.obolibrary.org/obo/UBERON_",
        "fma": "http://purl.org/sig/ont/fma/",
    }
    pairs = [(p, str(ns)) for p, ns in PREFIXES.items()] + list(extra.items())
    return sorted(pairs, key=lambda pair: -len(pair[1]))  # longest namespace first


def short(term: Term | None, prefixes: list[tuple[str, str]] | None = None) -> str:
    """A term for people: IRIs as prefixed names where a known prefix fits, literals as text."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        text = str(term)
        for prefix, ns in prefixes if prefixes is not None else _prefixes():
            local = text[len(ns) :]
            if text.startswith(ns) and local and all(c.isalnum() or c in "_-." for c in local):
                return f"{prefix}:{local}"
        return f"<{text}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def plain(term: Term | None) -> object:
    """A term as a plain JSON value: int / float / bool for numbers and booleans, else text."""
    if term is None:
        return None
    if isinstance(term, Literal):
        dt = term.datatype
        try:
            if dt in _INTEGER_TYPES:
                return int(str(term))
            if dt == XSD.decimal:
                value = Decimal(str(term))
                return int(value) if value == value.to_integral_value() else float(value)
            if dt in _FLOAT_TYPES:
                return float(str(term))
            if dt == XSD.boolean:
                return str(term).strip() in ("true", "1")
        except (ValueError, ArithmeticError):
            return str(term)
        return str(term)
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def sparql_json_term(term: Term) -> dict[str, str]:
    """One RDF term in SPARQL 1.1 Query Results JSON."""
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    out = {"type": "literal", "value": str(term)}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype is not None and term.datatype != XSD.string:
        out["datatype"] = str(term.datatype)
    return out


def to_sparql_json(outcome: SelectResult | bool) -> dict[str, object]:
    """A SELECT or ASK result as a SPARQL 1.1 Query Results JSON object."""
    if isinstance(outcome, bool):
        return {"head": {}, "boolean": outcome}
    bindings = [
        {
            v: sparql_json_term(t)
            for v, t in zip(outcome.variables, row, strict=True)
            if t is not None
        }
        for row in outcome.rows
    ]
    return {"head": {"vars": list(outcome.variables)}, "results": {"bindings": bindings}}


def _tsv_term(term: Term | None) -> str:
    """One term in the TSV results format (Turtle syntax, no raw tab or newline)."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    text = (
        str(term)
        .replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )
    if term.language:
        return f'"{text}"@{term.language}'
    if term.datatype is None or term.datatype == XSD.string:
        return f'"{text}"'
    return f'"{text}"^^<{term.datatype}>'


def _csv_term(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def _table(result: SelectResult, max_width: int | None) -> str:
    prefixes = _prefixes()
    rows = [[short(t, prefixes) for t in row] for row in result.rows]
    lines = text_table(rows, result.variables, max_width=max_width)
    n = len(result.rows)
    lines.append(f"({n} row{'s' if n != 1 else ''})")
    return "\n".join(lines) + "\n"


def format_result(
    outcome: QueryOutcome, fmt: str = "table", *, max_width: int | None = None
) -> str:
    """``outcome`` written in ``fmt`` (see module docstring); a ``table`` has no line longer
    than ``max_width`` when given. Graph results (CONSTRUCT, DESCRIBE) are written as Turtle
    for ``table``, or in ``turtle`` / ``nt`` / ``json-ld``."""
    if isinstance(outcome, Graph):
        graph_fmt = {"table": "turtle"}.get(fmt, fmt)
        if graph_fmt not in GRAPH_RESULT_FORMATS:
            raise ValueError(
                f"a CONSTRUCT/DESCRIBE result cannot be written as {fmt}; "
                f"use one of table, {', '.join(GRAPH_RESULT_FORMATS)}"
            )
        return outcome.serialize(format=graph_fmt)
    if fmt in GRAPH_RESULT_FORMATS:
        raise ValueError(
            f"a SELECT/ASK result cannot be written as {fmt}; "
            f"use one of {', '.join(RESULT_FORMATS)}"
        )
    if isinstance(outcome, bool):
        if fmt == "sparql-json":
            return json.dumps(to_sparql_json(outcome), indent=2) + "\n"
        return ("true" if outcome else "false") + "\n"
    if fmt == "table":
        return _table(outcome, max_width)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(outcome.variables)
        for row in outcome.rows:
            writer.writerow([csv_cell(_csv_term(t)) for t in row])
        return buf.getvalue()
    if fmt == "tsv":
        lines = ["\t".join("?" + v for v in outcome.variables)]
        lines += ["\t".join(_tsv_term(t) for t in row) for row in outcome.rows]
        return "\n".join(lines) + "\n"
    if fmt == "json":
        rows = [
            {v: plain(t) for v, t in zip(outcome.variables, row, strict=True)}
            for row in outcome.rows
        ]
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if fmt == "sparql-json":
        return json.dumps(to_sparql_json(outcome), indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown result format {fmt!r}; use one of {', '.join(RESULT_FORMATS)}")


def parse_sparql_json(data: dict[str, object]) -> SelectResult:
    """A SPARQL 1.1 Query Results JSON object (SELECT) back into a SelectResult."""
    head = data["head"]
    variables = list(head["vars"])  # type: ignore[index]
    rows = []
    for binding in data["results"]["bindings"]:  # type: ignore[index]
        row: list[Term | None] = []
        for v in variables:
            t = binding.get(v)
            if t is None:
                row.append(None)
            elif t["type"] == "uri":
                row.append(URIRef(t["value"]))
            elif t["type"] == "bnode":
                row.append(BNode(t["value"]))
            else:
                dt = t.get("datatype")
                row.append(
                    Literal(t["value"], lang=t.get("xml:lang"), datatype=URIRef(dt) if dt else None)
                )
        rows.append(tuple(row))
    return SelectResult(variables, rows)
