"""``--engine rdflib|oxigraph`` and ``--store DIR``: shared by the commands that read the
graph (kept free of heavy imports: pyoxigraph is imported only when it is chosen)."""

from __future__ import annotations

import os
from typing import Any


def add_engine_arguments(parser: Any) -> None:
    """Add ``--engine rdflib|oxigraph`` and ``--store DIR`` to a command's parser."""
    parser.add_argument(
        "--engine",
        choices=["rdflib", "oxigraph"],
        default=os.environ.get("CPTKG_ENGINE", "rdflib"),
        help="embedded engine: rdflib (default; fine for the shipped graph) or oxigraph "
        "(pyoxigraph, for graphs of millions of triples; validate then runs the shapes "
        "compiled to SPARQL)",
    )
    parser.add_argument(
        "--store",
        metavar="DIR",
        help="with --engine oxigraph: keep the store on disk in DIR (reused while the "
        "source files are unchanged)",
    )
    if not any(a.dest == "paths" for a in getattr(parser, "_actions", [])):
        parser.add_argument(
            "--data",
            action="append",
            metavar="PATH",
            help="with --engine oxigraph: query these RDF files or directories (plus the "
            "ontology) instead of the shipped graph (repeatable)",
        )


def wants_oxigraph(args: Any) -> bool:
    """Whether the parsed arguments ask for the Oxigraph engine."""
    return getattr(args, "engine", "rdflib") == "oxigraph" or bool(getattr(args, "store", None))
