"""The output formats, one registry per kind of output, read both by the command line (its
``--format`` choices and help) and by the writers. Kept free of heavy imports: the command line
reads these whenever it builds its parsers.
"""

from __future__ import annotations

import re

from cptkg.errors import InputError

#: Formats of SELECT / ASK results (:func:`cptkg.results.format_result`).
RESULT_FORMATS = ("table", "csv", "tsv", "json", "sparql-json")
#: Formats of CONSTRUCT / DESCRIBE results ("table" writes them as Turtle).
GRAPH_RESULT_FORMATS = ("turtle", "nt", "json-ld")
#: Every format a query result can be written in.
QUERY_OUTPUT_FORMATS = RESULT_FORMATS + GRAPH_RESULT_FORMATS

#: Export format names (any case) -> canonical format (:func:`cptkg.export.export`).
EXPORT_FORMATS: dict[str, str] = {
    "ttl": "turtle",
    "turtle": "turtle",
    "nt": "nt",
    "ntriples": "nt",
    "n-triples": "nt",
    "jsonld": "json-ld",
    "json-ld": "json-ld",
    "trig": "trig",
    "nq": "nquads",
    "nquads": "nquads",
    "n-quads": "nquads",
}

#: Validation report formats (``text``, ``turtle``, ``json``: the ``to_text`` / ``to_turtle``
#: / ``to_json`` of :class:`cptkg.shacl.report.ValidationResult` and
#: :class:`cptkg.intake.report.IntakeReport`).
REPORT_FORMATS = ("text", "turtle", "json")

#: Code overview report formats (:func:`cptkg.report.render`).
OVERVIEW_FORMATS = ("md", "html")

#: Formats of new-data intake reports (``cptkg add``, ``cptkg import-csv``).
INTAKE_REPORT_FORMATS = ("text", "json")

#: Formats of ``cptkg stats`` (:class:`cptkg.stats.Stats` ``to_text`` / ``to_json``).
STATS_FORMATS = ("text", "json")

#: Formats of ``cptkg queries``, the stored-query catalogue.
CATALOG_FORMATS = ("table", "json")

#: Body formats of ``cptkg push``'s Graph Store PUT -> media type (:mod:`cptkg.push`).
PUSH_BODY_FORMATS: dict[str, str] = {"nt": "application/n-triples", "ttl": "text/turtle"}


#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def csv_cell(text: str) -> str:
    """A cell of cptkg's CSV output: a text that starts like a spreadsheet formula
    (:data:`FORMULA_START`) gets a leading single quote, so a spreadsheet shows it as text and
    never runs it (``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``); numbers (``-5``) are kept."""
    if text.startswith(FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def normalize_format(fmt: str) -> str:
    """The canonical format name for ``fmt`` (case-insensitive), or raise InputError."""
    canonical = EXPORT_FORMATS.get(fmt.strip().lower())
    if canonical is None:
        raise InputError(
            f"unknown export format {fmt!r}",
            hint="valid formats: " + ", ".join(EXPORT_FORMATS),
        )
    return canonical
