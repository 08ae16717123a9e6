"""``cptkg validate [PATH ...] [--format text|turtle|json]``: SHACL validation.

Without PATH the shipped graph (ontology + data) is validated; with PATHs the given files
are merged and validated with the shipped ontology and shapes. When no PATH is part of the
shipped graph (new data, e.g. a new payer policy), they are validated in the context of the
graph instead: what they reference must exist in the graph or in the same files, and only
their own problems are listed, grouped by policy (see cptkg.intake.core; --no-context validates
them alone). Exit 0 conforms (warnings allowed), 1 at least one sh:Violation, 2 error.
"""

from __future__ import annotations

import argparse
from typing import Any

from cptkg.commands._common import add_paths_argument, write_output
from cptkg.errors import EXIT_NONCONFORMING, EXIT_OK


def register(subparsers: Any) -> None:
    """Add the ``validate`` subparser."""
    p = subparsers.add_parser(
        "validate",
        help="check the graph (or given files) against the SHACL shapes",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    add_paths_argument(p, "validate")
    p.add_argument(
        "--format",
        "-f",
        choices=["text", "turtle", "json"],
        default="text",
        help="report format (default: text)",
    )
    p.add_argument(
        "--shapes",
        action="append",
        metavar="FILE",
        help="use these shapes files instead of ontology/shapes/*.ttl (repeatable)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    # in-context validation of new data (cptkg.intake.core)
    p.add_argument(
        "--no-context",
        action="store_true",
        help="validate files outside the shipped graph on their own, not in the graph's context",
    )
    p.add_argument(
        "--max-bytes",
        type=int,
        default=None,
        metavar="BYTES",
        help="refuse new-data files larger than this before parsing (default 20 MB)",
    )
    from cptkg.commands._engine_opts import add_engine_arguments

    add_engine_arguments(p)  # issue 6: --engine oxigraph validates with compiled shapes
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate and print the report; return 0 / 1 by conformance."""
    from cptkg.load import load_dataset, load_ontology, load_shapes, union_graph
    from cptkg.shacl.pyshacl_runner import validate, validate_paths

    shapes = (
        union_graph(load_dataset(args.shapes, include_ontology=False))
        if args.shapes
        else load_shapes()
    )
    ontology = load_ontology()
    if getattr(args, "engine", "rdflib") == "oxigraph":
        return _run_oxigraph(args, shapes, ontology)
    if args.paths and not args.no_context:
        from cptkg.intake.core import DEFAULT_MAX_BYTES, is_shipped, validate_files

        if not any(is_shipped(p) for p in args.paths):
            # only new data: check it and what it references in the context of the graph
            # (paths mixing shipped files with new ones keep the merged validation below)
            report = validate_files(
                args.paths,
                shapes=shapes,
                ontology=ontology,
                max_bytes=args.max_bytes if args.max_bytes is not None else DEFAULT_MAX_BYTES,
            )
            return _write_report(report, args)
    if args.paths:
        result = validate_paths(args.paths, context=None, shapes=shapes, ontology=ontology)
    else:
        from cptkg.codes.checks import add_to_validation, check_graph

        data = union_graph(load_dataset())
        result = validate(data, shapes=shapes, ontology=ontology)
        result = add_to_validation(result, check_graph(data))  # codes vs. their releases
    return _write_report(result, args)


def _run_oxigraph(args: argparse.Namespace, shapes: Any, ontology: Any) -> int:
    """``--engine oxigraph``: load PATHs (default: the shipped graph) with the ontology into
    Oxigraph and run the shapes compiled to SPARQL (:mod:`cptkg.shacl.compiler`). PATHs are
    validated as given: pass ``data/`` too to validate new files in the graph's context."""
    import sys

    from cptkg.engines.oxigraph_engine import OxigraphEngine
    from cptkg.shacl.sparql_runner import validate_engine

    engine = OxigraphEngine.from_paths(args.paths or None, store_dir=args.store)
    compiled = validate_engine(engine, shapes, ontology)
    for note in compiled.notes:
        print(f"cptkg: note: {note}", file=sys.stderr)
    return _write_report(compiled.result, args)


def _write_report(report: Any, args: argparse.Namespace) -> int:
    """Write ``report`` (a ValidationResult or an IntakeReport) in ``--format`` to
    ``--output`` or stdout; return 0 when it conforms (warnings allowed), else 1."""
    write_output(report.render(args.format).encode("utf-8"), args.output)
    return EXIT_OK if report.conforms else EXIT_NONCONFORMING
