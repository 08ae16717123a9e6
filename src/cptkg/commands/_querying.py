"""Helpers shared by the query commands (``queries``, ``query``, ``sparql``, ``report``)."""

from __future__ import annotations

import argparse
from typing import Any

from cptkg.commands._endpoint_opts import add_endpoint_arguments
from cptkg.commands._engine_opts import add_engine_arguments

FORMAT_CHOICES = ["table", "csv", "tsv", "json", "sparql-json", "turtle", "nt", "json-ld"]


def add_param_argument(parser: Any) -> None:
    """``--param KEY=VALUE`` (repeatable)."""
    parser.add_argument(
        "--param",
        "-p",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help="bind a query parameter (repeatable); values are bound as RDF terms, never "
        "pasted into the query",
    )


def add_result_arguments(parser: Any) -> None:
    """``--format``, ``--max-width`` and ``-o/--output`` for query results."""
    parser.add_argument(
        "--format",
        "-f",
        choices=FORMAT_CHOICES,
        default="table",
        help="table (default, for people); csv, tsv, sparql-json: the W3C SPARQL 1.1 result "
        "formats; json: a list of objects; turtle/nt/json-ld for CONSTRUCT/DESCRIBE",
    )
    parser.add_argument(
        "--max-width",
        type=int,
        default=60,
        metavar="N",
        help="table format: cut cells longer than N characters (0: no limit; default 60)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def add_graph_source_arguments(parser: Any) -> None:
    """Where the query runs: ``--engine`` / ``--store`` (embedded rdflib or Oxigraph) and
    ``--endpoint`` / ``--graph`` / ``--timeout`` (a remote SPARQL endpoint, issue 5)."""
    add_engine_arguments(parser)
    add_endpoint_arguments(parser)


def write_result(outcome: object, args: argparse.Namespace) -> None:
    """Format ``outcome`` as ``args.format`` and write it to ``args.output`` or stdout."""
    from cptkg.commands._common import write_output
    from cptkg.errors import InputError
    from cptkg.results import format_result

    try:
        text = format_result(outcome, args.format, max_width=args.max_width or None)  # type: ignore[arg-type]
    except ValueError as exc:
        raise InputError(str(exc)) from None
    write_output(text.encode("utf-8"), args.output)
