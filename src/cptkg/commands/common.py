"""What the commands share: argparse parent parsers for the common options, the one function
turning parsed options into :class:`~cptkg.engines.settings.GraphSettings`, the report
writers, and writing output (kept free of heavy imports: ``cptkg --help`` builds every parser).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cptkg.engines.settings import (
    DEFAULT_GRAPH_IRI,
    DEFAULT_TIMEOUT,
    EMBEDDED_ENGINES,
    ENV_ENDPOINT,
    ENV_ENGINE,
    ENV_GRAPH,
    ENV_PASSWORD,
    ENV_TIMEOUT,
    ENV_USER,
    GraphSettings,
    endpoint_from_env,
)
from cptkg.errors import InputError
from cptkg.formats import QUERY_OUTPUT_FORMATS, REPORT_FORMATS
from cptkg.fsutil import atomic_write
from cptkg.process_exit import keep
from cptkg.tables import MIN_TABLE_WIDTH

if TYPE_CHECKING:
    from rdflib import Graph

    from cptkg.engines.base import Engine, QueryOutcome


class Report(Protocol):
    """A validation report (:class:`cptkg.shacl.report.ValidationResult`,
    :class:`cptkg.intake.report.IntakeReport`)."""

    @property
    def conforms(self) -> bool: ...

    def to_text(self) -> str: ...

    def to_json(self) -> str: ...

    def to_turtle(self) -> str: ...


#: How each of :data:`cptkg.formats.REPORT_FORMATS` is written.
REPORT_WRITERS: dict[str, Callable[[Report], str]] = {
    "text": lambda r: r.to_text(),
    "turtle": lambda r: r.to_turtle(),
    "json": lambda r: r.to_json(),
}
assert tuple(REPORT_WRITERS) == REPORT_FORMATS


def report_text(report: Report, fmt: str) -> str:
    """``report`` in ``fmt``, one of :data:`cptkg.formats.REPORT_FORMATS`."""
    return REPORT_WRITERS[fmt](report)


def write_report(report: Report, fmt: str, output: str | None = None) -> None:
    """Write ``report`` in ``fmt`` to ``output`` or stdout."""
    write_output(report_text(report, fmt).encode("utf-8"), output)


def write_output(data: bytes, output: str | None) -> None:
    """Write ``data`` to ``output`` atomically, or to stdout when ``output`` is None or '-';
    never inside the installed package (InputError)."""
    from cptkg.paths import check_outside_package  # rdflib names: not for `cptkg --help`

    if output is None or output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    atomic_write(check_outside_package(output), data)


def description(doc: str | None) -> str | None:
    """A command's ``--help`` description: its module docstring without the leading command
    synopsis (usage shows it), as plain text (double backticks and roles such as
    ``:func:`x``` reduced to x)."""
    if not doc:
        return None
    text = re.sub(r"\A\s*``cptkg [^`]*``(?: or ``cptkg [^`]*``)*:\s*", "", doc)
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text).replace("``", "")
    return (text[:1].upper() + text[1:]).strip() or None


# --------------------------------------------------------------------------- parent parsers


def _parent() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


def add_workspace_option(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    """``--workspace DIR`` on ``parser``. Given both before and after the command, the later
    one wins: a command's parser leaves the value alone unless the option is given there."""
    parser.add_argument(
        "--workspace",
        metavar="DIR",
        default=None if top_level else argparse.SUPPRESS,
        help="the workspace with your own policies and queries (default: $CPTKG_HOME, else "
        "the current directory or one above it holding cptkg.toml; make one with "
        "`cptkg init DIR`)",
    )


def workspace_option(args: argparse.Namespace) -> str | None:
    """The ``--workspace`` given, if any."""
    return getattr(args, "workspace", None)


def paths_options(what: str) -> argparse.ArgumentParser:
    """``PATH ...``: RDF files or directories (default: the shipped graph)."""
    p = _parent()
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help=f"RDF files or directories to {what} (default: the shipped graph, "
        "ontology/cptkg.ttl + data/**/*.ttl)",
    )
    return p


def include_shapes_options(what: str) -> argparse.ArgumentParser:
    """``--include-shapes``."""
    p = _parent()
    p.add_argument(
        "--include-shapes",
        action="store_true",
        help=f"also {what} the SHACL shapes (shipped graph only)",
    )
    return p


