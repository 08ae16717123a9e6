"""``cptkg export [PATH ...] [--format ttl|nt|jsonld|trig|nq] [-o FILE]``: serialise the graph.

Output is deterministic (identical bytes on every run). TriG and N-Quads keep one named
graph per source file; the other formats export the union of the graphs.
"""

from __future__ import annotations

import argparse
from typing import Any

from cptkg.commands.common import (
    description,
    engine_options,
    graph_settings,
    include_shapes_options,
    open_graph_until_exit,
    output_options,
    paths_options,
    write_output,
)
from cptkg.errors import EXIT_OK
from cptkg.formats import EXPORT_FORMATS, normalize_format


def register(subparsers: Any) -> None:
    """Add the ``export`` subparser."""
    p = subparsers.add_parser(
        "export",
        help="write the graph as Turtle, N-Triples, JSON-LD or TriG",
        description=description(__doc__),
        parents=[
            paths_options("export"),
            output_options("write to FILE atomically (default: standard output)"),
            include_shapes_options("export"),
            engine_options(data=False),
        ],
    )
    p.add_argument(
        "--format",
        "-f",
        default="ttl",
        metavar="FORMAT",
        help=", ".join(EXPORT_FORMATS) + " (default: ttl; case-insensitive)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export and write; return 0."""
    fmt = normalize_format(args.format)  # fail on a bad format before loading anything
    graph = open_graph_until_exit(graph_settings(args, ontology_with_paths=False))
    write_output(graph.export(fmt), args.output)
    return EXIT_OK
