"""``cptkg validate [PATH ...] [--format text|turtle|json]``: SHACL validation.

Without PATH the shipped graph (ontology + data) is validated; with PATHs the given files
are merged and validated with the shipped ontology and shapes. Exit 0 conforms (warnings
allowed), 1 at least one sh:Violation, 2 error.
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate and print the report; return 0 / 1 by conformance."""
    from cptkg.load import load_dataset, load_ontology, load_shapes, union_graph
    from cptkg.validate import validate, validate_paths

    shapes = (
        union_graph(load_dataset(args.shapes, include_ontology=False))
        if args.shapes
        else load_shapes()
    )
    ontology = load_ontology()
    if args.paths:
        result = validate_paths(args.paths, context=None, shapes=shapes, ontology=ontology)
    else:
        data = union_graph(load_dataset())
        result = validate(data, shapes=shapes, ontology=ontology)
    if args.format == "json":
        text = result.to_json()
    elif args.format == "turtle":
        text = result.to_turtle()
    else:
        text = result.to_text()
    write_output(text.encode("utf-8"), args.output)
    return EXIT_OK if result.conforms else EXIT_NONCONFORMING