def engine_options(*, data: bool) -> argparse.ArgumentParser:
    """``--engine rdflib|oxigraph`` and ``--store DIR``; with ``data``, ``--data PATH`` for
    commands without ``PATH`` arguments."""
    p = _parent()
    p.add_argument(
        "--engine",
        choices=EMBEDDED_ENGINES,
        default=os.environ.get(ENV_ENGINE, "rdflib"),
        help="embedded engine: rdflib (fine for the shipped graph) or oxigraph (for graphs "
        f"of millions of triples); default: ${ENV_ENGINE}, else rdflib",
    )
    p.add_argument(
        "--store",
        metavar="DIR",
        help="with --engine oxigraph: keep the store on disk in DIR (reused while the "
        "source files are unchanged; a store loaded from other files is refused)",
    )
    p.add_argument(
        "--rebuild-store",
        action="store_true",
        help="with --store: clear the store and load the given files when it was loaded "
        "from other files",
    )
    if data:
        p.add_argument(
            "--data",
            action="append",
            metavar="PATH",
            help="query these RDF files or directories (plus the ontology) instead of the "
            "shipped graph (repeatable)",
        )
    return p


def endpoint_options(
    *, graph_help: str | None = None, endpoint_help: str | None = None
) -> argparse.ArgumentParser:
    """``--endpoint URL``, ``--graph IRI`` and ``--timeout S``."""
    p = _parent()
    p.add_argument(
        "--endpoint",
        metavar="URL",
        default=None,
        help=(
            endpoint_help
            or "SPARQL 1.1 query endpoint to run against instead of the embedded graph"
        )
        + f" (default: ${ENV_ENDPOINT} if set; credentials: ${ENV_USER} / ${ENV_PASSWORD})",
    )
    p.add_argument(
        "--graph",
        metavar="IRI",
        default=None,
        help=graph_help
        or f"named graph queried as the default graph on the endpoint (default: ${ENV_GRAPH} "
        f"or {DEFAULT_GRAPH_IRI}, where 'cptkg push' writes; 'default' = the endpoint's own "
        "default graph)",
    )
    p.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=None,
        help=f"seconds per HTTP request (default: ${ENV_TIMEOUT} or {DEFAULT_TIMEOUT:g})",
    )
    return p


def graph_source_options() -> list[argparse.ArgumentParser]:
    """Where a query runs: an embedded engine or a SPARQL endpoint."""
    return [engine_options(data=True), endpoint_options()]


def format_options(
    choices: Sequence[str], default: str | None, help: str | None = None
) -> argparse.ArgumentParser:
    """``--format/-f`` with ``choices`` read from a format registry."""
    p = _parent()
    if help is None:
        help = "output format: " + ", ".join(choices)
        help += f" (default: {default})" if default else ""
    p.add_argument("--format", "-f", choices=list(choices), default=default, help=help)
    return p


def output_options(help: str = "write to FILE instead of stdout") -> argparse.ArgumentParser:
    """``-o/--output FILE``."""
    p = _parent()
    p.add_argument("-o", "--output", metavar="FILE", help=help)
    return p


def max_bytes_options(what: str) -> argparse.ArgumentParser:
    """``--max-bytes BYTES``."""
    p = _parent()
    p.add_argument(
        "--max-bytes",
        type=int,
        default=None,
        metavar="BYTES",
        help=f"refuse {what} larger than this before parsing (default 20 MB)",
    )
    return p


# --------------------------------------------------------------------------- settings


def graph_settings(
    args: argparse.Namespace,
    *,
    paths: Sequence[str] | None = None,
    ontology_with_paths: bool = True,
) -> GraphSettings:
    """The graph the parsed options ask for: the endpoint (``--endpoint`` or
    ``$CPTKG_ENDPOINT``, for commands with ``--endpoint``) with ``--graph`` / ``--timeout``,
    else ``--engine`` / ``--store`` over ``paths`` (default: ``PATH ...`` or ``--data``; none:
    the shipped graph). Given paths come with the shipped ontology when
    ``ontology_with_paths``; ``--include-shapes`` applies to the shipped graph."""
    if hasattr(args, "endpoint"):
        endpoint = args.endpoint or endpoint_from_env()
        if endpoint:
            return GraphSettings.remote(endpoint, graph=args.graph, timeout=args.timeout)
    if paths is None:
        paths = getattr(args, "paths", None) or getattr(args, "data", None) or ()
    with_context = ontology_with_paths or not paths
    store = getattr(args, "store", None)
    return GraphSettings(
        engine=getattr(args, "engine", "rdflib"),
        paths=tuple(Path(p) for p in paths),
        include_ontology=with_context,
        include_shapes=with_context and getattr(args, "include_shapes", False),
        store=Path(store) if store else None,
        rebuild_store=getattr(args, "rebuild_store", False),
    )


