"""``cptkg validate [PATH ...] [--format text|turtle|json]``: SHACL validation.

Without PATH the shipped graph (ontology + data) is validated; with PATHs the given files
are merged and validated with the shipped ontology and shapes. When no PATH is part of the
shipped graph (new data, e.g. a new payer policy), they are validated in the context of the
graph instead, on every engine alike: what they reference must exist in the graph or in the
same files, and only their own problems are listed, grouped by policy (--no-context
validates them alone). With --engine oxigraph the shapes run compiled to SPARQL. With
--endpoint the graph on a SPARQL 1.1 server is validated where it lives (the shapes compiled
to SPARQL queries: Oxigraph's LATERAL where the server has it, standard SPARQL 1.1
elsewhere), and PATHs are checked in its context. Every ICD-10-CM and place-of-service code is
also checked against its release, and every supporting quote against its source document when
the document is found (a warning when not); --shacl-only leaves those checks out, so that the
report holds exactly what a SHACL processor reports for the shapes. Exit 0 conforms (warnings
allowed), 1 at least one sh:Violation, 2 error.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from cptkg.commands.common import (
    Report,
    description,
    endpoint_options,
    engine_options,
    format_options,
    graph_settings,
    max_bytes_options,
    open_graph_until_exit,
    output_options,
    paths_options,
    report_text,
    write_output,
    write_report,
)
from cptkg.engines.settings import ENV_ENDPOINT, endpoint_from_env
from cptkg.errors import EXIT_NONCONFORMING, EXIT_OK, InputError
from cptkg.formats import REPORT_FORMATS
from cptkg.process_exit import keep

if TYPE_CHECKING:
    from rdflib import Graph

#: The libraries a validation report depends on (their versions are part of its cache key).
CACHE_DISTRIBUTIONS = ("rdflib", "pyshacl", "owlrl", "pyparsing", "simple-icd-10-cm")


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
        "--shacl-only",
        action="store_true",
        help="the SHACL shapes only: no check of the codes against their releases or of the "
        "quotes against their sources (the report is then comparable with any SHACL processor's)",
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
    if args.paths:
        from cptkg.intake.validation import is_shipped

        shipped = any(is_shipped(p) for p in args.paths)
        if (args.endpoint or endpoint_from_env()) and (args.no_context or shipped):
            raise InputError(
                "with an endpoint, PATHs are new data checked in the context of the graph "
                "on the server; they cannot be shipped files or validated --no-context",
                hint=f"drop --endpoint (and unset {ENV_ENDPOINT}) to validate files embedded",
            )
        if not args.no_context and not shipped:
            # only new data: check it and what it references in the context of the graph
            # (paths mixing shipped files with new ones get the merged validation below)
            if args.shacl_only:
                raise InputError(
                    "--shacl-only applies to a graph validated whole; new data is checked in "
                    "the context of the graph with the intake checks",
                    hint="add --no-context to validate these files alone against the shapes",
                )
            return _in_context(args)
    return _merged(args)


def _shapes_and_ontology(args: argparse.Namespace) -> tuple[Graph, Graph]:
    from cptkg.load import load_dataset, load_ontology, load_shapes, union_graph

    shapes = (
        union_graph(load_dataset(args.shapes, include_ontology=False))
        if args.shapes
        else load_shapes()
    )
    return shapes, load_ontology()


def _in_context(args: argparse.Namespace) -> int:
    """New data validated in the context of the graph."""
    from cptkg.intake.reading import DEFAULT_MAX_BYTES
    from cptkg.intake.validation import validate_files

    shapes, ontology = _shapes_and_ontology(args)
    graph = open_graph_until_exit(graph_settings(args, paths=()))
    report: Report = validate_files(
        args.paths,
        context=graph.context(),
        shapes=shapes,
        ontology=ontology,
        max_bytes=args.max_bytes if args.max_bytes is not None else DEFAULT_MAX_BYTES,
    )
    write_report(report, args.format, args.output)
    return EXIT_OK if report.conforms else EXIT_NONCONFORMING


def _merged(args: argparse.Namespace) -> int:
    """The graph (or the given files merged, with the shipped ontology) validated whole; on
    the default engine the report is cached under the hashes of everything it is made from,
    the source documents the quotes are checked against included (see :mod:`cptkg.cache`)."""
    from cptkg import cache
    from cptkg.paths import data_dir, ontology_file, shapes_files, source_documents

    settings = graph_settings(args)
    if args.shapes:
        from cptkg.load import expand_paths

        shape_files = expand_paths(args.shapes)
    else:
        shape_files = shapes_files()
    codes = sorted(p for p in (data_dir() / "code-systems").glob("*") if p.is_file())
    key = cache.graph_key(
        "validate",
        settings,
        [
            args.format,
            *(f"shapes={s}" for s in args.shapes or ()),
            *(["shacl-only"] if args.shacl_only else []),
        ],
        [ontology_file(), *shape_files, *codes, *source_documents()],
        CACHE_DISTRIBUTIONS,
    )

    def compute() -> tuple[bool, str, list[str]]:
        from cptkg.gc_tuning import fewer_collections

        # the findings and the report of a large graph are millions of long-lived objects
        with fewer_collections():
            shapes, ontology = _shapes_and_ontology(args)
            graph = open_graph_until_exit(settings)
            if args.shacl_only:
                result = graph.validate(shapes, ontology, on_note=_note)
                keep(result)  # its findings are not freed one by one either
                return result.conforms, report_text(result, args.format), []
            from cptkg.codes.checks import add_to_validation, check_engine_during
            from cptkg.intake.quotes import check_result, quote_graph

            # the codes against their releases, read through the engine's query interface
            # (alongside the validation on an engine that runs queries in parallel)
            result, problems = check_engine_during(
                graph, lambda: graph.validate(shapes, ontology, on_note=_note)
            )
            # quotes in their sources; the warnings are kept with a cached report and repeated
            result, unchecked = check_result(result, quote_graph(graph))
            report = add_to_validation(result, problems)
            keep(result, report)
            return report.conforms, report_text(report, args.format), unchecked

    conforms, text, warnings = cache.cached(
        key,
        compute,
        lambda value: {"conforms": value[0], "text": value[1], "warnings": value[2]},
        lambda data: (
            bool(data["conforms"]),  # type: ignore[index]
            str(data["text"]),  # type: ignore[index]
            [str(w) for w in data["warnings"]],  # type: ignore[index]
        ),
    )
    for warning in warnings:
        print(f"cptkg: warning: {warning}", file=sys.stderr)
    write_output(text.encode("utf-8"), args.output)
    return EXIT_OK if conforms else EXIT_NONCONFORMING
