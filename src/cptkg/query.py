"""Run stored and ad-hoc SPARQL queries on any Engine, with parameters bound as RDF terms.

Raw parameter values (strings from the command line) are converted to typed rdflib terms
according to the query's header (:mod:`cptkg.catalog`), validated, and handed to the
engine, which binds them with :func:`cptkg.engines.base.inject_values`: a value is serialised
with ``n3()`` inside a VALUES block, never pasted into the query text, so a value holding
quotes, braces, ``#`` or newlines is just a literal.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Identifier

from cptkg.catalog import PARAM_TYPES, ParamSpec, StoredQuery, get_query, parse_header, parse_query
from cptkg.engines.base import Engine, QueryOutcome, SelectResult, mask_comments_and_strings
from cptkg.errors import InputError
from cptkg.namespaces import PREFIXES, parse_iri


class ParameterError(InputError):
    """A parameter is unknown, missing, or its value is malformed."""


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

#: Longest parameter value (in characters) an error message repeats in full.
SHOWN_LIMIT = 200


def shown(value: object, limit: int = SHOWN_LIMIT) -> str:
    """``value`` quoted for an error message: its repr, or, past ``limit`` characters, the
    repr of its first ``limit`` characters followed by "…" and its full length."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


def to_iri(value: str, param: str = "value") -> URIRef:
    """An IRI from ``<http://…>``, ``http://…`` (any scheme) or a prefixed name (``kg:x``),
    read by :func:`cptkg.namespaces.parse_iri`."""
    iri = parse_iri(value)
    if iri is None:
        raise ParameterError(
            f"parameter {param}: {shown(value)} is not an IRI",
            hint="give a full IRI (https://w3id.org/cptkg/id/payer-aetna) or a prefixed name "
            "with a known prefix (" + ", ".join(p + ":" for p in PREFIXES) + ")",
        )
    return iri


def _looks_like_iri(value: str) -> bool:
    text = value.strip()
    if text.startswith("<") and text.endswith(">"):
        return True
    return bool(re.match(r"(https?|urn|file):", text)) or bool(
        re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*:[A-Za-z0-9_][A-Za-z0-9_.\-]*", text)
    )


def convert_value(spec: ParamSpec, raw: str | Identifier) -> Identifier:
    """``raw`` as the RDF term the parameter's type calls for; ParameterError if malformed."""
    if isinstance(raw, (URIRef, Literal)):
        return raw
    if not isinstance(raw, str):
        raise ParameterError(f"parameter {spec.name}: expected text, got {type(raw).__name__}")
    kind = spec.type
    if kind == "date":
        text = raw.strip()
        try:
            if not _DATE.fullmatch(text):
                raise ValueError
            _dt.date.fromisoformat(text)
        except ValueError:
            raise ParameterError(
                f"parameter {spec.name}: {shown(raw)} is not a date",
                hint=f"expected format YYYY-MM-DD (xsd:date), e.g. {spec.name}=2025-01-31",
            ) from None
        return Literal(text, datatype=XSD.date)
    if kind == "integer":
        if not re.fullmatch(r"[+-]?\d+", raw.strip()):
            raise ParameterError(
                f"parameter {spec.name}: {shown(raw)} is not an integer",
                hint=f"expected a whole number, e.g. {spec.name}=3",
            )
        return Literal(str(int(raw.strip())), datatype=XSD.integer)
    if kind == "decimal":
        try:
            if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", raw.strip()):
                raise InvalidOperation
            value = Decimal(raw.strip())
        except InvalidOperation:
            raise ParameterError(
                f"parameter {spec.name}: {shown(raw)} is not a decimal number",
                hint=f"expected e.g. {spec.name}=1250.00",
            ) from None
        return Literal(str(value), datatype=XSD.decimal)
    if kind == "boolean":
        text = raw.strip().lower()
        if text not in ("true", "false"):
            raise ParameterError(
                f"parameter {spec.name}: {shown(raw)} is not a boolean",
                hint="expected true or false",
            )
        return Literal(text, datatype=XSD.boolean)
    if kind == "iri":
        return to_iri(raw, spec.name)
    if kind == "payer":
        return to_iri(raw, spec.name) if _looks_like_iri(raw) else Literal(raw.strip())
    if kind == "search" and not raw.strip():
        raise ParameterError(
            f"parameter {spec.name}: empty search text {shown(raw)} would match everything",
            hint=f"give some text to look for, e.g. {spec.name}=trapezius",
        )
    # string, search, code
    return Literal(raw.strip() if kind == "code" else raw)


