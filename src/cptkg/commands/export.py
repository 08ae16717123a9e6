"""``cptkg export [PATH ...] [--format ttl|nt|jsonld|trig|nq] [-o FILE]``: serialise the graph.

Output is deterministic (identical bytes on every run). TriG and N-Quads keep one named
graph per source file; the other formats export the union of the graphs.
"""

from __future__ import annotations

import argparse
from typing import Any

from cptkg.commands._common import add_paths_argument, write_output
from cptkg.errors import EXIT_OK

FORMAT_HELP = "ttl|turtle, nt|ntriples, jsonld|json-ld, trig, nq|nquads (default: ttl)"


def register(subparsers: Any) -> None:
    """Add the ``export`` subparser."""
    p = subparsers.add_parser(
        "export",
        help="write the graph as Turtle, N-Triples, JSON-LD or TriG",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    add_paths_argument(p, "export")
    p.add_argument("--format", "-f", default="ttl", metavar="FORMAT", help=FORMAT_HELP)
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE atomically (default: standard output)"
    )
    p.add_argument(
        "--include-shapes",
        action="store_true",
        help="also export the SHACL shapes (shipped graph only)",
    )
    from cptkg.commands._engine_opts import add_engine_arguments

    add_engine_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export and write; return 0."""
    from cptkg.export import export, normalize_format
    from cptkg.load import load_dataset

    fmt = normalize_format(args.format)  # fail on a bad format before loading anything
    if getattr(args, "engine", "rdflib") == "oxigraph":  # issue 6: pyoxigraph's serializers
        import sys

        from cptkg.engines.oxigraph_engine import OxigraphEngine

        engine = OxigraphEngine.from_paths(
            args.paths or None,
            include_ontology=not args.paths,
            include_shapes=args.include_shapes and not args.paths,
            store_dir=args.store,
        )
        if args.output is None or args.output == "-":
            engine.export(fmt, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            from pathlib import Path

            out = Path(args.output)
            tmp = out.with_name(f".{out.name}.tmp")
            engine.export(fmt, tmp)
            tmp.replace(out)
        return EXIT_OK
    if args.paths:
        ds = load_dataset(args.paths, include_ontology=False)
    else:
        ds = load_dataset(include_shapes=args.include_shapes)
    write_output(export(ds, fmt), args.output)
    return EXIT_OK
