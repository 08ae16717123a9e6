"""``cptkg validate [PATH ...] [--format text|turtle|json]``: SHACL validation.

Without PATH the shipped graph (ontology + data) is validated; with PATHs the given files
are merged and validated with the shipped ontology and shapes. When no PATH is part of the
shipped graph (new data, e.g. a new payer policy), they are validated in the context of the
graph instead, on every engine alike: what they reference must exist in the graph or in the
same files, and only their own problems are listed, grouped by policy (see cptkg.intake.validation;
--no-context validates them alone). Every ICD-10-CM and place-of-service code is also checked
against its release (see cptkg.codes.checks). With --endpoint the graph on a SPARQL 1.1
server is validated where it lives (the shapes compiled to SPARQL queries: Oxigraph's LATERAL
where the server has it, standard SPARQL 1.1 elsewhere), and PATHs are checked in its context.
Exit 0 conforms (warnings allowed), 1 at least one sh:Violation, 2 error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cptkg.commands.common import (
    Report,
    description,
    endpoint_options,
    engine_options,
    format_options,
    graph_settings,
    max_bytes_options,
    output_options,
    paths_options,
    write_report,
)
from cptkg.engines import open_graph
from cptkg.engines.settings import ENV_ENDPOINT, endpoint_from_env
from cptkg.errors import EXIT_NONCONFORMING, EXIT_OK, InputError
from cptkg.formats import REPORT_FORMATS


def register(subparsers: Any) -> None:
    """Add the ``validate`` subparser."""
    p = subparsers.add_parser(
        "validate",
        help="check the graph (or given files) against the SHACL shapes",
        description=description(__doc__),
        parents=[
            paths_options("validate"),
            format_options(REPORT_FORMATS, "text", "report format (default: text)"),
            output_options("write the report to FILE"),
            max_bytes_options("new-data files"),
            engine_options(data=False),
            endpoint_options(),
        ],
    )
    p.add_argument(
        "--shapes",
        action="append",
        metavar="FILE",
        help="use these shapes files instead of ontology/shapes/*.ttl (repeatable)",
    )
    p.add_argument(
        "--no-context",
        action="store_true",
        help="validate files outside the shipped graph on their own, not in the graph's context",
    )
    p.set_defaults(func=run)


def _note(text: str) -> None:
    print(f"cptkg: note: {text}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Validate and print the report; return 0 / 1 by conformance."""
    from cptkg.codes.checks import add_to_validation, check_engine
    from cptkg.intake.reading import DEFAULT_MAX_BYTES
    from cptkg.intake.validation import is_shipped, validate_files
    from cptkg.load import load_dataset, load_ontology, load_shapes, union_graph

    shapes = (
        union_graph(load_dataset(args.shapes, include_ontology=False))
        if args.shapes
        else load_shapes()
    )
    ontology = load_ontology()
    if args.paths and (args.endpoint or endpoint_from_env()):
        if args.no_context or any(is_shipped(p) for p in args.paths):
            raise InputError(
                "with an endpoint, PATHs are new data checked in the context of the graph "
                "on the server; they cannot be shipped files or validated --no-context",
                hint=f"drop --endpoint (and unset {ENV_ENDPOINT}) to validate files embedded",
            )
    if args.paths and not args.no_context and not any(is_shipped(p) for p in args.paths):
        # only new data: check it and what it references in the context of the graph
        # (paths mixing shipped files with new ones get the merged validation below)
        graph = open_graph(graph_settings(args, paths=()))
        report: Report = validate_files(
            args.paths,
            context=graph.context(),
            shapes=shapes,
            ontology=ontology,
            max_bytes=args.max_bytes if args.max_bytes is not None else DEFAULT_MAX_BYTES,
        )
    else:
        graph = open_graph(graph_settings(args))
        # the codes against their releases, read through the engine's query interface
        result = graph.validate(shapes, ontology, on_note=_note)
        report = add_to_validation(result, check_engine(graph))
    write_report(report, args.format, args.output)
    return EXIT_OK if report.conforms else EXIT_NONCONFORMING