_PAYERS = """PREFIX cptkg: <https://w3id.org/cptkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX schema: <https://schema.org/>
SELECT ?payer ?name WHERE {
  ?payer a cptkg:Payer .
  OPTIONAL { ?payer rdfs:label|schema:name|skos:altLabel ?name }
} ORDER BY ?payer"""

_CODES = """PREFIX cptkg: <https://w3id.org/cptkg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?notation (COUNT(DISTINCT ?procedure) AS ?procedures) WHERE {
  ?code a cptkg:CPTCode ; skos:notation ?notation .
  OPTIONAL { ?procedure cptkg:billingCode ?code }
} GROUP BY ?notation ORDER BY ?notation"""


def payer_names(engine: Engine) -> dict[str, set[str]]:
    """Payer IRI -> the set of names it is known by (labels, schema:name, altLabels)."""
    result = engine.query(_PAYERS)
    assert isinstance(result, SelectResult)
    payers: dict[str, set[str]] = {}
    for payer, name in result.rows:
        names = payers.setdefault(str(payer), set())
        if name is not None:
            names.add(str(name))
    return payers


def cpt_codes(engine: Engine) -> dict[str, bool]:
    """CPT code notation -> whether a procedure in the graph is billed with it."""
    result = engine.query(_CODES)
    assert isinstance(result, SelectResult)
    # a count, not a projected boolean: Virtuoso answers true as "1"^^xsd:integer
    return {
        str(notation): int(count) > 0  # type: ignore[arg-type]
        for notation, count in result.rows
    }


def check_payer(engine: Engine, spec: ParamSpec, term: Identifier) -> None:
    """ParameterError unless ``term`` is a payer's IRI or one of its names (any case)."""
    payers = payer_names(engine)
    if isinstance(term, URIRef):
        if str(term) in payers:
            return
    else:
        wanted = str(term).casefold()
        if any(wanted == n.casefold() for names in payers.values() for n in names):
            return
    choices = sorted({min(names) if names else iri for iri, names in payers.items()})
    raise ParameterError(
        f"parameter {spec.name}: no payer {shown(term)} in the graph",
        hint="payers: " + ", ".join(choices) + " (a name, any case, or the payer's IRI)",
    )


def check_code(
    engine: Engine, spec: ParamSpec, term: Identifier, *, described: bool = False
) -> None:
    """ParameterError unless ``term`` is the notation of a CPT code in the graph.

    With ``described``, the code must also be the billing code of a procedure (have an
    overview), as the report needs.
    """
    codes = cpt_codes(engine)
    ok = str(term) in codes and (codes[str(term)] or not described)
    if ok:
        return
    choices = [c for c, d in codes.items() if d or not described]
    what = "CPT code with an overview" if described else "CPT code"
    raise ParameterError(
        f"parameter {spec.name}: no {what} {shown(term)} in the graph",
        hint=("codes with an overview: " if described else "CPT codes in the graph: ")
        + ", ".join(choices),
    )


