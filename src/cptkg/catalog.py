"""The stored query catalog: ``queries/*.rq``, one query per file, with a grlc-style header.

A stored query is plain SPARQL 1.1. Its metadata lives in ``#+`` comment lines at the top
(the grlc / CLARIAH convention, a small YAML subset), so any SPARQL tool can still run it::

    #+ summary: One line saying what the query answers
    #+ description: Longer text; continuation lines are indented
    #+   under the key and joined with spaces.
    #+ tags:
    #+   - payer
    #+ defaults:
    #+   - code: "64866"
    #+ param_types:
    #+   - code: code
    #+ param_help:
    #+   - code: the CPT code, by notation

Parameters are the query's ``?_name`` variables (grlc: required unless it has a default)
and ``?__name`` variables (grlc: optional; left unbound when not given). ``defaults`` is
grlc's decorator; ``param_types`` and ``param_help`` are cptkg's own (grlc ignores keys it
does not know). Types: ``string`` (default), ``integer``, ``decimal``, ``boolean``,
``date`` (xsd:date, YYYY-MM-DD), ``iri`` (full IRI or prefixed name), ``payer`` (a payer's
name or IRI), ``code`` (a CPT code's notation). The file name (without ``.rq``) is the
query's id; ``check-*`` queries are quality checks where zero rows means pass.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from cptkg.errors import CptkgError, InputError

#: Parameter types a header may declare in ``param_types``.
PARAM_TYPES: dict[str, str] = {
    "string": "any text, bound as a plain literal",
    "integer": "a whole number (xsd:integer)",
    "decimal": "a decimal number (xsd:decimal)",
    "boolean": "true or false (xsd:boolean)",
    "date": "a date YYYY-MM-DD (xsd:date)",
    "iri": "an IRI (http://…) or a prefixed name (kg:payer-aetna)",
    "payer": "a payer's name (Aetna) or IRI (kg:payer-aetna)",
    "code": "a CPT code's notation (64866)",
}

#: Decorators cptkg reads; others are kept in ``StoredQuery.extra`` (grlc has more).
KNOWN_KEYS = {"summary", "description", "tags", "defaults", "param_types", "param_help"}

_PARAM_VAR = re.compile(r"[?$](__?)([A-Za-z][A-Za-z0-9]*)\b")


class QueryCatalogError(CptkgError):
    """A stored query file is missing, or its header is malformed."""


class UnknownQueryError(InputError):
    """No stored query has the requested name."""


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a stored query."""

    name: str
    """The name users give (``asOf``): the variable without its leading underscores."""
    variable: str
    """The SPARQL variable bound (``_asOf``, or ``__subject`` for an optional one)."""
    type: str = "string"
    default: str | None = None
    optional: bool = False
    help: str = ""

    @property
    def required(self) -> bool:
        """True when the user must give a value (no default, not optional)."""
        return self.default is None and not self.optional

    def describe(self) -> str:
        """``name:type`` plus ``=default`` / ``?`` (optional) / ``!`` (required)."""
        text = f"{self.name}:{self.type}"
        if self.default is not None:
            return f"{text}={self.default}"
        return text + ("?" if self.optional else " (required)")


@dataclass(frozen=True)
class StoredQuery:
    """A parsed ``.rq`` file."""

    name: str
    path: Path
    text: str
    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    params: tuple[ParamSpec, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def is_check(self) -> bool:
        """True for quality checks (``check-*``): zero rows means pass."""
        return self.name.startswith("check-")

    def param(self, name: str) -> ParamSpec | None:
        """The parameter called ``name`` (leading underscores ignored), or None."""
        key = name.lstrip("_")
        return next((p for p in self.params if p.name == key), None)


def parse_header(text: str) -> dict[str, object]:
    """The ``#+`` decorators at the top of a query as a dict (a YAML subset, as grlc reads it).

    Values are strings, lists of strings (``- item``) or lists of one-key dicts
    (``- key: value``). Raises QueryCatalogError on a line it cannot read.
    """
    lines = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#+"):
            lines.append(stripped[2:].rstrip())
        elif stripped == "" or stripped.startswith("#"):
            continue
        else:
            break  # the header ends at the first line of SPARQL
    result: dict[str, object] = {}
    key: str | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        indented = line.startswith("  ") or line.startswith("\t")
        body = line.strip()
        if not indented:
            m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)", body)
            if not m:
                raise QueryCatalogError(
                    f"header line {number}: expected 'key: value', got {body!r}"
                )
            key, value = m.group(1), m.group(2).strip()
            if key in result:
                raise QueryCatalogError(f"header line {number}: {key!r} given twice")
            result[key] = _scalar(value) if value not in ("", "|", ">") else []
            continue
        if key is None:
            raise QueryCatalogError(f"header line {number}: indented line before any key")
        current = result[key]
        if body.startswith("- ") or body == "-":
            item = body[1:].strip()
            if not isinstance(current, list):
                raise QueryCatalogError(f"header line {number}: list item under scalar {key!r}")
            m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)", item)
            current.append({m.group(1): _scalar(m.group(2).strip())} if m else _scalar(item))
        elif isinstance(current, list) and not current:
            result[key] = body  # first line of a block scalar (description: |)
        elif isinstance(current, str):
            result[key] = (current + " " + body).strip()
        else:
            raise QueryCatalogError(f"header line {number}: cannot read {body!r} under {key!r}")
    return result


