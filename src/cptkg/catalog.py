"""The stored query catalog: ``queries/*.rq`` of the reference graph and of the workspace, one
query per file, with a grlc-style header.

A stored query is plain SPARQL 1.1. Its metadata lives in ``#+`` comment lines at the top
(the grlc / CLARIAH convention, read as YAML), so any SPARQL tool can still run it::

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

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from cptkg import diskcache
from cptkg.engines.base import mask_comments_and_strings
from cptkg.errors import CptkgError, InputError
from cptkg.paths import queries_dir, workspace_queries_dir

#: Parameter types a header may declare in ``param_types``.
PARAM_TYPES: dict[str, str] = {
    "string": "any text, bound as a plain literal",
    "search": "text to look for, not empty or blank, bound as a plain literal",
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

    def param(self, name: str) -> ParamSpec | None:
        """The parameter called ``name`` (leading underscores ignored), or None."""
        key = name.lstrip("_")
        return next((p for p in self.params if p.name == key), None)


@dataclass(frozen=True)
class Header:
    """The ``#+`` decorators at the top of a query, and the file line each key is on."""

    values: dict[str, object]
    lines: dict[str, int]

    def at(self, key: str) -> str:
        """``, line N`` for the file line of ``key`` (empty when the header has no ``key``)."""
        return f", line {self.lines[key]}" if key in self.lines else ""