def bind_params(
    query: StoredQuery,
    params: Mapping[str, str | Identifier] | None = None,
    engine: Engine | None = None,
) -> dict[str, Identifier]:
    """The query's bindings (variable name -> RDF term) from user ``params`` and defaults.

    Parameter names may be given with or without leading underscores. Raises
    ParameterError for an unknown or missing parameter or a malformed value. With an
    ``engine``, ``payer`` and ``code`` values are also checked against the graph.
    """
    given: dict[str, str | Identifier] = {}
    for key, value in (params or {}).items():
        name = key.lstrip("_")
        spec = query.param(name)
        if spec is None:
            valid = ", ".join(p.describe() for p in query.params) or "none"
            raise ParameterError(
                f"query {query.name} has no parameter {shown(key)}",
                hint=f"parameters of {query.name}: {valid}",
            )
        if name in given:
            raise ParameterError(f"parameter {name} given twice")
        given[name] = value
    bindings: dict[str, Identifier] = {}
    for spec in query.params:
        raw = given.get(spec.name, spec.default)
        if raw is None:
            if spec.optional:
                continue
            raise ParameterError(
                f"query {query.name} needs parameter {spec.name!r} ({spec.type}: "
                f"{PARAM_TYPES[spec.type]})",
                hint=f"add --param {spec.name}=VALUE" + (f"; {spec.help}" if spec.help else ""),
            )
        term = convert_value(spec, raw)
        if engine is not None and spec.name in given:
            if spec.type == "payer":
                check_payer(engine, spec, term)
            elif spec.type == "code":
                check_code(engine, spec, term)
        bindings[spec.variable] = term
    return bindings


def run_stored(
    engine: Engine,
    name: str | StoredQuery,
    params: Mapping[str, str | Identifier] | None = None,
    *,
    check_values: bool = True,
) -> QueryOutcome:
    """Run stored query ``name`` on ``engine`` with ``params`` (raw strings or RDF terms).

    ``check_values`` checks ``payer`` / ``code`` values against the graph first (one small
    extra query each), so that a misspelt payer is an error listing the payers rather than
    an empty result.
    """
    query = name if isinstance(name, StoredQuery) else get_query(name)
    bindings = bind_params(query, params, engine if check_values else None)
    return engine.query(query.text, bindings)


_SERVICE = re.compile(r"(?<![\w:?$.-])SERVICE(?![\w:.-])", re.IGNORECASE)


class FederationRefused(InputError):
    """An ad-hoc query calls another endpoint (``SERVICE``) without federation allowed."""


def uses_service(sparql: str) -> bool:
    """Whether the query has a ``SERVICE`` clause (outside comments, strings and IRIs)."""
    return bool(_SERVICE.search(mask_comments_and_strings(sparql)))


def run_sparql(
    engine: Engine,
    sparql: str,
    params: Mapping[str, str | Identifier] | None = None,
    *,
    allow_service: bool = False,
) -> QueryOutcome:
    """Run an ad-hoc query. If its text has a ``#+`` header declaring parameters, ``params``
    are typed by it; otherwise each value is an IRI when written ``<…>``, else a plain literal.

    A query with ``SERVICE`` (a call to another endpoint) is refused with FederationRefused
    unless ``allow_service``.
    """
    if not allow_service and uses_service(sparql):
        raise FederationRefused(
            "the query uses SERVICE (federation: a request to another SPARQL endpoint), "
            "which is refused for ad-hoc queries",
            hint="remove the SERVICE clause, or pass --allow-service to let the query "
            "contact the endpoint it names",
        )
    if params and parse_header(sparql).get("summary"):
        query = parse_query(Path("adhoc.rq"), sparql)
        return engine.query(sparql, bind_params(query, params, engine))
    bindings: dict[str, Identifier] = {}
    for key, value in (params or {}).items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ParameterError(f"{shown(key)} is not a SPARQL variable name")
        if isinstance(value, str):
            text = value.strip()
            term: Identifier = (
                to_iri(text, key) if text.startswith("<") and text.endswith(">") else Literal(value)
            )
        else:
            term = value
        bindings[key] = term
    return engine.query(sparql, bindings)


def parse_param_args(items: list[str] | None) -> dict[str, str]:
    """``["key=value", ...]`` (from ``--param``) as a dict; ParameterError on a bad item."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(
                f"--param {shown(item)}: expected KEY=VALUE", hint="e.g. --param payer=Aetna"
            )
        key = key.strip()
        if key in out:
            raise ParameterError(f"parameter {key} given twice")
        out[key] = value
    return out