def open_graph_until_exit(settings: GraphSettings) -> Engine:
    """:func:`cptkg.engines.open_graph`, the engine held until the process ends when it
    lives in memory (:func:`cptkg.process_exit.keep`): the console command then never frees
    its store one object at a time (0.4–0.8 s for a million triples). An on-disk store is
    closed as usual when the command lets go of it."""
    from cptkg.engines import open_graph

    engine = open_graph(settings)
    if settings.store is None:
        keep(engine)
    return engine


def load_selected(args: argparse.Namespace) -> Graph:
    """The union of ``PATH ...`` as given (no ontology added), else of the shipped graph
    (with the shapes on ``--include-shapes``), for commands that hand a whole graph to a
    SPARQL store."""
    from cptkg.load import load_union  # rdflib: only when a command runs

    if args.paths:
        return load_union(args.paths, include_ontology=False)
    return load_union(include_shapes=args.include_shapes)


# --------------------------------------------------------------------------- query results


def param_options() -> argparse.ArgumentParser:
    """``--param KEY=VALUE`` (repeatable)."""
    p = _parent()
    p.add_argument(
        "--param",
        "-p",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help="bind a query parameter (repeatable); values are bound as RDF terms, never "
        "pasted into the query",
    )
    return p


def max_width_value(text: str) -> int:
    """A ``--max-width`` value: a whole number of characters, at least
    :data:`cptkg.tables.MIN_TABLE_WIDTH` (argparse reports the error with the option name)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < MIN_TABLE_WIDTH:
        raise argparse.ArgumentTypeError(
            f"{value} is too narrow for a table; give at least {MIN_TABLE_WIDTH} characters"
        )
    return value


def max_width_options() -> argparse.ArgumentParser:
    """``--max-width N`` for commands printing tables."""
    p = _parent()
    p.add_argument(
        "--max-width",
        type=max_width_value,
        default=None,
        metavar="N",
        help="table format: no line wider than N characters; long cells wrap within their "
        f"column, or each row becomes a block of lines (N >= {MIN_TABLE_WIDTH}; default: the "
        "terminal's width, $COLUMNS if set; cells stay whole when the output is not a "
        "terminal)",
    )
    return p


def table_width(max_width: int | None, output: str | None = None) -> int | None:
    """The widest line a table may have: ``max_width`` (``--max-width``) when given; else,
    when writing to standard output, ``$COLUMNS`` if it holds a number (at least
    :data:`~cptkg.tables.MIN_TABLE_WIDTH`), else the terminal's width if standard output is a
    terminal; otherwise None (cells whole)."""
    if max_width is not None:
        return max_width
    if output not in (None, "-"):
        return None
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_TABLE_WIDTH)
    if sys.stdout.isatty():
        return max(shutil.get_terminal_size().columns, MIN_TABLE_WIDTH)
    return None


def result_options() -> list[argparse.ArgumentParser]:
    """``--format``, ``--max-width`` and ``-o/--output`` for query results."""
    return [
        format_options(
            QUERY_OUTPUT_FORMATS,
            "table",
            "table (default, for people); csv, tsv, sparql-json: the W3C SPARQL 1.1 result "
            "formats; json: a list of objects; turtle/nt/json-ld for CONSTRUCT/DESCRIBE",
        ),
        max_width_options(),
        output_options(),
    ]


def write_result(outcome: QueryOutcome, args: argparse.Namespace) -> None:
    """Format ``outcome`` as ``--format`` and write it to ``--output`` or stdout."""
    from cptkg.results import format_result

    try:
        text = format_result(
            outcome, args.format, max_width=table_width(args.max_width, args.output)
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    write_output(text.encode("utf-8"), args.output)