@functools.cache
def _header_loader() -> type:
    """YAML with every scalar read as text (grlc's values are used as text) and no key twice
    (PyYAML is imported here: a header read from the cache does not need it)."""
    import yaml

    class HeaderLoader(yaml.BaseLoader):
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
            seen: set[object] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                problem = (
                    "a key must be a word"
                    if not isinstance(key, str)
                    else f"{key!r} given twice"
                    if key in seen
                    else None
                )
                if problem:
                    raise yaml.constructor.ConstructorError(
                        None, None, problem, key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return HeaderLoader


def read_header(text: str) -> Header:
    """The ``#+`` lines at the top of ``text`` read as YAML (as grlc reads them).

    The header ends at the first line that is neither a ``#+`` line, another comment nor
    blank. Values are strings, lists and mappings of strings. Raises QueryCatalogError,
    naming the file line, on a header that is not YAML or not a mapping of keys. A header
    read before is taken from the cache (:mod:`cptkg.diskcache`), keyed by its lines, their
    numbers, PyYAML's version and cptkg's code.
    """
    lines: list[str] = []
    numbers: list[int] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#+"):
            lines.append(stripped[2:].rstrip())
            numbers.append(number)
        elif stripped and not stripped.startswith("#"):
            break
    if not lines:
        return Header({}, {})
    path = diskcache.entry_path("headers", _header_key(lines, numbers), ".json")
    kept = _kept_header(diskcache.read_entry(path))
    if kept is not None:
        return kept
    header = _read_yaml(lines, numbers)
    data = {"values": header.values, "lines": header.lines}
    if diskcache.write_entry(path, json.dumps(data, ensure_ascii=False).encode("utf-8")):
        diskcache.prune(path.parent, HEADERS_KEPT)
    return header


#: Query headers kept in the cache (the most recently written).
HEADERS_KEPT = 2000


def _header_key(lines: list[str], numbers: list[int]) -> str:
    versions = diskcache.distribution_versions(["PyYAML"])
    parts = ["header", diskcache.code_digest(), versions["PyYAML"], json.dumps(numbers), *lines]
    return diskcache.digest(parts)


def _kept_header(data: bytes | None) -> Header | None:
    """The header of a cache entry; None when there is none or it is not one."""
    entry = diskcache.json_object(data)
    if entry is None:
        return None
    values, lines = entry.get("values"), entry.get("lines")
    if not isinstance(values, dict) or not isinstance(lines, dict):
        return None
    if not all(isinstance(v, int) for v in lines.values()):
        return None
    return Header(values, lines)


def _read_yaml(lines: list[str], numbers: list[int]) -> Header:
    """The header ``lines`` (found on file lines ``numbers``) read with PyYAML."""
    import yaml

    def file_line(mark: yaml.Mark | None) -> int:
        return numbers[min(mark.line, len(numbers) - 1)] if mark else numbers[0]

    loader = _header_loader()("\n".join(lines))
    try:
        node = loader.get_single_node()
        values = loader.construct_document(node) if node is not None else {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        context = f" ({exc.context})" if exc.context else ""
        raise QueryCatalogError(
            f"line {file_line(mark)}: the '#+' header is not valid YAML: {exc.problem}{context}"
        ) from None
    finally:
        loader.dispose()
    if values in ("", None):
        return Header({}, {})
    if not isinstance(values, dict):
        raise QueryCatalogError(
            f"line {numbers[0]}: expected '#+ key: value' lines, got {lines[0].strip()!r}"
        )
    assert isinstance(node, yaml.MappingNode)
    key_lines = {str(k.value): file_line(k.start_mark) for k, _ in node.value}
    return Header(values, key_lines)


def parse_header(text: str) -> dict[str, object]:
    """The ``#+`` decorators at the top of a query as a dict (see :func:`read_header`)."""
    return read_header(text).values


def _text(value: object) -> str | None:
    """A header value as one line of text (whitespace folded), or None if it is not text."""
    return " ".join(value.split()) if isinstance(value, str) else None


def _pairs(value: object) -> dict[str, str] | None:
    """A ``- name: value`` list decorator as a dict (names without leading underscores).

    None when ``value`` is not such a list.
    """
    if value in ("", []):
        return {}
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and all(isinstance(v, str) for v in item.values()) for item in value
    ):
        return None
    return {str(k).lstrip("_"): v for item in value for k, v in item.items()}


def parameter_variables(sparql: str) -> list[str]:
    """The parameter variables (``_x``, ``__x``) a query uses, in order of first use."""
    seen: list[str] = []
    for m in _PARAM_VAR.finditer(mask_comments_and_strings(sparql)):
        var = m.group(1) + m.group(2)
        if var not in seen:
            seen.append(var)
    return seen


def parse_query(path: Path, text: str | None = None) -> StoredQuery:
    """Parse one ``.rq`` file; raise QueryCatalogError if its header is missing or wrong.

    Errors name the file and, where the header has it, the line.
    """
    name = path.stem
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    where = f"queries/{path.name}"
    try:
        header = read_header(text)
    except QueryCatalogError as exc:
        raise QueryCatalogError(f"{where}, {exc.message}") from None
    summary = _text(header.values.get("summary"))
    if not summary:
        raise QueryCatalogError(
            f"{where}{header.at('summary')}: no '#+ summary:' header",
            hint="start the file with '#+ summary: what the query answers'",
        )
    description = _text(header.values.get("description", ""))
    if description is None:
        raise QueryCatalogError(f"{where}{header.at('description')}: 'description' must be text")
    tags = header.values.get("tags", [])
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise QueryCatalogError(f"{where}{header.at('tags')}: 'tags' must be a list of words")
    declared: dict[str, dict[str, str]] = {}
    for key in ("defaults", "param_types", "param_help"):
        pairs = _pairs(header.values.get(key, []))
        if pairs is None:
            raise QueryCatalogError(
                f"{where}{header.at(key)}: '{key}' must be a list of '- name: value' items"
            )
        declared[key] = pairs
    variables = parameter_variables(text)
    names = {v.lstrip("_"): v for v in variables}
    if len(names) != len(variables):
        raise QueryCatalogError(f"{where}: a parameter is used both as ?_x and ?__x")
    for key, decl in declared.items():
        unknown = sorted(set(decl) - set(names))
        if unknown:
            raise QueryCatalogError(
                f"{where}{header.at(key)}: '{key}' names {', '.join(unknown)}, "
                "which the query does not use",
                hint="parameters are ?_name (required) or ?__name (optional) variables",
            )
    defaults, types, helps = declared["defaults"], declared["param_types"], declared["param_help"]
    bad = {k: t for k, t in types.items() if t not in PARAM_TYPES}
    if bad:
        raise QueryCatalogError(
            f"{where}{header.at('param_types')}: unknown parameter type "
            + ", ".join(sorted(set(bad.values()))),
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
    extra = {k: v for k, v in header.values.items() if k not in KNOWN_KEYS}
    return StoredQuery(
        name=name,
        path=path,
        text=text,
        summary=summary,
        description=description,
        tags=tuple(tags),
        params=params,
        extra=extra,
    )


def query_files(directory: Path | None = None) -> list[Path]:
    """The ``.rq`` files of the catalog, sorted by name: those of ``directory``, or (None) the
    reference queries and the workspace's own ``queries/*.rq``. QueryCatalogError when a
    workspace query has the name of a reference query."""
    if directory is not None:
        return sorted(directory.glob("*.rq")) if directory.is_dir() else []
    files = query_files(queries_dir())
    own = workspace_queries_dir()
    if own is None or not own.is_dir():
        return files
    taken = {p.stem: p for p in files}
    for p in query_files(own):
        if p.stem in taken:
            raise QueryCatalogError(
                f"{p}: a workspace query may not have the name of a shipped query ({p.stem})",
                hint=f"rename {p.name} in {own}",
            )
        files.append(p)
    return sorted(files, key=lambda p: p.stem)


def load_catalog(directory: Path | None = None) -> dict[str, StoredQuery]:
    """Every stored query, by name (sorted). Raises QueryCatalogError on a bad header."""
    return {p.stem: parse_query(p) for p in query_files(directory)}


def get_close_matches(word: str, possibilities: list[str], n: int) -> list[str]:
    """:func:`difflib.get_close_matches` (difflib imported only for a misspelt name)."""
    import difflib

    return difflib.get_close_matches(word, possibilities, n=n)


def get_query(name: str, directory: Path | None = None) -> StoredQuery:
    """The stored query ``name`` (``.rq`` suffix allowed); UnknownQueryError lists the choices."""
    key = name[:-3] if name.endswith(".rq") else name
    files = {p.stem: p for p in query_files(directory)}
    if key not in files:
        close = get_close_matches(key, list(files), n=3)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise UnknownQueryError(
            f"unknown query {name!r}",
            hint=hint + "stored queries: " + ", ".join(files) + " (list them with 'cptkg queries')",
        )
    return parse_query(files[key])


def catalog_tags(catalog: dict[str, StoredQuery]) -> dict[str, list[str]]:
    """Every tag of ``catalog`` (sorted) with the names of the queries carrying it."""
    tags: dict[str, list[str]] = {}
    for query in catalog.values():
        for tag in query.tags:
            tags.setdefault(tag, []).append(query.name)
    return dict(sorted(tags.items()))


def queries_tagged(catalog: dict[str, StoredQuery], tag: str) -> list[StoredQuery]:
    """The queries of ``catalog`` tagged ``tag``; InputError naming the known tags if no
    query has it."""
    tags = catalog_tags(catalog)
    if tag not in tags:
        close = get_close_matches(tag, list(tags), n=3)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise InputError(
            f"unknown tag {tag!r}",
            hint=hint + "tags: " + ", ".join(tags) + " (list them with 'cptkg queries --tag')",
        )
    return [q for q in catalog.values() if tag in q.tags]
