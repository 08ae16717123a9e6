"""Helpers shared by command modules (kept free of heavy imports)."""

from __future__ import annotations

import sys
from pathlib import Path


def write_output(data: bytes, output: str | None) -> None:
    """Write ``data`` to ``output`` atomically, or to stdout when ``output`` is None or '-'."""
    if output is None or output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    from cptkg.fsutil import atomic_write

    atomic_write(Path(output), data)


def add_paths_argument(parser: object, what: str) -> None:
    """Add the optional ``PATH ...`` positional (files or directories of RDF)."""
    parser.add_argument(  # type: ignore[attr-defined]
        "paths",
        nargs="*",
        metavar="PATH",
        help=f"RDF files or directories to {what} (default: the shipped graph, "
        "ontology/cptkg.ttl + data/**/*.ttl)",
    )