def _scalar(value: str) -> str:
    """A YAML plain or quoted scalar as a string."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return (
            inner.replace('\\"', '"').replace("\\\\", "\\")
            if value[0] == '"'
            else inner.replace("''", "'")
        )
    return value


def _pairs(header: dict[str, object], key: str) -> dict[str, str]:
    """A ``- name: value`` list decorator as a dict (names without leading underscores)."""
    value = header.get(key, [])
    if value in ("", []):
        return {}
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise QueryCatalogError(f"'{key}' must be a list of '- name: value' items")
    out: dict[str, str] = {}
    for item in value:
        for k, v in item.items():  # type: ignore[union-attr]
            out[k.lstrip("_")] = str(v)
    return out


def parameter_variables(sparql: str) -> list[str]:
    """The parameter variables (``_x``, ``__x``) a query uses, in order of first use."""
    from cptkg.engines.base import mask_comments_and_strings

    seen: list[str] = []
    for m in _PARAM_VAR.finditer(mask_comments_and_strings(sparql)):
        var = m.group(1) + m.group(2)
        if var not in seen:
            seen.append(var)
    return seen


def parse_query(path: Path, text: str | None = None) -> StoredQuery:
    """Parse one ``.rq`` file; raise QueryCatalogError if its header is missing or wrong."""
    name = path.stem
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    where = f"queries/{path.name}"
    try:
        header = parse_header(text)
    except QueryCatalogError as exc:
        raise QueryCatalogError(f"{where}: {exc.message}") from None
    summary = header.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise QueryCatalogError(
            f"{where}: no '#+ summary:' header",
            hint="start the file with '#+ summary: what the query answers'",
        )
    description = header.get("description", "")
    tags = header.get("tags", [])
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.strip("[]").split(",") if t.strip()]
    if not isinstance(description, str) or not all(isinstance(t, str) for t in tags):  # type: ignore[union-attr]
        raise QueryCatalogError(f"{where}: 'description' must be text and 'tags' a list of words")
    try:
        defaults = _pairs(header, "defaults")
        types = _pairs(header, "param_types")
        helps = _pairs(header, "param_help")
    except QueryCatalogError as exc:
        raise QueryCatalogError(f"{where}: {exc.message}") from None
    variables = parameter_variables(text)
    names = {v.lstrip("_"): v for v in variables}
    if len(names) != len(variables):
        raise QueryCatalogError(f"{where}: a parameter is used both as ?_x and ?__x")
    for key, decl in (("defaults", defaults), ("param_types", types), ("param_help", helps)):
        unknown = sorted(set(decl) - set(names))
        if unknown:
            raise QueryCatalogError(
                f"{where}: '{key}' names {', '.join(unknown)}, which the query does not use",
                hint="parameters are ?_name (required) or ?__name (optional) variables",
            )
    bad = {k: t for k, t in types.items() if t not in PARAM_TYPES}
    if bad:
        raise QueryCatalogError(
            f"{where}: unknown parameter type {', '.join(sorted(set(bad.values())))}",
            hint="types: " + ", ".join(PARAM_TYPES),
        )
    params = tuple(
        ParamSpec(
            name=n,
            variable=v,
            type=types.get(n, "string"),
            default=defaults.get(n),
            optional=v.startswith("__"),
            help=helps.get(n, ""),
        )
        for n, v in names.items()
    )
    extra = {k: v for k, v in header.items() if k not in KNOWN_KEYS}
    return StoredQuery(
        name=name,
        path=path,
        text=text,
        summary=summary.strip(),
        description=description.strip(),
        tags=tuple(tags),  # type: ignore[arg-type]
        params=params,
        extra=extra,
    )


def query_files(directory: Path | None = None) -> list[Path]:
    """The ``.rq`` files of the catalog, sorted by name."""
    if directory is None:
        from cptkg.paths import queries_dir

        directory = queries_dir()
    return sorted(directory.glob("*.rq")) if directory.is_dir() else []


def load_catalog(directory: Path | None = None) -> dict[str, StoredQuery]:
    """Every stored query, by name (sorted). Raises QueryCatalogError on a bad header."""
    return {p.stem: parse_query(p) for p in query_files(directory)}


def get_query(name: str, directory: Path | None = None) -> StoredQuery:
    """The stored query ``name`` (``.rq`` suffix allowed); UnknownQueryError lists the choices."""
    key = name[:-3] if name.endswith(".rq") else name
    files = {p.stem: p for p in query_files(directory)}
    if key not in files:
        close = difflib.get_close_matches(key, list(files), n=3)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise UnknownQueryError(
            f"unknown query {name!r}",
            hint=hint + "stored queries: " + ", ".join(files) + " (list them with 'cptkg queries')",
        )
    return parse_query(files[key])
